"""Fault injection between the router and its upstreams: every fault, before and after the first byte, streamed
and not, for an OpenAI and an Anthropic upstream. Each case pins what the client sees (a retry that succeeds, a
fallback, an Anthropic error with its status and type, or an `event: error` closing a well-ordered stream),
that the request ends within a bound derived from the config, and that the router is left with no task, pooled
connection or proxied socket more than before.

All cases share one pair of routers (with and without a fallback deployment) and the same proxies, so a leak
in any case shows up in that case's settle check, and leaks do not hide behind fresh processes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.e2e.agent import stream_step, whole_step
from tests.support.faults import Fault, FaultProxy, Kind, Phase
from tests.support.inspected import InspectedRouter, Snapshot, open_sockets
from tests.support.upstream import Received, Reply, ScriptedUpstream, anthropic_sse

TIMEOUT_MS = 800  # API_TIMEOUT_MS: how long an upstream may stay silent
RETRY = {"retries": 1, "baseDelayMs": 20, "maxDelayMs": 100, "deadlineMs": 10_000}
TRIES = RETRY["retries"] + 1
# the longest a request may take: every try of both deployments ends in a timeout, with the longest backoffs,
# plus the slowest fault's own pauses and room for a loaded 2-core machine
DEADLINE_S = 2 * TRIES * (TIMEOUT_MS / 1000 + RETRY["maxDelayMs"] / 1000) + 2.0
SETTLE_S = 3.0  # how long a task or a connection may take to go away after its request ended

WIRES = ("openai", "anthropic")


def text_of(wire: str) -> str:
    return f"served by {wire}, in several pieces"


def openai_script(text: str) -> Callable[[Received], Reply]:
    def script(r: Received) -> Reply:
        step = {"text": text}
        return Reply(chunks=stream_step(step)) if r.body.get("stream") else Reply(body=whole_step(step))

    return script


def anthropic_script(r: Received) -> Reply:
    usage = {"input_tokens": 12, "output_tokens": 4}
    message = {"id": "msg_up", "type": "message", "role": "assistant", "model": "m", "stop_sequence": None,
               "content": [{"type": "text", "text": text_of("anthropic")}], "stop_reason": "end_turn",
               "usage": usage}
    if not r.body.get("stream"):
        return Reply(body=message)
    pieces = [text_of("anthropic")[i:i + 9] for i in range(0, len(text_of("anthropic")), 9)]
    return Reply(content_type="text/event-stream", chunks=anthropic_sse(
        {"type": "message_start", "message": {**message, "content": [], "stop_reason": None}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        *({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}} for p in pieces),
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": usage},
        {"type": "message_stop"},
    ))


@dataclass
class Rig:
    upstreams: dict[str, ScriptedUpstream]  # "openai", "anthropic", "backup"
    proxies: dict[str, FaultProxy]  # in front of "openai" and "anthropic"; the backup is reached directly
    with_fallback: InspectedRouter
    alone: InspectedRouter  # no fallback: what the client gets when the one deployment fails
    baseline: dict[int, list[str]] = field(default_factory=dict)  # per router: the tasks it idles with


def config(rig_urls: dict[str, str], fallback: bool) -> dict[str, Any]:
    router: dict[str, Any] = {"default": "openai,m"}
    if fallback:
        router["fallback"] = {"default": ["backup,m"]}
    return {
        "Providers": [
            {"name": "openai", "api_base_url": f"{rig_urls['openai']}/v1/chat/completions", "api_key": "k",
             "models": ["m"]},
            {"name": "anthropic", "api_base_url": f"{rig_urls['anthropic']}/v1/messages", "api_key": "k",
             "models": ["m"]},
            {"name": "backup", "api_base_url": f"{rig_urls['backup']}/v1/chat/completions", "api_key": "k",
             "models": ["m"]},
        ],
        "Router": router,
        "API_TIMEOUT_MS": TIMEOUT_MS,
        "retry": RETRY,
        # the cases share the routers: no case may find a deployment skipped because of the ones before
        "circuitBreaker": {"consecutiveFailures": 1_000_000, "minRequests": 1_000_000},
    }


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    with pytest.MonkeyPatch.context() as mp:  # module-scoped: the autouse CCR_HOME comes too late for it
        mp.setenv("CCR_HOME", str(tmp_path_factory.mktemp("ccr_home_faults")))
        upstreams = {"openai": ScriptedUpstream(openai_script(text_of("openai"))).start(),
                     "anthropic": ScriptedUpstream(anthropic_script).start(),
                     "backup": ScriptedUpstream(openai_script(text_of("backup"))).start()}
        proxies = {wire: FaultProxy(upstreams[wire].port).start() for wire in WIRES}
        urls = {"backup": upstreams["backup"].url, **{wire: proxies[wire].url for wire in WIRES}}
        routers = [InspectedRouter(config(urls, fallback)).start() for fallback in (True, False)]
        rig = Rig(upstreams, proxies, with_fallback=routers[0], alone=routers[1])
        try:
            for router in routers:  # the tasks a router idles with (uvicorn's, its lifespan's), then warm it
                rig.baseline[id(router)] = router.snapshot().tasks
                for wire in WIRES:
                    for stream in (False, True):
                        assert ask(router, wire, stream).status == 200
            for router in routers:
                settle(rig, router)
            yield rig
        finally:
            for router in routers:
                router.stop()
            for proxy in proxies.values():
                proxy.stop()
            for upstream in upstreams.values():
                upstream.stop()


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    stream: bool  # the client got an event stream
    elapsed: float


def ask(router: InspectedRouter, wire: str, stream: bool, first_byte: Callable[[], None] | None = None) -> Answer:
    """`first_byte` is called once the first bytes of the answer's body have arrived."""
    body = {"model": f"{wire},m", "max_tokens": 50, "stream": stream, "messages": [{"role": "user", "content": "hi"}]}
    started = time.monotonic()
    # a hang shows as a request over DEADLINE_S, not as an httpx timeout
    with httpx.Client(timeout=DEADLINE_S + 10) as client, \
            client.stream("POST", router.url + "/v1/messages", json=body) as resp:
        parts: list[bytes] = []
        for part in resp.iter_bytes():
            if first_byte is not None and not parts:
                first_byte()
            parts.append(part)
        data = b"".join(parts)
        content_type = resp.headers.get("content-type", "")
    return Answer(resp.status_code, data, content_type.startswith("text/event-stream"), time.monotonic() - started)


