"""The Anthropic passthrough's stream path: the upstream's bytes go out as they came (cut at event boundaries),
with the usage noted for the log and an error event added when the stream ends early. For any cut of the same
bytes the client gets the same bytes, the same HTTP error, and the log the same usage."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.anthropic_order import check_stream
from tests.fuzz.drive import Outcome, passthrough_stream, split
from tests.fuzz.strategies import (
    DEEPEST,
    JSON,
    NUMBERS,
    TEXT,
    WRONG,
    encode,
    maybe,
    now_and_then,
    places,
    put,
)

USAGE = st.dictionaries(st.sampled_from(["input_tokens", "output_tokens", "cache_read_input_tokens"]),
                        st.integers(0, 10**6), max_size=3)


def event(name: str, data: Any) -> bytes:
    """Written by the standard library's encoder: the odd events nest deeper than orjson writes (and deep-nesting
    markers as deep as orjson reads)."""
    return b"event: " + name.encode() + b"\ndata: " + encode(data) + b"\n\n"


@st.composite
def anthropic_events(draw: st.DrawFn) -> list[bytes]:
    """A well-formed Anthropic stream's events."""
    start = {"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant",
                                                  "model": "m", "content": [], "usage": draw(USAGE)}}
    out = [event("message_start", start)]
    for i, text in enumerate(draw(st.lists(TEXT, max_size=3))):
        out.append(event("content_block_start", {"type": "content_block_start", "index": i,
                                                 "content_block": {"type": "text", "text": ""}}))
        out.append(event("content_block_delta", {"type": "content_block_delta", "index": i,
                                                 "delta": {"type": "text_delta", "text": text}}))
        out.append(event("content_block_stop", {"type": "content_block_stop", "index": i}))
        if draw(st.integers(0, 3)) == 0:
            out.append(b'event: ping\ndata: {"type": "ping"}\n\n')
    out.append(event("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
                                       "usage": draw(USAGE)}))
    out.append(event("message_stop", {"type": "message_stop"}))
    return out


ODD_EVENTS = st.one_of(
    st.builds(lambda n, v: b"event: " + n + b"\ndata: " + encode(v) + b"\n\n",
              st.sampled_from([b"message_start", b"message_delta", b"error", b"ping", b"message_stop",
                               b"content_block_start", b"content_block_delta"]),
              st.one_of(WRONG, DEEPEST, st.fixed_dictionaries({"type": st.just("error")},
                                                     optional={"error": maybe(st.fixed_dictionaries(
                                                         {"type": maybe(st.just("overloaded_error")),
                                                          "message": maybe(TEXT)}))}),
                        st.fixed_dictionaries({"message": maybe(st.fixed_dictionaries({"usage": maybe(USAGE)}))}),
                        st.fixed_dictionaries({"usage": maybe(st.dictionaries(TEXT, NUMBERS | JSON))}))),
    st.sampled_from([b": keep-alive\n\n", b"event: message_delta\ndata: {\xff}\n\n", b"data: \n\n", b"\n\n",
                     b"event: error\ndata: oops\n\n", b"event: message_stop\n", b"data: x"]),
)


@st.composite
def passthrough_bytes(draw: st.DrawFn) -> bytes:
    events = draw(anthropic_events())
    for _ in range(draw(st.integers(0, 3))):  # odd events anywhere, or the stream cut short
        events.insert(draw(st.integers(0, len(events))), draw(ODD_EVENTS))
    if draw(st.integers(0, 3)) == 0:
        events = events[:draw(st.integers(1, len(events)))]
    raw = b"".join(events)
    return draw(now_and_then(st.just(raw), st.just(raw.replace(b"\n", b"\r\n")), 3))


def check(outcome: Outcome, raw: bytes) -> None:
    assert outcome.closed
    if outcome.status != 200:
        err = orjson.loads(outcome.error_body)
        assert err["type"] == "error" and isinstance(err["error"]["type"], str)
        assert isinstance(err["error"]["message"], str)
        return
    body, added = outcome.stream, b""
    if body.endswith(b"\n\n") and b"event: error\ndata: " in body:  # what ccr adds when the stream ends early
        cut = body.rfind(b"event: error\ndata: ")
        if b'"message":"provider \'up\'' in body[cut:]:
            body, added = body[:cut], body[cut:]
    # the upstream's bytes as they came, up to an event a client could not parse (which ends the stream)
    assert raw.startswith(body.rstrip()) or raw.replace(b"\r\n", b"\n").startswith(body.rstrip()), \
        "the upstream's bytes were not passed on as they came"
    if body.rstrip() != raw.rstrip():
        assert b"is not JSON" in added or b"before the answer was complete" in added
    assert all(isinstance(v, int) for v in outcome.usage.values())
    if added:
        orjson.loads(added.split(b"data: ", 1)[1])


@given(passthrough_bytes(), st.lists(st.integers(0, 4096), max_size=10))
def test_any_cut_passes_the_same_bytes_and_usage(raw: bytes, cuts: list[int]) -> None:
    whole = passthrough_stream([raw])
    check(whole, raw)
    assert passthrough_stream(split(raw, cuts)).same_as() == whole.same_as()


