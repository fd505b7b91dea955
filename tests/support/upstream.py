"""Scripted upstream servers on 127.0.0.1 that speak a provider's real wire format, quirks included.

A test gives a `script`: a function from the received request to a reply. Replies are raw HTTP facts (status,
content type, body bytes or a list of SSE chunks with optional pauses), so the router under test meets
exactly what a provider sends, including split events, CRLF, comments, bad JSON and cut connections.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Received:
    path: str
    query: str
    headers: dict[str, str]
    body: Any
    raw: bytes


@dataclass
class Reply:
    status: int = 200
    body: bytes | dict[str, Any] | None = None
    content_type: str = "application/json"
    chunks: list[bytes] | None = None  # streamed as written, one write each
    pause_s: float = 0.0  # between chunks
    pause_before_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    cut: bool = False  # drop the connection after the chunks, with no proper end


Script = Callable[[Received], Reply]


def sse(*events: dict[str, Any] | str, crlf: bool = False) -> list[bytes]:
    """OpenAI-style `data:` events; a str is sent as written (e.g. "[DONE]" or a comment line)."""
    nl = "\r\n" if crlf else "\n"
    out = []
    for ev in events:
        if isinstance(ev, str):
            text = ev if ev.startswith(":") else f"data: {ev}"
        else:
            text = "data: " + json.dumps(ev)
        out.append((text + nl + nl).encode())
    return out


def anthropic_sse(*events: dict[str, Any]) -> list[bytes]:
    return [f"event: {ev['type']}\ndata: {json.dumps(ev)}\n\n".encode() for ev in events]


class ScriptedUpstream:
    def __init__(self, script: Script | None = None) -> None:
        self.script: Script = script or (lambda r: Reply(body={"error": "no script"}, status=500))
        self.requests: list[Received] = []
        self.cancelled = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ScriptedUpstream:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("scripted upstream did not start")
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._loop.run_until_complete(runner.cleanup())
            self._loop.close()

    @staticmethod
    async def _pause(request: web.Request, seconds: float) -> bool:
        """Sleep, watching the connection; False as soon as the peer has closed it."""
        deadline = asyncio.get_running_loop().time() + seconds
        while asyncio.get_running_loop().time() < deadline:
            transport = request.transport
            if transport is None or transport.is_closing():
                return False
            await asyncio.sleep(min(0.02, seconds))
        return True

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        received = Received(request.path, request.query_string, dict(request.headers), body, raw)
        self.requests.append(received)
        reply = self.script(received)
        if reply.pause_before_s:
            await asyncio.sleep(reply.pause_before_s)
        if reply.chunks is None:
            data = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
            return web.Response(status=reply.status, body=data, headers={"content-type": reply.content_type,
                                                                         **reply.headers})
        resp = web.StreamResponse(status=reply.status, headers={
            "content-type": reply.content_type if reply.content_type != "application/json"
            else "text/event-stream", **reply.headers})
        await resp.prepare(request)
        for i, chunk in enumerate(reply.chunks):
            if i and reply.pause_s and not await self._pause(request, reply.pause_s):
                self.cancelled += 1  # the client (ccr) went away mid-answer
                return resp
            try:
                await resp.write(chunk)
            except ConnectionError:
                self.cancelled += 1
                return resp
        if reply.cut:
            assert request.transport is not None
            request.transport.close()
            return resp
        await resp.write_eof()
        return resp