def events(data: bytes) -> list[tuple[str, dict[str, Any]]]:
    """The stream's events, each one's data parsed: a client must be able to read every event it is sent."""
    out = []
    for block in data.decode().split("\n\n"):
        if not block.strip():
            continue
        fields = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
        assert set(fields) == {"event", "data"}, block
        parsed = json.loads(fields["data"])
        assert parsed["type"] == fields["event"], block
        out.append((fields["event"], parsed))
    return out


# what may follow each event in an Anthropic stream; `error` may follow anything but the end
_NEXT = {
    "start": {"message_start"},
    "message_start": {"content_block_start", "message_delta"},
    "content_block_start": {"content_block_delta", "content_block_stop"},
    "content_block_delta": {"content_block_delta", "content_block_stop"},
    "content_block_stop": {"content_block_start", "message_delta"},
    "message_delta": {"message_stop"},
    "message_stop": set(),
}


def check_order(names: list[str]) -> None:
    state = "start"
    for i, name in enumerate(n for n in names if n != "ping"):
        if name == "error":
            assert state != "start", f"an error event before message_start: {names}"
            assert i == len([n for n in names if n != "ping"]) - 1, f"events after the error: {names}"
            return
        assert name in _NEXT[state], f"{name} after {state}: {names}"
        state = name
    assert state == "message_stop", f"the stream ended after {state}: {names}"


def streamed_text(evs: list[tuple[str, dict[str, Any]]]) -> str:
    return "".join(ev["delta"].get("text", "") for name, ev in evs if name == "content_block_delta")


