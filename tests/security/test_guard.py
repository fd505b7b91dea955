"""What a web page could send is refused over real HTTP, on every endpoint; Claude Code's and the SDK's
requests still pass (the SDK here, the real Claude Code CLI in tests/e2e)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import anthropic
import httpx
import pytest

from router.server.guard import split_host
from tests.conftest import openai_config
from tests.support.router import RouterServer
from tests.support.upstream import Reply, ScriptedUpstream

MakeRouter = Callable[[dict[str, Any]], RouterServer]
KEY = "ccr-test-key-0123456789"
BODY = {"model": "up,gpt-test", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
ANSWER = {"id": "c1", "object": "chat.completion", "model": "gpt-test",
          "choices": [{"index": 0, "message": {"role": "assistant", "content": "hello"}, "finish_reason": "stop"}],
          "usage": {"prompt_tokens": 3, "completion_tokens": 1}}


@pytest.fixture
def router(upstream: ScriptedUpstream, make_router: MakeRouter) -> RouterServer:
    upstream.script = lambda r: Reply(body=ANSWER)
    return make_router(openai_config(upstream.url, APIKEY=KEY, ALLOWED_ORIGINS=["http://localhost:5173"],
                                     ALLOWED_HOSTS=["router.team.internal"]))


def raw(router: RouterServer, head: str, body: bytes = b"") -> tuple[int, bytes]:
    """A request written byte for byte (httpx would fix up what a browser or an attacker sends as it likes)."""
    with socket.create_connection(("127.0.0.1", router.port), timeout=5) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data.partition(b"\r\n\r\n")[2]


def post_messages(router: RouterServer, **headers: str) -> httpx.Response:
    return httpx.post(router.url + "/v1/messages", json=BODY, headers={"x-api-key": KEY, **headers})


# (case, headers on top of a valid JSON POST, status, error type, phrase the message must hold)
REFUSED = [
    ("a web page's Origin", {"origin": "https://evil.example"}, 403, "permission_error", "ALLOWED_ORIGINS"),
    ("an opaque Origin (sandboxed frame, file: page)", {"origin": "null"}, 403, "permission_error", "web pages"),
    ("another local web server's page", {"origin": "http://localhost:3000"}, 403, "permission_error", "Origin"),
    ("https on a loopback name", {"origin": "https://127.0.0.1"}, 403, "permission_error", "Origin"),
    ("a DNS-rebinding Host", {"host": "evil.example:3456"}, 403, "permission_error", "ALLOWED_HOSTS"),
    ("a rebinding Host with a trailing dot", {"host": "attacker.example."}, 403, "permission_error", "Host"),
    ("text/plain (no preflight)", {"content-type": "text/plain"}, 415, "invalid_request_error", "application/json"),
    ("a form", {"content-type": "application/x-www-form-urlencoded"}, 415, "invalid_request_error", "JSON"),
    ("multipart", {"content-type": "multipart/form-data; boundary=x"}, 415, "invalid_request_error", "JSON"),
    ("no key", {"x-api-key": ""}, 401, "authentication_error", "APIKEY"),
    ("a wrong key", {"x-api-key": "ccr-wrong"}, 401, "authentication_error", "APIKEY"),
]


@pytest.mark.parametrize(("case", "headers", "status", "error_type", "phrase"), REFUSED, ids=[c[0] for c in REFUSED])
def test_refused_on_messages(case: str, headers: dict[str, str], status: int, error_type: str, phrase: str,
                             router: RouterServer, upstream: ScriptedUpstream) -> None:
    resp = post_messages(router, **headers)
    assert resp.status_code == status, resp.text
    error = resp.json()
    assert error["type"] == "error" and error["error"]["type"] == error_type
    assert phrase in error["error"]["message"]
    assert upstream.requests == []  # nothing reached the provider


@pytest.mark.parametrize("path", ["/health", "/v1/models", "/v1/ccr/stats", "/v1/ccr/prompts"])
def test_rebinding_pages_read_nothing(path: str, router: RouterServer) -> None:
    status, body = raw(router, f"GET {path} HTTP/1.1\nHost: evil.example:{router.port}\nx-api-key: {KEY}\n"
                                f"Connection: close\n")
    assert status == 403 and b"permission_error" in body and b'"pid"' not in body


@pytest.mark.parametrize("path", ["/v1/messages/count_tokens", "/v1/ccr/labels", "/v1/ccr/purge"])
def test_simple_requests_refused_on_every_post(path: str, router: RouterServer) -> None:
    """The exact request a page's `fetch(url, {method: "POST", body: "…"})` makes without a preflight."""
    status, body = raw(router, f"POST {path} HTTP/1.1\nHost: 127.0.0.1:{router.port}\nOrigin: https://evil.example\n"
                                "Content-Type: text/plain;charset=UTF-8\nConnection: close\n", b'{"prompts": true}')
    assert status == 403 and b"web pages" in body


