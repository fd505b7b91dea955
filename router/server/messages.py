"""POST /v1/messages: decide (classifier, rules, policy, budgets), try the chain, answer, and log the decision,
its outcome and the turn's prompt once the answer has ended."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from router.decisions import records
from router.routing.deployments import Deployment
from router.routing.features import RequestView
from router.server import relay
from router.server.attempts import execute
from router.server.streaming import SSEResponse, run_until_disconnect
from router.wire.anthropic import check_messages_request, parse_body
from router.wire.errors import INTERNAL_MESSAGE, InvalidRequest, ProxyError
from router.wire.results import Stream, Whole
from router.wire.sse import has_event

if TYPE_CHECKING:
    from router.server.app import State

access = logging.getLogger("ccr.access")


async def _logged(chunks: AsyncIterator[bytes], done: Callable[[int], None]) -> AsyncIterator[bytes]:
    """Log a streamed request once it has ended: 200, or 502 when it ended in an error event, or 499 when the
    client left."""
    status = 499
    try:
        failed = False
        async for chunk in chunks:
            failed = failed or has_event(chunk, b"error")
            yield chunk
        status = 502 if failed else 200
    finally:
        done(status)


def _plugin_context(request_id: str, dep: Deployment, streamed: bool) -> dict[str, Any]:
    return {"request_id": request_id, "target": dep.target, "provider": dep.provider.name, "model": dep.model,
            "deployment": dep.id, "streamed": streamed}


def respond(result: Whole | Stream) -> Response:
    if isinstance(result, Stream):
        return SSEResponse(result.chunks, result.headers)
    return Response(result.body, result.status, headers=result.headers, media_type="application/json")


async def handle(state: State, request: Request) -> Response:
    from router.server.app import read_body

    config = state.config
    started = time.perf_counter()
    client_key = state.check_auth(request)
    key = records.key_id(client_key)
    raw = await read_body(request, config.max_body_bytes)
    body = parse_body(raw)
    check_messages_request(body)
    view = RequestView(body, request.headers, len(raw))
    decision, chain = await state.engine.decide(view, key)
    # the subagent tag was taken out of the body: the raw bytes no longer match it
    original: bytes | None = raw if b"CCR-SUBAGENT-MODEL" not in raw else None
    prompt = (records.prompt_row(decision, view.prompt, view.depth, view.estimated_tokens)
              if decision.prompt_id and config.classifier.log_prompts and state.first_of_turn(decision.prompt_id)
              else None)

    streamed = bool(body.get("stream"))
    plugins = state.plugins

    async def run(dep: Deployment) -> Whole | Stream:
        if not plugins.plugins:
            return await relay.relay(dep.provider, dep.model, dep.target, body, original, request.headers,
                                     len(raw), dep.key_index)
        ctx = _plugin_context(decision.request_id, dep, streamed)
        sent, sent_raw = body, original
        if plugins.on_request:
            sent = await plugins.request(body, ctx)
            sent_raw = None
        result = await relay.relay(dep.provider, dep.model, dep.target, sent, sent_raw, request.headers,
                                   len(raw), dep.key_index)
        return await plugins.response(result, ctx) if plugins.on_response else result

    def log_outcome(status: int, usage: dict[str, int], dep: Deployment | None = None,
                    error: ProxyError | None = None) -> None:
        cost = records.cost_usd(dep.info if dep else None, usage)
        if status == 200 and not usage.get("estimated"):  # a cut stream or an estimate would bias the estimates
            state.engine.learned.observe(decision.ml.get("task_type") if decision.ml else None,
                                         dep.target if dep else None, usage)
        if state.spend is not None:
            state.spend.settle(key, decision.reserved, cost or 0.0)  # reserved when decided (routing/pipeline.py)
        outcome = records.outcome_row(decision, status=status, streamed=streamed, usage=usage,
                                      latency_ms=(time.perf_counter() - started) * 1000, cost=cost,
                                      error_type=error.error_type if error else None,
                                      error=error.message if error else None)

        def write(_: object = None) -> None:
            state.log.record(records.decision_row(decision, view.model, key), outcome, prompt)

        if decision.labels is not None and not decision.labels.done():  # the turn's labels are milliseconds away
            decision.labels.add_done_callback(write)
        else:
            write()

    state.decisions.append(decision)
    if decision.blocked:
        # Anthropic answers an exhausted credit balance with a 400: Claude Code shows it at once, no retries
        refused = InvalidRequest(decision.blocked)
        refused.headers["x-ccr-route"] = decision.header()
        log_outcome(refused.status, {}, error=refused)
        raise refused
    try:
        outcome = await run_until_disconnect(execute(chain, run, config.routing.retry, decision), request.receive)
    except ProxyError as exc:
        exc.headers["x-ccr-route"] = decision.header()
        log_outcome(exc.status, {}, error=exc)
        if plugins.on_error:
            await plugins.error(exc, {"request_id": decision.request_id, "target": decision.target,
                                      "streamed": streamed})
        raise
    except asyncio.CancelledError:  # the server is shutting down under it
        log_outcome(499, {})
        raise
    except Exception:  # a bug: the client gets a 500 from anthropic_errors, the log gets the row
        log_outcome(500, {}, error=ProxyError(INTERNAL_MESSAGE))
        raise
    if outcome is None:
        access.info("%s client went away before the answer", decision.target)
        log_outcome(499, {})
        return Response(status_code=499)
    result, dep = outcome
    state.engine.remember(view, decision, dep)
    access.info("%s via %s (%s) %s in %.0f ms", decision.target, dep.id, decision.signal,
                "stream" if isinstance(result, Stream) else result.status, (time.perf_counter() - started) * 1e3)
    result.headers["x-ccr-route"] = decision.header()
    if isinstance(result, Stream):
        usage = result.usage
        result.chunks = _logged(result.chunks, lambda status: log_outcome(status, usage, dep))
    else:
        log_outcome(result.status, result.usage, dep)
    return respond(result)
