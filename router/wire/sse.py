"""Server-sent events: a byte-level reader that tolerates everything providers send, and the Anthropic writer.

The reader keeps the unfinished tail between reads, so an event (or a multi-byte character) may be split at
any byte; it accepts LF, CRLF and CR line ends (a CR at the end of a read waits for the next read, in case it
is half of a CRLF), skips comment lines and a leading byte-order mark, joins multi-line data fields, and (as the
spec says) does not dispatch an event whose data is empty.
"""

from __future__ import annotations

from typing import Any

import orjson

DONE = b"[DONE]"


_BOM = b"\xef\xbb\xbf"


class SSEDecoder:
    __slots__ = ("_buf", "_cr", "_started")

    def __init__(self) -> None:
        self._buf = b""
        self._cr = False
        self._started = False

    def feed(self, chunk: bytes) -> list[tuple[bytes | None, bytes]]:
        """Complete events as (event name or None, data) pairs."""
        if not self._started:  # a byte-order mark may open the stream, possibly split across reads
            head = self._buf + chunk
            if len(head) < 3 and _BOM.startswith(head):
                self._buf = head
                return []
            self._started = True
            self._buf = b""
            chunk = head[3:] if head.startswith(_BOM) else head
        if self._cr:
            chunk = b"\r" + chunk
            self._cr = False
        if b"\r" in chunk:
            if chunk.endswith(b"\r"):
                chunk = chunk[:-1]
                self._cr = True
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        buf = self._buf + chunk if self._buf else chunk
        events: list[tuple[bytes | None, bytes]] = []
        start = 0
        while True:
            end = buf.find(b"\n\n", start)
            if end < 0:
                break
            event = _parse(buf[start:end])
            if event is not None:
                events.append(event)
            start = end + 2
        self._buf = buf[start:]
        return events

    def close(self) -> list[tuple[bytes | None, bytes]]:
        """An event the upstream left unterminated at end of stream."""
        tail = self._buf + (b"\n" if self._cr else b"")
        self._buf, self._cr = b"", False
        event = _parse(tail.strip(b"\n")) if tail.strip() else None
        return [event] if event is not None else []


def _parse(block: bytes) -> tuple[bytes | None, bytes] | None:
    if block.startswith(b"data: ") and b"\n" not in block:  # the common case, one data line
        return (None, block[6:]) if len(block) > 6 else None  # empty data is not dispatched here either
    name: bytes | None = None
    data: list[bytes] = []
    for line in block.split(b"\n"):
        if not line or line[0] == 0x3A:  # blank, or ":" comment
            continue
        field, _, value = line.partition(b":")
        if value[:1] == b" ":
            value = value[1:]
        if field == b"data":
            data.append(value)
        elif field == b"event":
            name = value
    joined = b"\n".join(data)
    if not joined:  # the spec: an event with an empty data buffer is not dispatched
        return None
    return name, joined


def has_event(data: bytes, name: bytes) -> bool:
    """Whether whole SSE events hold an `event: NAME` line. Such a line can only open the data or follow a
    newline: JSON strings escape theirs, so text that merely mentions it never matches."""
    line = b"event: " + name
    return data.startswith(line) or b"\n" + line in data


def event(kind: str, data: dict[str, Any]) -> bytes:
    return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


PING = b'event: ping\ndata: {"type": "ping"}\n\n'
