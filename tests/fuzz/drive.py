"""The relays' stream paths driven with upstream bytes cut into given reads, without a network or event loop.

The fake response's reads never suspend, so a coroutine runs to completion on its first `send`: no event loop
is needed, which keeps a hypothesis example well under a millisecond and free of scheduling noise. Ids that
ccr mints (message ids, tool ids for calls that came without one) are made deterministic, so that two runs
over the same input can be compared byte for byte.
"""

from __future__ import annotations

import itertools
import sys
import traceback
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar
from unittest import mock

from router.server import relay
from router.translate.adapter import StreamTranslation
from router.translate.anthropic.adapter import PassStream
from router.translate.gemini.adapter import _State as _GeminiState
from router.translate.gemini.adapter import stream_for as gemini_stream_for
from router.translate.gemini.request import ToolNames as GeminiToolNames
from router.translate.openai_chat import ToolNames
from router.translate.openai_chat.adapter import _State, stream_for
from router.translate.openai_chat.options import ChatOptions
from router.wire.errors import INTERNAL_MESSAGE, ProxyError

T = TypeVar("T")


def run(awaitable: Awaitable[T]) -> T:
    """Run a coroutine that never really waits (everything it awaits is already there)."""
    coro = awaitable.__await__()
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    raise AssertionError("the coroutine suspended; the fakes here never should")


def drain(chunks: AsyncIterator[bytes]) -> list[bytes]:
    out: list[bytes] = []
    while True:
        try:
            out.append(run(chunks.__anext__()))
        except StopAsyncIteration:
            return out


class _Content:
    def __init__(self, reads: list[bytes]) -> None:
        self.reads = iter(reads)

    async def readany(self) -> bytes:
        return next(self.reads, b"")


class FakeResponse:
    """What the relays use of an aiohttp response: the body's reads, headers, close/release."""

    def __init__(self, reads: list[bytes]) -> None:
        self.content = _Content([r for r in reads if r])  # an empty read means end of stream to aiohttp
        self.headers: dict[str, str] = {}
        self.closed = False

    def close(self) -> None:
        self.closed = True

    def release(self) -> None:
        self.closed = True


@dataclass
class FakeProvider:
    name: str = "up"


@contextmanager
def fixed_ids() -> Iterator[None]:
    counter = itertools.count(1)
    with mock.patch("router.translate.common.unique", lambda prefix: f"{prefix}{next(counter):06d}"):
        yield


@contextmanager
def production_recursion_limit() -> Iterator[None]:
    """Python's default recursion limit, which hypothesis raises by thousands while a test runs: str() or repr()
    of an upstream value nested as deep as orjson reads (1024 levels) fails only under the default."""
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        yield
    except RecursionError as exc:
        # raised again as a plain failure, with where it happened: pytest's and hypothesis's reports of a
        # RecursionError walk the stack looking for the recursion, and can hit the limit themselves
        where = "".join(traceback.format_exception(exc)[-6:])
        raise AssertionError(f"RecursionError under Python's default recursion limit:\n{where}") from None
    finally:
        sys.setrecursionlimit(before)


@dataclass
class Outcome:
    """What the client gets: an HTTP error (status, body) before any output, or the stream's bytes."""

    status: int = 200
    error_body: bytes = b""
    chunks: list[bytes] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=dict)
    closed: bool = False  # the upstream response was closed

    @property
    def stream(self) -> bytes:
        return b"".join(self.chunks)

    def same_as(self) -> tuple[int, bytes, bytes, dict[str, int]]:
        """What must not depend on how the upstream's bytes were cut into reads."""
        return self.status, self.error_body, self.stream, self.usage


def _relayed(reads: list[bytes], translation: StreamTranslation) -> Outcome:
    """The relay's stream path (peek, then pump) over these upstream reads."""
    resp = FakeResponse(reads)
    provider: Any = FakeProvider()
    try:
        started = run(relay._start(resp, provider, translation, {}))  # type: ignore[arg-type]
    except ProxyError as exc:
        return Outcome(exc.status, exc.body(), closed=resp.closed)
    chunks = drain(started.chunks)
    outcome = Outcome(chunks=chunks, usage=started.usage, closed=resp.closed)
    # the relay turns any other exception into this error event (and logs a traceback): a bug to report
    assert INTERNAL_MESSAGE.encode() not in outcome.stream, "the translation raised a non-ccr exception"
    return outcome


def openai_stream(reads: list[bytes], names: ToolNames | None = None, options: ChatOptions | None = None) -> Outcome:
    """The OpenAI adapter's stream through the relay. A non-ccr exception escapes as itself."""
    with fixed_ids(), production_recursion_limit():
        return _relayed(reads, stream_for("up,m", _State(names or ToolNames(), 100, options or ChatOptions()),
                                            "up"))


def passthrough_stream(reads: list[bytes]) -> Outcome:
    """The Anthropic adapter's stream through the relay."""
    with production_recursion_limit():
        return _relayed(reads, PassStream("up"))


def gemini_stream(reads: list[bytes], names: GeminiToolNames | None = None) -> Outcome:
    """The Gemini adapter's stream (streamGenerateContent?alt=sse) through the relay."""
    with fixed_ids(), production_recursion_limit():
        return _relayed(reads, gemini_stream_for("up,gemini-test", _GeminiState(names or GeminiToolNames(), 100), "up"))


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    """`data` cut at these offsets (any order, repeats and out-of-range offsets ignored)."""
    points = sorted({c for c in cuts if 0 < c < len(data)})
    return [data[a:b] for a, b in itertools.pairwise([0, *points, len(data)])]
