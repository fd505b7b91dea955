"""The SSE reader: the same events for any cut of the same bytes, for any line-end convention, and the same
events as a plain whole-input reading of what sse.py documents. It is documented never to raise, whatever
the bytes (invalid UTF-8, huge fields): every property here runs it on such input."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from router.wire.sse import SSEDecoder
from tests.fuzz.drive import split
from tests.fuzz.strategies import HUGE, sse_stream

Events = list[tuple[bytes | None, bytes]]
_BOM = b"\xef\xbb\xbf"


def decode(reads: list[bytes]) -> Events:
    decoder = SSEDecoder()
    out: Events = []
    for read in reads:
        out += decoder.feed(read)
    return out + decoder.close()


def reference(raw: bytes) -> Events:
    """sse.py's documented behaviour, read off the whole input at once."""
    raw = raw.removeprefix(_BOM)
    text = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    out: Events = []
    for block in text.split(b"\n\n"):
        name: bytes | None = None
        data: list[bytes] = []
        for line in block.split(b"\n"):
            if not line or line.startswith(b":"):
                continue
            field, _, value = line.partition(b":")
            value = value.removeprefix(b" ")
            if field == b"data":
                data.append(value)
            elif field == b"event":
                name = value
        if b"\n".join(data):  # an event with empty data is not dispatched
            out.append((name, b"\n".join(data)))
    return out


@given(sse_stream(), st.lists(st.integers(0, 2**16), max_size=10))
def test_any_cut_gives_the_events_of_the_whole(raw: bytes, cuts: list[int]) -> None:
    whole = decode([raw])
    assert decode(split(raw, cuts)) == whole
    assert whole == reference(raw)


@given(sse_stream())
def test_one_byte_at_a_time(raw: bytes) -> None:
    if len(raw) > 4000:  # a huge field fed byte by byte only measures the quadratic rebuffering
        raw = raw[:4000]
    assert decode([raw[i:i + 1] for i in range(len(raw))]) == decode([raw])


@given(st.lists(st.binary(max_size=20).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")), max_size=12),
       st.lists(st.integers(0, 400), max_size=6))
def test_lf_crlf_and_cr_line_ends_read_the_same(lines: list[bytes], cuts: list[int]) -> None:
    lf = b"".join(line + b"\n" for line in lines)
    expected = decode([lf])
    for end in (b"\r\n", b"\r"):
        other = lf.replace(b"\n", end)
        assert decode([other]) == expected
        assert decode(split(other, cuts)) == expected


@given(sse_stream())
def test_events_carry_data_and_no_line_end(raw: bytes) -> None:
    for name, data in decode([raw]):
        assert data, "an event with empty data was dispatched"
        assert b"\r" not in data and b"\r" not in (name or b"") and b"\n" not in (name or b"")


@given(HUGE, st.integers(1024, 65536))
def test_a_huge_field_in_network_sized_reads(text: str, size: int) -> None:
    value = text.encode()
    raw = b"data: " + value + b"\n\n"
    assert decode([raw[i:i + size] for i in range(0, len(raw), size)]) == [(None, value)]


CASES: list[tuple[str, bytes, Events]] = [
    # found by the fuzzer: the one-data-line fast path dispatched an empty payload that the general path drops
    ("empty data after a space", b"data: \n\n", []),
    ("empty data with a name", b"event: x\ndata: \n\n", []),
    ("bom split, then cr", b"\xef\xbb\xbfdata: a\r", [(None, b"a")]),
    ("lone cr at the very end", b"data: a\n\r", [(None, b"a")]),
]


def test_pinned_cases() -> None:
    for label, raw, expected in CASES:
        for cut in range(len(raw) + 1):
            assert decode(split(raw, [cut])) == expected, f"{label}, cut at {cut}"
