"""The SSE response: sends a committed stream, pings while the upstream is silent, and cancels the upstream
the moment the client goes away (the relay's `finally` closes the upstream connection)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Coroutine
from typing import Any, TypeVar

from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from router.wire.sse import PING

log = logging.getLogger("ccr.server")

PING_INTERVAL_S = 10.0
T = TypeVar("T")


class SSEResponse(Response):
    media_type = "text/event-stream"

    def __init__(self, chunks: AsyncIterator[bytes], headers: dict[str, str] | None = None,
                 ping_interval: float | None = None) -> None:
        self.chunks = chunks
        self.ping_interval = PING_INTERVAL_S if ping_interval is None else ping_interval
        self.status_code = 200
        self.background = None
        self.init_headers({"cache-control": "no-cache", "x-accel-buffering": "no", **(headers or {})})
        self._last_send = time.monotonic()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        pump = asyncio.ensure_future(self._pump(send))
        watch = asyncio.ensure_future(_wait_disconnect(receive))
        ping = asyncio.ensure_future(self._ping(send))
        try:
            await asyncio.wait((pump, watch), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (ping, watch, pump):
                task.cancel()
            for task in (ping, watch, pump):
                with contextlib.suppress(asyncio.CancelledError, OSError):
                    await task
        if pump.done() and not pump.cancelled():
            exc = pump.exception()
            if exc is not None and not isinstance(exc, OSError | ClientDisconnect):
                log.error("sending a stream failed", exc_info=exc)

    async def _pump(self, send: Send) -> None:
        try:
            async for chunk in self.chunks:
                self._last_send = time.monotonic()
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            aclose = getattr(self.chunks, "aclose", None)
            if aclose is not None:
                await aclose()

    async def _ping(self, send: Send) -> None:
        while True:
            wait = self._last_send + self.ping_interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            self._last_send = time.monotonic()
            await send({"type": "http.response.body", "body": PING, "more_body": True})


async def _wait_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def run_until_disconnect(coro: Coroutine[Any, Any, T], receive: Receive) -> T | None:
    """Await a non-streaming relay; if the client leaves first, cancel it (and so its upstream request)
    and return None."""
    task = asyncio.ensure_future(coro)
    watch = asyncio.ensure_future(_wait_disconnect(receive))
    try:
        await asyncio.wait((task, watch), return_when=asyncio.FIRST_COMPLETED)
    finally:
        watch.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if task.cancelled():
        return None
    return task.result()
