"""Request translation (Anthropic → Gemini) and whole-answer translation (generateContent → Anthropic) on
arbitrary schema-shaped input.

A request either fails with ccr's InvalidRequest (a 400 naming the field) or becomes a body that the validating
scripted Gemini (tests/support/gemini_upstream.py) accepts, for every generation of model; tool schemas of any
shape ($ref cycles, type arrays, const, nested anyOf/allOf, deep nesting) are cleaned in bounded time into a
bounded schema. A whole answer becomes a valid Anthropic message, also when replayed as a stream, or fails with
an UpstreamError.
"""

from __future__ import annotations

import base64
import json
import re
import time
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from router.translate.gemini import signatures
from router.translate.gemini.adapter import GEMINI
from router.translate.gemini.options import GeminiOptions, traits
from router.translate.gemini.request import ToolNames, translate_request
from router.translate.gemini.response import translate_response
from router.translate.gemini.schema import clean_parameters
from router.wire.anthropic import check_messages_request, message_as_events, parse_body
from router.wire.errors import InvalidRequest, UpstreamError
from tests.fuzz.anthropic_order import DELTAS_FOR_BLOCK, STOP_REASONS, check_stream
from tests.fuzz.drive import fixed_ids, production_recursion_limit
from tests.fuzz.strategies import (
    JSON,
    NUMBERS,
    REDACTED,
    TEXT,
    TEXT_BLOCK,
    TOOL_IDS,
    TOOL_INPUT,
    TOOL_RESULT,
    WRONG,
    dumps,
    encode,
    maybe,
    nested,
    now_and_then,
    rarely,
)
from tests.support.gemini_upstream import GeminiAPI, Refused

MODELS = ["gemini-3-pro-preview", "gemini-3-flash-preview", "gemini-2.5-pro", "gemini-2.5-flash",
          "gemini-2.5-flash-lite", "gemini-flash-latest"]
# the thought signatures this scripted Gemini issued (base64, as Gemini's are)
ISSUED = ["c2lnOjE=", "c2lnOjI=", "c2lnOjM="]
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
# a path first (messages.0.content.1.text, tools.2.name, tool_choice.type…), then what is wrong with it
NAMES_A_FIELD = re.compile(r"^(request body|[a-z_]+(\.[\w$-]+)*):? ")


# ---- JSON Schemas --------------------------------------------------------------------------------------------

TYPE_NAMES = ["string", "number", "integer", "boolean", "array", "object", "null", "STRING", "weird"]
TYPE = st.one_of(st.sampled_from(TYPE_NAMES), st.lists(st.sampled_from(TYPE_NAMES), max_size=4))
REF = st.sampled_from(["#/$defs/A", "#/$defs/B", "#/definitions/C", "#/$defs/missing", "#", "other.json#/x"])
KEYS = st.sampled_from(["a", "b", "c", "", "$ref", "type", "with space", "ünï"])
SCALAR_KEYWORDS = {
    "type": rarely(TYPE),
    "description": rarely(TEXT),
    "title": rarely(TEXT),
    "format": rarely(st.sampled_from(["date-time", "enum", "int32", "int64", "float", "double", "uri", "email"])),
    "enum": rarely(st.one_of(st.lists(TEXT, max_size=3), st.lists(JSON, max_size=3))),
    "const": rarely(JSON),
    "default": rarely(JSON),
    "examples": rarely(st.lists(JSON, max_size=2)),
    "nullable": rarely(st.booleans()),
    "minimum": rarely(NUMBERS), "maximum": rarely(NUMBERS),
    "exclusiveMinimum": rarely(st.one_of(NUMBERS, st.booleans())),
    "exclusiveMaximum": rarely(st.one_of(NUMBERS, st.booleans())),
    "minLength": rarely(st.integers(0, 10)), "maxLength": rarely(st.integers(0, 10)),
    "minItems": rarely(st.integers(0, 10)), "maxItems": rarely(st.integers(0, 10)),
    "pattern": rarely(st.sampled_from(["^a+$", "[", ""])),
    "$ref": rarely(REF),
    "$schema": st.just("http://json-schema.org/draft-07/schema#"),
    "additionalProperties": rarely(st.booleans()),
    "propertyNames": st.just({"pattern": "^a"}),
}
LEAF = st.one_of(st.fixed_dictionaries({}, optional=SCALAR_KEYWORDS), st.just(True), st.just(False), st.just({}))


