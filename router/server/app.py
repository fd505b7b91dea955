"""App factory and thin handlers: authenticate, read the body once, pick the route, hand it to a relay."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import wraps
from typing import Any

import orjson
from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException
from starlette.responses import Response

from router import __version__, tokens
from router.config.schema import Config, WireFormat
from router.decisions import queries, records
from router.decisions.store import DecisionLog
from router.providers.provider import Providers
from router.routing.decision import RoutingDecision
from router.routing.deployments import Deployment
from router.routing.features import RequestView
from router.routing.pipeline import RoutingEngine
from router.routing.probes import run_checks
from router.server import relay_anthropic, relay_openai
from router.server.attempts import execute
from router.server.results import Stream, Whole
from router.server.streaming import SSEResponse, run_until_disconnect
from router.tokens import count_request
from router.wire.anthropic import check_messages_request, parse_body
from router.wire.errors import (
    INTERNAL_MESSAGE,
    InvalidRequest,
    NotFound,
    ProxyError,
    RequestTooLarge,
    Unauthorized,
    error_body,
    type_for_status,
)
from router.wire.sse import has_event

log = logging.getLogger("ccr.server")
access = logging.getLogger("ccr.access")

Handler = Callable[[Request], Awaitable[Response]]
_JSON = "application/json"
DECISIONS_KEPT = 1000  # in memory for tests and debugging; the decision log persists them


class State:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.providers = Providers(config)
        self.engine = RoutingEngine(config, self.providers, call_model=self.call_model)
        self.decisions: deque[RoutingDecision] = deque(maxlen=DECISIONS_KEPT)
        self.log = DecisionLog()
        self.started = time.time()

    def check_auth(self, request: Request) -> str | None:
        """The client's key (checked when APIKEY is set; recorded, hashed, for per-key costs either way)."""
        key = _client_key(request)
        expected = self.config.apikey
        if expected and (not key or not hmac.compare_digest(key.encode(), expected.encode())):
            raise Unauthorized("missing or wrong API key: send ccr's APIKEY as x-api-key or Authorization: Bearer "
                               "(`ccr code` and `ccr activate` set it for Claude Code)")
        return key

    def first_deployment(self, model: str) -> Deployment:
        """For requests that need no decision (count_tokens): the model's resolution, its best deployment."""
        route = self.engine.selector.select(model)
        deps = self.engine.deployments.order(route.target)
        if not deps:  # a validated config cannot get here, but never answer with a traceback
            raise NotFound(f"'{route.target}' is not configured")
        return deps[0]

    async def call_model(self, dep: Deployment, body: dict[str, Any]) -> dict[str, Any]:
        """One non-streamed call of ccr's own (Router mode's dispatcher)."""
        if dep.provider.wire is WireFormat.ANTHROPIC:
            result = await relay_anthropic.relay(dep.provider, dep.model, body, None, {}, dep.key_index)
        else:
            result = await relay_openai.relay(dep.provider, dep.model, dep.target, body, 0, dep.key_index)
        assert isinstance(result, Whole)
        return dict(orjson.loads(result.body))


def _client_key(request: Request) -> str | None:
    key = request.headers.get("x-api-key")
    if key is None:
        auth = request.headers.get("authorization", "")
        key = auth[7:] if auth[:7].lower() == "bearer " else None
    return key


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


def _error_response(exc: ProxyError) -> Response:
    return Response(exc.body(), exc.status, headers=exc.headers, media_type=_JSON)


def anthropic_errors(handler: Handler) -> Handler:
    """Every failure leaves as an Anthropic-format error; internals go to the log, never to the client."""

    @wraps(handler)
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except ProxyError as exc:
            log.info("%s %s -> %d %s", request.method, request.url.path, exc.status, exc.message)
            return _error_response(exc)
        except Exception:
            log.exception("internal error on %s %s", request.method, request.url.path)
            return Response(error_body("api_error", INTERNAL_MESSAGE), 500, media_type=_JSON)

    return wrapped


