"""Auth, model selection, count_tokens, /v1/models, /health, keep-alive pings and client disconnects."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from router.server import streaming
from tests.conftest import openai_config
from tests.e2e.agent import stream_step
from tests.support.router import RouterServer
from tests.support.upstream import Reply, ScriptedUpstream

MakeRouter = Callable[[dict[str, Any]], RouterServer]
OK = {"model": "up,gpt-test", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}


def text_reply(r: Any) -> Reply:
    step = {"text": "fine"}
    if r.body.get("stream"):
        return Reply(chunks=stream_step(step))
    return Reply(body={"choices": [{"index": 0, "message": {"role": "assistant", "content": "fine"},
                                    "finish_reason": "stop"}]})


@pytest.mark.parametrize(("headers", "status"), [
    ({}, 401),
    ({"x-api-key": "wrong"}, 401),
    ({"authorization": "Bearer wrong"}, 401),
    ({"x-api-key": "s3cret"}, 200),
    ({"authorization": "Bearer s3cret"}, 200),
])
def test_api_key(headers: dict[str, str], status: int, upstream: ScriptedUpstream, make_router: MakeRouter) -> None:
    upstream.script = text_reply
    router = make_router(openai_config(upstream.url, APIKEY="s3cret"))
    resp = httpx.post(router.url + "/v1/messages", json=OK, headers=headers)
    assert resp.status_code == status
    if status == 401:
        assert resp.json()["error"]["type"] == "authentication_error"
        assert "s3cret" not in resp.text
    assert httpx.get(router.url + "/health").status_code == 200  # health needs no key


@pytest.mark.parametrize(("model", "sent_to"), [
    ("up,reasoner", "reasoner"),  # explicit provider,model (what /model sends)
    ("claude-opus-4-8", "reasoner"),  # family alias
    ("haiku", "gpt-test"),  # alias by name
    ("reasoner", "reasoner"),  # a configured model name
    ("claude-something-else", "gpt-test"),  # anything else: Router.default
])
def test_model_selection(model: str, sent_to: str, upstream: ScriptedUpstream, make_router: MakeRouter) -> None:
    upstream.script = text_reply
    router = make_router(openai_config(upstream.url, Aliases={"opus": "up,reasoner", "haiku": "up,gpt-test"}))
    resp = httpx.post(router.url + "/v1/messages", json={**OK, "model": model})
    assert resp.status_code == 200, resp.text
    assert upstream.requests[-1].body["model"] == sent_to


def test_max_tokens_clamped_to_model_limit(upstream: ScriptedUpstream, make_router: MakeRouter) -> None:
    upstream.script = text_reply
    router = make_router(openai_config(upstream.url))
    httpx.post(router.url + "/v1/messages", json={**OK, "model": "up,reasoner", "max_tokens": 64000})
    assert upstream.requests[-1].body["max_tokens"] == 8192


def test_count_tokens_locally(upstream: ScriptedUpstream, make_router: MakeRouter) -> None:
    router = make_router(openai_config(upstream.url))
    small = httpx.post(router.url + "/v1/messages/count_tokens", json={**OK, "messages": [
        {"role": "user", "content": "hello world"}]}).json()["input_tokens"]
    big = httpx.post(router.url + "/v1/messages/count_tokens", json={**OK, "messages": [
        {"role": "user", "content": "hello world " * 100},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "think " * 50, "signature": "s"}]}],
        "tools": [{"name": "Bash", "input_schema": {"type": "object"}}]}).json()["input_tokens"]
    assert 2 <= small <= 10
    assert big > small + 250  # thinking blocks and tools count too
    assert upstream.requests == []


def test_models_and_health(upstream: ScriptedUpstream, make_router: MakeRouter) -> None:
    router = make_router(openai_config(upstream.url))
    models = httpx.get(router.url + "/v1/models").json()
    assert [m["id"] for m in models["data"]] == ["up,gpt-test", "up,reasoner"]
    assert models["data"][0]["type"] == "model" and models["has_more"] is False
    health = httpx.get(router.url + "/health").json()
    assert health["status"] == "ok" and health["providers"] == ["up"]


def test_pings_while_upstream_is_silent(upstream: ScriptedUpstream, make_router: MakeRouter,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(streaming, "PING_INTERVAL_S", 0.2)
    chunks = stream_step({"text": "slow answer"})
    upstream.script = lambda r: Reply(chunks=chunks, pause_s=0.15)
    router = make_router(openai_config(upstream.url))
    text = httpx.post(router.url + "/v1/messages", json={**OK, "stream": True}).text
    assert "event: ping" in text
    assert text.rstrip().endswith('data: {"type":"message_stop"}')


def test_client_disconnect_cancels_the_upstream(upstream: ScriptedUpstream, make_router: MakeRouter) -> None:
    chunks = stream_step({"text": "x" * 600})  # 50 chunks, 0.1 s apart: 5 s if nobody stops it
    upstream.script = lambda r: Reply(chunks=chunks, pause_s=0.1)
    router = make_router(openai_config(upstream.url))
    body = json.dumps({**OK, "stream": True}).encode()
    with socket.create_connection(("127.0.0.1", router.port), timeout=5) as sock:
        sock.sendall(b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        seen, deadline = b"", time.monotonic() + 5  # headers and the first events may come in several reads
        while b"message_start" not in seen and time.monotonic() < deadline:
            seen += sock.recv(65536)
        assert b"message_start" in seen
    deadline = time.monotonic() + 3
    while upstream.cancelled == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert upstream.cancelled == 1, "the upstream request went on after the client left"


def test_client_disconnect_cancels_a_non_streamed_request(upstream: ScriptedUpstream, make_router: MakeRouter) -> None:
    upstream.script = lambda r: Reply(chunks=[b'{"choices": ', b"[]}"], content_type="application/json", pause_s=3)
    router = make_router(openai_config(upstream.url))
    body = json.dumps(OK).encode()
    with socket.create_connection(("127.0.0.1", router.port), timeout=5) as sock:
        sock.sendall(b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        deadline = time.monotonic() + 3
        while not upstream.requests and time.monotonic() < deadline:
            time.sleep(0.02)
    deadline = time.monotonic() + 2
    while upstream.cancelled == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert upstream.cancelled == 1


@pytest.mark.parametrize(("body", "phrase"), [
    ({"messages": []}, "model: field required"),
    ({"model": "up,gpt-test"}, "messages: field required"),
    ({"model": "up,gpt-test", "messages": [{"role": "user", "content": "hi"}], "tools": True},
     "tools: must be a list of tool definitions"),  # was a 500: counting walked it
    ({"model": "up,gpt-test", "messages": [{"role": "user", "content": "hi"}], "tools": [None]},
     "tools.0: must be an object"),
])
def test_count_tokens_bad_input(body: dict[str, Any], phrase: str, upstream: ScriptedUpstream,
                                make_router: MakeRouter) -> None:
    router = make_router(openai_config(upstream.url))
    resp = httpx.post(router.url + "/v1/messages/count_tokens", json=body)
    assert resp.status_code == 400 and phrase in resp.json()["error"]["message"]