def _compound(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries({}, optional={
        **SCALAR_KEYWORDS,
        "properties": rarely(st.dictionaries(KEYS, inner, max_size=3)),
        "required": rarely(st.lists(st.sampled_from(["a", "b", "z", ""]), max_size=3)),
        "items": rarely(st.one_of(inner, st.lists(inner, max_size=2))),
        "anyOf": rarely(st.lists(inner, max_size=3)),
        "oneOf": rarely(st.lists(inner, max_size=3)),
        "allOf": rarely(st.lists(inner, max_size=3)),
        "additionalProperties": rarely(st.one_of(st.booleans(), inner)),
    })


SCHEMA = st.recursive(LEAF, _compound, max_leaves=10)
ROOT_SCHEMA = st.builds(
    lambda props, required, defs, extra: {"type": "object", "properties": props, "required": required,
                                          "$defs": defs, "definitions": {"C": defs.get("A", {})}, **extra},
    st.dictionaries(KEYS, SCHEMA, max_size=4), rarely(st.lists(st.sampled_from(["a", "b", "z"]), max_size=3)),
    st.dictionaries(st.sampled_from(["A", "B"]), SCHEMA, max_size=2),
    st.fixed_dictionaries({}, optional={"$schema": st.just("x"), "additionalProperties": st.just(False)}),
)
TOOL_DEF = rarely(st.fixed_dictionaries(
    {"name": rarely(st.sampled_from(["Bash", "Read", "Lazy", "mcp__" + "server__" * 10 + "tool", "9lives", "a b",
                                     ""]))},
    optional={"input_schema": rarely(st.one_of(ROOT_SCHEMA, SCHEMA, st.just({"type": "object", "properties": {}}))),
              "description": rarely(TEXT), "type": rarely(st.sampled_from(["custom", "web_search_20250305"])),
              "defer_loading": rarely(st.booleans())}))


# ---- Anthropic requests --------------------------------------------------------------------------------------

def _pack(roles: dict[str, str]) -> str:
    return signatures.pack(roles)


GEMINI_SIGNATURE = rarely(now_and_then(
    st.dictionaries(st.sampled_from(["t", "n", "p", "x"]), st.sampled_from(ISSUED), max_size=3).map(_pack),
    st.sampled_from(["", "EqQBCkYIARgC", "ccr1.reasoning_content", "ccr1.gemini.", "ccr1.gemini.!!",
                     signatures.PREFIX + base64.urlsafe_b64encode(b"[1]").decode(),
                     signatures.PREFIX + base64.urlsafe_b64encode(b'{"t": 5}').decode()]), 4))
THINKING = st.fixed_dictionaries({"type": st.just("thinking"), "thinking": rarely(TEXT)},
                                 optional={"signature": GEMINI_SIGNATURE})
# image bytes go to Gemini as the client sent them (base64 is not decoded on the way): valid base64 here
IMAGE_SOURCE = rarely(st.one_of(
    st.fixed_dictionaries({"type": st.just("base64"), "media_type": rarely(st.just("image/png")),
                           "data": rarely(st.sampled_from(["", PNG, "AA=="]))}),
    st.fixed_dictionaries({"type": st.just("url"), "url": rarely(st.sampled_from(["https://x.example/a.png?q=1",
                                                                                 "gs://b/c", "", "noext"]))}),
    st.fixed_dictionaries({"type": rarely(st.just("file"))}),
))
IMAGE_BLOCK = rarely(st.fixed_dictionaries({"type": st.just("image"), "source": IMAGE_SOURCE}))
DOC_SOURCE = rarely(st.one_of(
    st.fixed_dictionaries({"type": st.just("base64"), "media_type": rarely(st.just("application/pdf")),
                           "data": rarely(st.sampled_from(["", "JVBERi0xLjQK"]))}),
    st.fixed_dictionaries({"type": st.just("text"), "data": rarely(TEXT)}),
    st.fixed_dictionaries({"type": st.just("content"), "content": rarely(st.one_of(TEXT, st.lists(
        st.fixed_dictionaries({"type": st.just("text"), "text": rarely(TEXT)}), max_size=2)))}),
    st.fixed_dictionaries({"type": st.just("url"), "url": rarely(TEXT)}),
    st.fixed_dictionaries({"type": rarely(st.just("odd"))}),
))
DOC_BLOCK = st.fixed_dictionaries({"type": st.just("document")}, optional={"source": DOC_SOURCE,
                                                                          "title": rarely(TEXT)})
RESULT_PARTS = rarely(st.lists(rarely(st.one_of(
    TEXT_BLOCK, IMAGE_BLOCK, DOC_BLOCK,
    st.fixed_dictionaries({"type": st.just("tool_reference"), "tool_name": rarely(st.sampled_from(["Lazy", "X"]))}),
    st.fixed_dictionaries({"type": st.just("search_result"), "title": rarely(TEXT), "source": rarely(TEXT),
                           "content": rarely(st.lists(TEXT_BLOCK, max_size=2))}))), max_size=3))
RESULT = st.one_of(TOOL_RESULT, st.fixed_dictionaries(
    {"type": st.just("tool_result"), "tool_use_id": rarely(TOOL_IDS)},
    optional={"content": RESULT_PARTS, "is_error": rarely(st.booleans())}))
TOOL_USE = st.fixed_dictionaries({"type": st.just("tool_use"), "id": rarely(TOOL_IDS),
                                  "name": rarely(st.sampled_from(["Bash", "Lazy", "mcp__" + "long_name_" * 8,
                                                                  "9lives"]))},
                                 optional={"input": TOOL_INPUT})
BLOCK = rarely(st.one_of(TEXT_BLOCK, IMAGE_BLOCK, DOC_BLOCK, RESULT, TOOL_USE, TOOL_USE, THINKING, THINKING,
    REDACTED, st.fixed_dictionaries({"type": rarely(st.sampled_from(["server_tool_use", "mystery"]))})))
CONTENT = rarely(st.one_of(TEXT, st.lists(BLOCK, max_size=5)))
MESSAGE_IN = rarely(st.fixed_dictionaries({"role": rarely(st.sampled_from(["user", "assistant", "system"])),
                                          "content": CONTENT}))
TOOL_CHOICE = rarely(st.fixed_dictionaries(
    {"type": rarely(st.sampled_from(["auto", "any", "tool", "none", "sometimes"]))},
    optional={"name": rarely(st.sampled_from(["Bash", "Lazy"])), "disable_parallel_tool_use": rarely(st.booleans())}))
WORDS = st.sampled_from(["hi", "Let me look.", "ok", "日本語", "x" * 50, "\u2028", "", "\n"])


@st.composite
def conversation(draw: st.DrawFn) -> list[Any]:
    """A Claude Code history: user turns, assistant turns of signed thinking, text and tool calls, the calls'
    results in the next user turn (some missing, repeated, reordered or answering nothing), system notes between
    turns; now and then an arbitrary block or message instead."""
    messages: list[Any] = []
    pending: list[str] = []
    serial = 0
    for turn in range(draw(st.integers(1, 7))):
        if draw(st.integers(0, 19)) == 0:
            messages.append(draw(MESSAGE_IN))
            continue
        if draw(st.integers(0, 11)) == 0:
            messages.append({"role": "system", "content": draw(WORDS)})
        if turn % 2 == 0:  # the user: results of the calls before, then text, images
            blocks: list[Any] = []
            answered = [c for c in pending if draw(st.integers(0, 5))]
            if draw(st.booleans()):
                answered.reverse()
            if answered and draw(st.integers(0, 7)) == 0:
                answered.append(answered[0])
            for call in answered:
                blocks.append({"type": "tool_result", "tool_use_id": call, "content": draw(st.one_of(WORDS, RESULT_PARTS)),
                               **({"is_error": True} if draw(st.integers(0, 4)) == 0 else {})})
            if draw(st.integers(0, 7)) == 0:
                blocks.append(draw(RESULT))
            blocks += draw(st.lists(now_and_then(st.one_of(TEXT_BLOCK, IMAGE_BLOCK), BLOCK, 4), max_size=2))
            if not blocks or draw(st.booleans()):
                blocks.append({"type": "text", "text": draw(WORDS)})
            plain = len(blocks) == 1 and isinstance(blocks[0], dict) and blocks[0].get("type") == "text"
            messages.append({"role": "user", "content": blocks[0]["text"] if plain and draw(st.booleans()) else blocks})
            pending = []
        else:  # the model: thinking, text and calls in Gemini's order, each signature next to its block
            blocks = []
            for _ in range(draw(st.integers(0, 5))):
                kind = draw(st.sampled_from(["thinking", "text", "call", "call", "other"]))
                if kind == "thinking":
                    blocks.append(draw(THINKING))
                elif kind == "text":
                    blocks.append({"type": "text", "text": draw(WORDS)})
                elif kind == "call":
                    serial += 1
                    call_id = draw(st.sampled_from([f"toolu_{serial}", f"ccrid_ZnVuY3Rpb25zLkJhc2g6{serial}",
                                                    "toolu_dup"]))
                    blocks.append({"type": "tool_use", "id": call_id, "name": draw(TOOL_USE)["name"],
                                   "input": draw(st.dictionaries(st.sampled_from(["command", "path"]), JSON,
                                                                 max_size=2))})
                    pending.append(call_id)
                elif draw(st.integers(0, 3)) == 0:
                    blocks.append(draw(BLOCK))
            messages.append({"role": "assistant", "content": blocks})
    return messages or [{"role": "user", "content": "hi"}]


GEMINI_REQUEST = st.fixed_dictionaries(
    {"model": st.just("claude-x"), "max_tokens": st.integers(1, 64_000),
     "messages": st.one_of(conversation(), conversation(), conversation(), st.lists(MESSAGE_IN, min_size=1,
                                                                                   max_size=6)),
     "tools": rarely(st.lists(TOOL_DEF, max_size=4))},
    optional={
        "system": rarely(st.one_of(TEXT, st.lists(rarely(TEXT_BLOCK), max_size=3))),
        "stream": st.booleans(),
        "temperature": st.floats(0, 2),
        "top_p": st.floats(0, 1),
        "top_k": rarely(st.integers(1, 100)),
        "stop_sequences": rarely(st.lists(TEXT, max_size=2)),
        "tool_choice": TOOL_CHOICE,
        "thinking": rarely(st.fixed_dictionaries({"type": rarely(st.sampled_from(["enabled", "disabled", "adaptive"]))},
                                                optional={"budget_tokens": rarely(st.integers(-10, 40_000))})),
        "output_config": rarely(st.fixed_dictionaries({}, optional={"effort": rarely(st.sampled_from(
            ["low", "medium", "high", "xhigh", "max", "extreme"]))})),
    },
)
OPTIONS = st.builds(lambda model, limit, blind: (model, GeminiOptions(limit, *traits(model), blind)),
                    st.sampled_from(MODELS), st.one_of(st.none(), st.integers(1, 100_000)), st.booleans())


def _with_valid_bytes(request: dict[str, Any]) -> dict[str, Any]:
    """The request with the client's inline bytes made valid base64: ccr passes an attachment's bytes on as the
    client sent them, without decoding them on every turn, so broken base64 is Gemini's 400 (as it would be
    Anthropic's), not ccr's."""
    copy: dict[str, Any] = orjson.loads(orjson.dumps(request))
    for content in copy["contents"]:
        for part in content["parts"]:
            inline = part.get("inlineData")
            if inline is not None:
                try:
                    base64.b64decode(inline["data"], validate=True)
                except ValueError:
                    inline["data"] = "AA=="
    return copy


def to_gemini(raw: bytes, model: str, opts: GeminiOptions) -> dict[str, Any] | None:
    """What the Gemini adapter sends for these request bytes (checked by the scripted Gemini, as generateContent
    and as countTokens), or None when ccr refuses them with a 400 naming the field."""
    try:
        body = parse_body(raw)
        check_messages_request(body)
        out, _names = translate_request(body, model, opts)
        counted, _ = translate_request({**body, "max_tokens": 1}, model, opts)
    except InvalidRequest as exc:
        assert exc.status == 400 and NAMES_A_FIELD.match(exc.message), exc.message
        return None
    orjson.dumps(out)  # what the adapter does next
    api = GeminiAPI(lambda call: None)  # type: ignore[arg-type,return-value]
    api.issued.update(ISSUED)
    try:
        api.validate(_with_valid_bytes(out), model)
        api.validate(_with_valid_bytes(counted), model)
    except Refused as exc:
        raise AssertionError(f"Gemini would refuse the translation: {exc}\n{json.dumps(out)[:3000]}") from None
    return out


@given(GEMINI_REQUEST, OPTIONS)
def test_any_request_translates_or_is_refused(body: dict[str, Any], case: tuple[str, GeminiOptions]) -> None:
    model, opts = case
    raw = dumps(body)
    with production_recursion_limit():
        out = to_gemini(raw, model, opts)
    if out is not None:
        assert [c["role"] for c in out["contents"]] != []


@settings(max_examples=80)
@given(ROOT_SCHEMA)
def test_any_schema_is_cleaned_into_one_gemini_takes(schema: dict[str, Any]) -> None:
    started = time.perf_counter()
    out = clean_parameters(schema)
    assert time.perf_counter() - started < 1
    if out is not None:
        assert len(orjson.dumps(out)) < 2_000_000
        GeminiAPI(lambda c: None)._schema(out, "parameters")  # type: ignore[arg-type,return-value]


# ---- schemas that blow up ------------------------------------------------------------------------------------

def _doubling_refs(n: int) -> dict[str, Any]:
    """Each definition uses the next one twice: 2**n copies when inlined."""
    defs = {f"D{i}": {"type": "object", "properties": {"a": {"$ref": f"#/$defs/D{i + 1}"},
                                                       "b": {"$ref": f"#/$defs/D{i + 1}"}}} for i in range(n)}
    defs[f"D{n}"] = {"type": "string"}
    return {"type": "object", "properties": {"x": {"$ref": "#/$defs/D0"}}, "$defs": defs}


def _type_lists(n: int) -> dict[str, Any]:
    """A type array of six at every level, each branch holding the whole level below: 6**n branches."""
    node: dict[str, Any] = {"type": "string"}
    for _ in range(n):
        node = {"type": ["string", "number", "integer", "boolean", "array", "object"], "properties": {"p": node},
                "items": node}
    return {"type": "object", "properties": {"x": node}}


def _cycle() -> dict[str, Any]:
    return {"type": "object", "properties": {"n": {"$ref": "#/$defs/Node"}}, "$defs": {"Node": {
        "type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}, "kids": {
            "type": "array", "items": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]}}}}}}


