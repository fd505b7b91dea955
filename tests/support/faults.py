"""A TCP fault proxy on 127.0.0.1, between the router and a scripted upstream.

It pipes bytes both ways and, per request, spoils the response the way networks and providers do: a delay, a
reset (RST), a clean close partway (truncate), garbled bytes (corrupt), silence with the socket left open
(stall), or a trickle (throttle) — either from the response's first byte, or after its head and first event
(mid-body, mid-stream). `refuse` stops listening and drops every connection: a connect then meets a real
ECONNREFUSED. Requests are counted across connections, so a test can make the first N faulty and the rest
clean. It runs on its own loop in its own thread and counts the connections it holds open, so that a test can
tell when the router leaks one.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

T = TypeVar("T")


class Kind(StrEnum):
    CLEAN = "clean"
    DELAY = "delay"  # one pause, then the rest at full speed
    RESET = "reset"  # TCP RST (SO_LINGER 0)
    TRUNCATE = "truncate"  # FIN: a clean close, the rest never sent
    CORRUPT = "corrupt"  # every '"' becomes '~': JSON broken, HTTP and SSE framing (and lengths) intact
    STALL = "stall"  # nothing more is sent; the socket stays open until the router gives up
    THROTTLE = "throttle"  # `piece` bytes at a time, `pause_s` apart


class Phase(StrEnum):
    BEFORE = "before first byte"  # nothing of the response has left
    AFTER = "after first byte"  # the head and the first SSE event (or 16 bytes of a body) have left


@dataclass(frozen=True)
class Fault:
    kind: Kind = Kind.CLEAN
    phase: Phase = Phase.BEFORE
    pause_s: float = 0.3  # delay: the pause
    piece: int = 64  # throttle: bytes per write
    every_s: float = 0.01  # throttle: between writes
    # AFTER, streamed: once the first event is out, wait for `release()` (a client saying it has the first byte)
    # so that the fault meets a stream the router has committed, not one it may still retry
    held: bool = False


CLEAN = Fault()
_BODY_PREFIX = 16  # bytes of a non-streamed body let through before an AFTER fault
_HOLD_S = 5.0  # the longest a held fault waits for its release


def _cut(buf: bytes) -> int | None:
    """Where an AFTER fault starts in a response's first bytes: after the head and the first event (or the
    first bytes of a body); None while too little has arrived to tell."""
    head_end = buf.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    head_end += 4
    if b"text/event-stream" in buf[:head_end].lower():
        event_end = buf.find(b"\n\n", head_end)  # inside a chunk: chunk-size lines end in a single CRLF
        return event_end + 2 if event_end >= 0 else None
    return head_end + _BODY_PREFIX if len(buf) >= head_end + _BODY_PREFIX else None


class _Connection:
    """One connection from the router and its twin to the upstream; the fault of the request in flight."""

    def __init__(self, client: asyncio.StreamWriter, up: asyncio.StreamWriter) -> None:
        self.client = client
        self.up = up
        self.fault = CLEAN
        self.head = bytearray()  # an AFTER fault's response bytes held until its cut point is known
        self.active = False  # the fault applies to what arrives from now on
        self.delayed = False
        self.reset = False

    def new_response(self, fault: Fault) -> None:
        self.fault, self.head, self.delayed = fault, bytearray(), False
        self.active = fault.kind is not Kind.CLEAN and fault.phase is Phase.BEFORE


class FaultProxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.requests = 0  # seen, over all connections
        self.faulted = 0  # requests that were given a fault
        self._plan: list[Fault] = []  # the faults of the next requests, in order; then `_then`
        self._then = CLEAN
        self._conns: set[_Connection] = set()
        self._clients = 0  # router-side sockets open, including those not yet paired with an upstream socket
        self._serving: set[asyncio.Task[Any]] = set()
        self._server: asyncio.Server | None = None
        self._released = asyncio.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        self._thread.start()
        self._call(self._listen())
        return self

    def stop(self) -> None:
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def inject(self, fault: Fault, times: int | None = 1) -> None:
        """The next `times` requests get `fault` (None: every request until the next call), then clean ones."""

        async def set_plan() -> None:
            self._released.clear()
            self._plan = [fault] * (times or 0)
            self._then = fault if times is None else CLEAN

        self._call(set_plan())

    def release(self) -> None:
        """Let a held fault happen."""
        self._loop.call_soon_threadsafe(self._released.set)

    def refuse(self, refusing: bool = True) -> None:
        """Stop listening and drop every open connection (the upstream went down); False listens again on the
        same port."""
        self._call(self._shutdown() if refusing else self._listen())

    def open_connections(self) -> tuple[int, int]:
        """(router-side, upstream-side) sockets this proxy holds open right now."""

        async def count() -> tuple[int, int]:
            return self._clients, len(self._conns)

        return self._call(count())

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for conn in list(self._conns):
            conn.client.close()
            conn.up.close()
        if self._serving:  # each connection's handler sees its sockets closed and ends
            await asyncio.wait(list(self._serving), timeout=5)

    def _next_fault(self) -> Fault:
        self.requests += 1
        fault = self._plan.pop(0) if self._plan else self._then
        self.faulted += fault.kind is not Kind.CLEAN
        return fault

    async def _serve(self, reader: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._serving.add(task)
        self._clients += 1
        try:
            try:
                up_reader, up = await asyncio.open_connection("127.0.0.1", self.target_port)
            except OSError:  # the upstream is gone: so is this connection
                client.close()
                return
            conn = _Connection(client, up)
            self._conns.add(conn)
            try:
                await self._pipe(conn, reader, up_reader)
            finally:
                self._conns.discard(conn)
                if conn.reset:
                    _abort_with_rst(client)
                for writer in (client, up):
                    writer.close()
                    with contextlib.suppress(OSError):
                        await writer.wait_closed()
        finally:
            self._clients -= 1
            self._serving.discard(task)

    async def _pipe(self, conn: _Connection, reader: asyncio.StreamReader, up_reader: asyncio.StreamReader) -> None:
        """Both directions until either ends: the router closing its side also ends a stall."""
        tasks = [asyncio.ensure_future(self._requests(conn, reader)),
                 asyncio.ensure_future(self._responses(conn, up_reader))]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, OSError):
                    await task

    async def _requests(self, conn: _Connection, reader: asyncio.StreamReader) -> None:
        """Router to upstream, a request at a time (aiohttp sends a Content-Length and does not pipeline), so
        that each response meets the fault of its own request."""
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
                return
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            try:
                body = await reader.readexactly(length)
            except (asyncio.IncompleteReadError, OSError):
                return
            conn.new_response(self._next_fault())
            conn.up.write(head + body)
            await conn.up.drain()

    async def _responses(self, conn: _Connection, up_reader: asyncio.StreamReader) -> None:
        while data := await up_reader.read(65536):
            if not await self._deliver(conn, data):
                return  # the fault ended the connection

    async def _deliver(self, conn: _Connection, data: bytes) -> bool:
        """Pass `data` on, spoilt as the current fault says; False when the connection is to end."""
        if not conn.active:
            if conn.fault.kind is Kind.CLEAN:
                conn.client.write(data)
                await conn.client.drain()
                return True
            conn.head += data
            cut = _cut(bytes(conn.head))
            if cut is None:
                return True
            data, conn.active = bytes(conn.head[cut:]), True
            conn.client.write(bytes(conn.head[:cut]))
            await _flushed(conn.client)
            if conn.fault.held:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._released.wait(), _HOLD_S)
        fault = conn.fault
        if fault.kind is Kind.RESET:
            conn.reset = True
            return False
        if fault.kind is Kind.TRUNCATE:
            return False
        if fault.kind is Kind.STALL:
            await asyncio.Event().wait()  # until the router hangs up (then _pipe cancels this)
        if fault.kind is Kind.DELAY and not conn.delayed:
            conn.delayed = True
            await asyncio.sleep(fault.pause_s)
        if fault.kind is Kind.CORRUPT:
            data = data.replace(b'"', b"~")
        if fault.kind is Kind.THROTTLE:
            for start in range(0, len(data), fault.piece):
                if start:
                    await asyncio.sleep(fault.every_s)
                conn.client.write(data[start:start + fault.piece])
                await conn.client.drain()
            return True
        if data:
            conn.client.write(data)
            await conn.client.drain()
        return True


async def _flushed(writer: asyncio.StreamWriter, timeout: float = 2.0) -> None:
    """Until the transport has handed everything to the kernel: what was let through must leave before the
    fault (a reset would otherwise discard it)."""
    await writer.drain()
    deadline = asyncio.get_running_loop().time() + timeout
    while writer.transport.get_write_buffer_size() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.005)


def _abort_with_rst(writer: asyncio.StreamWriter) -> None:
    sock: socket.socket | None = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()

