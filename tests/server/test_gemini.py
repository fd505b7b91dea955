"""ccr in front of a scripted Gemini API that validates every request as Google's does: Claude Code's own
requests pass, answers come back in Anthropic's format (streamed or whole, as the official SDK reads them),
errors keep the status Claude Code acts on, token counts are Gemini's."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.gemini_upstream import (
    Call,
    GeminiAPI,
    error,
    gemini_config,
    response,
    stream,
    usage,
    whole,
)
from tests.support.router import RouterServer
from tests.support.sdk import whole_and_streamed
from tests.support.upstream import Reply, ScriptedUpstream

CLAUDE_CODE = Path(__file__).parent.parent / "fixtures" / "claude_code" / "request_hi.json"
MakeRouter = Callable[[dict[str, Any]], RouterServer]


def answer(api: GeminiAPI, parts: list[dict[str, Any]], call: Call) -> Reply:
    events = [response(parts[:1], meta=usage(1200, 5, 1000)), response(parts[1:], "STOP", usage(1200, 40, 1000, 8))]
    return stream(*events) if call.streamed else whole(*events)


@pytest.fixture
def gemini(upstream: ScriptedUpstream) -> GeminiAPI:
    api = GeminiAPI(lambda call: answer(api, [{"text": "Hello"}, {"text": " there."}], call))
    upstream.script = api
    return api


def test_claude_codes_request_passes_gemini_validation(gemini: GeminiAPI, upstream: ScriptedUpstream,
                                                       make_router: MakeRouter) -> None:
    router = make_router(gemini_config(upstream.url))
    body = json.loads(CLAUDE_CODE.read_text())
    resp = httpx.post(router.url + "/v1/messages?beta=true", json={**body, "model": "gm,gemini-3-pro-preview"},
                      timeout=30)
    assert resp.status_code == 200, resp.text
    assert gemini.refusals == [] and len(gemini.calls) == 1
    sent = upstream.requests[0]
    assert sent.path == "/v1beta/models/gemini-3-pro-preview:streamGenerateContent" and sent.query == "alt=sse"
    assert sent.headers["x-goog-api-key"] == "gm-test-key" and "authorization" not in {k.lower() for k in sent.headers}
    request = gemini.calls[0].body
    assert request["generationConfig"]["thinkingConfig"] == {"thinkingLevel": "high", "includeThoughts": True}
    assert "x-anthropic-billing-header" not in json.dumps(request["systemInstruction"])
    assert request["contents"][-1]["parts"][-1]["text"].startswith("[system message]")
    assert b'"text":" there."' in resp.content and b"message_stop" in resp.content


@pytest.mark.parametrize("parts", [
    [{"text": "Hello"}, {"text": " world", "thoughtSignature": "c2ln"}],
    [{"text": "Plan.", "thought": True}, {"functionCall": {"name": "Bash", "args": {"command": "ls"}},
                                          "thoughtSignature": "c2ln"}, {"functionCall": {"name": "Read", "args": {}}}],
], ids=["text", "thoughts-and-calls"])
def test_sdk_stream_rebuilds_the_whole_message(parts: list[dict[str, Any]], upstream: ScriptedUpstream,
                                               make_router: MakeRouter) -> None:
    api = GeminiAPI(lambda call: answer(api, parts, call))
    upstream.script = api
    router = make_router(gemini_config(upstream.url))
    whole_msg, streamed = whole_and_streamed(
        router.url, model="gm,gemini-3-pro-preview", max_tokens=1024, messages=[{"role": "user", "content": "go"}],
        tools=[{"name": "Bash", "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}}},
               {"name": "Read", "input_schema": {"type": "object"}}])
    assert [c.method for c in api.calls] == ["generateContent", "streamGenerateContent"]
    dump = whole_msg.model_dump(exclude={"id"})
    for i, block in enumerate(dump["content"]):  # ids ccr made up differ between the two answers
        if block["type"] == "tool_use":
            block["id"] = streamed.content[i].id  # type: ignore[union-attr]
    assert streamed.model_dump(exclude={"id"}) == dump
    assert dump["usage"]["cache_read_input_tokens"] == 1000 and dump["usage"]["input_tokens"] == 200


ERRORS = [
    (400, "INVALID_ARGUMENT", 400, "invalid_request_error"),
    (403, "PERMISSION_DENIED", 403, "permission_error"),
    (404, "NOT_FOUND", 404, "not_found_error"),
    (429, "RESOURCE_EXHAUSTED", 429, "rate_limit_error"),
    (500, "INTERNAL", 500, "api_error"),
    (503, "UNAVAILABLE", 529, "overloaded_error"),
]


@pytest.mark.parametrize(("code", "status", "expected", "kind"), ERRORS, ids=[e[1] for e in ERRORS])
def test_gemini_errors_keep_the_status_claude_code_acts_on(code: int, status: str, expected: int, kind: str,
                                                           upstream: ScriptedUpstream, make_router: MakeRouter) -> None:
    upstream.script = GeminiAPI(lambda call: error(code, "Something went wrong.", status))
    router = make_router({**gemini_config(upstream.url), "retry": {"retries": 0}})
    resp = httpx.post(router.url + "/v1/messages", json={"model": "gm,gemini-2.5-flash", "max_tokens": 10,
                                                          "messages": [{"role": "user", "content": "hi"}]}, timeout=30)
    assert resp.status_code == expected
    err = resp.json()["error"]
    assert err["type"] == kind and "Something went wrong." in err["message"] and status in err["message"]


def test_a_refused_request_says_what_gemini_said(upstream: ScriptedUpstream, make_router: MakeRouter) -> None:
    """The validating upstream's own refusal reaches the client as a 400 with Gemini's words."""
    api = GeminiAPI(lambda call: answer(api, [{"text": "x"}], call), key="another-key")
    upstream.script = api
    router = make_router({**gemini_config(upstream.url), "retry": {"retries": 0}})
    resp = httpx.post(router.url + "/v1/messages", json={"model": "gm,gemini-2.5-flash", "max_tokens": 10,
                                                          "messages": [{"role": "user", "content": "hi"}]}, timeout=30)
    assert resp.status_code == 400 and "API key not valid" in resp.json()["error"]["message"]


def test_blocked_prompt_is_a_400(upstream: ScriptedUpstream, make_router: MakeRouter) -> None:
    upstream.script = GeminiAPI(lambda call: stream({"promptFeedback": {"blockReason": "SAFETY"},
                                                     "usageMetadata": usage()}))
    router = make_router(gemini_config(upstream.url))
    resp = httpx.post(router.url + "/v1/messages", json={"model": "gm,gemini-2.5-flash", "max_tokens": 10,
                                                          "stream": True,
                                                          "messages": [{"role": "user", "content": "hi"}]}, timeout=30)
    assert resp.status_code == 400
    assert "the prompt was blocked by Gemini's safety filter: SAFETY" in resp.json()["error"]["message"]


def test_count_tokens_is_geminis_count(upstream: ScriptedUpstream, make_router: MakeRouter) -> None:
    api = GeminiAPI(lambda call: Reply(body={"totalTokens": 4321, "cachedContentTokenCount": 0}))
    upstream.script = api
    router = make_router(gemini_config(upstream.url))
    resp = httpx.post(router.url + "/v1/messages/count_tokens", json={
        "model": "gm,gemini-3-pro-preview", "system": "S", "messages": [{"role": "user", "content": "count me"}],
        "tools": [{"name": "Bash", "input_schema": {"type": "object", "properties": {"c": {"type": "string"}}}}]},
        timeout=30)
    assert resp.status_code == 200 and resp.json() == {"input_tokens": 4321}
    assert upstream.requests[0].path == "/v1beta/models/gemini-3-pro-preview:countTokens"
    inner = api.calls[0].body["generateContentRequest"]
    assert inner["model"] == "models/gemini-3-pro-preview" and set(inner) == {"model", "contents",
                                                                              "systemInstruction", "tools"}


def test_health_probe_lists_models_with_the_key(gemini: GeminiAPI, upstream: ScriptedUpstream) -> None:
    import asyncio

    from router.config import parse_config
    from router.providers.provider import Providers
    from router.routing.probes import probe

    providers = Providers(parse_config({**gemini_config(upstream.url), "Classifier": {"enabled": False}}, "<t>"))
    provider = providers.get("gm")
    assert provider is not None

    async def run() -> bool:
        try:
            return await probe(provider, 0, 5)
        finally:
            await providers.close()

    assert asyncio.run(run())
    assert upstream.requests[-1].path == "/v1beta/models"
    assert upstream.requests[-1].headers["x-goog-api-key"] == "gm-test-key"


@pytest.mark.parametrize(("configured", "endpoint"), [
    ("https://generativelanguage.googleapis.com/v1beta/models/", "https://generativelanguage.googleapis.com/v1beta/models/"),
    ("https://generativelanguage.googleapis.com/v1beta/models", "https://generativelanguage.googleapis.com/v1beta/models/"),
    ("https://generativelanguage.googleapis.com/v1beta", "https://generativelanguage.googleapis.com/v1beta/models/"),
    ("https://generativelanguage.googleapis.com", "https://generativelanguage.googleapis.com/v1beta/models/"),
    ("https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:generateContent",
     "https://generativelanguage.googleapis.com/v1beta/models/"),
])
def test_endpoint_from_the_configured_url(configured: str, endpoint: str) -> None:
    from router.translate.gemini.adapter import GEMINI

    assert GEMINI.endpoint(configured) == endpoint
