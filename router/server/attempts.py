"""Trying the deployments of a decision in order: retries with backoff on the same one, then fallbacks.

Retried on the same deployment: connection failures, timeouts, 429 (after its retry-after, when that is
short) and 5xx / 529, with exponential backoff and jitter, bounded by attempts and a total deadline.
Then the next deployment; besides those, a provider that refuses its key (401/403) or does not know the model
(404) is left for the next one, and so is one that refuses the request itself (its 400 or 413: a field it does
not take, a context it cannot hold), without retries there and without a mark against its health; when every
candidate fails and one of them refused the request, the client gets that refusal's status (a prompt that is
too long stays a 400, which Claude Code acts on). ccr's own failures (a plugin's) go nowhere else.
Only before the first byte reaches the client: a relay returns once the upstream's first event has been read,
and what fails after that ends the stream with an error event.
Every try is a hop in the decision; every outcome feeds the deployment's circuit breaker and latency.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from router.config.schema import RetryPolicy
from router.routing.decision import Hop, RoutingDecision
from router.routing.deployments import Deployment
from router.wire.errors import ProxyError, UpstreamError, UpstreamTimeout, UpstreamUnavailable
from router.wire.results import Stream, Whole
from router.wire.sse import has_event

Run = Callable[[Deployment], Awaitable[Whole | Stream]]

_RETRY_STATUSES = {429, 500, 502, 503, 504, 529}
_FALLBACK_STATUSES = _RETRY_STATUSES | {401, 403, 404}
_REFUSED_STATUSES = {400, 413}  # a provider refused this request: not retried there, tried on the next one


def retryable(exc: ProxyError) -> bool:
    return not exc.local and (isinstance(exc, UpstreamUnavailable | UpstreamTimeout) or exc.status in _RETRY_STATUSES)


def deployment_fault(exc: ProxyError) -> bool:
    """Would another deployment do better? Also for a provider's own 400 or 413: what one provider refuses
    (a field it does not know, a context it cannot hold, an image it cannot read) another may take; a request
    ccr itself found wrong goes nowhere."""
    if exc.local:
        return False
    return retryable(exc) or exc.status in _FALLBACK_STATUSES or (
        isinstance(exc, UpstreamError) and exc.status in _REFUSED_STATUSES)


def _health_fault(exc: ProxyError) -> bool:
    """Does this failure count against the deployment's circuit breaker? (A refused request does not.)"""
    return not (isinstance(exc, UpstreamError) and exc.status in _REFUSED_STATUSES)


def _retry_after(exc: ProxyError) -> float | None:
    value = exc.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


_RNG = random.Random()


def backoff(policy: RetryPolicy, attempt: int) -> float:
    """Exponential, capped, with jitter in its upper half."""
    ceiling: float = min(policy.max_delay_ms, policy.base_delay_ms * 2 ** attempt) / 1000
    return ceiling * (0.5 + _RNG.random() / 2)


async def _try(dep: Deployment, run: Run, policy: RetryPolicy, decision: RoutingDecision, deadline: float,
               sleep: Callable[[float], Awaitable[None]]) -> Whole | Stream | ProxyError:
    """One deployment, with its retries: the result, or the error that moves on to the next deployment.
    Raises what must not move on (a request that is itself wrong), and cancellation."""
    for attempt in range(policy.retries + 1):
        started = time.monotonic()
        try:
            result = await run(dep)
        except ProxyError as exc:
            latency = (time.monotonic() - started) * 1000
            decision.hops.append(Hop(dep.id, attempt, "error", round(latency, 2), exc.status, exc.message))
            if not deployment_fault(exc):
                raise
            if not retryable(exc) or attempt == policy.retries:
                return exc
            wait = _retry_after(exc)
            delay = backoff(policy, attempt) if wait is None else wait
            if wait is not None and wait * 1000 > policy.max_delay_ms:
                return exc  # a long retry-after: another deployment is better than waiting
            if time.monotonic() + delay > deadline:
                return exc
            await sleep(delay)
            continue
        latency = (time.monotonic() - started) * 1000
        decision.hops.append(Hop(dep.id, attempt, "ok", round(latency, 2)))
        dep.observe_ttft(latency)
        return result
    raise AssertionError("unreachable")  # the loop returns on its last attempt


async def execute(chain: list[Deployment], run: Run, policy: RetryPolicy, decision: RoutingDecision,
                  sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> tuple[Whole | Stream, Deployment]:
    if not chain:
        raise UpstreamUnavailable(f"no deployment can serve {decision.target}")
    deadline = time.monotonic() + policy.deadline_ms / 1000
    last: ProxyError | None = None
    refusal: ProxyError | None = None  # the first candidate that refused the request itself (400, 413)
    for position, dep in enumerate(chain):
        if not dep.breaker.allow() and position < len(chain) - 1:
            decision.hops.append(Hop(dep.id, 0, "skipped", 0.0, error="circuit open"))
            continue
        try:
            outcome = await _try(dep, run, policy, decision, deadline, sleep)
        except BaseException:
            dep.breaker.release()  # the request was wrong, or the client left: says nothing of the deployment
            raise
        if isinstance(outcome, ProxyError):
            if _health_fault(outcome):
                dep.breaker.failure()  # once per request, however many retries it took
            else:
                dep.breaker.release()
                refusal = refusal or outcome
            last = outcome
            if time.monotonic() > deadline:
                break
            continue
        decision.deployment = dep.id
        if isinstance(outcome, Stream):
            return Stream(_watch(outcome.chunks, dep), outcome.headers, outcome.usage), dep
        dep.breaker.success()
        return outcome, dep
    assert last is not None
    if refusal is not None and refusal is not last:
        last.status, last.error_type = refusal.status, refusal.error_type
        last.headers.pop("retry-after", None)
    failures = {h.deployment: h.error for h in decision.hops if h.outcome == "error"}
    if len(failures) > 1:  # each candidate's own reason: a user may have to fix more than one
        last.message = f"all {len(failures)} candidates failed: " + "; ".join(
            f"{dep}: {error}" for dep, error in failures.items())
    raise last


async def _watch(chunks: AsyncIterator[bytes], dep: Deployment) -> AsyncIterator[bytes]:
    """A stream that ends in an error event counts against its deployment's health; one the client left
    says nothing either way."""
    failed = finished = False
    try:
        async for chunk in chunks:
            failed = failed or has_event(chunk, b"error")
            yield chunk
        finished = True
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()
        if not finished:
            dep.breaker.release()
        elif failed:
            dep.breaker.failure()
        else:
            dep.breaker.success()