async def read_body(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length")
    too_large = RequestTooLarge(f"request body exceeds ccr's limit of {limit} bytes (MAX_BODY_BYTES in the config)")
    if length and length.isdigit() and int(length) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _respond(result: Whole | Stream) -> Response:
    if isinstance(result, Stream):
        return SSEResponse(result.chunks, result.headers)
    return Response(result.body, result.status, headers=result.headers, media_type=_JSON)


def create_app(config: Config) -> FastAPI:
    state = State(config)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        warming = asyncio.get_running_loop().run_in_executor(None, tokens.warm)  # serves meanwhile
        await asyncio.to_thread(state.log.start)
        checks = None
        if config.routing.health_check.enabled:
            checks = asyncio.create_task(run_checks(state.providers, state.engine.deployments,
                                                    config.routing.health_check))
        try:
            yield
        finally:
            if checks is not None:
                checks.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await checks
            await warming
            await state.providers.close()
            await asyncio.to_thread(state.log.stop)  # everything queued is written before the process ends

    app = FastAPI(title="ccr", version=__version__, openapi_url=None, docs_url=None, redoc_url=None,
                  lifespan=lifespan)
    app.state.ccr = state

    @app.post("/v1/messages")
    @anthropic_errors
    async def messages(request: Request) -> Response:
        started = time.perf_counter()
        client_key = state.check_auth(request)
        raw = await read_body(request, config.max_body_bytes)
        body = parse_body(raw)
        check_messages_request(body)
        view = RequestView(body, request.headers)
        decision, chain = await state.engine.decide(view)
        # the subagent tag was taken out of the body: the raw bytes no longer match it
        original: bytes | None = raw if b"CCR-SUBAGENT-MODEL" not in raw else None

        async def run(dep: Deployment) -> Whole | Stream:
            if dep.provider.wire is WireFormat.ANTHROPIC:
                return await relay_anthropic.relay(dep.provider, dep.model, body, original, request.headers,
                                                   dep.key_index)
            return await relay_openai.relay(dep.provider, dep.model, dep.target, body, len(raw), dep.key_index)

        streamed = bool(body.get("stream"))

        def log_outcome(status: int, usage: dict[str, int], dep: Deployment | None = None,
                        error: ProxyError | None = None) -> None:
            info = dep.provider.cfg.models.get(dep.model) if dep else None
            state.log.record(
                records.decision_row(decision, view.model, client_key),
                records.outcome_row(decision, status=status, streamed=streamed, usage=usage,
                                    latency_ms=(time.perf_counter() - started) * 1000,
                                    cost=records.cost_usd(info, usage),
                                    error_type=error.error_type if error else None,
                                    error=error.message if error else None))

        try:
            outcome = await run_until_disconnect(execute(chain, run, config.routing.retry, decision), request.receive)
        except ProxyError as exc:
            exc.headers["x-ccr-route"] = decision.header()
            log_outcome(exc.status, {}, error=exc)
            raise
        except asyncio.CancelledError:  # the server is shutting down under it
            log_outcome(499, {})
            raise
        except Exception:  # a bug: the client gets a 500 from anthropic_errors, the log gets the row
            log_outcome(500, {}, error=ProxyError(INTERNAL_MESSAGE))
            raise
        finally:
            state.decisions.append(decision)
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
        return _respond(result)

    @app.post("/v1/messages/count_tokens")
    @anthropic_errors
    async def count_tokens(request: Request) -> Response:
        state.check_auth(request)
        raw = await read_body(request, config.max_body_bytes)
        body = parse_body(raw)
        if not isinstance(body.get("model"), str):
            raise InvalidRequest("model: field required (a string)")
        if not isinstance(body.get("messages"), list):
            raise InvalidRequest("messages: field required (a list of messages)")
        dep = state.first_deployment(body["model"])
        if dep.provider.wire is WireFormat.ANTHROPIC:
            result = await run_until_disconnect(
                relay_anthropic.count_tokens(dep.provider, dep.model, body, raw, request.headers, dep.key_index),
                request.receive)
            return _respond(result) if result is not None else Response(status_code=499)
        count = await asyncio.to_thread(count_request, body)  # a long conversation takes tiktoken a while
        return Response(orjson.dumps({"input_tokens": count}), media_type=_JSON)

    @app.get("/v1/models")
    @anthropic_errors
    async def models(request: Request) -> Response:
        state.check_auth(request)
        data = [
            {"type": "model", "id": f"{name},{model}", "display_name": f"{model} ({name})",
             "created_at": "1970-01-01T00:00:00Z"}
            for name, p in config.providers.items() for model in p.models
        ]
        return Response(orjson.dumps({"data": data, "has_more": False,
                                      "first_id": data[0]["id"] if data else None,
                                      "last_id": data[-1]["id"] if data else None}), media_type=_JSON)

    @app.get("/v1/ccr/stats")
    @anthropic_errors
    async def stats(request: Request) -> Response:
        state.check_auth(request)
        result = await asyncio.to_thread(queries.stats, state.log.query)
        return Response(orjson.dumps(result), media_type=_JSON)

    @app.get("/v1/ccr/costs")
    @anthropic_errors
    async def costs(request: Request) -> Response:
        state.check_auth(request)
        by = request.query_params.get("by", "day")
        if by not in queries.GROUPINGS:
            raise InvalidRequest(f"by: must be one of {', '.join(queries.GROUPINGS)}, got {by!r}")
        result = await asyncio.to_thread(queries.costs, state.log.query, by)
        return Response(orjson.dumps(result), media_type=_JSON)

    @app.get("/health")
    async def health() -> Response:
        info: dict[str, Any] = {
            "status": "ok", "version": __version__, "pid": os.getpid(),
            "uptime_s": round(time.time() - state.started, 1), "config": config.path,
            "providers": list(config.providers),
            "decision_log": state.log.problem or "ok",
        }
        return Response(orjson.dumps(info), media_type=_JSON)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 404:
            message = (f"no such endpoint: {request.method} {request.url.path}; ccr serves POST /v1/messages, "
                       "POST /v1/messages/count_tokens, GET /v1/models and GET /health")
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        else:
            message = str(exc.detail)
        return Response(error_body(type_for_status(exc.status_code), message), exc.status_code, media_type=_JSON)

    return app