def settle(rig: Rig, router: InspectedRouter) -> None:
    """Wait (bounded) until no request holds anything: no connection lent out of a pool, every socket a proxy
    holds open is one the router keeps pooled for reuse (no orphan on either side), and the router's tasks
    are back to the set it idles with."""
    deadline = time.monotonic() + SETTLE_S
    baseline = rig.baseline[id(router)]
    while True:
        snap = router.snapshot()
        pooled = {wire: sum(r.snapshot().idle[wire] for r in (rig.with_fallback, rig.alone)) for wire in WIRES}
        held = {wire: rig.proxies[wire].open_connections() for wire in WIRES}
        problems = _problems(snap, baseline, pooled, held)
        if not problems:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"not settled after {SETTLE_S:.1f} s: " + "; ".join(problems))
        time.sleep(0.02)


def _problems(snap: Snapshot, baseline: list[str], pooled: dict[str, int],
              held: dict[str, tuple[int, int]]) -> list[str]:
    problems = [f"{name}: {n} connection(s) still lent out" for name, n in snap.acquired.items() if n]
    if snap.tasks != baseline:
        extra = sorted(set(snap.tasks) - set(baseline))
        problems.append(f"{len(snap.tasks)} tasks, {len(baseline)} when idle; new: {extra}")
    for wire in WIRES:
        clients, ups = held[wire]
        if clients != pooled[wire] or ups != clients:
            problems.append(f"proxy {wire}: {clients} router-side and {ups} upstream-side sockets open, "
                            f"{pooled[wire]} pooled by the routers")
    return problems


# ---- the matrix --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Expect:
    """ok: served at the first try. retry: one try failed with `status`, the second served. fallback: every try
    of the deployment failed with `status`, the backup served. error: the client gets `status` and `type`.
    stream_error: the stream began, and ends in an error event of `type`."""

    outcome: str
    status: int | None = None
    type: str | None = None


OK = Expect("ok")


def retry(status: int) -> Expect:
    return Expect("retry", status)


def fallback(status: int) -> Expect:
    return Expect("fallback", status)


def error(status: int, type_: str) -> Expect:
    return Expect("error", status, type_)


def stream_error(type_: str) -> Expect:
    return Expect("stream_error", type=type_)


@dataclass(frozen=True)
class Case:
    kind: Kind
    phase: Phase
    stream: bool
    expect: Expect
    every: bool = False  # every try gets the fault (else only the first)
    fallback: bool = True  # the router with a fallback deployment

    @property
    def id(self) -> str:
        return "-".join([self.kind.value, "before" if self.phase is Phase.BEFORE else "after",
                         "stream" if self.stream else "whole", *(["every-try"] if self.every else []),
                         *([] if self.fallback else ["no-fallback"])])


def _matrix() -> list[Case]:
    B, A = Phase.BEFORE, Phase.AFTER
    cases: list[Case] = []
    for stream in (False, True):
        # slow but within API_TIMEOUT_MS: served at the first try, whenever it happens
        for phase in (B, A):
            cases += [Case(Kind.DELAY, phase, stream, OK), Case(Kind.THROTTLE, phase, stream, OK)]
        # broken before anything reached the client: retried on the same deployment
        cases += [Case(Kind.RESET, B, stream, retry(502)), Case(Kind.TRUNCATE, B, stream, retry(502)),
                  Case(Kind.CORRUPT, B, stream, retry(502)), Case(Kind.STALL, B, stream, retry(504))]
        # broken after the first byte: a whole answer is still the router's to retry; a stream is committed
        for kind, status, kind_type in ((Kind.RESET, 502, "api_error"), (Kind.TRUNCATE, 502, "api_error"),
                                        (Kind.CORRUPT, 502, "api_error"), (Kind.STALL, 504, "timeout_error")):
            cases.append(Case(kind, A, stream, stream_error(kind_type) if stream else retry(status)))
        # every try fails: the fallback serves; without one, the client gets the last error
        cases += [Case(Kind.STALL, B, stream, fallback(504), every=True),
                  Case(Kind.RESET, B, stream, fallback(502), every=True),
                  Case(Kind.STALL, B, stream, error(504, "timeout_error"), every=True, fallback=False),
                  Case(Kind.RESET, B, stream, error(502, "api_error"), every=True, fallback=False),
                  Case(Kind.CORRUPT, B, stream, error(502, "api_error"), every=True, fallback=False)]
        if not stream:  # a whole answer that goes silent halfway is a timeout, not a broken answer
            cases.append(Case(Kind.STALL, A, stream, error(504, "timeout_error"), every=True, fallback=False))
    return cases


