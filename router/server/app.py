"""App factory and thin handlers: authenticate, read the body once, pick the route, hand it to a relay."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hmac
import logging
import os
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import wraps
from typing import Any

import orjson
from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException
from starlette.responses import Response

from classifier.runtime import Classifier
from router import __version__, tokens
from router.budget.spend import Spend
from router.config.schema import Config
from router.decisions import queries
from router.decisions import training as training_data
from router.decisions.store import DecisionLog
from router.plugins import Plugins
from router.providers.provider import Providers
from router.routing.decision import RoutingDecision
from router.routing.deployments import Deployment
from router.routing.pipeline import RoutingEngine
from router.routing.probes import run_checks
from router.server import relay
from router.server.guard import Guard
from router.server.messages import handle as handle_messages
from router.server.messages import respond
from router.server.streaming import run_until_disconnect
from router.tokens import count_request
from router.wire.anthropic import check_tools, parse_body
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
from router.wire.results import Whole

log = logging.getLogger("ccr.server")
access = logging.getLogger("ccr.access")

Handler = Callable[[Request], Awaitable[Response]]
_JSON = "application/json"
DECISIONS_KEPT = 1000  # in memory for tests and debugging; the decision log persists them
TURNS_REMEMBERED = 8192


class State:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.providers = Providers(config)
        self.classifier = Classifier(config.classifier.threads) if config.classifier.enabled else None
        self.spend = Spend(config.budgets) if config.budgets.active else None
        self.engine = RoutingEngine(config, self.providers, call_model=self.call_model, classifier=self.classifier,
                                    spend=self.spend)
        self.decisions: deque[RoutingDecision] = deque(maxlen=DECISIONS_KEPT)
        self.log = DecisionLog()
        self.plugins = Plugins(config.plugins)
        self.started = time.time()
        self._turns_logged: OrderedDict[str, None] = OrderedDict()

    def first_of_turn(self, prompt_id: str) -> bool:
        """True once per user turn: its prompt is logged with its first request."""
        if prompt_id in self._turns_logged:
            return False
        self._turns_logged[prompt_id] = None
        if len(self._turns_logged) > TURNS_REMEMBERED:
            self._turns_logged.popitem(last=False)
        return True

    def load_history(self) -> None:
        """Spend this month and the learned estimates, from the log (at start, in a worker thread)."""
        if self.log.problem is not None:
            return
        if self.spend is not None:
            month_start = dt.datetime.now(dt.UTC).strftime("%Y-%m-01")
            self.spend.load(queries.month_spend(self.log.query, month_start))
        self.engine.learned.load(*queries.learned(self.log.query))

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
        result = await relay.relay(dep.provider, dep.model, dep.target, body, None, {}, 0, dep.key_index)
        assert isinstance(result, Whole)
        return dict(orjson.loads(result.body))


def _client_key(request: Request) -> str | None:
    key = request.headers.get("x-api-key") or None  # an empty one: look at Authorization
    if key is None:
        auth = request.headers.get("authorization", "")
        key = auth[7:] if auth[:7].lower() == "bearer " else None
    return key


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


async def read_body(request: Request, limit: int, why: str = "MAX_BODY_BYTES in the config") -> bytes:
    length = request.headers.get("content-length")
    too_large = RequestTooLarge(f"request body exceeds ccr's limit of {limit} bytes ({why})")
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


class App(FastAPI):
    """FastAPI, with `POST /v1/messages` taken straight to its handler: the route every Claude Code request
    takes skips Starlette's middleware stack, routing and FastAPI's dependency solving, a quarter of the router's
    CPU time on a small request (measured: 2,530 -> 3,400 req/s). Its handler answers every failure itself
    (`anthropic_errors`), and its responses cannot fail before they start."""

    fast: Handler | None = None
    guard: Guard | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        refused = self.guard.check(scope) if self.guard is not None else None
        if refused is not None:
            log.warning("refused %s %s: %s", scope["method"], scope["path"], refused.message)
            await _error_response(refused)(scope, receive, send)
            return
        if self.fast is not None and scope["path"] == "/v1/messages" and scope["method"] == "POST":
            scope["app"] = self
            response = await self.fast(Request(scope, receive, send))
            await response(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(config: Config) -> App:
    state = State(config)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        warming = asyncio.get_running_loop().run_in_executor(None, tokens.warm)  # serves meanwhile
        if state.classifier is not None:
            state.classifier.start()  # loads in the background; rules route until it is ready
        await asyncio.to_thread(state.log.start)
        try:
            await asyncio.to_thread(state.load_history)
        except Exception as exc:  # budgets then start from zero: say so, keep serving
            log.error("spend and estimates not read from the decision log: %s: %s", type(exc).__name__, exc)
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
            if state.classifier is not None:
                state.classifier.close()

    app = App(title="ccr", version=__version__, openapi_url=None, docs_url=None, redoc_url=None,
                  lifespan=lifespan)
    app.state.ccr = state

    @app.post("/v1/messages")
    @anthropic_errors
    async def messages(request: Request) -> Response:
        return await handle_messages(state, request)

    app.fast = messages
    app.guard = Guard(config)

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
        check_tools(body)
        dep = state.first_deployment(body["model"])
        if dep.provider.count_tokens_url is not None:  # the upstream counts: its count is the one that matters
            counted = await run_until_disconnect(
                relay.count_tokens(dep.provider, dep.model, body, raw, request.headers, dep.key_index),
                request.receive)
            return respond(counted) if counted is not None else Response(status_code=499)
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

    def require_log() -> None:
        if state.log.problem is not None:  # an empty answer would look like an empty history
            raise ProxyError(f"the decision log is not available ({state.log.problem}); see the router's log")

    @app.get("/v1/ccr/training")
    @anthropic_errors
    async def training(request: Request) -> Response:
        state.check_auth(request)
        require_log()
        result = await asyncio.to_thread(training_data.derive, state.log.query, config.tier_of)
        return Response(orjson.dumps(result), media_type=_JSON)

    @app.get("/v1/ccr/prompts")
    @anthropic_errors
    async def prompts(request: Request) -> Response:
        state.check_auth(request)
        require_log()
        text = request.query_params.get("limit", "20")
        if (limit := training_data.prompt_limit(text)) is None:
            raise InvalidRequest(f"limit: must be a whole number from 1 to {training_data.MAX_PROMPTS}, "
                                 f"got {text[:40]!r}")
        every = request.query_params.get("all") == "1"
        result = await asyncio.to_thread(training_data.to_label, state.log.query, limit, every)
        return Response(orjson.dumps(result), media_type=_JSON)

    @app.post("/v1/ccr/labels")
    @anthropic_errors
    async def labels(request: Request) -> Response:
        state.check_auth(request)
        label = training_data.check_label(parse_body(await read_body(request, 1 << 20, "a label is one small object")))
        require_log()
        await asyncio.to_thread(training_data.save_label, state.log.query, state.log.execute, label)
        return Response(orjson.dumps({"ok": True}), media_type=_JSON)

    @app.post("/v1/ccr/purge")
    @anthropic_errors
    async def purge(request: Request) -> Response:
        state.check_auth(request)
        asked = parse_body(await read_body(request, 1 << 16, 'the request is {"prompts": true}'))
        if asked.get("prompts") is not True:
            raise InvalidRequest('say what to purge: {"prompts": true} deletes every logged prompt')
        require_log()
        deleted = await asyncio.to_thread(state.log.purge_prompts)
        log.info("purged %d logged prompts", deleted)
        return Response(orjson.dumps({"prompts_deleted": deleted}), media_type=_JSON)

    @app.get("/health")
    async def health() -> Response:
        info: dict[str, Any] = {
            "status": "ok", "version": __version__, "pid": os.getpid(),
            "uptime_s": round(time.time() - state.started, 1), "config": config.path,
            "providers": list(config.providers),
            "decision_log": state.log.problem or "ok",
            "classifier": state.classifier.health() if state.classifier is not None else {"state": "off"},
        }
        return Response(orjson.dumps(info), media_type=_JSON)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 404:
            message = (f"no such endpoint: {request.method} {request.url.path[:200]}; ccr serves POST /v1/messages, "
                       "POST /v1/messages/count_tokens, GET /v1/models, GET /health, and for `ccr` itself "
                       "GET /v1/ccr/stats, /costs, /prompts and /training, POST /v1/ccr/labels and /purge")
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        else:
            message = str(exc.detail)
        return Response(error_body(type_for_status(exc.status_code), message), exc.status_code, media_type=_JSON)

    return app
