"""The OpenAI Chat stream path of the relay (SSE reader → JSON → StreamTranslator → Anthropic events) on
plausible-but-adversarial upstream streams cut into arbitrary reads.

Invariants: the only exceptions are ccr's own (an HTTP error before any output, an `error` event after), the
client gets a valid Anthropic event stream, and exactly the same bytes whatever the cut of the same input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.anthropic_order import check_stream
from tests.fuzz.drive import Outcome, openai_stream, split
from tests.fuzz.strategies import dumps, nested, openai_sse, parallel_calls

FIXTURES = sorted((Path(__file__).parent.parent / "fixtures" / "openai_streams").glob("*.sse"))
CUTS = st.lists(st.integers(0, 2**18), max_size=12)


def check(outcome: Outcome) -> None:
    assert outcome.closed, "the upstream response was left open"
    if outcome.status != 200:  # failed before any output: an Anthropic error body with that status
        err = orjson.loads(outcome.error_body)
        assert err["type"] == "error" and isinstance(err["error"]["message"], str)
        return
    seen = check_stream(outcome.stream)
    if seen.error is None:  # the log's usage is the provider's counts, and only counts
        assert all(isinstance(v, int) for v in outcome.usage.values())


@given(openai_sse(), CUTS)
def test_any_stream_any_cut(raw: bytes, cuts: list[int]) -> None:
    whole = openai_stream([raw])
    check(whole)
    assert openai_stream(split(raw, cuts)).same_as() == whole.same_as()


@given(openai_sse())
def test_crlf_and_byte_at_a_time(raw: bytes) -> None:
    whole = openai_stream([raw])
    assert openai_stream([raw.replace(b"\n", b"\r\n")]).same_as() == whole.same_as()
    if len(raw) < 3000:
        assert openai_stream([raw[i:i + 1] for i in range(len(raw))]).same_as() == whole.same_as()


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
@given(cuts=CUTS)
def test_fixtures_any_cut(path: Path, cuts: list[int]) -> None:
    """The recorded provider quirks, which translate without error, with tool inputs that are JSON."""
    raw = path.read_bytes()
    whole = openai_stream([raw])
    seen = check_stream(whole.stream, json_inputs=True)
    assert seen.error is None and seen.blocks
    assert openai_stream(split(raw, cuts)).same_as() == whole.same_as()


@given(parallel_calls(), CUTS)
def test_parallel_calls_arrive_whole_and_in_order(case: tuple[list[dict[str, Any]], list[dict[str, Any]]],
                                                  cuts: list[int]) -> None:
    chunks, arguments = case
    raw = b"".join(b"data: " + dumps(c) + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"
    whole = openai_stream([raw])
    seen = check_stream(whole.stream, json_inputs=True)
    assert seen.error is None and seen.stop_reason == "tool_use"
    # in the order the calls started, each with its arguments whole
    started = [d["id"] for c in chunks for d in c["choices"][0]["delta"].get("tool_calls", ()) if "id" in d]
    calls = [b for b in seen.blocks if b.type == "tool_use"]
    assert [c.start["id"] for c in calls] == started
    assert [orjson.loads(c.text("input_json_delta")) for c in calls] == [arguments[int(i[5:])] for i in started]
    assert openai_stream(split(raw, cuts)).same_as() == whole.same_as()


def _chunk(delta: dict[str, Any], **choice: Any) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": delta, **choice}]}


_CALL = {"index": 0, "id": "c", "function": {"name": "Bash", "arguments": "{}"}}
# each of these raised a TypeError or AttributeError inside the translator before the fix: the client got
# "ccr hit an internal error" (a 500, or an error event) instead of the answer or a 502 naming the provider
ODD_CHUNKS: list[tuple[str, list[Any], str]] = [
    ("usage that is a list", [_chunk({"content": "a"}, finish_reason="stop"), {"choices": [], "usage": [1]}], "ok"),
    ("token counts beyond 64 bits", [_chunk({"content": "a"}, finish_reason="stop"),
                                     {"choices": [], "usage": {"prompt_tokens": 1e30}}], "ok"),
    ("prompt_tokens_details a string", [_chunk({"content": "a"}, finish_reason="stop"),
                                        {"choices": [], "usage": {"prompt_tokens_details": "x"}}], "ok"),
    ("a choice that is a string", [{"choices": ["x"]}, _chunk({"content": "a"}, finish_reason="stop")], "ok"),
    ("content that is a number", [_chunk({"content": 5}), _chunk({"content": "a"}, finish_reason="stop")], "ok"),
    ("content parts", [_chunk({"content": [{"type": "text", "text": "a"}, {"text": 1}]}, finish_reason="stop")], "ok"),
    ("a finish reason that is a list", [_chunk({"content": "a"}, finish_reason=["stop"]),
                                        _chunk({}, finish_reason="stop")], "ok"),
    ("a tool call index that is a list", [_chunk({"tool_calls": [{**_CALL, "index": [0]}]}, finish_reason="tool_calls")],
     "ok"),
    ("a tool call id that is a number", [_chunk({"tool_calls": [{**_CALL, "id": 7}]}, finish_reason="tool_calls")], "ok"),
    ("a tool name that is a number", [_chunk({"tool_calls": [{**_CALL, "function": {"name": 3}}]}),
                                      _chunk({"content": "a"}, finish_reason="stop")], "ok"),
    ("arguments that are a list", [_chunk({"tool_calls": [{**_CALL, "function": {"name": "B", "arguments": [1]}}]},
                                          finish_reason="tool_calls")], "ok"),
    ("tool_calls that is an object", [_chunk({"tool_calls": {"index": 0}}, finish_reason="stop")], "ok"),
    ("reasoning details with a number for text", [_chunk({"reasoning_details": [
        {"type": "reasoning.text", "text": 1}, {"type": "reasoning.text", "text": "a"}]}, finish_reason="stop")], "ok"),
    ("reasoning details too deep to write", [_chunk({"reasoning_details": [
        {"type": "reasoning.text", "text": "a", "x": nested(300)}]}, finish_reason="stop")], "ok"),
    ("arguments as an object too deep to write", [_chunk({"content": "a"}), _chunk({"tool_calls": [
        {**_CALL, "function": {"name": "B", "arguments": {"a": nested(300)}}}]})], "error event"),
]


@pytest.mark.parametrize(("label", "chunks", "expected"), ODD_CHUNKS, ids=[c[0] for c in ODD_CHUNKS])
def test_pinned_odd_chunks(label: str, chunks: list[Any], expected: str) -> None:
    raw = b"".join(b"data: " + dumps(c) + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"
    outcome = openai_stream([raw])
    seen = check_stream(outcome.stream)
    if expected == "ok":
        assert seen.error is None
        assert all(isinstance(v, int) and 0 <= v < 2**53 for v in (seen.usage or {}).values())
    else:
        assert seen.error is not None and seen.error["type"] == "api_error"
        assert "provider" in seen.error["message"] or "upstream" in seen.error["message"]
