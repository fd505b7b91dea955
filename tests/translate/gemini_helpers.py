"""Driving the Gemini stream translation with raw upstream bytes cut into arbitrary reads, as the relay does."""

from __future__ import annotations

import re
from typing import Any

from router.translate.adapter import Partial
from router.translate.gemini.adapter import _State, stream_for
from router.translate.gemini.request import ToolNames
from router.wire.errors import ProxyError
from tests.translate.stream_helpers import message_of

_MADE_UP = re.compile(rb"toolu_ccr[0-9a-f]+")


def translate(reads: list[bytes], names: ToolNames | None = None) -> bytes:
    """The Anthropic stream for these reads; a failure after output began ends it with its error event, as the
    relay sends it. Ids ccr makes up (random per process) are numbered in order, so runs compare equal."""
    stream = stream_for("up,gemini-test", _State(names or ToolNames(), 100), "up")
    stream.translator.message_id = "msg_fixed"
    out: list[bytes] = []
    try:
        for read in reads:
            out.append(stream.feed(read))
        out.append(stream.close())
    except Partial as part:
        out.append(part.good + b"event: error\ndata: " + part.failure.body() + b"\n\n")
    raw = b"".join(out)
    seen: dict[bytes, bytes] = {}
    return _MADE_UP.sub(lambda m: seen.setdefault(m.group(0), b"toolu_made_%d" % (len(seen) + 1)), raw)


def message(reads: list[bytes], names: ToolNames | None = None) -> dict[str, Any]:
    return message_of(translate(reads, names))


def fails(reads: list[bytes]) -> ProxyError:
    """The error of a stream that fails before its first event (an HTTP error at the relay)."""
    stream = stream_for("up,gemini-test", _State(ToolNames(), 100), "up")
    try:
        for read in reads:
            stream.feed(read)
        stream.close()
    except ProxyError as exc:
        return exc
    raise AssertionError("the stream did not fail")