def _deep_any_of(n: int) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "string"}
    for _ in range(n):
        node = {"anyOf": [node, {"type": "object", "properties": {"k": node}}]}
    return {"type": "object", "properties": {"x": node}}


BLOWUPS: list[tuple[str, dict[str, Any]]] = [
    ("definitions each used twice, 30 deep", _doubling_refs(30)),
    ("type arrays of six, 8 deep", _type_lists(8)),
    ("a $ref cycle through anyOf and items", _cycle()),
    ("anyOf holding its level twice, 40 deep", _deep_any_of(40)),
    ("properties nested 120 deep", {"type": "object", "properties": {"x": nested(120, {"type": "string"})}}),
]


@pytest.mark.parametrize(("label", "schema"), BLOWUPS, ids=[b[0] for b in BLOWUPS])
def test_schema_cleaning_stays_bounded(label: str, schema: dict[str, Any]) -> None:
    started = time.perf_counter()
    out = clean_parameters(schema)
    assert time.perf_counter() - started < 0.5
    assert out is not None and len(orjson.dumps(out)) < 2_000_000
    GeminiAPI(lambda c: None)._schema(out, "parameters")  # type: ignore[arg-type,return-value]


# ---- whole answers -------------------------------------------------------------------------------------------

PART = maybe(st.one_of(
    st.fixed_dictionaries({"text": maybe(TEXT)}, optional={"thought": maybe(st.just(True)),
                                                          "thoughtSignature": maybe(st.sampled_from(ISSUED))}),
    st.fixed_dictionaries({"functionCall": maybe(st.fixed_dictionaries({}, optional={
        "name": maybe(st.sampled_from(["Bash", "x"])), "args": maybe(st.dictionaries(TEXT, JSON, max_size=3)),
        "id": maybe(st.sampled_from(["c1", "functions.Bash:0"]))}))},
        optional={"thoughtSignature": maybe(st.sampled_from(ISSUED))}),
))
CANDIDATE = maybe(st.fixed_dictionaries({}, optional={
    "content": maybe(st.fixed_dictionaries({}, optional={"role": st.just("model"),
                                                         "parts": maybe(st.lists(PART, max_size=4))})),
    "finishReason": maybe(st.sampled_from(["STOP", "MAX_TOKENS", "SAFETY", "MALFORMED_FUNCTION_CALL", "weird", ""])),
    "finishMessage": maybe(TEXT),
    "groundingMetadata": maybe(st.fixed_dictionaries({}, optional={"groundingChunks": maybe(st.lists(maybe(
        st.fixed_dictionaries({}, optional={"web": maybe(st.fixed_dictionaries({}, optional={
            "uri": maybe(st.just("https://a.example")), "title": maybe(TEXT)}))})), max_size=2))})),
}))
USAGE = maybe(st.fixed_dictionaries({}, optional={k: maybe(NUMBERS) for k in (
    "promptTokenCount", "candidatesTokenCount", "cachedContentTokenCount", "thoughtsTokenCount")}))
