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

from router.translate.openai_chat import ChatOptions
from tests.fuzz.anthropic_order import check_stream
from tests.fuzz.drive import Outcome, openai_stream, split
from tests.fuzz.strategies import (
    PLAIN,
    TEXT,
    deepened,
    dumps,
    encode,
    nested,
    openai_sse,
    parallel_calls,
    places,
    put,
)

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


# the enhancetool (arguments held and repaired) and tooluse (the exit tool's call as text) transformers
OPTIONS = st.sampled_from([ChatOptions(), ChatOptions(repair_tools=True), ChatOptions(exit_tool=True),
                           ChatOptions(repair_tools=True, exit_tool=True)])


@given(openai_sse(), CUTS, OPTIONS)
def test_any_stream_any_cut(raw: bytes, cuts: list[int], options: ChatOptions) -> None:
    whole = openai_stream([raw], options=options)
    check(whole)
    assert openai_stream(split(raw, cuts), options=options).same_as() == whole.same_as()


_FULL_USAGE = {"prompt_tokens": 9, "completion_tokens": 3, "prompt_cache_hit_tokens": 1,
               "prompt_tokens_details": {"cached_tokens": 1, "cache_write_tokens": 0}}
# a plausible stream's chunks, every field of them present somewhere: calls with ids, names and arguments,
# reasoning of every kind, refusals, finish reasons with the matched stop string, usage where each provider
# puts it, an error
CHUNKS = st.lists(st.one_of(
    PLAIN,
    st.builds(lambda t: {"choices": [{"index": 0, "delta": {"role": "assistant", "content": t}}], "id": "c1",
                         "model": "m"}, TEXT),
    st.just({"choices": [{"index": 0, "delta": {"tool_calls": [
        {"index": 0, "id": "call_1", "type": "function", "function": {"name": "Bash", "arguments": '{"a": 1}'}},
        {"index": 1, "id": "call_2", "type": "function", "function": {"name": "ExitTool",
                                                                       "arguments": '{"response": "r"}'}}]}}]}),
    st.just({"choices": [{"index": 0, "delta": {"reasoning_details": [
        {"type": "reasoning.text", "text": "a", "index": 0, "signature": "s", "format": "f"},
        {"type": "reasoning.text", "text": "b", "index": 0}, {"type": "reasoning.summary", "summary": "c"},
        {"type": "reasoning.encrypted", "data": "d", "id": "r1"}]}}]}),
    st.just({"error": {"message": "overloaded", "code": 429, "type": "rate_limit", "metadata": {"raw": "x"}}}),
    st.just({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop", "stop_reason": "END",
                          "usage": _FULL_USAGE}], "usage": _FULL_USAGE, "x_groq": {"usage": _FULL_USAGE}}),
), min_size=1, max_size=6)


@given(deepened(CHUNKS), CUTS, OPTIONS)
def test_a_deep_value_anywhere(chunks: list[Any], cuts: list[int], options: ChatOptions) -> None:
    """One value, anywhere in a stream, nested as deep as orjson reads (Python's str(), repr() and == on it
    exceed the recursion limit): a valid stream or a clean error, however the bytes were cut."""
    raw = b"".join(b"data: " + encode(c) + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"
    whole = openai_stream([raw], options=options)
    check(whole)
    assert openai_stream(split(raw, cuts), options=options).same_as() == whole.same_as()


_CALLS = {"choices": [{"index": 0, "delta": {"tool_calls": [
    {"index": 0, "id": "call_1", "type": "function", "function": {"name": "Bash", "arguments": '{"a": 1}'}},
    {"index": 1, "id": "call_2", "type": "function", "function": {"name": "ExitTool", "arguments": '{"response": "r"}'}},
    {"index": 2, "id": "call_3", "type": "function", "function": {"name": "Read", "arguments": {"path": "p"}}}]}}]}
_REASONING = {"choices": [{"index": 0, "delta": {"reasoning_content": "r", "reasoning": "s", "reasoning_details": [
    {"type": "reasoning.text", "text": "a", "index": 0, "signature": "s", "format": "f"},
    {"type": "reasoning.text", "text": "b", "index": 0}, {"type": "reasoning.summary", "summary": "c"},
    {"type": "reasoning.encrypted", "data": "d", "id": "r1"}]}}]}
_FINISH = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop", "stop_reason": "END", "usage": _FULL_USAGE}],
           "usage": _FULL_USAGE, "x_groq": {"usage": _FULL_USAGE}}
