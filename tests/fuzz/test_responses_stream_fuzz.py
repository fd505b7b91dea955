"""The OpenAI Responses stream path of the relay (SSE reader → JSON → ResponsesStream → Anthropic events) on
plausible-but-adversarial event sequences: items of every kind at output indices that skip, repeat and
interleave, deltas before or without their `added`, items that never finish, failures anywhere, no terminal
event, all cut into arbitrary reads.

Invariants: the only exceptions are ccr's own (an HTTP error before any output, an `error` event after), the
client gets a valid Anthropic event stream, and exactly the same bytes whatever the cut of the same input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from router.translate.openai_chat import ToolNames
from router.translate.openai_responses import ResponsesStream
from tests.fuzz.anthropic_order import check_stream
from tests.fuzz.drive import Outcome, _relayed, fixed_ids, production_recursion_limit, split
from tests.fuzz.strategies import deepened, encode, places, put

FIXTURES = sorted((Path(__file__).parent.parent / "fixtures" / "openai_responses").glob("*.sse"))
CUTS = st.lists(st.integers(0, 2**16), max_size=10)
INDEX = st.one_of(st.integers(0, 4), st.none())
TEXT = st.text(max_size=12)
KIND = st.sampled_from(["reasoning", "message", "function_call", "web_search_call"])


def responses_stream(reads: list[bytes]) -> Outcome:
    with fixed_ids(), production_recursion_limit():
        return _relayed(reads, ResponsesStream("oai,m", ToolNames(), "oai", "m", 100))


def _item(kind: str, n: int, text: str) -> dict[str, Any]:
    if kind == "reasoning":
        return {"id": f"rs_{n}", "type": "reasoning", "encrypted_content": f"E{text}",
                "summary": [{"type": "summary_text", "text": text}]}
    if kind == "message":
        return {"id": f"msg_{n}", "type": "message", "role": "assistant",
                "content": [{"type": "output_text", "text": text}]}
    if kind == "function_call":
        return {"id": f"fc_{n}", "type": "function_call", "call_id": f"call_{n}", "name": "Bash",
                "arguments": orjson.dumps({"c": text}).decode()}
    return {"id": f"ws_{n}", "type": kind}


@st.composite
def event(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(INDEX)
    what = draw(st.sampled_from(["added", "done", "text", "args", "summary", "reasoning_text", "refusal",
                                 "args_done", "other"]))
    base: dict[str, Any] = {} if n is None else {"output_index": n}
    if what in ("added", "done"):
        return {"type": f"response.output_item.{what}", **base, "item": _item(draw(KIND), n or 0, draw(TEXT))}
    types = {"text": "response.output_text.delta", "args": "response.function_call_arguments.delta",
             "summary": "response.reasoning_summary_text.delta", "reasoning_text": "response.reasoning_text.delta",
             "refusal": "response.refusal.delta", "args_done": "response.function_call_arguments.done",
             "other": "response.content_part.added"}
    field = "arguments" if what == "args_done" else "delta"
    return {"type": types[what], **base, field: draw(TEXT), "summary_index": draw(st.integers(0, 1))}


ENDINGS = st.sampled_from([
    None,
    {"type": "response.completed", "response": {"status": "completed", "usage": {
        "input_tokens": 50, "output_tokens": 5, "input_tokens_details": {"cached_tokens": 10}}}},
    {"type": "response.incomplete", "response": {"status": "incomplete",
                                                 "incomplete_details": {"reason": "max_output_tokens"}}},
    {"type": "response.failed", "response": {"status": "failed", "error": {"code": "server_error",
                                                                          "message": "boom"}}},
    {"type": "error", "code": "rate_limit_exceeded", "message": "slow down"},
])


@st.composite
def responses_sse(draw: st.DrawFn) -> bytes:
    events = draw(st.lists(event(), max_size=14))
    ending = draw(ENDINGS)
    if ending is not None:
        events.append(ending)
    out = []
    for e in events:
        line = f"event: {e['type']}\n".encode() if draw(st.booleans()) else b""
        out.append(line + b"data: " + orjson.dumps(e) + b"\n\n")
    return b"".join(out)


def check(outcome: Outcome) -> None:
    assert outcome.closed, "the upstream response was left open"
    if outcome.status != 200:
        err = orjson.loads(outcome.error_body)
        assert err["type"] == "error" and isinstance(err["error"]["message"], str)
        return
    seen = check_stream(outcome.stream)
    if seen.error is None:
        assert all(isinstance(v, int) for v in outcome.usage.values())


@given(responses_sse(), CUTS)
def test_any_stream_any_cut(raw: bytes, cuts: list[int]) -> None:
    whole = responses_stream([raw])
    check(whole)
    assert responses_stream(split(raw, cuts)).same_as() == whole.same_as()


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
@given(cuts=CUTS)
def test_fixtures_any_cut(path: Path, cuts: list[int]) -> None:
    raw = path.read_bytes()
    whole = responses_stream([raw])
    seen = check_stream(whole.stream, json_inputs=True)
    assert seen.error is None and seen.blocks
    assert responses_stream(split(raw, cuts)).same_as() == whole.same_as()


# ---- values nested as deep as orjson reads -------------------------------------------------------------------

_USAGE = {"input_tokens": 50, "output_tokens": 5, "input_tokens_details": {"cached_tokens": 10, "cache_write_tokens": 1}}
_REASONING = {"id": "rs_1", "type": "reasoning", "encrypted_content": "E", "summary": [
    {"type": "summary_text", "text": "a"}, {"type": "summary_text", "text": "b"}], "content": [
    {"type": "reasoning_text", "text": "r"}]}
_MESSAGE = {"id": "msg_1", "type": "message", "role": "assistant", "content": [
    {"type": "output_text", "text": "hi"}, {"type": "refusal", "refusal": "no"}]}
_CALL = {"id": "fc_1", "type": "function_call", "call_id": "call_1", "name": "Bash", "arguments": '{"c": 1}'}
# event sequences with every field a Responses upstream fills, each tried with a value nested deep in each place
RICH: dict[str, list[dict[str, Any]]] = {
    "streamed": [
        {"type": "response.created", "response": {"id": "resp_1", "status": "in_progress"}},
        {"type": "response.output_item.added", "output_index": 0, "item": _REASONING},
        {"type": "response.reasoning_summary_text.delta", "output_index": 0, "summary_index": 0, "delta": "a"},
        {"type": "response.reasoning_summary_text.delta", "output_index": 0, "summary_index": 1, "delta": "b"},
        {"type": "response.output_item.done", "output_index": 0, "item": _REASONING},
        {"type": "response.output_item.added", "output_index": 1, "item": _MESSAGE},
        {"type": "response.output_text.delta", "output_index": 1, "delta": "hi"},
        {"type": "response.refusal.delta", "output_index": 1, "delta": "no"},
        {"type": "response.output_item.done", "output_index": 1, "item": _MESSAGE},
        {"type": "response.output_item.added", "output_index": 2, "item": _CALL},
        {"type": "response.function_call_arguments.delta", "output_index": 2, "delta": '{"c": 1}'},
        {"type": "response.function_call_arguments.done", "output_index": 2, "arguments": '{"c": 1}'},
        {"type": "response.output_item.done", "output_index": 2, "item": _CALL},
        {"type": "response.completed", "response": {"status": "completed", "usage": _USAGE,
                                                    "output": [_REASONING, _MESSAGE, _CALL]}}],
    "only the final response": [{"type": "response.output_item.added", "output_index": 7, "item": _MESSAGE},
                                {"type": "response.incomplete", "response": {
                                    "status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"},
                                    "usage": _USAGE, "output": [_REASONING, _MESSAGE, _CALL]}}],
    "failed": [{"type": "response.failed", "response": {"status": "failed", "error": {
        "code": "server_error", "message": "boom", "type": "server_error"}}}],
    "error after output": [{"type": "response.output_item.added", "output_index": 0, "item": _MESSAGE},
                           {"type": "response.output_text.delta", "output_index": 0, "delta": "hi"},
                           {"type": "error", "code": "rate_limit_exceeded", "message": "slow down", "param": None}],
}
DEEP_PLACES = [(name, path) for name, events in RICH.items() for path in places(events)[1:]]


def _sse(events: list[Any]) -> bytes:
    return b"".join(b"data: " + encode(e) + b"\n\n" for e in events)


@pytest.mark.parametrize(("name", "path"), DEEP_PLACES, ids=[f"{n}:{'.'.join(map(str, p))}" for n, p in DEEP_PLACES])
def test_a_deep_value_in_each_place(name: str, path: tuple[Any, ...]) -> None:
    raw = _sse(put(RICH[name], path, "@deep1000@"))
    whole = responses_stream([raw])
    check(whole)
    assert responses_stream(split(raw, [len(raw) // 3, len(raw) // 2])).same_as() == whole.same_as()


@settings(max_examples=200)
@given(deepened(st.lists(st.sampled_from([e for events in RICH.values() for e in events]), min_size=1, max_size=8)),
       CUTS)
def test_a_deep_value_anywhere(events: list[Any], cuts: list[int]) -> None:
    raw = _sse(events)
    whole = responses_stream([raw])
    check(whole)
    assert responses_stream(split(raw, cuts)).same_as() == whole.same_as()


DEEP = "@deep1000@"
# each raised a RecursionError (== between two values nested as deep as orjson reads): ccr's internal error
ODD: list[tuple[str, list[Any]]] = [
    ("summary indices nested deep", [
        {"type": "response.output_item.added", "output_index": 0, "item": {"type": "reasoning", "id": "r"}},
        {"type": "response.reasoning_summary_text.delta", "output_index": 0, "delta": "a", "summary_index": DEEP},
        {"type": "response.reasoning_summary_text.delta", "output_index": 0, "delta": "b", "summary_index": DEEP},
        {"type": "response.completed", "response": {"status": "completed"}}]),
    ("item ids nested deep, the final response's and a streamed one's", [
        {"type": "response.output_item.added", "output_index": 5, "item": {"type": "message", "id": DEEP}},
        {"type": "response.completed", "response": {"status": "completed", "output": [
            {"type": "message", "id": DEEP, "content": [{"type": "output_text", "text": "a"}]}]}}]),
]


@pytest.mark.parametrize(("label", "events"), ODD, ids=[o[0] for o in ODD])
def test_pinned_odd_streams(label: str, events: list[Any]) -> None:
    outcome = responses_stream([_sse(events)])
    check(outcome)
    assert outcome.status == 200 and b"event: error" not in outcome.stream
