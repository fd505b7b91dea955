"""An OpenAI Responses provider behind the real ccr app: the config as claude-code-router users write it, the
endpoint and auth, whole and streamed answers read by the official Anthropic SDK, upstream errors with the
status Claude Code acts on, and token counts. The upstream validates every request as the real API does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest

from router.config import parse_config
from router.config.schema import WireFormat
from router.translate.adapter import adapter_for
from router.translate.common import parse_reasoning_signature
from tests.support.responses_upstream import ResponsesAPI, Step, error_body, responses_config, sse_event
from tests.support.router import RouterServer
from tests.support.sdk import whole_and_streamed
from tests.support.upstream import Received, Reply, ScriptedUpstream

MakeRouter = Callable[[dict[str, Any]], RouterServer]
ASK = {"model": "oai,gpt-5.1-codex", "max_tokens": 2000, "messages": [{"role": "user", "content": "hi"}]}
TOOLS = [{"name": "Bash", "description": "Run a command", "input_schema": {
    "type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}}]
RESPONSES = adapter_for(WireFormat.OPENAI_RESPONSES)


def test_a_claude_code_router_config_loads_unchanged() -> None:
    config = parse_config({
        "LOG": True, "API_TIMEOUT_MS": 600000,
        "Providers": [{"name": "openai", "api_base_url": "https://api.openai.com/v1/responses",
                       "api_key": "sk-xxx", "models": ["gpt-5.1-codex", "o3"],
                       "transformer": {"use": ["openai-responses"]}}],
        "Router": {"default": "openai,gpt-5.1-codex", "think": "openai,o3"},
    }, "<test>")
    provider = config.providers["openai"]
    assert provider.wire is WireFormat.OPENAI_RESPONSES


@pytest.mark.parametrize(("entry", "url"), [
    ({"preset": "openai-responses"}, "https://api.openai.com/v1/responses"),
    ({"preset": "azure-openai", "api_base_url": "https://r.openai.azure.com/openai/v1",
      "transformer": {"use": ["openai-responses"]}}, "https://r.openai.azure.com/openai/v1/responses"),
])
def test_presets_reach_the_responses_adapter(entry: dict[str, Any], url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "az-env")
    config = parse_config({"Providers": [{"name": "p", "models": ["gpt-5.1-codex"], **entry}],
                           "Router": {"default": "p,gpt-5.1-codex"}}, "<test>")
    provider = config.providers["p"]
    assert provider.wire is WireFormat.OPENAI_RESPONSES and RESPONSES.endpoint(provider.api_base_url) == url


@pytest.mark.parametrize(("url", "endpoint", "models", "count"), [
    ("https://api.openai.com/v1/responses", "https://api.openai.com/v1/responses",
     "https://api.openai.com/v1/models", "https://api.openai.com/v1/responses/input_tokens"),
    ("https://api.openai.com/v1/", "https://api.openai.com/v1/responses", "https://api.openai.com/v1/models",
     "https://api.openai.com/v1/responses/input_tokens"),
    ("https://api.openai.com", "https://api.openai.com/v1/responses", "https://api.openai.com/v1/models",
     "https://api.openai.com/v1/responses/input_tokens"),
    ("https://r.openai.azure.com/openai/responses?api-version=2025-04-01-preview",
     "https://r.openai.azure.com/openai/responses?api-version=2025-04-01-preview",
     "https://r.openai.azure.com/openai/models?api-version=2025-04-01-preview", None),
    ("https://r.openai.azure.com/openai/v1", "https://r.openai.azure.com/openai/v1/responses",
     "https://r.openai.azure.com/openai/v1/models", None),
])
def test_endpoints(url: str, endpoint: str, models: str, count: str | None) -> None:
    assert RESPONSES.endpoint(url) == endpoint
    assert RESPONSES.models_url(endpoint) == models
    assert RESPONSES.count_tokens_url(endpoint) == count


@pytest.mark.parametrize(("host", "headers"), [
    ("api.openai.com", {"authorization": "Bearer k"}),
    ("my-res.openai.azure.com", {"api-key": "k"}),
    ("my-res.cognitiveservices.azure.com", {"api-key": "k"}),
])
def test_auth_headers(host: str, headers: dict[str, str]) -> None:
    assert RESPONSES.auth_headers("k", host) == headers


def serve(upstream: ScriptedUpstream, api: ResponsesAPI) -> None:
    upstream.script = api


def test_whole_and_streamed_answers_read_by_the_sdk(upstream: ScriptedUpstream, make_router: MakeRouter) -> None:
    api = ResponsesAPI(lambda body: Step(reasoning="Short plan.", text="Listing.",
                                         calls=[("call_w1", "Bash", {"command": "ls"})]))
    serve(upstream, api)
    router = make_router(responses_config(upstream.url))
    whole, streamed = whole_and_streamed(router.url, tools=TOOLS, thinking={"type": "adaptive"}, **ASK)
    for msg in (whole, streamed):
        assert [b.type for b in msg.content] == ["thinking", "text", "tool_use"]
        assert msg.stop_reason == "tool_use"
        assert msg.content[2].input == {"command": "ls"}  # type: ignore[union-attr]
        assert msg.usage.input_tokens == 200 and msg.usage.cache_read_input_tokens == 1000
    sent = upstream.requests[-1]
    assert sent.path == "/v1/responses" and sent.headers["Authorization"] == "Bearer sk-test"
    assert sent.body["reasoning"] == {"effort": "high", "summary": "auto"} and sent.body["store"] is False
    assert not api.errors


def test_replayed_reasoning_is_accepted_by_the_validating_upstream(upstream: ScriptedUpstream,
                                                                   make_router: MakeRouter) -> None:
    api = ResponsesAPI(lambda body: Step(reasoning="", calls=[("call_x", "Bash", {"command": "true"})])
                       if len(body["input"]) == 1 else Step(text="done"))
    serve(upstream, api)
    router = make_router(responses_config(upstream.url))
    first = httpx.post(router.url + "/v1/messages", json={**ASK, "tools": TOOLS}).json()
    thinking, call = first["content"]
    assert parse_reasoning_signature(thinking["signature"])[0] == "responses"
    follow = {**ASK, "tools": TOOLS, "messages": [*ASK["messages"], {"role": "assistant", "content": first["content"]},
                                                   {"role": "user", "content": [{"type": "tool_result",
                                                                                 "tool_use_id": call["id"],
                                                                                 "content": "ok"}]}]}
    second = httpx.post(router.url + "/v1/messages", json=follow)
    assert second.status_code == 200, second.text
    assert second.json()["content"] == [{"type": "text", "text": "done"}]
    assert not api.errors and len(api.replayed) == 1


def test_a_json_answer_to_a_streamed_request_is_replayed_as_events(upstream: ScriptedUpstream,
                                                                   make_router: MakeRouter) -> None:
    api = ResponsesAPI()
    upstream.script = lambda r: Reply(body=api.whole(Step(text="plain json"), "gpt-5.1-codex"))
    router = make_router(responses_config(upstream.url))
    text = httpx.post(router.url + "/v1/messages", json={**ASK, "stream": True}).text
    assert "event: message_stop" in text and "plain json" in text


def test_a_stream_answering_a_whole_request_is_collected(upstream: ScriptedUpstream,
                                                         make_router: MakeRouter) -> None:
    api = ResponsesAPI()
    upstream.script = lambda r: Reply(chunks=api.stream(Step(text="streamed anyway"), "gpt-5.1-codex"))
    router = make_router(responses_config(upstream.url))
    resp = httpx.post(router.url + "/v1/messages", json=ASK)
    assert resp.json()["content"] == [{"type": "text", "text": "streamed anyway"}]


OPENAI_400 = error_body("Unknown parameter: 'foo'.", "foo", "unknown_parameter")
CONTEXT_400 = error_body("Your input exceeds the context window of this model. Please adjust your input and try "
                         "again.", "input", "context_length_exceeded")


@pytest.mark.parametrize(("status", "body", "headers", "client_status", "client_type", "words"), [
    (400, OPENAI_400, {}, 400, "invalid_request_error", "Unknown parameter: 'foo'."),
    (400, CONTEXT_400, {}, 400, "invalid_request_error", "exceeds the context window"),
    (401, error_body("Incorrect API key provided: sk-test.", None, "invalid_api_key"), {}, 403,
     "permission_error", "check the provider's api_key"),
    (429, error_body("Rate limit reached for gpt-5.1-codex", None, "rate_limit_exceeded", "requests"),
     {"retry-after": "7"}, 429, "rate_limit_error", "Rate limit reached"),
    (500, error_body("The server had an error while processing your request.", None, None, "server_error"), {},
     500, "api_error", "server had an error"),
    (503, error_body("The engine is currently overloaded.", None, None, "server_error"), {}, 529,
     "overloaded_error", "overloaded"),
])
def test_upstream_http_errors(status: int, body: dict[str, Any], headers: dict[str, str], client_status: int,
                              client_type: str, words: str, upstream: ScriptedUpstream,
                              make_router: MakeRouter) -> None:
    upstream.script = lambda r: Reply(status=status, body=body, headers=headers)
    router = make_router(responses_config(upstream.url, retry={"retries": 0}))
    resp = httpx.post(router.url + "/v1/messages", json={**ASK, "stream": True})
    assert resp.status_code == client_status, resp.text
    error = resp.json()["error"]
    assert error["type"] == client_type and words in error["message"] and "sk-test" not in resp.text
    if "retry-after" in headers:
        assert resp.headers["retry-after"] == "7"


def failing_stream(after_output: bool) -> Callable[[Received], Reply]:
    def script(r: Received) -> Reply:
        head = [{"type": "response.created", "response": {"id": "resp_1", "status": "in_progress", "output": []}}]
        if after_output:
            head += [{"type": "response.output_item.added", "output_index": 0,
                      "item": {"id": "msg_1", "type": "message", "role": "assistant", "content": []}},
                     {"type": "response.output_text.delta", "output_index": 0, "content_index": 0,
                      "delta": "partial"}]
        head.append({"type": "response.failed", "response": {"id": "resp_1", "status": "failed", "output": [],
                                                             "error": {"code": "rate_limit_exceeded",
                                                                       "message": "Rate limit reached"}}})
        return Reply(chunks=[sse_event(e) for e in head])
    return script


def test_a_failure_before_output_is_an_http_error_and_after_it_an_error_event(
        upstream: ScriptedUpstream, make_router: MakeRouter) -> None:
    router = make_router(responses_config(upstream.url, retry={"retries": 0}))
    upstream.script = failing_stream(after_output=False)
    before = httpx.post(router.url + "/v1/messages", json={**ASK, "stream": True})
    assert before.status_code == 429 and before.json()["error"]["type"] == "rate_limit_error"
    upstream.script = failing_stream(after_output=True)
    after = httpx.post(router.url + "/v1/messages", json={**ASK, "stream": True})
    assert after.status_code == 200
    assert "partial" in after.text and "event: error" in after.text and "rate_limit_error" in after.text


def test_a_cut_stream_ends_with_an_error_event(upstream: ScriptedUpstream, make_router: MakeRouter) -> None:
    api = ResponsesAPI()
    upstream.script = lambda r: Reply(chunks=api.stream(Step(text="never finished"), "gpt-5.1-codex")[:-1],
                                      cut=True)
    router = make_router(responses_config(upstream.url, retry={"retries": 0}))
    text = httpx.post(router.url + "/v1/messages", json={**ASK, "stream": True}).text
    assert "never finish" in text and "event: error" in text and "message_stop" not in text


def test_count_tokens_is_forwarded_to_input_tokens(upstream: ScriptedUpstream, make_router: MakeRouter) -> None:
    api = ResponsesAPI()
    serve(upstream, api)
    router = make_router(responses_config(upstream.url))
    body = {"model": "oai,gpt-5.1-codex", "messages": [{"role": "user", "content": "count me"}], "tools": TOOLS,
            "thinking": {"type": "adaptive"}}
    resp = httpx.post(router.url + "/v1/messages/count_tokens?beta=true", json=body)
    assert resp.status_code == 200, resp.text
    assert set(resp.json()) == {"input_tokens"} and resp.json()["input_tokens"] > 0
    sent = upstream.requests[-1]
    assert sent.path == "/v1/responses/input_tokens" and not api.errors
    assert "max_output_tokens" not in sent.body and "stream" not in sent.body


def test_count_tokens_failure_is_reported(upstream: ScriptedUpstream, make_router: MakeRouter) -> None:
    upstream.script = lambda r: Reply(body={"object": "response.input_tokens"})
    router = make_router(responses_config(upstream.url))
    resp = httpx.post(router.url + "/v1/messages/count_tokens", json={
        "model": "oai,gpt-5.1-codex", "messages": [{"role": "user", "content": "x"}]})
    assert resp.status_code == 502 and "without input_tokens" in resp.json()["error"]["message"]


def test_plain_models_get_sampling_parameters_and_no_reasoning(upstream: ScriptedUpstream,
                                                               make_router: MakeRouter) -> None:
    api = ResponsesAPI()
    serve(upstream, api)
    router = make_router(responses_config(upstream.url))
    resp = httpx.post(router.url + "/v1/messages", json={**ASK, "model": "oai,gpt-4.1", "temperature": 0.1,
                                                          "thinking": {"type": "adaptive"}})
    assert resp.status_code == 200, resp.text
    sent = upstream.requests[-1].body
    assert sent["temperature"] == 0.1 and "reasoning" not in sent and "include" not in sent
    assert not api.errors


def test_configured_efforts_and_output_limit(upstream: ScriptedUpstream, make_router: MakeRouter) -> None:
    api = ResponsesAPI()
    serve(upstream, api)
    router = make_router(responses_config(
        upstream.url, models=[{"name": "gpt-5.1-codex", "max_output_tokens": 4096}],
        transformer={"use": [["openai-responses", {"efforts": ["low", "medium", "high", "xhigh"]}]]}))
    httpx.post(router.url + "/v1/messages", json={**ASK, "max_tokens": 64000, "thinking": {"type": "adaptive"},
                                                  "output_config": {"effort": "max"}})
    sent = upstream.requests[-1].body
    assert sent["reasoning"]["effort"] == "xhigh" and sent["max_output_tokens"] == 4096


def test_the_log_gets_the_providers_usage(upstream: ScriptedUpstream, make_router: MakeRouter) -> None:
    serve(upstream, ResponsesAPI())
    router = make_router(responses_config(upstream.url))
    text = httpx.post(router.url + "/v1/messages", json={**ASK, "stream": True}).text
    deltas = [orjson.loads(line[6:]) for line in text.splitlines() if line.startswith("data: {\"type\":\"message_delta")]
    assert deltas[-1]["usage"] == {"input_tokens": 200, "output_tokens": 40, "cache_creation_input_tokens": 0,
                                   "cache_read_input_tokens": 1000}