MATRIX = _matrix()


@pytest.mark.parametrize("wire", WIRES)
@pytest.mark.parametrize("case", MATRIX, ids=[c.id for c in MATRIX])
def test_fault(case: Case, wire: str, rig: Rig) -> None:
    router = rig.with_fallback if case.fallback else rig.alone
    proxy, upstream, backup = rig.proxies[wire], rig.upstreams[wire], rig.upstreams["backup"]
    seen, backup_seen, decisions = len(upstream.requests), len(backup.requests), len(router.decisions)
    faulted = proxy.faulted
    held = case.stream and case.phase is Phase.AFTER  # the fault waits for the client's first byte
    proxy.inject(Fault(case.kind, case.phase, held=held), times=None if case.every else 1)
    try:
        answer = ask(router, wire, case.stream, first_byte=proxy.release if held else None)
    finally:
        proxy.inject(Fault(), times=0)
    assert answer.elapsed < DEADLINE_S, f"took {answer.elapsed:.2f} s"
    assert len(router.decisions) == decisions + 1
    hops = [(h.deployment, h.outcome, h.status) for h in router.decisions[-1].hops]
    tries = len(upstream.requests) - seen
    assert proxy.faulted - faulted == (tries if case.every else 1)  # the fault did meet the request(s)
    dep = f"{wire},m"
    expect = case.expect

    if expect.outcome == "error":
        assert answer.status == expect.status, answer.body
        body = json.loads(answer.body)
        assert body["type"] == "error" and body["error"]["type"] == expect.type, body
        assert "Traceback" not in body["error"]["message"] and not answer.stream
        assert hops == [(dep, "error", expect.status)] * TRIES and tries == TRIES
    else:
        assert answer.status == 200, answer.body
        assert answer.stream == case.stream
        served = "backup" if expect.outcome == "fallback" else wire
        if case.stream:
            evs = events(answer.body)
            check_order([name for name, _ in evs])
            text = streamed_text(evs)
            if expect.outcome == "stream_error":
                assert evs[-1][0] == "error" and evs[-1][1]["error"]["type"] == expect.type, evs[-1]
                assert text_of(wire).startswith(text)  # what came before the fault, unspoilt
            else:
                assert evs[-1][0] == "message_stop" and text == text_of(served)
        else:
            assert json.loads(answer.body)["content"][0]["text"] == text_of(served)
        first = {"ok": [], "stream_error": [], "retry": [(dep, "error", expect.status)],
                 "fallback": [(dep, "error", expect.status)] * TRIES}[expect.outcome]
        assert hops == [*first, ("backup,m" if served == "backup" else dep, "ok", None)]
        assert tries == len(first) + (served != "backup")
        assert len(backup.requests) - backup_seen == (served == "backup")

    if case.kind is Kind.STALL:  # it was API_TIMEOUT_MS that ended each stalled try
        assert answer.elapsed >= (TRIES if case.every else 1) * TIMEOUT_MS / 1000
    if case.kind is Kind.DELAY:
        assert answer.elapsed >= Fault().pause_s
    settle(rig, router)