@given(anthropic_events(), st.lists(st.integers(0, 4096), max_size=10))
def test_a_wellformed_stream_passes_untouched(events: list[bytes], cuts: list[int]) -> None:
    raw = b"".join(events)
    outcome = passthrough_stream(split(raw, cuts))
    assert outcome.stream == raw
    check_stream(outcome.stream)
    start, end = (orjson.loads(e.split(b"data: ", 1)[1]) for e in (events[0], events[-2]))
    expected = {k: v for k, v in {**start["message"]["usage"], **end["usage"]}.items() if isinstance(v, int)}
    assert outcome.usage == expected


# each of these raised an AttributeError or TypeError out of the relay (a 500, or a stream cut without an event)
ODD: list[tuple[str, bytes, int]] = [
    # (a later event that is not an object ends the stream with an error event, however the bytes were cut)
    ("message_delta data not an object", b"event: message_start\ndata: {\"message\": {}}\n\n"
                                         b"event: message_delta\ndata: [1]\n\nevent: message_stop\ndata: {}\n\n", 200),
    # a comment before an opening event that is garbage: still an HTTP error, however the bytes were cut
    ("comment, then an opening event that is not JSON", b": keep-alive\n\nevent: message_start\ndata: null\n\n"
                                                         b"event: message_stop\ndata: {}\n\n", 502),
    ("message_start message a string", b"event: message_start\ndata: {\"message\": \"x\"}\n\n"
                                       b"event: message_stop\ndata: {}\n\n", 200),
    ("opening error a string", b"event: error\ndata: {\"error\": \"boom\"}\n\n", 502),
    ("opening error type a list", b"event: error\ndata: {\"error\": {\"type\": [1]}}\n\n", 500),
    ("opening error type unknown", b"event: error\ndata: {\"error\": {\"type\": \"weird\"}}\n\n", 502),
    # found by atheris: "\n\n\n\n" at the end passed on whole, but "\n\n\n" + "\n" lost its last line end
    ("blank lines at the end", b"event: message_stop\ndata: {}\n\n\n\n", 200),
    # the status came from whichever later event parsed, and so from how the bytes were cut
    ("opening error not JSON, a good one after",
     b"event: error\ndata: oops\n\nevent: error\ndata: {\"error\": {\"type\": \"overloaded_error\"}}\n\n", 502),
]


@pytest.mark.parametrize(("label", "raw", "status"), ODD, ids=[c[0] for c in ODD])
def test_pinned_streams(label: str, raw: bytes, status: int) -> None:
    outcome = passthrough_stream([raw])
    assert outcome.status == status
    check(outcome, raw)
    for cut in range(1, len(raw)):
        assert passthrough_stream(split(raw, [cut])).same_as() == outcome.same_as(), f"cut at {cut}"


def test_usage_of_odd_fields_is_only_counts() -> None:
    usage: dict[str, Any] = {"input_tokens": 3, "server_tool_use": {"web_search_requests": 1}, "x": "y"}
    raw = (event("message_start", {"type": "message_start", "message": {"usage": usage}})
           + b'event: message_stop\ndata: {"type": "message_stop"}\n\n')
    assert passthrough_stream([raw]).usage == {"input_tokens": 3}


# ---- values nested as deep as orjson reads -------------------------------------------------------------------

_RICH = [
    ("message_start", {"type": "message_start", "message": {
        "id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": [], "stop_reason": None,
        "usage": {"input_tokens": 5, "cache_read_input_tokens": 1, "server_tool_use": {"web_search_requests": 1}}}}),
    ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {
        "type": "thinking", "thinking": "", "signature": ""}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {
        "type": "signature_delta", "signature": "sig"}}),
    ("content_block_stop", {"type": "content_block_stop", "index": 0}),
    ("content_block_start", {"type": "content_block_start", "index": 1, "content_block": {
        "type": "redacted_thinking", "data": "opaque"}}),
    ("content_block_stop", {"type": "content_block_stop", "index": 1}),
    ("content_block_start", {"type": "content_block_start", "index": 2, "content_block": {
        "type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {}}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 2, "delta": {
        "type": "input_json_delta", "partial_json": "{}"}}),
    ("content_block_stop", {"type": "content_block_stop", "index": 2}),
    ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 3}}),
    ("message_stop", {"type": "message_stop"}),
]
RICH = {"answer": _RICH, "error first": [("error", {"type": "error", "error": {"type": "overloaded_error",
                                                                             "message": "Overloaded"}})],
        "error after output": [*_RICH[:3], ("error", {"type": "error", "error": {"type": "api_error", "message": "x"}})]}
DEEP_PLACES = [(name, path) for name, events in RICH.items() for path in places([e for _, e in events])[1:]]


@pytest.mark.parametrize(("name", "path"), DEEP_PLACES, ids=[f"{n}:{'.'.join(map(str, p))}" for n, p in DEEP_PLACES])
def test_a_deep_value_in_each_place(name: str, path: tuple[Any, ...]) -> None:
    names = [n for n, _ in RICH[name]]
    datas = put([e for _, e in RICH[name]], path, "@deep1000@")
    raw = b"".join(event(n, d) for n, d in zip(names, datas, strict=True))
    whole = passthrough_stream([raw])
    check(whole, raw)
    assert passthrough_stream(split(raw, [len(raw) // 3, len(raw) // 2])).same_as() == whole.same_as()


def test_an_opening_error_message_nested_deep() -> None:
    """str() of it raised a RecursionError: ccr's internal error instead of the upstream's 529."""
    raw = event("error", {"type": "error", "error": {"type": "overloaded_error", "message": "@deep1000@"}})
    outcome = passthrough_stream([raw])
    assert outcome.status == 529 and b"nested too deeply" in outcome.error_body
