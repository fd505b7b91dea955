"""Hypothesis strategies: SSE bytes, OpenAI chunk streams, OpenAI answers and Anthropic requests that are
plausible in shape and adversarial in content (wrong types, huge strings, deep nesting, odd unicode).

JSON goes out through the standard library's encoder: orjson refuses to write more than 254 levels, while
ccr reads with orjson, which accepts up to 1024, so the deep cases in between must be written another way.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import strategies as st

from router.translate.openai_chat import ChatOptions

# ---- JSON values -----------------------------------------------------------------------------------------

# text that tokenizers and JSON escapes find awkward: controls, quotes, RTL, combining marks, astral planes
ODD = st.sampled_from(["", " ", "\n", "\r\n", "\x00", '"', "\\", "\u2028", "\u202e", "e\u0301", "😀", "𝄞",
                       "data: x\n\n", "event: error", "[DONE]", "\ufeff", "日本語"])
TEXT = st.one_of(st.text(max_size=40), ODD, st.builds(lambda s, n: s * n, ODD, st.integers(0, 50)))
HUGE = st.builds(lambda s, n: s * n, st.sampled_from(["x", "é", "😀", '"\\']), st.integers(10_000, 200_000))
# the width of ints orjson reads as ints (wider ones come back as floats), and finite floats
INTS = st.integers(-(2**63), 2**64 - 1)
NUMBERS = st.one_of(st.integers(-5, 5), INTS, st.floats(allow_nan=False, allow_infinity=False))


def nested(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


# 250..1000 levels: between what orjson writes and what it reads
DEEP = st.integers(200, 1000).map(nested)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, TEXT)
JSON = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                     st.dictionaries(TEXT, inner, max_size=4)), max_leaves=12)
# a value where some type was expected: usually another type, now and then deep or huge
WRONG = st.one_of(st.none(), st.booleans(), NUMBERS, st.lists(JSON, max_size=3), st.dictionaries(TEXT, JSON, max_size=3),
                  DEEP, HUGE)


# nesting orjson still reads (1024 levels with what holds it) but Python cannot str() or repr() under its default
# recursion limit: a marker, replaced after encoding by `encode` (the standard library's encoder cannot write it
# under that limit either)
_DEEP_MARK = re.compile(rb'"@(deep|lists)(\d+)@"')
DEEPEST = st.integers(985, 1016).map(lambda n: f"@deep{n}@")
# a client's request may nest 250 levels in all (router/wire/anthropic.py refuses more): a marker for a value
# nested almost that deep, wherever it sits, so that some requests holding one are refused and most are not
CLIENT_DEEP = st.integers(225, 246).map(lambda n: f"@deep{n}@")


def deep_text(depth: int) -> bytes:
    """nested(depth) as JSON text."""
    return b"".join(b"[" if i % 2 else b'{"k":' for i in reversed(range(depth))) + b"1" + b"".join(
        b"]" if i % 2 else b"}" for i in range(depth))


def encode(value: Any) -> bytes:
    """`dumps`, with each marker written as that many levels of nesting: "@deep<n>@" as nested(n),
    "@lists<n>@" as n lists each holding the next."""
    def deep(m: re.Match[bytes]) -> bytes:
        n = int(m.group(2))
        return deep_text(n) if m.group(1) == b"deep" else b"[" * n + b"]" * n
    return _DEEP_MARK.sub(deep, dumps(value))


def places(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every value inside `value` (itself included): object members and list items, at any depth."""
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += places(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += places(v, (*path, i))
    return out


def put(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: put(value[head], rest, new)}
    return [put(v, rest, new) if i == head else v for i, v in enumerate(value)]


def deepened(values: st.SearchStrategy[Any], marker: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[Any]:
    """A value of `values` with one of the values inside it, any one, replaced by a deep-nesting marker (for
    `encode`): every field position a provider or client controls gets its turn, which the odd chance of
    `maybe` in each field reaches too rarely."""
    marker = marker if marker is not None else DEEPEST

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        value = draw(values)
        where = places(value)[1:] or [()]  # not the whole value: a list of chunks stays a list
        return put(value, draw(st.sampled_from(where)), draw(marker))
    return build()


def now_and_then(usual: st.SearchStrategy[Any], rare: st.SearchStrategy[Any], odds: int) -> st.SearchStrategy[Any]:
    """`rare` one time in `odds`, else `usual` (towards which a failure shrinks)."""
    return st.integers(1, odds).flatmap(lambda n: rare if n == odds else usual)


def maybe(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """For upstream answers: the expected kind of value, now and then a value of any other shape (nested as deep
    as orjson reads when written by `encode`)."""
    return now_and_then(good, st.one_of(WRONG, DEEPEST), 8)


def rarely(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """For requests, where one odd field is refused at once: rarer, so that most reach the deep code (nested as
    deep as a request may be when written by `encode`)."""
    return now_and_then(good, st.one_of(WRONG, CLIENT_DEEP), 12)


def optional_fields(required: dict[str, Any], optional: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(required, optional=optional)


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


# ---- SSE framing -----------------------------------------------------------------------------------------

LINE_ENDS = st.sampled_from([b"\n", b"\r\n", b"\r"])
SSE_LINES = st.one_of(
    st.builds(lambda v: b"data: " + v, st.binary(max_size=30)),
    st.builds(lambda v: b"data:" + v, st.binary(max_size=10)),
    st.sampled_from([b"data: ", b"data:", b"data", b"event: ping", b"event: message_stop", b"event:", b": hi",
                     b":", b"id: 7", b"retry: 100", b"data: [DONE]", b"\xef\xbb\xbf", b"\xff\xfe", b"data: \xc3",
                     b"", b"field without colon"]),
    st.binary(max_size=20).filter(lambda b: b"\r" not in b and b"\n" not in b),
    HUGE.map(lambda s: b"data: " + s.encode()),
)


@st.composite
def sse_stream(draw: st.DrawFn, mixed_ends: bool = True) -> bytes:
    """Lines of SSE-ish fields with LF, CRLF or CR ends (the same one throughout unless mixed)."""
    lines = draw(st.lists(SSE_LINES, max_size=12))
    ends = [draw(LINE_ENDS) for _ in lines] if mixed_ends else [draw(LINE_ENDS)] * len(lines)
    body = b"".join(line + end for line, end in zip(lines, ends, strict=True))
    return (b"\xef\xbb\xbf" if draw(st.booleans()) else b"") + body


# ---- OpenAI Chat chunks ----------------------------------------------------------------------------------

FINISH = st.sampled_from([None, "stop", "length", "tool_calls", "function_call", "content_filter", "error",
                          "insufficient_system_resource", "end_turn", "weird", ""])
USAGE = maybe(optional_fields({}, {
    "prompt_tokens": maybe(NUMBERS), "completion_tokens": maybe(NUMBERS), "prompt_cache_hit_tokens": maybe(NUMBERS),
    "prompt_tokens_details": maybe(optional_fields({}, {"cached_tokens": maybe(NUMBERS),
                                                        "cache_write_tokens": maybe(NUMBERS)})),
}))
# argument pieces: fragments that may or may not join into one JSON object, whole objects, objects as objects
ARG_PIECES = st.one_of(
    st.sampled_from(['{"command": "ls', '"}', "{", "}", '{"a": 1}', '{"a": [1, {"b": "', '"]}', "{}", "",
                     "not json", "[1, 2]", '{"x": "\\u00e9"}', "null"]),
    st.builds(lambda v: json.dumps(v, allow_nan=False), st.dictionaries(TEXT, SCALARS, max_size=3)),
    st.dictionaries(TEXT, JSON, max_size=3),
    TEXT,
    # deeper than orjson writes (and than Python can repr): whole, fenced, after prose, cut short
    st.builds(lambda n, wrap: wrap(deep_text(n).decode()), st.integers(250, 1010), st.sampled_from([
        lambda t: t, lambda t: '{"a": ' + t + "}", lambda t: "```json\n" + t + "\n```", lambda t: "Here: " + t,
        lambda t: t[:-3], lambda t: t.replace('"', "'")])),
)
TOOL_CALL = optional_fields({}, {
    "index": maybe(st.integers(0, 3)),
    "id": maybe(st.sampled_from(["call_a", "call_b", "functions.Bash:0", "", "c/1"])),
    "type": st.just("function"),
    "function": maybe(optional_fields({}, {"name": maybe(st.sampled_from(["Bash", "Read", "mcp__x", "", "ExitTool"])),
                                           "arguments": maybe(ARG_PIECES)})),
})
REASONING_DETAIL = maybe(optional_fields({"type": maybe(st.sampled_from(["reasoning.text", "reasoning.summary",
                                                                          "reasoning.encrypted"]))},
                                         {"text": maybe(TEXT), "summary": maybe(TEXT), "index": maybe(st.integers(0, 2)),
                                          "signature": maybe(TEXT), "data": TEXT}))
DELTA = maybe(optional_fields({}, {
    "role": st.just("assistant"),
    "content": maybe(st.one_of(TEXT, st.none())),
    "reasoning_content": maybe(TEXT),
    "reasoning": maybe(TEXT),
    "reasoning_details": maybe(st.lists(REASONING_DETAIL, max_size=3)),
    "refusal": maybe(st.one_of(TEXT, st.none())),
    "tool_calls": maybe(st.lists(TOOL_CALL, max_size=3)),
}))
CHOICE = maybe(optional_fields({"delta": DELTA}, {
    "index": maybe(st.sampled_from([0, 0, 0, 1])),
    "finish_reason": maybe(FINISH),
    "usage": USAGE,
}))
ERROR = maybe(optional_fields({"message": maybe(TEXT)}, {"code": maybe(st.sampled_from([400, 429, 500, 529, 200,
                                                                                         "rate_limited"]))}))


def _one_delta(delta: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(lambda d, f: {"choices": [{"index": 0, "delta": d, "finish_reason": f}]},
                     delta, st.one_of(st.none(), st.none(), st.none(), FINISH))


# what providers send, most of the time: one kind of delta per chunk
PLAIN = st.one_of(
    _one_delta(st.builds(lambda t: {"content": t}, TEXT)),
    _one_delta(st.builds(lambda f, t: {f: t}, st.sampled_from(["reasoning_content", "reasoning"]), TEXT)),
    _one_delta(st.builds(lambda d: {"reasoning_details": d}, st.lists(REASONING_DETAIL, min_size=1, max_size=2))),
    _one_delta(st.builds(lambda c: {"tool_calls": c}, st.lists(TOOL_CALL, min_size=1, max_size=2))),
    _one_delta(st.builds(lambda r: {"refusal": r}, TEXT)),
    st.builds(lambda u: {"choices": [], "usage": u}, USAGE),
)
CHUNK = st.one_of(
    PLAIN, PLAIN, PLAIN, PLAIN,
    optional_fields({"choices": maybe(st.lists(CHOICE, max_size=2))}, {"usage": USAGE, "id": TEXT}),
    optional_fields({"choices": st.just([])}, {"usage": USAGE, "x_groq": maybe(optional_fields({}, {"usage": USAGE}))}),
    st.builds(lambda e: {"error": e}, ERROR),
    WRONG,
    DEEPEST,
)
# an SSE data payload: a chunk, or what a broken upstream sends instead
PAYLOAD = now_and_then(CHUNK.map(encode), st.sampled_from(
    [b"[DONE]", b"{not json", b"", b'{"choices": [{"delta": {"content": "\xff\xfe"}}]}',
     b'{"choices": [{"delta": {"content": "\\ud800"}}]}', b"1e999", b"\xef\xbb\xbf{}"]), 30)


@st.composite
def openai_sse(draw: st.DrawFn) -> bytes:
    """An OpenAI Chat stream as the upstream's bytes: chunks, comments, [DONE] or not at the end."""
    parts: list[bytes] = []
    for payload in draw(st.lists(PAYLOAD, max_size=12)):
        if draw(st.integers(0, 9)) == 0:
            parts.append(b": OPENROUTER PROCESSING\n\n")
        parts.append(b"data: " + payload + b"\n\n")
    ending = draw(now_and_then(st.just(b"data: [DONE]\n\n"),
                               st.sampled_from([b"data: [DONE]", b"", b"data: {\"choices\""]), 4))
    return b"".join(parts) + ending


# ---- OpenAI whole answers --------------------------------------------------------------------------------

TOOL_CALL_WHOLE = maybe(optional_fields({}, {
    "id": maybe(st.sampled_from(["call_a", "functions.Read:1", ""])), "type": st.just("function"),
    "function": maybe(optional_fields({}, {"name": maybe(st.sampled_from(["Bash", "x", "ExitTool"])),
                                           "arguments": maybe(ARG_PIECES)})),
}))
MESSAGE = maybe(optional_fields({}, {
    "role": st.just("assistant"),
    "content": maybe(st.one_of(TEXT, st.none(), st.lists(maybe(optional_fields({"type": st.just("text")},
                                                                                {"text": maybe(TEXT)})),
                                                          max_size=3))),
    "reasoning_content": maybe(TEXT), "reasoning": maybe(TEXT),
    "reasoning_details": maybe(st.lists(REASONING_DETAIL, max_size=3)),
    "refusal": maybe(st.one_of(TEXT, st.none())),
    "tool_calls": maybe(st.lists(TOOL_CALL_WHOLE, max_size=3)),
}))
OPENAI_ANSWER = st.one_of(
    optional_fields({"choices": maybe(st.lists(maybe(optional_fields({"message": MESSAGE},
                                                                     {"finish_reason": maybe(FINISH), "index": st.just(0)})),
                                               min_size=1, max_size=2))},
                    {"usage": USAGE, "id": TEXT, "model": TEXT, "error": ERROR}),
    st.builds(lambda e: {"error": e}, ERROR),
    WRONG,
)


# ---- Anthropic requests ----------------------------------------------------------------------------------

IMAGE_SOURCE = rarely(st.one_of(
    st.fixed_dictionaries({"type": st.just("base64"), "media_type": rarely(st.just("image/png")), "data": rarely(TEXT)}),
    st.fixed_dictionaries({"type": st.just("url"), "url": rarely(TEXT)}),
    st.fixed_dictionaries({"type": rarely(st.just("file"))}),
))
DOC_SOURCE = rarely(st.one_of(
    st.fixed_dictionaries({"type": st.just("base64"), "media_type": rarely(TEXT), "data": rarely(TEXT)}),
    st.fixed_dictionaries({"type": st.just("text"), "data": rarely(TEXT)}),
    st.fixed_dictionaries({"type": st.just("content"), "content": rarely(st.one_of(TEXT, st.lists(
        st.fixed_dictionaries({"type": st.just("text"), "text": rarely(TEXT)}), max_size=2)))}),
    st.fixed_dictionaries({"type": st.just("url"), "url": rarely(TEXT)}),
    st.fixed_dictionaries({"type": rarely(st.just("odd"))}),
))
TEXT_BLOCK = st.fixed_dictionaries({"type": st.just("text"), "text": rarely(TEXT)},
                                   optional={"cache_control": st.just({"type": "ephemeral"})})
IMAGE_BLOCK = st.fixed_dictionaries({"type": st.just("image")}, optional={"source": IMAGE_SOURCE})
DOC_BLOCK = st.fixed_dictionaries({"type": st.just("document")}, optional={"source": DOC_SOURCE,
                                                                          "title": rarely(TEXT)})
RESULT_PART = rarely(st.one_of(
    TEXT_BLOCK, IMAGE_BLOCK, DOC_BLOCK,
    st.fixed_dictionaries({"type": st.just("tool_reference"), "tool_name": rarely(st.sampled_from(["Bash", "Lazy"]))}),
    st.fixed_dictionaries({"type": st.just("search_result"), "title": rarely(TEXT), "source": rarely(TEXT),
                           "content": rarely(st.lists(TEXT_BLOCK, max_size=2))}),
))
TOOL_IDS = st.sampled_from(["toolu_1", "toolu_2", "ccrid_ZnVuY3Rpb25zLkJhc2g6MA", "ccrid_!!", "ccrid_gA"])
TOOL_RESULT = st.fixed_dictionaries(
    {"type": st.just("tool_result"), "tool_use_id": rarely(TOOL_IDS)},
    optional={"content": rarely(st.one_of(TEXT, st.lists(RESULT_PART, max_size=3))), "is_error": rarely(st.booleans())},
)
SIGNATURES = rarely(st.sampled_from(["", "EqQBCkYIARgC", "ccr1.reasoning_content", "ccr1.reasoning_details.W3t9XQ",
                                    "ccr1.reasoning_details.!!", "ccr1.reasoning_details.MQ", "ccr1.", "ccr1.x.y.z"]))
TOOL_INPUT = now_and_then(st.dictionaries(TEXT, JSON, max_size=4), st.one_of(
    DEEP.map(lambda v: {"deep": v}), WRONG, CLIENT_DEEP.map(lambda m: {"deep": m}), CLIENT_DEEP), 6)
TOOL_USE = st.fixed_dictionaries({"type": st.just("tool_use"), "id": rarely(TOOL_IDS),
                                  "name": rarely(st.sampled_from(["Bash", "mcp__" + "long_name_" * 8]))},
                                 optional={"input": TOOL_INPUT})
THINKING = st.fixed_dictionaries({"type": st.just("thinking"), "thinking": rarely(TEXT)},
                                 optional={"signature": SIGNATURES})
REDACTED = st.fixed_dictionaries({"type": st.just("redacted_thinking"), "data": rarely(TEXT)})
BLOCK = rarely(st.one_of(TEXT_BLOCK, IMAGE_BLOCK, DOC_BLOCK, TOOL_RESULT, TOOL_USE, THINKING, REDACTED,
                        st.fixed_dictionaries({"type": rarely(st.sampled_from(["server_tool_use", "mystery"]))})))
CONTENT = rarely(st.one_of(TEXT, st.lists(BLOCK, max_size=4)))
MESSAGE_IN = rarely(st.fixed_dictionaries({"role": rarely(st.sampled_from(["user", "assistant", "system"])),
                                          "content": CONTENT}))
TOOL_DEF = rarely(st.fixed_dictionaries(
    {"name": rarely(st.sampled_from(["Bash", "Read", "Lazy", "mcp__" + "server__" * 10 + "tool"]))},
    optional={"input_schema": rarely(now_and_then(st.just({"type": "object", "properties": {}}),
                                                  st.one_of(DEEP, CLIENT_DEEP).map(lambda v: {"type": "object", "properties": {"d": v}}), 6)),
              "description": rarely(TEXT), "type": rarely(st.sampled_from(["custom", "web_search_20250305"])),
              "defer_loading": rarely(st.booleans())}))
TOOL_CHOICE = rarely(st.fixed_dictionaries(
    {"type": rarely(st.sampled_from(["auto", "any", "tool", "none", "sometimes"]))},
    optional={"name": rarely(st.just("Bash")), "disable_parallel_tool_use": rarely(st.booleans())}))
ANTHROPIC_REQUEST = st.fixed_dictionaries(
    {"model": st.just("claude-x"), "max_tokens": st.integers(1, 64_000),
     "messages": st.lists(MESSAGE_IN, min_size=1, max_size=4)},
    optional={
        "system": rarely(st.one_of(TEXT, st.lists(rarely(TEXT_BLOCK), max_size=3))),
        "stream": st.booleans(),
        "temperature": st.floats(0, 2),
        "top_p": st.floats(0, 1),
        "stop_sequences": rarely(st.lists(TEXT, max_size=2)),
        "metadata": rarely(st.fixed_dictionaries({"user_id": rarely(st.one_of(TEXT, HUGE))})),
        "tools": rarely(st.lists(TOOL_DEF, max_size=3)),
        "tool_choice": TOOL_CHOICE,
        "thinking": rarely(st.fixed_dictionaries({"type": rarely(st.sampled_from(["enabled", "disabled", "adaptive"]))},
                                                optional={"budget_tokens": rarely(st.integers(0, 40_000))})),
        "output_config": rarely(st.fixed_dictionaries({}, optional={"effort": rarely(st.sampled_from(
            ["low", "medium", "high", "xhigh", "max", "extreme"]))})),
    },
)
CHAT_OPTIONS = st.builds(
    ChatOptions,
    max_output_tokens=st.one_of(st.none(), st.integers(1, 100_000)),
    max_tokens_field=st.sampled_from(["max_tokens", "max_completion_tokens"]),
    reasoning_style=st.sampled_from(["openai", "openrouter", "deepseek"]),
    reasoning_capable=st.booleans(),
    replay_field=st.sampled_from([None, "reasoning_content", "reasoning"]),
    user_limit=st.integers(1, 128),
    stream_usage=st.booleans(),
    strip_schema_keys=st.sampled_from([(), ("$schema",), ("additionalProperties", "$schema")]),
)


# ---- well-formed parallel tool calls -----------------------------------------------------------------------

@st.composite
def parallel_calls(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(chunks, the calls' arguments in call order): calls whose argument pieces are cut anywhere and, when
    they carry an index, interleaved in any order; text may arrive between them."""
    style = draw(st.sampled_from(["index", "whole", "same_index_new_ids"]))
    calls: list[list[dict[str, Any]]] = []
    arguments: list[dict[str, Any]] = []
    for k in range(draw(st.integers(1, 3))):
        args = draw(st.dictionaries(TEXT, JSON, max_size=3))
        text = json.dumps(args, ensure_ascii=draw(st.booleans()))
        cuts = sorted(set(draw(st.lists(st.integers(1, max(1, len(text) - 1)), max_size=4))))
        parts = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True) if a < b]
        head: dict[str, Any] = {"id": f"call_{k}", "type": "function", "function": {"name": "Bash"}}
        if style == "whole":
            head["function"]["arguments"] = text if draw(st.booleans()) else args  # some send an object
            calls.append([head])
        else:
            head["index"] = k if style == "index" else 0
            head["function"]["arguments"] = parts[0]
            calls.append([head, *({"index": head["index"], "function": {"arguments": p}} for p in parts[1:])])
        arguments.append(args)
    deltas: list[dict[str, Any]] = []
    if style == "index":  # interleaved: any order that keeps each call's own pieces in order
        queues = [list(c) for c in calls]
        while any(queues):
            k = draw(st.sampled_from([i for i, q in enumerate(queues) if q]))
            deltas.append(queues[k].pop(0))
    else:
        deltas = [d for c in calls for d in c]
    chunks: list[dict[str, Any]] = []
    if draw(st.booleans()):
        chunks.append({"choices": [{"index": 0, "delta": {"role": "assistant", "content": draw(TEXT)}}]})
    for d in deltas:
        if chunks and draw(st.integers(0, 4)) == 0:  # two deltas in one chunk
            last = chunks[-1]["choices"][0]["delta"]
            if "tool_calls" in last:
                last["tool_calls"].append(d)
                continue
        chunks.append({"choices": [{"index": 0, "delta": {"tool_calls": [d]}}]})
        if draw(st.integers(0, 5)) == 0:
            chunks.append({"choices": [{"index": 0, "delta": {"content": draw(TEXT)}}]})
    chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}],
                   "usage": {"prompt_tokens": 10, "completion_tokens": 5}})
    return chunks, arguments
