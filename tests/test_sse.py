"""The SSE reader: line ends, comments, multi-line data, and events cut at any byte."""

from __future__ import annotations

import pytest

from router.wire.sse import SSEDecoder

Events = list[tuple[bytes | None, bytes]]


def decode(reads: list[bytes]) -> Events:
    d = SSEDecoder()
    out: Events = []
    for r in reads:
        out += d.feed(r)
    return out + d.close()


CASES: list[tuple[str, bytes, Events]] = [
    ("lf", b"data: a\n\ndata: b\n\n", [(None, b"a"), (None, b"b")]),
    ("crlf", b"data: a\r\n\r\ndata: b\r\n\r\n", [(None, b"a"), (None, b"b")]),
    ("cr", b"data: a\r\rdata: b\r\r", [(None, b"a"), (None, b"b")]),
    ("named", b"event: ping\ndata: {}\n\n", [(b"ping", b"{}")]),
    ("comments", b": keep-alive\n\n: x\ndata: a\n\n", [(None, b"a")]),
    ("multiline", b"data: a\ndata: b\n\n", [(None, b"a\nb")]),
    ("no space", b"data:a\n\n", [(None, b"a")]),
    ("unterminated tail", b"data: a\n\ndata: b", [(None, b"a"), (None, b"b")]),
    ("multibyte", "data: 日本語 ✓\n\n".encode(), [(None, "日本語 ✓".encode())]),
    ("done", b"data: [DONE]\n\n", [(None, b"[DONE]")]),
    ("empty data is not dispatched", b"event: ping\n\ndata:\n\ndata: a\n\n", [(None, b"a")]),
    ("byte-order mark", b"\xef\xbb\xbfdata: a\n\n", [(None, b"a")]),
]


@pytest.mark.parametrize(("raw", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_whole_and_split_at_every_byte(raw: bytes, expected: Events) -> None:
    assert decode([raw]) == expected
    for cut in range(1, len(raw)):
        assert decode([raw[:cut], raw[cut:]]) == expected, f"split at {cut}"
    assert decode([raw[i:i + 1] for i in range(len(raw))]) == expected