def test_refused_connections_fall_back_or_fail_and_the_router_recovers(rig: Rig) -> None:
    """Nothing listens (the upstream went down, its connections with it): every try is refused at connect."""
    for wire in WIRES:
        proxy = rig.proxies[wire]
        proxy.refuse()
        try:
            for stream in (False, True):
                served = ask(rig.with_fallback, wire, stream)
                assert served.status == 200 and served.elapsed < DEADLINE_S
                hops = rig.with_fallback.decisions[-1].hops
                assert [(h.deployment, h.status) for h in hops] == [(f"{wire},m", 502)] * TRIES + [("backup,m", None)]
                assert "cannot reach provider" in str(hops[-2].error)
                failed = ask(rig.alone, wire, stream)
                assert failed.status == 502 and failed.elapsed < DEADLINE_S
                body = json.loads(failed.body)
                assert body["error"]["type"] == "api_error" and "cannot reach provider" in body["error"]["message"]
        finally:
            proxy.refuse(False)
        for stream in (False, True):  # listening again: no dead pooled connection is left to trip over
            assert ask(rig.alone, wire, stream).status == 200
            assert [h.outcome for h in rig.alone.decisions[-1].hops] == ["ok"]
    for router in (rig.with_fallback, rig.alone):
        settle(rig, router)


def test_stopping_everything_closes_every_socket(tmp_path_factory: pytest.TempPathFactory) -> None:
    """After faulty requests, a stopped router, proxy and upstream leave the process with the sockets it had."""
    before = open_sockets()
    upstream = ScriptedUpstream(openai_script(text_of("openai"))).start()
    proxy = FaultProxy(upstream.port).start()
    router = InspectedRouter(config({"openai": proxy.url, "anthropic": proxy.url, "backup": upstream.url},
                                    fallback=False)).start()
    try:
        for kind in (Kind.STALL, Kind.RESET, Kind.TRUNCATE):
            proxy.inject(Fault(kind, Phase.AFTER))
            assert ask(router, "openai", True).status == 200
        assert open_sockets() > before
    finally:
        router.stop()
        proxy.stop()
        upstream.stop()
    deadline = time.monotonic() + SETTLE_S
    while open_sockets() != before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert open_sockets() == before


@pytest.mark.parametrize(("phase", "stream"), [(Phase.BEFORE, False), (Phase.BEFORE, True), (Phase.AFTER, True)],
                         ids=["before-whole", "before-stream", "after-stream"])
def test_a_client_leaving_a_stalled_request_frees_everything_at_once(phase: Phase, stream: bool) -> None:
    """With API_TIMEOUT_MS far away, only the client's leaving can end the stall: the router must cancel the
    upstream request then, not hold a task and a connection until the timeout."""
    upstream = ScriptedUpstream(openai_script(text_of("openai"))).start()
    proxy = FaultProxy(upstream.port).start()
    router = InspectedRouter({**config({"openai": proxy.url, "anthropic": proxy.url, "backup": upstream.url},
                                      fallback=False), "API_TIMEOUT_MS": 60_000}).start()
    try:
        idle = router.snapshot().tasks
        proxy.inject(Fault(Kind.STALL, phase, held=phase is Phase.AFTER))
        body = {"model": "openai,m", "max_tokens": 50, "stream": stream,
                "messages": [{"role": "user", "content": "hi"}]}
        # the client gives up and hangs up: before the head (a stream is not committed yet), or mid-stream
        with httpx.Client(timeout=httpx.Timeout(5, read=0.3)) as client, pytest.raises(httpx.ReadTimeout), \
                client.stream("POST", router.url + "/v1/messages", json=body) as resp:
            chunks = resp.iter_bytes()
            if phase is Phase.AFTER:
                assert next(chunks).startswith(b"event: message_start")
                proxy.release()
            for _ in chunks:
                pass
        left = time.monotonic()
        while True:
            snap = router.snapshot()
            if snap.tasks == idle and not snap.acquired["openai"] and proxy.open_connections() == (0, 0):
                break
            assert time.monotonic() - left < SETTLE_S, (snap, proxy.open_connections())
            time.sleep(0.02)
        assert upstream.requests and proxy.faulted == 1
    finally:
        router.stop()
        proxy.stop()
        upstream.stop()