def test_preflight_gets_no_permission(router: RouterServer) -> None:
    status, _ = raw(router, f"OPTIONS /v1/messages HTTP/1.1\nHost: 127.0.0.1:{router.port}\n"
                            "Origin: https://evil.example\nAccess-Control-Request-Method: POST\nConnection: close\n")
    assert status == 403


ALLOWED = [
    ("Claude Code and the SDK (no Origin)", {}),
    ("localhost by name", {"host": "localhost"}),
    ("IPv6 loopback", {"host": "[::1]:3456"}),
    ("a configured host name", {"host": "router.team.internal:3456"}),
    ("a configured origin", {"origin": "http://localhost:5173"}),
    ("a JSON media type with parameters", {"content-type": "application/json; charset=utf-8"}),
    ("the key as a bearer token", {"x-api-key": "", "authorization": f"Bearer {KEY}"}),
]


@pytest.mark.parametrize(("case", "headers"), ALLOWED, ids=[c[0] for c in ALLOWED])
def test_allowed(case: str, headers: dict[str, str], router: RouterServer) -> None:
    resp = post_messages(router, **headers)
    assert resp.status_code == 200, resp.text
    assert resp.json()["content"][0]["text"] == "hello"


def test_own_origin_is_allowed(router: RouterServer) -> None:
    resp = post_messages(router, origin=f"http://127.0.0.1:{router.port}")
    assert resp.status_code == 200, resp.text


def test_official_sdk_passes(router: RouterServer) -> None:
    client = anthropic.Anthropic(base_url=router.url, api_key=KEY, max_retries=0)
    message = client.messages.create(**BODY)  # type: ignore[call-overload]
    assert message.content[0].text == "hello"
    with client.messages.stream(**BODY) as stream:  # type: ignore[arg-type]
        assert stream.get_final_message().content[0].text == "hello"
    assert client.messages.count_tokens(model="up,gpt-test", messages=BODY["messages"]).input_tokens > 0  # type: ignore[arg-type]


def test_without_apikey_loopback_clients_still_work(upstream: ScriptedUpstream, make_router: MakeRouter) -> None:
    """A config from before keys were generated keeps working for programs on this machine."""
    upstream.script = lambda r: Reply(body=ANSWER)
    router = make_router(openai_config(upstream.url))
    assert httpx.post(router.url + "/v1/messages", json=BODY).status_code == 200
    assert any("APIKEY" in w and "ccr config apikey" in w for w in router.config.warnings)
    # the origin and content-type checks hold without a key too
    assert httpx.post(router.url + "/v1/messages", json=BODY, headers={"origin": "https://x.example"}).status_code == 403


@pytest.mark.parametrize(("value", "expected"), [
    ("127.0.0.1:3456", ("127.0.0.1", 3456)), ("LOCALHOST", ("localhost", None)), ("[::1]:80", ("::1", 80)),
    ("::1", ("::1", None)), ("evil.example.:3456", ("evil.example", 3456)), ("[::1]", ("::1", None)),
])
def test_split_host(value: str, expected: tuple[str, int | None]) -> None:
    assert split_host(value) == expected


@pytest.mark.parametrize("value", ["127.0.0.1:3456@evil.example", "localhost:evil", "[::1]x", "127.0.0.1:３４"])
def test_forged_host_forms_are_refused(value: str, router: RouterServer) -> None:
    with pytest.raises(ValueError):
        split_host(value)
    status, _ = raw(router, f"GET /health HTTP/1.1\nHost: {value}\nConnection: close\n")
    assert status in (400, 403)  # 400: the HTTP parser itself refused it