ANSWER = st.one_of(
    st.fixed_dictionaries({"candidates": maybe(st.lists(CANDIDATE, max_size=2))},
                          optional={"usageMetadata": USAGE, "promptFeedback": maybe(st.fixed_dictionaries(
                              {}, optional={"blockReason": maybe(st.sampled_from(["SAFETY", ""]))})),
                                    "modelVersion": TEXT}),
    st.fixed_dictionaries({"promptFeedback": maybe(st.fixed_dictionaries({"blockReason": maybe(st.just("SAFETY"))}))}),
    st.builds(lambda e: {"error": e}, maybe(st.fixed_dictionaries({"message": maybe(TEXT)}, optional={
        "code": maybe(st.sampled_from([400, 429, 503, 200])), "status": maybe(st.just("UNAVAILABLE"))}))),
    WRONG,
)


def check_answer(data: Any) -> dict[str, Any] | None:
    raw = encode(data)
    try:
        with fixed_ids(), production_recursion_limit():
            message, usage = translate_response(orjson.loads(raw), "up,gemini-test", ToolNames(), "up", 10)
    except orjson.JSONDecodeError:  # deeper than orjson reads: the adapter reports invalid JSON before this
        return None
    except UpstreamError as exc:
        assert 400 <= exc.status < 600 and exc.message
        return None
    assert message["stop_reason"] in STOP_REASONS
    for block in message["content"]:
        assert block["type"] in DELTAS_FOR_BLOCK
        assert all(isinstance(block[k], str) for k in ("text", "thinking", "signature", "id", "name") if k in block)
        if block["type"] == "tool_use":
            assert isinstance(block["input"], dict)
    assert all(isinstance(v, int) and 0 <= v < 2**53 for v in message["usage"].values())
    assert all(isinstance(v, int) and 0 <= v < 2**53 for v in usage.values())
    orjson.dumps(message)  # the relay's Whole body
    seen = check_stream(message_as_events(message), json_inputs=True)  # the relay's replay for stream=true
    assert len(seen.blocks) == len(message["content"])
    return message


