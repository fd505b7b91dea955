"""The attempt loop's bookkeeping: one breaker outcome per request, probe slots given back, streams judged
by how they end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from router.config.schema import RetryPolicy
from router.routing.decision import RoutingDecision
from router.routing.deployments import Deployment
from router.server.attempts import execute
from router.wire.errors import InvalidRequest, UpstreamError
from router.wire.results import Stream, Whole
from tests.routing.helpers import engine, provider

POLICY = RetryPolicy(retries=2, base_delay_ms=1, max_delay_ms=10)


def deployments(n: int = 2, **breaker: Any) -> list[Deployment]:
    eng = engine({"Providers": [provider(f"p{i}", ["m"]) for i in range(n)], "Router": {"default": "p0,m"},
                  "circuitBreaker": {"consecutiveFailures": 2, "cooldownMs": 1, **breaker}})
    return [eng.deployments.order(f"p{i},m")[0] for i in range(n)]


def decision() -> RoutingDecision:
    return RoutingDecision("p0,m", "default", [], {}, 0.0)


async def nosleep(_: float) -> None:
    return None


def test_retries_count_once_against_the_deployment() -> None:
    deps = deployments()

    async def run(dep: Deployment) -> Whole:
        if dep is deps[0]:
            raise UpstreamError("down", status=500)
        return Whole(b"{}")

    _, used = asyncio.run(execute(deps, run, POLICY, d := decision(), nosleep))
    assert used is deps[1] and [h.deployment for h in d.hops] == ["p0,m"] * 3 + ["p1,m"]
    assert deps[0].breaker.state == "closed"  # three tries, one failed request
    asyncio.run(execute(deps, run, POLICY, decision(), nosleep))
    assert deps[0].breaker.state == "open"


@pytest.mark.parametrize("ending", ["bad request", "client left"])
def test_a_half_open_probe_is_given_back(ending: str) -> None:
    deps = deployments()
    for _ in range(2):
        deps[0].breaker.failure()
    assert deps[0].breaker.state == "open"

    async def run(dep: Deployment) -> Whole:
        if ending == "bad request":
            raise InvalidRequest("messages.0: bad")
        await asyncio.sleep(10)
        return Whole(b"{}")

    async def scenario() -> None:
        await asyncio.sleep(0.01)  # past the 1 ms cooldown: the next request is the probe
        task = asyncio.ensure_future(execute(deps, run, POLICY, decision(), nosleep))
        if ending == "client left":
            await asyncio.sleep(0.01)
            task.cancel()
        with pytest.raises((InvalidRequest, asyncio.CancelledError)):
            await task

    asyncio.run(scenario())
    assert deps[0].breaker.state == "half_open" and deps[0].breaker.allow()  # free for the next probe


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for p in parts:
        yield p


@pytest.mark.parametrize(("parts", "state"), [
    ([b"event: message_start\ndata: {}\n\n", b"event: message_stop\ndata: {}\n\n"], "closed"),
    # an upstream error that shares a read with the deltas before it
    ([b"event: message_start\ndata: {}\n\n",
      b'event: content_block_delta\ndata: {"text": "event: error"}\n\nevent: error\ndata: {}\n\n'], "open"),
])
def test_streams_are_judged_by_how_they_end(parts: list[bytes], state: str) -> None:
    deps = deployments(1, consecutiveFailures=1, cooldownMs=60000)

    async def run(dep: Deployment) -> Stream:
        return Stream(chunks(*parts))

    async def consume() -> None:
        result, _ = await execute(deps, run, POLICY, decision(), nosleep)
        assert isinstance(result, Stream)
        async for _chunk in result.chunks:
            pass

    asyncio.run(consume())
    assert deps[0].breaker.state == state


def test_failures_while_open_do_not_push_the_cooldown_back() -> None:
    from router.config.schema import BreakerPolicy
    from router.routing.health import CircuitBreaker

    now = [0.0]
    cb = CircuitBreaker(BreakerPolicy(consecutive_failures=1, cooldown_ms=1000), lambda: now[0])
    cb.failure()
    now[0] = 0.9
    cb.failure()  # a request that was already in flight
    now[0] = 1.0
    assert cb.allow()
