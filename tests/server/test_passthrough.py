"""Anthropic-compatible upstreams: body and stream go through untranslated; only model, auth and betas change."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from router.translate.common import reasoning_signature
from tests.support.router import RouterServer
from tests.support.sdk import whole_and_streamed
from tests.support.upstream import Reply, ScriptedUpstream, anthropic_sse

MakeRouter = Callable[[dict[str, Any]], RouterServer]
FIXTURES = Path(__file__).parent.parent / "fixtures"
CLIENT_HEADERS = {"authorization": "Bearer client-token", "anthropic-version": "2023-06-01",
                  "anthropic-beta": "claude-code-20250219,context-1m-2025-08-07", "content-type": "application/json"}

MESSAGE = {"id": "msg_up", "type": "message", "role": "assistant", "model": "glm-4.6",
           "content": [{"type": "text", "text": "Hi from GLM"}], "stop_reason": "end_turn", "stop_sequence": None,
           "usage": {"input_tokens": 12, "output_tokens": 4, "cache_creation_input_tokens": 0,
                     "cache_read_input_tokens": 0}}
EVENTS = anthropic_sse(
    {"type": "message_start", "message": {**MESSAGE, "content": [], "stop_reason": None}},
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi from GLM"}},
    {"type": "content_block_stop", "index": 0},
    {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
     "usage": {"output_tokens": 4}},
    {"type": "message_stop"},
)


def config(url: str, path: str = "/api/anthropic") -> dict[str, Any]:
    return {"Providers": [{"name": "zai", "api_base_url": url + path, "api_key": "zai-key", "models": ["glm-4.6"],
                           "transformer": {"use": ["anthropic"]}}],
            "Router": {"default": "zai,glm-4.6"}, "retry": {"retries": 0}}


def script(r: Any) -> Reply:
    if r.path.endswith("/count_tokens"):
        return Reply(body={"input_tokens": 4242})
    if r.body.get("stream"):
        return Reply(chunks=EVENTS, content_type="text/event-stream", headers={"request-id": "req_1"})
    return Reply(body=MESSAGE, headers={"request-id": "req_1"})


def test_real_claude_code_body_is_forwarded_byte_for_byte_but_the_model(
    upstream: ScriptedUpstream, make_router: MakeRouter,
) -> None:
    upstream.script = script
    router = make_router(config(upstream.url))
    raw = (FIXTURES / "claude_code" / "request_hi.json").read_bytes().replace(b'"prov,mod"', b'"claude-opus-4-8"')
    resp = httpx.post(router.url + "/v1/messages?beta=true", content=raw, headers=CLIENT_HEADERS)
    assert resp.status_code == 200
    got = upstream.requests[-1]
    assert got.path == "/api/anthropic/v1/messages"
    original = json.loads(raw)
    assert json.loads(got.raw) == {**original, "model": "glm-4.6"}
    assert got.raw.endswith(raw[raw.index(b',"messages"'):])  # not re-encoded
    assert got.headers["x-api-key"] == "zai-key" and got.headers["Authorization"] == "Bearer zai-key"
    assert "anthropic-beta" not in {k.lower() for k in got.headers}  # third-party endpoints reject unknown betas
    assert resp.content == b"".join(EVENTS)  # the stream is passed on untouched


def test_sdk_non_streaming_and_streaming(upstream: ScriptedUpstream, make_router: MakeRouter) -> None:
    upstream.script = script
    router = make_router(config(upstream.url))
    whole, streamed = whole_and_streamed(router.url, model="claude-opus-4-8", max_tokens=100,
                                         messages=[{"role": "user", "content": "hi"}])
    assert whole.content[0].text == streamed.content[0].text == "Hi from GLM"  # type: ignore[union-attr]
    assert upstream.requests[-1].body["model"] == "glm-4.6"


def test_count_tokens_is_forwarded(upstream: ScriptedUpstream, make_router: MakeRouter) -> None:
    upstream.script = script
    router = make_router(config(upstream.url))
    resp = httpx.post(router.url + "/v1/messages/count_tokens?beta=true", headers=CLIENT_HEADERS,
                      json={"model": "zai,glm-4.6", "messages": [{"role": "user", "content": "hi"}]})
    assert resp.json() == {"input_tokens": 4242}
    assert upstream.requests[-1].path.endswith("/v1/messages/count_tokens")


def test_thinking_from_other_providers_is_not_sent_as_forged_signatures(
    upstream: ScriptedUpstream, make_router: MakeRouter,
) -> None:
    upstream.script = script
    router = make_router(config(upstream.url))
    body = {"model": "zai,glm-4.6", "max_tokens": 100, "messages": [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "from deepseek", "signature": reasoning_signature("reasoning_content")},
            {"type": "text", "text": "a"}]},
        {"role": "user", "content": "again"}]}
    httpx.post(router.url + "/v1/messages", json=body)
    sent = upstream.requests[-1].body["messages"][1]["content"]
    assert sent == [{"type": "text", "text": "a"}]


@pytest.mark.parametrize(("reply", "status", "error_type"), [
    (Reply(status=429, body={"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}},
           headers={"retry-after": "3"}), 429, "rate_limit_error"),
    (Reply(status=529, body={"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
     529, "overloaded_error"),
    (Reply(body=b"<html/>", content_type="text/html"), 502, "api_error"),
])
def test_upstream_errors(reply: Reply, status: int, error_type: str, upstream: ScriptedUpstream,
                         make_router: MakeRouter) -> None:
    upstream.script = lambda r: reply
    router = make_router(config(upstream.url))
    resp = httpx.post(router.url + "/v1/messages", json={"model": "x", "max_tokens": 5,
                                                         "messages": [{"role": "user", "content": "hi"}]})
    assert resp.status_code == status and resp.json()["error"]["type"] == error_type
    if status == 429:
        assert resp.headers["retry-after"] == "3"


def stream_of(router: RouterServer) -> list[tuple[str, dict[str, Any]]]:
    resp = httpx.post(router.url + "/v1/messages", json={"model": "x", "max_tokens": 5, "stream": True,
                                                         "messages": [{"role": "user", "content": "hi"}]})
    assert resp.status_code == 200
    events = []
    for block in resp.text.replace("\r\n", "\n").strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.split("\n"))
        events.append((lines["event"], json.loads(lines["data"])))  # every event whole, none corrupted
    return events


ERROR_EVENT = anthropic_sse({"type": "error", "error": {"type": "overloaded_error",
                                                        "message": "Overloaded, please retry in a moment"}})


@pytest.mark.parametrize(("chunks", "ending"), [
    # cut in the middle of an event: the partial event is dropped, an error event follows it cleanly
    ([*EVENTS[:2], EVENTS[2][:30]], "ccr"),
    ([*EVENTS[:3]], "ccr"),
    # the upstream's own error event, longer than any tail window: passed on, nothing added
    ([*EVENTS[:3], *ERROR_EVENT], "upstream"),
    # a message_stop with extra fields, CRLF line ends, and no final blank line
    ([*EVENTS[:5], b'event: message_stop\r\ndata: {"type":"message_stop","amazon-bedrock-invocationMetrics":{}}'],
     "complete"),
])
def test_stream_endings(chunks: list[bytes], ending: str, upstream: ScriptedUpstream,
                        make_router: MakeRouter) -> None:
    upstream.script = lambda r: Reply(chunks=chunks, content_type="text/event-stream", cut=ending == "ccr")
    events = stream_of(make_router(config(upstream.url)))
    kinds = [k for k, _ in events]
    assert kinds[0] == "message_start"
    if ending == "complete":
        assert kinds[-1] == "message_stop" and "error" not in kinds
    else:
        assert kinds.count("error") == 1 and kinds[-1] == "error"
        message = events[-1][1]["error"]["message"]
        assert ("before the answer was complete" in message) == (ending == "ccr")


def test_stream_opening_with_an_error_keeps_its_status(upstream: ScriptedUpstream,
                                                      make_router: MakeRouter) -> None:
    upstream.script = lambda r: Reply(chunks=anthropic_sse({"type": "error", "error": {
        "type": "invalid_request_error", "message": "prompt is too long"}}), content_type="text/event-stream")
    router = make_router(config(upstream.url))
    resp = httpx.post(router.url + "/v1/messages", json={"model": "x", "max_tokens": 5, "stream": True,
                                                         "messages": [{"role": "user", "content": "hi"}]})
    assert resp.status_code == 400
    assert resp.json()["error"] == {"type": "invalid_request_error",
                                    "message": "provider 'zai' failed: prompt is too long"}


def test_official_anthropic_gets_betas_and_x_api_key_only(upstream: ScriptedUpstream, make_router: MakeRouter,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from router.translate.anthropic import adapter

    upstream.script = script
    monkeypatch.setattr(adapter, "ANTHROPIC_HOSTS", ("127.0.0.1",))  # the scripted upstream as api.anthropic.com
    router = make_router(config(upstream.url, "/v1/messages"))
    httpx.post(router.url + "/v1/messages", headers=CLIENT_HEADERS,
               json={"model": "x", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]})
    headers = {k.lower(): v for k, v in upstream.requests[-1].headers.items()}
    assert headers["anthropic-beta"] == CLIENT_HEADERS["anthropic-beta"]
    assert headers["x-api-key"] == "zai-key" and "authorization" not in headers


def test_thinking_turned_off_when_the_turn_in_progress_had_foreign_thinking(
    upstream: ScriptedUpstream, make_router: MakeRouter,
) -> None:
    upstream.script = script
    router = make_router(config(upstream.url))
    body = {"model": "zai,glm-4.6", "max_tokens": 100, "thinking": {"type": "adaptive"},
            "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
            "messages": [
                {"role": "user", "content": "q"},
                {"role": "assistant", "content": [
                    {"type": "thinking", "thinking": "from deepseek", "signature": reasoning_signature("reasoning_content")},
                    {"type": "tool_use", "id": "t1", "name": "Bash", "input": {}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}]}]}
    httpx.post(router.url + "/v1/messages", json=body)
    sent = upstream.requests[-1].body
    assert "thinking" not in sent and "context_management" not in sent
    assert sent["messages"][1]["content"] == [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {}}]


def _signing_upstream(signature: str) -> ScriptedUpstream:
    """An Anthropic-format upstream that signs its thinking with `signature` and, like Anthropic, refuses a
    thinking block in the history that it did not sign."""

    def answer(r: Any) -> Reply:
        for msg in r.body["messages"]:
            for block in msg["content"] if isinstance(msg["content"], list) else []:
                if block.get("type") == "thinking" and block.get("signature") != signature:
                    return Reply(status=400, body={"type": "error", "error": {
                        "type": "invalid_request_error",
                        "message": "messages.1.content.0: Invalid `signature` in `thinking` block"}})
        thinking = {"type": "thinking", "thinking": "plan", "signature": signature}
        message = {**MESSAGE, "content": [thinking, {"type": "text", "text": "ok"}]}
        if not r.body.get("stream"):
            return Reply(body=message)
        return Reply(content_type="text/event-stream", chunks=anthropic_sse(
            {"type": "message_start", "message": {**MESSAGE, "content": [], "stop_reason": None}},
            {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}},
            {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "plan"}},
            {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": signature}},
            {"type": "content_block_stop", "index": 0},
            {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
            {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "ok"}},
            {"type": "content_block_stop", "index": 1},
            {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
             "usage": {"output_tokens": 4}},
            {"type": "message_stop"}))

    return ScriptedUpstream(answer).start()


@pytest.mark.parametrize("stream", [True, False])
def test_thinking_signed_by_one_anthropic_upstream_never_reaches_another(stream: bool, make_router: MakeRouter) -> None:
    """A conversation that moves between Anthropic-format upstreams (here told apart by host: 127.0.0.1 and
    localhost) keeps each one's signed thinking for that one only."""
    first, second = _signing_upstream("sig-first-EoB1"), _signing_upstream("sig-second-Xy9")
    try:
        providers = [{"name": name, "api_base_url": f"http://{host}:{up.port}/v1/messages", "api_key": "key-123456",
                      "models": ["glm-4.6"]} for name, host, up in (("one", "127.0.0.1", first),
                                                                    ("two", "localhost", second))]
        router = make_router({"Providers": providers, "Router": {"default": "one,glm-4.6"}, "retry": {"retries": 0}})

        def ask(model: str, messages: list[Any]) -> httpx.Response:
            return httpx.post(router.url + "/v1/messages", headers=CLIENT_HEADERS, timeout=10, json={
                "model": model, "max_tokens": 100, "stream": stream, "thinking": {"type": "adaptive"},
                "messages": messages})

        turn = [{"role": "user", "content": "hi"}]
        assert ask("one,glm-4.6", turn).status_code == 200  # signed by the first
        history = [*turn, {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "plan", "signature": "sig-first-EoB1"}, {"type": "text", "text": "ok"}]},
            {"role": "user", "content": "go on"}]
        moved = ask("two,glm-4.6", history)
        assert moved.status_code == 200, moved.text
        sent = second.requests[-1].body["messages"][1]["content"]
        assert [b["type"] for b in sent] == ["text"]
        back = ask("one,glm-4.6", history)  # its own signature goes back to it as it was
        assert back.status_code == 200, back.text
        assert first.requests[-1].body["messages"][1]["content"][0]["signature"] == "sig-first-EoB1"
    finally:
        first.stop()
        second.stop()