# streams with every field a provider fills, each tried with a value nested as deep as orjson reads in each place
RICH = {
    "answer": [_REASONING, {"choices": [{"index": 0, "delta": {"role": "assistant", "content": "hi", "refusal": None}}],
                            "id": "c1", "model": "m"}, _CALLS, _FINISH],
    "refusal": [{"choices": [{"index": 0, "delta": {"refusal": "no"}, "finish_reason": "content_filter"}]}],
    "error first": [{"error": {"message": "overloaded", "code": 429, "type": "rate_limit", "metadata": {"raw": "x"}}}],
    "error after output": [{"choices": [{"index": 0, "delta": {"content": "a"}}]},
                           {"error": {"message": "boom", "code": 500}, "choices": [
                               {"index": 0, "delta": {}, "finish_reason": "error"}]}],
}
DEEP_PLACES = [(name, path) for name, chunks in RICH.items() for path in places(chunks)[1:]]


@pytest.mark.parametrize(("name", "path"), DEEP_PLACES, ids=[f"{n}:{'.'.join(map(str, p))}" for n, p in DEEP_PLACES])
def test_a_deep_value_in_each_place(name: str, path: tuple[Any, ...]) -> None:
    chunks = put(RICH[name], path, "@deep1000@")
    raw = b"".join(b"data: " + encode(c) + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"
    for options in OPTIONS.elements:  # type: ignore[attr-defined]
        whole = openai_stream([raw], options=options)
        check(whole)
        assert openai_stream(split(raw, [len(raw) // 3, len(raw) // 2]), options=options).same_as() == whole.same_as()


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
DEEP = "@deep1000@"  # as deep as orjson reads, deeper than Python can str() or compare
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
    # RecursionError: str() of a value nested as deep as orjson reads (an error's message, an error that is not an
    # object), and == between two of them (the type and the index of reasoning details, merged when they match)
    ("an error message nested deep", [{"error": {"message": DEEP, "code": 429}}], "429"),
    ("an error that is a deep list", [{"error": [DEEP]}], "502"),
    ("an error message nested deep after output", [_chunk({"content": "a"}), {"error": {"message": DEEP}}],
     "error event"),
    ("reasoning details whose types are nested deep", [_chunk({"reasoning_details": [
        {"type": DEEP, "text": "a"}, {"type": DEEP, "text": "b"}]}), _chunk({"content": "a"}, finish_reason="stop")],
     "ok"),
    ("reasoning details whose indices are nested deep", [_chunk({"reasoning_details": [
        {"type": "reasoning.text", "index": DEEP, "text": "a"}, {"type": "reasoning.text", "index": DEEP, "text": "b"}]}),
        _chunk({"content": "a"}, finish_reason="stop")], "ok"),
]


@pytest.mark.parametrize(("label", "chunks", "expected"), ODD_CHUNKS, ids=[c[0] for c in ODD_CHUNKS])
def test_pinned_odd_chunks(label: str, chunks: list[Any], expected: str) -> None:
    raw = b"".join(b"data: " + encode(c) + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"
    outcome = openai_stream([raw])
    if expected.isdigit():  # an HTTP error before any output
        assert outcome.status == int(expected) and b"upstream error" in outcome.error_body
        return
    seen = check_stream(outcome.stream)
    if expected == "ok":
        assert seen.error is None
        assert all(isinstance(v, int) and 0 <= v < 2**53 for v in (seen.usage or {}).values())
    else:
        assert seen.error is not None and seen.error["type"] == "api_error"
        assert "provider" in seen.error["message"] or "upstream" in seen.error["message"]


_DEEP_ARGS = '{"a": ' + "[" * 300 + "]" * 300 + "}"  # deeper than orjson writes
# enhancetool found an object in these arguments nested deeper than orjson writes, and writing it raised a
# TypeError (an internal error event); tooluse did the same reading the exit tool's arguments
REPAIRED: list[tuple[str, str, ChatOptions]] = [
    ("enhancetool: deep arguments after prose", "Here: " + _DEEP_ARGS, ChatOptions(repair_tools=True)),
    ("enhancetool: deep arguments in a code fence", "```json\n" + _DEEP_ARGS + "\n```", ChatOptions(repair_tools=True)),
    ("tooluse: the exit tool's deep arguments after prose", "Here: " + _DEEP_ARGS, ChatOptions(exit_tool=True)),
]


@pytest.mark.parametrize(("label", "arguments", "options"), REPAIRED, ids=[r[0] for r in REPAIRED])
def test_pinned_repaired_arguments(label: str, arguments: str, options: ChatOptions) -> None:
    name = "ExitTool" if options.exit_tool else "Bash"
    raw = b"".join(b"data: " + dumps(c) + b"\n\n" for c in [
        _chunk({"content": "a"}), _chunk({"tool_calls": [{**_CALL, "function": {"name": name, "arguments": arguments}}]},
                                         finish_reason="tool_calls")]) + b"data: [DONE]\n\n"
    outcome = openai_stream([raw], options=options)
    seen = check_stream(outcome.stream)
    assert seen.error is not None and "nested too deeply" in seen.error["message"]