@given(ANSWER)
def test_any_answer_translates_or_is_an_upstream_error(data: Any) -> None:
    check_answer(data)


@given(st.one_of(st.fixed_dictionaries({"totalTokens": maybe(NUMBERS)}), WRONG))
def test_any_token_count_answer(data: Any) -> None:
    try:
        out = orjson.loads(GEMINI.count_answer(dumps(data), "up"))
    except UpstreamError as exc:
        assert exc.status == 502
        return
    assert isinstance(out["input_tokens"], int) and 0 <= out["input_tokens"] < 2**53


# ---- pinned cases found by the fuzzing above ----------------------------------------------------------------

def _request(**fields: Any) -> dict[str, Any]:
    return {"model": "x", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}], **fields}


G3 = ("gemini-3-pro-preview", GeminiOptions(generation=3, family="pro"))
G25_PRO = ("gemini-2.5-pro", GeminiOptions(generation=2, family="pro"))
BASH = {"name": "Bash", "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}}}


def _schema(schema: dict[str, Any]) -> dict[str, Any]:
    return _request(tools=[{"name": "T", "input_schema": {"type": "object", "properties": {"p": schema}}}])


# "refused": an InvalidRequest naming the field; "translated": a body the scripted Gemini accepts. Before the
# fixes each raised a TypeError (a 500) or went to Gemini to be refused with a 400.
REQUESTS: list[tuple[str, dict[str, Any], tuple[str, GeminiOptions], str]] = [
    ("a tool result with a part that is not a block, answering no call", _request(messages=[
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": [None]}]}]),
     G3, "refused"),
    ("a second result for one call, with a part that is not a block", _request(messages=[
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"},
                                     {"type": "tool_result", "tool_use_id": "t1", "content": [5]}]}]),
     G3, "refused"),
    ("two tool_use blocks with one id", _request(messages=[
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {}},
                                          {"type": "tool_use", "id": "t1", "name": "Bash", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}]}]),
     G3, "refused"),
    ("two tools of one name", _request(tools=[BASH, BASH]), G3, "refused"),
    ("top_k a string", _request(top_k="40"), G3, "refused"),
    ("stop_sequences a string", _request(stop_sequences="END"), G3, "refused"),
    ("stop_sequences holding a number", _request(stop_sequences=["END", 5]), G3, "refused"),
    ("budget_tokens 0 on Gemini 2.5 Pro", _request(thinking={"type": "enabled", "budget_tokens": 0}), G25_PRO,
     "translated"),
    ("budget_tokens negative on Gemini 2.5 Flash", _request(thinking={"type": "enabled", "budget_tokens": -5}),
     ("gemini-2.5-flash", GeminiOptions(generation=2, family="flash")), "translated"),
    ("required that is true", _schema({"type": "object", "properties": {"a": {}}, "required": True}), G3,
     "translated"),
    ("allOf merged into properties that are a list", _schema({"properties": [1], "allOf": [
        {"properties": {"a": {"type": "string"}}}]}), G3, "translated"),
    ("allOf merged into required that is a number", _schema({"type": "object", "required": 5, "allOf": [
        {"properties": {"a": {"type": "string"}}, "required": ["a"]}]}), G3, "translated"),
    ("an integer's exclusive bound at the edge of 64 bits", _schema(
        {"type": "integer", "exclusiveMinimum": 2**64 - 1, "exclusiveMaximum": -(2**63)}), G3, "translated"),
    ("definitions each used twice, 30 deep", _request(tools=[{"name": "T", "input_schema": _doubling_refs(30)}]),
     G3, "translated"),
]


@pytest.mark.parametrize(("label", "body", "case", "expected"), REQUESTS, ids=[r[0] for r in REQUESTS])
def test_pinned_requests(label: str, body: dict[str, Any], case: tuple[str, GeminiOptions], expected: str) -> None:
    out = to_gemini(json.dumps(body).encode(), *case)
    assert (out is None) == (expected == "refused")


# each raised a TypeError or a RecursionError (a 500, "ccr hit an internal error") before the fix
ANSWERS: list[tuple[str, Any]] = [
    ("groundingChunks true", {"candidates": [{"content": {"parts": [{"text": "a"}]}, "finishReason": "STOP",
                                              "groundingMetadata": {"groundingChunks": True}}]}),
    ("a function name nested as deep as orjson reads", {"candidates": [{"content": {"parts": [
        {"functionCall": {"name": "@deep1000@", "args": {}}}]}, "finishReason": "STOP"}]}),
    ("an error message nested as deep as orjson reads", {"error": {"code": 503, "message": "@deep1000@"}}),
]


@pytest.mark.parametrize(("label", "data"), ANSWERS, ids=[a[0] for a in ANSWERS])
def test_pinned_answers(label: str, data: Any) -> None:
    check_answer(data)
