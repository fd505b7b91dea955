"""Bad input and bad upstreams: every failure is an Anthropic-format error with the right status and a message
that says what to fix, and the router keeps serving afterwards."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.conftest import openai_config
from tests.support.router import RouterServer, free_port
from tests.support.upstream import Reply, ScriptedUpstream, sse

MakeRouter = Callable[[dict[str, Any]], RouterServer]


def one_try(url: str, **extra: Any) -> dict[str, Any]:
    """No retries and no fallbacks: these tests pin what a single upstream failure turns into."""
    return openai_config(url, retry={"retries": 0}, **extra)
OK = {"model": "up,gpt-test", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}
TEXT_CHUNK = {"choices": [{"index": 0, "delta": {"content": "partial"}}]}


def assert_error(resp: httpx.Response, status: int, error_type: str, *phrases: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["type"] == "error" and body["error"]["type"] == error_type
    for phrase in phrases:
        assert phrase in body["error"]["message"]
    assert "Traceback" not in resp.text
    return dict(body)


def still_serving(router: RouterServer) -> None:
    assert httpx.get(router.url + "/health").json()["status"] == "ok"


BAD_REQUESTS: list[tuple[str, bytes, int, str, str]] = [
    ("malformed json", b'{"model": ', 400, "invalid_request_error", "not valid JSON"),
    ("empty body", b"", 400, "invalid_request_error", "empty"),
    ("not an object", b"[1,2]", 400, "invalid_request_error", "JSON object"),
    ("missing model", json.dumps({k: v for k, v in OK.items() if k != "model"}).encode(), 400,
     "invalid_request_error", "model: field required"),
    ("missing max_tokens", json.dumps({k: v for k, v in OK.items() if k != "max_tokens"}).encode(), 400,
     "invalid_request_error", "max_tokens: field required"),
    ("max_tokens wrong type", json.dumps({**OK, "max_tokens": "lots"}).encode(), 400, "invalid_request_error",
     "max_tokens: must be an integer"),
    ("messages wrong type", json.dumps({**OK, "messages": "hi"}).encode(), 400, "invalid_request_error",
     "messages: must be a list"),
    ("bad block", json.dumps({**OK, "messages": [{"role": "user", "content": [{"type": "image"}]}]}).encode(),
     400, "invalid_request_error", "messages.0.content.0.source"),
    ("stream wrong type", json.dumps({**OK, "stream": "yes"}).encode(), 400, "invalid_request_error", "stream"),
    ("tools wrong type", json.dumps({**OK, "tools": True}).encode(), 400, "invalid_request_error",
     "tools: must be a list of tool definitions"),
    ("bad image data", json.dumps({**OK, "messages": [{"role": "user", "content": [{"type": "image", "source": {
        "type": "base64", "media_type": "image/png", "data": "data:image/png;base64,iVBORw0KGgo="}}]}]}).encode(),
     400, "invalid_request_error", "messages.0.content.0.source.data: invalid base64 data"),
    ("unknown provider", json.dumps({**OK, "model": "nope,x"}).encode(), 404, "not_found_error",
     "provider 'nope' is not configured; configured providers: up"),
    ("unknown model", json.dumps({**OK, "model": "up,gpt-9"}).encode(), 404, "not_found_error",
     "model 'gpt-9' is not configured for provider 'up'; its models: gpt-test, reasoner"),
]


@pytest.mark.parametrize(("raw", "status", "error_type", "phrase"), [c[1:] for c in BAD_REQUESTS],
                         ids=[c[0] for c in BAD_REQUESTS])
def test_bad_requests(raw: bytes, status: int, error_type: str, phrase: str, upstream: ScriptedUpstream,
                      make_router: MakeRouter) -> None:
    router = make_router(one_try(upstream.url))
    resp = httpx.post(router.url + "/v1/messages?beta=true", content=raw, headers={"content-type": "application/json"})
    assert_error(resp, status, error_type, phrase)
    assert upstream.requests == []
    still_serving(router)


def test_oversized_body(upstream: ScriptedUpstream, make_router: MakeRouter) -> None:
    router = make_router(one_try(upstream.url, MAX_BODY_BYTES=10_000))
    big = {**OK, "messages": [{"role": "user", "content": "x" * 20_000}]}
    assert_error(httpx.post(router.url + "/v1/messages", json=big), 413, "request_too_large", "MAX_BODY_BYTES")

    def chunked() -> Any:  # no content-length: the limit still holds
        yield json.dumps(big).encode()

    assert_error(httpx.post(router.url + "/v1/messages", content=chunked(), headers={"content-type": "application/json"}),
                 413, "request_too_large")
    still_serving(router)


def test_unknown_path_and_method(upstream: ScriptedUpstream, make_router: MakeRouter) -> None:
    router = make_router(one_try(upstream.url))
    assert_error(httpx.get(router.url + "/v1/complete"), 404, "not_found_error", "POST /v1/messages")
    assert_error(httpx.get(router.url + "/v1/messages"), 405, "invalid_request_error")


UPSTREAM_FAILURES: list[tuple[str, Reply, bool, int, str, str]] = [
    ("non-json body", Reply(body=b"<html>oops</html>", content_type="application/json"), False, 502, "api_error",
     "invalid JSON"),
    ("wrong content type", Reply(body=b"<html>login</html>", content_type="text/html"), False, 502, "api_error",
     "text/html"),
    ("wrong content type, streamed", Reply(body=b"<html>login</html>", content_type="text/html"), True, 502,
     "api_error", "text/html"),
    ("400 passed on", Reply(status=400, body={"error": {"message": "context too long", "type": "invalid_request_error"}}),
     False, 400, "invalid_request_error", "context too long"),
    ("401 from provider", Reply(status=401, body={"error": {"message": "Incorrect API key sk-test"}}), True, 403,
     "permission_error", "Incorrect API key [redacted] — check the provider's api_key"),
    ("error body with status 200", Reply(body={"error": {"message": "model overloaded", "code": 529}}), False, 529,
     "overloaded_error", "model overloaded"),
    ("500", Reply(status=500, body=b"internal", content_type="text/plain"), False, 500, "api_error", "HTTP 500"),
    ("503 is overload", Reply(status=503, body={"error": {"message": "busy"}}), True, 529, "overloaded_error", "busy"),
    ("error chunk before output", Reply(chunks=sse({"error": {"message": "quota exceeded", "code": 429}})), True,
     429, "rate_limit_error", "quota exceeded"),
    ("stream with no events", Reply(chunks=[b": nothing\n\n"]), True, 502, "api_error", "ended the stream"),
    ("no choices", Reply(body={"object": "chat.completion"}), False, 502, "api_error", "without choices"),
]


@pytest.mark.parametrize(("reply", "stream", "status", "error_type", "phrase"), [c[1:] for c in UPSTREAM_FAILURES],
                         ids=[c[0] for c in UPSTREAM_FAILURES])
def test_upstream_failures_before_output_are_http_errors(
    reply: Reply, stream: bool, status: int, error_type: str, phrase: str, upstream: ScriptedUpstream,
    make_router: MakeRouter,
) -> None:
    upstream.script = lambda r: reply
    router = make_router(one_try(upstream.url))
    assert_error(httpx.post(router.url + "/v1/messages", json={**OK, "stream": stream}), status, error_type, phrase)
    still_serving(router)


def test_429_passes_retry_after(upstream: ScriptedUpstream, make_router: MakeRouter) -> None:
    upstream.script = lambda r: Reply(status=429, body={"error": {"message": "slow down"}}, headers={"retry-after": "7"})
    router = make_router(one_try(upstream.url))
    resp = httpx.post(router.url + "/v1/messages", json=OK)
    assert_error(resp, 429, "rate_limit_error", "slow down")
    assert resp.headers["retry-after"] == "7"


def test_connection_refused_is_502(make_router: MakeRouter) -> None:
    router = make_router(one_try(f"http://127.0.0.1:{free_port()}"))
    assert_error(httpx.post(router.url + "/v1/messages", json=OK), 502, "api_error", "cannot reach provider 'up'")


def test_upstream_timeout_is_504(upstream: ScriptedUpstream, make_router: MakeRouter) -> None:
    upstream.script = lambda r: Reply(body={"choices": []}, pause_before_s=1.5)
    router = make_router(one_try(upstream.url, API_TIMEOUT_MS=300))
    assert_error(httpx.post(router.url + "/v1/messages", json=OK, timeout=10), 504, "timeout_error", "did not answer")
    still_serving(router)


def stream_events(resp: httpx.Response) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for block in resp.text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.split("\n"))
        out.append((lines["event"], json.loads(lines["data"])))
    return out


@pytest.mark.parametrize(("chunks", "cut", "phrase"), [
    (sse(TEXT_CHUNK), True, "broke off the stream before the answer was complete"),
    (sse(TEXT_CHUNK), False, "ended the stream before the answer was complete"),
    (sse(TEXT_CHUNK, {"error": {"message": "model crashed", "code": 500}}), False, "model crashed"),
    ([*sse(TEXT_CHUNK), b"data: {not json\n\n"], False, "not JSON"),
])
def test_failures_after_output_end_with_an_error_event(
    chunks: list[bytes], cut: bool, phrase: str, upstream: ScriptedUpstream, make_router: MakeRouter,
) -> None:
    upstream.script = lambda r: Reply(chunks=chunks, cut=cut)
    router = make_router(one_try(upstream.url))
    resp = httpx.post(router.url + "/v1/messages", json={**OK, "stream": True})
    assert resp.status_code == 200
    events = stream_events(resp)
    assert events[0][0] == "message_start"
    kind, data = events[-1]
    assert kind == "error" and data["type"] == "error" and phrase in data["error"]["message"]
    still_serving(router)


def test_missing_provider_key_names_the_variable(
    upstream: ScriptedUpstream, make_router: MakeRouter, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CCR_TEST_MISSING_KEY", raising=False)
    config = one_try(upstream.url)
    config["Providers"][0]["api_key"] = "$CCR_TEST_MISSING_KEY"
    router = make_router(config)
    assert_error(httpx.post(router.url + "/v1/messages", json=OK), 403, "permission_error",
                 "CCR_TEST_MISSING_KEY is not set")
    assert upstream.requests == []


def test_proxy_url_carries_provider_calls(upstream: ScriptedUpstream, make_router: MakeRouter) -> None:
    """With PROXY_URL set, the provider's host is only reached through the proxy (here the scripted server)."""
    upstream.script = lambda r: Reply(body={"choices": [{"index": 0, "message": {"content": "via proxy"},
                                                         "finish_reason": "stop"}]})
    config = openai_config("http://provider.invalid", PROXY_URL=upstream.url)
    router = make_router(config)
    resp = httpx.post(router.url + "/v1/messages", json=OK)
    assert resp.status_code == 200 and resp.json()["content"][0]["text"] == "via proxy"
    assert upstream.requests[-1].headers["Host"] == "provider.invalid"
