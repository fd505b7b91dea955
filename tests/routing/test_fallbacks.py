"""Retries and fallbacks under injected upstream faults, through real HTTP to scripted upstreams."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.agent import stream_step, whole_step
from tests.support.router import RouterServer, free_port
from tests.support.upstream import Reply, ScriptedUpstream, sse

MakeRouter = Callable[[dict[str, Any]], RouterServer]
STEP = {"text": "served"}
CHUNK = {"choices": [{"index": 0, "delta": {"content": "partial"}}]}


def ok(r: Any) -> Reply:
    return Reply(chunks=stream_step(STEP)) if r.body.get("stream") else Reply(body=whole_step(STEP))


@pytest.fixture
def backup() -> Iterator[ScriptedUpstream]:
    server = ScriptedUpstream(ok).start()
    yield server
    server.stop()


def config(primary_url: str, backup_url: str, **extra: Any) -> dict[str, Any]:
    return {
        "Providers": [
            {"name": "primary", "api_base_url": f"{primary_url}/v1/chat/completions", "api_key": "k1",
             "models": ["m"]},
            {"name": "backup", "api_base_url": f"{backup_url}/v1/chat/completions", "api_key": "k2", "models": ["m"]},
        ],
        "Router": {"default": "primary,m", "fallback": {"default": ["backup,m"]}},
        "retry": {"retries": 1, "baseDelayMs": 20, "maxDelayMs": 2000},
        **extra,
    }


def ask(router: RouterServer, stream: bool = False, **headers: str) -> httpx.Response:
    body = {"model": "claude-sonnet-4-6", "max_tokens": 50, "stream": stream,
            "messages": [{"role": "user", "content": "hi"}]}
    return httpx.post(router.url + "/v1/messages", json=body, headers=headers, timeout=20)


def served_text(resp: httpx.Response) -> str:
    if resp.headers["content-type"].startswith("text/event-stream"):
        return "".join(json.loads(line[6:])["delta"].get("text", "") for line in resp.text.splitlines()
                       if line.startswith("data: ") and '"content_block_delta"' in line)
    return str(resp.json()["content"][0]["text"])


FAULTS: list[tuple[str, Reply | None, int]] = [
    ("connection refused", None, 0),
    ("500", Reply(status=500, body={"error": {"message": "internal"}}), 2),
    ("503 overloaded", Reply(status=503, body={"error": {"message": "busy"}}), 2),
    ("bad key", Reply(status=401, body={"error": {"message": "invalid key"}}), 1),  # no retry, straight on
    ("stream cut before the first byte", Reply(chunks=[b": keep-alive\n\n"], cut=True), 2),
    ("long retry-after", Reply(status=429, body={"error": {"message": "quota"}}, headers={"retry-after": "60"}), 1),
]


@pytest.mark.parametrize(("fault", "primary_calls"), [f[1:] for f in FAULTS], ids=[f[0] for f in FAULTS])
@pytest.mark.parametrize("stream", [False, True])
def test_fault_then_fallback(fault: Reply | None, primary_calls: int, stream: bool, upstream: ScriptedUpstream,
                             backup: ScriptedUpstream, make_router: MakeRouter) -> None:
    upstream.script = lambda r: fault  # type: ignore[assignment,return-value]
    primary_url = upstream.url if fault is not None else f"http://127.0.0.1:{free_port()}"
    router = make_router(config(primary_url, backup.url))
    resp = ask(router, stream)
    assert resp.status_code == 200, resp.text
    assert served_text(resp) == "served"
    assert len(upstream.requests) == primary_calls and len(backup.requests) == 1
    decision = router.decisions[-1]
    assert decision.deployment == "backup,m"
    assert [h.outcome for h in decision.hops][-1] == "ok"
    assert [h.deployment for h in decision.hops] == ["primary,m"] * max(primary_calls, 2 if fault is None else 1) \
        + ["backup,m"]
    assert resp.headers["x-ccr-route"].startswith("backup,m; signal=default; hops=2")


def test_429_with_short_retry_after_waits_and_retries_the_same_deployment(
    upstream: ScriptedUpstream, backup: ScriptedUpstream, make_router: MakeRouter,
) -> None:
    answers = iter([Reply(status=429, body={"error": {"message": "slow down"}}, headers={"retry-after": "1"})])
    upstream.script = lambda r: next(answers, None) or ok(r)
    router = make_router(config(upstream.url, backup.url))
    started = time.monotonic()
    resp = ask(router)
    assert resp.status_code == 200 and time.monotonic() - started >= 1.0
    assert len(upstream.requests) == 2 and backup.requests == []
    assert [h.status for h in router.decisions[-1].hops] == [429, None]


def test_timeout_then_fallback(upstream: ScriptedUpstream, backup: ScriptedUpstream, make_router: MakeRouter) -> None:
    upstream.script = lambda r: Reply(body=whole_step(STEP), pause_before_s=1.0)
    router = make_router(config(upstream.url, backup.url, API_TIMEOUT_MS=300, retry={"retries": 0}))
    resp = ask(router)
    assert resp.status_code == 200 and served_text(resp) == "served"
    assert [h.status for h in router.decisions[-1].hops] == [504, None]


def test_stream_cut_after_the_first_byte_is_not_retried(upstream: ScriptedUpstream, backup: ScriptedUpstream,
                                                        make_router: MakeRouter) -> None:
    upstream.script = lambda r: Reply(chunks=sse(CHUNK), cut=True)
    router = make_router(config(upstream.url, backup.url))
    resp = ask(router, stream=True)
    assert resp.status_code == 200
    assert "partial" in resp.text and resp.text.rstrip().split("\n")[-2] == "event: error"
    assert backup.requests == []  # bytes had reached the client: no second answer can follow


def test_all_failing_gives_the_last_error_naming_what_was_tried(
    upstream: ScriptedUpstream, make_router: MakeRouter,
) -> None:
    upstream.script = lambda r: Reply(status=500, body={"error": {"message": "down"}})
    router = make_router(config(upstream.url, f"http://127.0.0.1:{free_port()}"))
    resp = ask(router)
    assert resp.status_code == 502
    message = resp.json()["error"]["message"]
    assert message.startswith("all 2 candidates failed: primary,m: provider 'primary' (model m) answered HTTP 500")
    assert "; backup,m: cannot reach provider 'backup'" in message
    assert resp.headers["x-ccr-route"].endswith("hops=2")


def test_a_request_one_provider_refuses_goes_to_the_next_without_retries(
    upstream: ScriptedUpstream, backup: ScriptedUpstream, make_router: MakeRouter,
) -> None:
    """A provider's 400 (a field it does not know, a context it cannot hold) is not retried there; the
    fallback may take the request, and the refusal does not count against the provider's health."""
    upstream.script = lambda r: Reply(status=400, body={"error": {"message": "context too long"}})
    router = make_router(config(upstream.url, backup.url, circuitBreaker={"consecutiveFailures": 1}))
    for _ in range(2):
        assert ask(router).status_code == 200
    assert len(upstream.requests) == 2 and len(backup.requests) == 2  # never skipped: its circuit stayed closed
    # when the others fail too, however they fail, the refusal is what the client hears: a prompt that is too
    # long stays a 400 (Claude Code compacts on it) rather than a 503 it would retry or a 401 it would show
    for status in (400, 503, 401):
        backup.script = lambda r, status=status: Reply(status=status, body={"error": {"message": "backup said no"}})
        resp = ask(router)
        assert resp.status_code == 400, status
        assert resp.json()["error"]["type"] == "invalid_request_error"
        assert resp.json()["error"]["message"].startswith("all 2 candidates failed")
        assert "context too long" in resp.json()["error"]["message"]


def test_a_request_ccr_finds_wrong_goes_nowhere(upstream: ScriptedUpstream, backup: ScriptedUpstream,
                                               make_router: MakeRouter) -> None:
    router = make_router(config(upstream.url, backup.url))
    resp = httpx.post(router.url + "/v1/messages", json={"model": "x", "max_tokens": 10, "messages": [
        {"role": "user", "content": [{"type": "image", "source": {"type": "file"}}]}]})
    assert resp.status_code == 400 and "source.type" in resp.json()["error"]["message"]
    assert upstream.requests == [] and backup.requests == []


def test_circuit_opens_and_later_requests_skip_the_failing_deployment(
    upstream: ScriptedUpstream, backup: ScriptedUpstream, make_router: MakeRouter,
) -> None:
    upstream.script = lambda r: Reply(status=500, body={"error": {"message": "down"}})
    router = make_router(config(upstream.url, backup.url, retry={"retries": 0},
                                circuitBreaker={"consecutiveFailures": 2, "cooldownMs": 60000}))
    for _ in range(2):
        assert ask(router).status_code == 200
    assert len(upstream.requests) == 2
    assert ask(router).status_code == 200
    assert len(upstream.requests) == 2  # open: not even tried
    assert router.decisions[-1].hops[0].outcome == "skipped"


def test_the_turn_stays_on_the_deployment_that_answered(upstream: ScriptedUpstream, backup: ScriptedUpstream,
                                                        make_router: MakeRouter) -> None:
    upstream.script = lambda r: Reply(status=500, body={"error": {"message": "down"}})
    router = make_router(config(upstream.url, backup.url, retry={"retries": 0}))
    session = {"x-claude-code-session-id": "s-1"}
    assert ask(router, **session).status_code == 200
    upstream.script = ok  # primary is fine again, but this turn stays where it is
    body = {"model": "claude-sonnet-4-6", "max_tokens": 50, "messages": [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}]}]}
    resp = httpx.post(router.url + "/v1/messages", json=body, headers=session)
    assert resp.status_code == 200
    assert router.decisions[-1].signal == "sticky" and router.decisions[-1].deployment == "backup,m"
    assert len(upstream.requests) == 1
