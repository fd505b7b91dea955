"""Request translation (Anthropic → OpenAI) and whole-answer translation (OpenAI → Anthropic) on arbitrary
schema-shaped input. A request fails only with ccr's InvalidRequest (a 400 naming the field), an upstream
answer only with an UpstreamError (a 502 or the status it reported); whatever passes becomes JSON the relay can
write, and an answer becomes a valid Anthropic message, also when replayed as a stream."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from router import tokens
from router.translate import history
from router.translate.openai_chat import ChatOptions, ToolNames, translate_request, translate_response
from router.translate.openai_responses import request as responses_request
from router.translate.openai_responses import response as responses_response
from router.translate.openai_responses.adapter import OPENAI_RESPONSES
from router.translate.openai_responses.options import ResponsesOptions
from router.wire.anthropic import check_messages_request, message_as_events, parse_body
from router.wire.errors import InvalidRequest, UpstreamError
from tests.fuzz.anthropic_order import DELTAS_FOR_BLOCK, STOP_REASONS, check_stream
from tests.fuzz.drive import fixed_ids, production_recursion_limit
from tests.fuzz.strategies import (
    ANTHROPIC_REQUEST,
    CHAT_OPTIONS,
    CLIENT_DEEP,
    NUMBERS,
    OPENAI_ANSWER,
    TEXT,
    WRONG,
    deepened,
    encode,
    maybe,
    nested,
    optional_fields,
    places,
    put,
)


def to_openai(raw: bytes, opts: ChatOptions) -> dict[str, Any] | None:
    """What the OpenAI adapter sends upstream for these request bytes, or None when ccr refuses them with a 400.
    The local token counts (the router's, before the request goes anywhere) are taken too."""
    try:
        with production_recursion_limit():
            body = parse_body(raw)
            check_messages_request(body)
            tokens.count_request(body)
            tokens.Conversations().quick(body, "s", 10)
            out, _names = translate_request(body, "m", opts)
            orjson.dumps(out)  # what the relay does next
    except InvalidRequest as exc:
        assert exc.status == 400 and exc.message
        return None
    return out


def to_responses(raw: bytes, opts: ResponsesOptions) -> dict[str, Any] | None:
    """The same for the Responses adapter."""
    try:
        with production_recursion_limit():
            body = parse_body(raw)
            check_messages_request(body)
            out, _names = responses_request.translate_request(body, "m", opts)
            orjson.dumps(out)
    except InvalidRequest as exc:
        assert exc.status == 400 and exc.message
        return None
    return out


@given(ANTHROPIC_REQUEST, CHAT_OPTIONS)
def test_any_request_translates_or_is_refused(body: dict[str, Any], opts: ChatOptions) -> None:
    out = to_openai(encode(body), opts)
    if out is not None:
        assert out["model"] == "m" and isinstance(out["messages"], list)
        assert all(m["role"] in ("system", "user", "assistant", "tool") for m in out["messages"])


RESPONSES_OPTIONS = st.builds(ResponsesOptions, provider=st.just("oai"), model=st.just("m"), reasoning=st.booleans(),
                              blind=st.booleans())


@given(ANTHROPIC_REQUEST, RESPONSES_OPTIONS)
def test_any_request_translates_for_responses_or_is_refused(body: dict[str, Any], opts: ResponsesOptions) -> None:
    out = to_responses(encode(body), opts)
    if out is not None:
        assert out["model"] == "m" and isinstance(out["input"], list)


# a request with every field a client fills, each tried with a value nested as deep as a request may be
_SCHEMA = {"type": "object", "properties": {"command": {"type": "string", "description": "d"}}, "required": ["command"],
           "$schema": "s", "additionalProperties": False}
RICH_REQUEST: dict[str, Any] = {
    "model": "claude-x", "max_tokens": 100, "stream": True, "temperature": 1, "stop_sequences": ["END"],
    "system": [{"type": "text", "text": "x-anthropic-billing-header: a"}, {"type": "text", "text": "be brief",
                                                                          "cache_control": {"type": "ephemeral"}}],
    "metadata": {"user_id": "u"}, "thinking": {"type": "enabled", "budget_tokens": 2000},
    "output_config": {"effort": "high"}, "tool_choice": {"type": "auto", "disable_parallel_tool_use": True},
    "tools": [{"name": "Bash", "description": "run", "input_schema": _SCHEMA},
              {"name": "Lazy", "input_schema": _SCHEMA, "defer_loading": True},
              {"type": "web_search_20250305", "name": "web_search"}],
    "messages": [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "t", "signature": "ccr1.reasoning_details.W3t9XQ"},
            {"type": "redacted_thinking", "data": "opaque"},
            {"type": "text", "text": "calling"},
            {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls", "opts": [1, {"a": None}]}},
            {"type": "tool_use", "id": "toolu_2", "name": "Bash", "input": {}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "is_error": False, "content": [
                {"type": "text", "text": "out"}, {"type": "tool_reference", "tool_name": "Lazy"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
                {"type": "search_result", "title": "t", "source": "s", "content": [{"type": "text", "text": "c"}]},
                {"type": "document", "title": "doc", "source": {"type": "text", "data": "d"}}]},
            {"type": "tool_result", "tool_use_id": "toolu_9", "content": [{"type": "text", "text": "orphan"},
                                                                          {"type": "image", "source": {}}]},
            {"type": "text", "text": "go on"},
            {"type": "document", "source": {"type": "url", "url": "https://a.example/x.pdf"}}]},
        {"role": "system", "content": "a note"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_3", "name": "Bash", "input": {"x": 1}}]},
        {"role": "user", "content": "next"}],
}
REQUEST_PLACES = places(RICH_REQUEST)[1:]


@pytest.mark.parametrize("path", REQUEST_PLACES, ids=[".".join(map(str, p)) for p in REQUEST_PLACES])
def test_a_deep_value_in_each_place_of_a_request(path: tuple[Any, ...]) -> None:
    for depth in (200, 246):  # what orjson writes of it, and as deep as parse_body takes
        raw = encode(put(RICH_REQUEST, path, f"@deep{depth}@"))
        to_openai(raw, ChatOptions(reasoning_style="openrouter", strip_schema_keys=("$schema",)))
        to_openai(raw, ChatOptions(reasoning_style="deepseek", replay_field="reasoning_content", exit_tool=True))
        to_responses(raw, ResponsesOptions(provider="oai", model="m", reasoning=True))


def test_history_repair_of_deep_values() -> None:
    """paired() on its own (the translators call it first): orphaned results of any shape become text."""
    for path in REQUEST_PLACES:
        if path[0] == "messages":
            body = orjson.loads(encode(put(RICH_REQUEST, path, "@deep246@")))
            with production_recursion_limit():
                history.paired(body["messages"])


@given(OPENAI_ANSWER)
def test_any_answer_translates_or_is_an_upstream_error(data: Any) -> None:
    raw = encode(data)
    try:
        with fixed_ids(), production_recursion_limit():
            message = translate_response(orjson.loads(raw), "up,m", ToolNames())
    except orjson.JSONDecodeError:  # deeper than orjson reads: the relay reports invalid JSON before this
        return
    except UpstreamError as exc:
        assert exc.status >= 400 and exc.message
        return
    assert message["stop_reason"] in STOP_REASONS
    for block in message["content"]:
        assert block["type"] in DELTAS_FOR_BLOCK
        assert all(isinstance(block[k], str) for k in ("text", "thinking", "signature", "id", "name") if k in block)
        if block["type"] == "tool_use":
            assert isinstance(block["input"], dict)
    assert all(isinstance(v, int) and v >= 0 for v in message["usage"].values())
    orjson.dumps(message)  # the relay's Whole body
    seen = check_stream(message_as_events(message), json_inputs=True)  # the relay's replay for stream=true
    assert len(seen.blocks) == len(message["content"])


def _request(**fields: Any) -> dict[str, Any]:
    return {"model": "x", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}], **fields}


def _deep_input(depth: int) -> dict[str, Any]:
    return _request(messages=[{"role": "assistant", "content": [
        {"type": "tool_use", "id": "t", "name": "Bash", "input": {"d": nested(depth)}}]}])


# each of these raised a TypeError or AttributeError (a 500, "ccr hit an internal error") before the fix
REFUSED: list[tuple[str, dict[str, Any]]] = [
    ("tool input deeper than orjson writes", _deep_input(300)),
    ("tool schema deeper than orjson writes", _request(tools=[{"name": "T", "input_schema": nested(300)}])),
    ("a tool result's text not a string", _request(messages=[{"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "t", "content": [{"type": "text", "text": 5}]}]}])),
    ("a document title not a string", _request(messages=[{"role": "user", "content": [
        {"type": "document", "title": 7, "source": {"type": "base64", "data": ""}}]}])),
    ("a thinking signature not a string", _request(messages=[{"role": "assistant", "content": [
        {"type": "thinking", "thinking": "", "signature": 5}]}])),
    ("effort not a string", _request(output_config={"effort": ["high"]})),
    ("an input_schema not an object", _request(tools=[{"name": "T", "input_schema": True}])),
]
ACCEPTED: list[tuple[str, dict[str, Any]]] = [
    ("nesting orjson still writes", _deep_input(200)),
    ("a tool_reference name not a string", _request(
        tools=[{"name": "Lazy", "input_schema": {}, "defer_loading": True}],
        messages=[{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t",
                                                 "content": [{"type": "tool_reference", "tool_name": [1]}]}]}])),
]


@pytest.mark.parametrize(("label", "body"), REFUSED, ids=[c[0] for c in REFUSED])
def test_pinned_requests_are_refused(label: str, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    assert to_openai(raw, ChatOptions()) is None
    assert to_openai(raw, ChatOptions(strip_schema_keys=("$schema",))) is None


@pytest.mark.parametrize(("label", "body"), ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_pinned_requests_translate(label: str, body: dict[str, Any]) -> None:
    assert to_openai(json.dumps(body).encode(), ChatOptions(strip_schema_keys=("$schema",))) is not None


ANSWERS: list[tuple[str, Any]] = [
    ("a choice that is not an object", {"choices": ["x"]}),
    ("a message that is a string", {"choices": [{"message": "hi", "finish_reason": "stop"}]}),
    ("content parts with a number for text", {"choices": [{"message": {"content": [{"type": "text", "text": 1}]}}]}),
    ("content that is a number", {"choices": [{"message": {"content": 5}}]}),
    ("a finish reason that is a list", {"choices": [{"message": {}, "finish_reason": ["stop"]}]}),
    ("a tool call id that is a number", {"choices": [{"message": {"tool_calls": [
        {"id": 5, "function": {"name": "Bash", "arguments": "{}"}}]}}]}),
    ("usage that is a list", {"choices": [{"message": {"content": "a"}}], "usage": [1]}),
    ("token counts beyond 64 bits", {"choices": [{"message": {"content": "a"}}],
                                     "usage": {"prompt_tokens": 1e30, "completion_tokens": -4}}),
    ("reasoning details too deep to write", {"choices": [{"message": {
        "reasoning_details": [{"type": "reasoning.text", "text": "t", "x": nested(300)}]}}]}),
]


@pytest.mark.parametrize(("label", "data"), ANSWERS, ids=[a[0] for a in ANSWERS])
def test_pinned_answers(label: str, data: Any) -> None:
    try:
        message = translate_response(orjson.loads(json.dumps(data)), "up,m", ToolNames())
    except UpstreamError as exc:
        assert exc.status == 502
        return
    check_stream(message_as_events(message))
    assert all(isinstance(v, int) and 0 <= v < 2**53 for v in message["usage"].values())


# ---- OpenAI Responses whole answers and token counts -----------------------------------------------------------

_ITEM = maybe(st.one_of(
    optional_fields({"type": st.just("reasoning")}, {"id": maybe(st.just("rs_1")), "encrypted_content": maybe(TEXT),
                                                     "summary": maybe(st.lists(maybe(optional_fields(
                                                         {"type": st.just("summary_text")}, {"text": maybe(TEXT)})),
                                                         max_size=2))}),
    optional_fields({"type": st.just("message")}, {"id": maybe(st.just("msg_1")), "content": maybe(st.lists(maybe(
        st.one_of(optional_fields({"type": st.just("output_text")}, {"text": maybe(TEXT)}),
                  optional_fields({"type": st.just("refusal")}, {"refusal": maybe(TEXT)}))), max_size=2))}),
    optional_fields({"type": st.just("function_call")}, {"call_id": maybe(st.just("call_1")),
                                                         "name": maybe(st.just("Bash")),
                                                         "arguments": maybe(st.sampled_from(['{"a": 1}', "", "x"]))}),
))
RESPONSES_ANSWER = st.one_of(
    optional_fields({"output": maybe(st.lists(_ITEM, max_size=3))}, {
        "status": maybe(st.sampled_from(["completed", "incomplete", "failed"])),
        "incomplete_details": maybe(optional_fields({}, {"reason": maybe(st.just("max_output_tokens"))})),
        "usage": maybe(optional_fields({}, {"input_tokens": maybe(NUMBERS), "output_tokens": maybe(NUMBERS)})),
        "error": maybe(optional_fields({}, {"message": maybe(TEXT), "code": maybe(st.just("server_error"))}))}),
    st.builds(lambda e: {"error": e}, maybe(optional_fields({"message": maybe(TEXT)}, {"code": maybe(TEXT)}))),
    WRONG,
)


@given(st.one_of(RESPONSES_ANSWER, deepened(RESPONSES_ANSWER)))
def test_any_responses_answer_translates_or_is_an_upstream_error(data: Any) -> None:
    raw = encode(data)  # outside the limit: the standard library's encoder recurses
    try:
        with fixed_ids(), production_recursion_limit():
            message = responses_response.translate_response(orjson.loads(raw), "oai,m", ToolNames(), "oai", "m")
            orjson.dumps(message)
    except orjson.JSONDecodeError:  # deeper than orjson reads: the adapter reports invalid JSON before this
        return
    except UpstreamError as exc:
        assert 400 <= exc.status < 600 and exc.message
        return
    check_stream(message_as_events(message), json_inputs=True)


@given(st.one_of(st.fixed_dictionaries({"input_tokens": maybe(NUMBERS)}), WRONG, CLIENT_DEEP, st.just("@deep1000@")))
def test_any_responses_token_count_answer(data: Any) -> None:
    raw = encode(data)
    try:
        with production_recursion_limit():
            out = orjson.loads(OPENAI_RESPONSES.count_answer(raw, "oai"))
    except UpstreamError as exc:
        assert exc.status == 502
        return
    assert isinstance(out["input_tokens"], int) and out["input_tokens"] >= 0


# the router counts a request's tokens before any translator reads it: each of these but the last (as deep as a
# request may nest, counted under Python's default recursion limit) raised a TypeError or an AttributeError there
# (ccr's internal error instead of the translator's 400 naming the field)
COUNTED: list[tuple[str, dict[str, Any]]] = [
    ("a role that is a list", _request(messages=[{"role": ["user"], "content": "hi"}])),
    ("a block type that is an object", _request(messages=[{"role": "user", "content": [{"type": {"a": 1}}]}])),
    ("a tool_use id that is a list", _request(messages=[{"role": "assistant", "content": [
        {"type": "tool_use", "id": ["t"], "name": "Bash", "input": {}}]}])),
    ("a text that is a list", _request(messages=[{"role": "user", "content": [{"type": "text", "text": ["a"]}]}])),
    ("a thinking that is a number", _request(messages=[{"role": "assistant", "content": [
        {"type": "thinking", "thinking": 5, "signature": "s"}]}])),
    ("redacted data that is a number", _request(messages=[{"role": "assistant", "content": [
        {"type": "redacted_thinking", "data": 5}]}])),
    ("a tool name that is a list", _request(messages=[{"role": "assistant", "content": [
        {"type": "tool_use", "id": "t", "name": [1], "input": {}}]}])),
    ("an image source that is a list", _request(messages=[{"role": "user", "content": [
        {"type": "image", "source": [1]}]}])),
    ("a tool description that is a number", _request(tools=[{"name": "T", "description": 5, "input_schema": {}}])),
    ("an input_schema that is true", _request(tools=[{"name": "T", "input_schema": True}])),
    ("a tool result's content nested deep", _request(messages=[{"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "t", "content": {"d": nested(240)}}]}])),
]


@pytest.mark.parametrize(("label", "body"), COUNTED, ids=[c[0] for c in COUNTED])
def test_pinned_token_counts(label: str, body: dict[str, Any]) -> None:
    body = parse_body(json.dumps(body).encode())
    conversations = tokens.Conversations()
    with production_recursion_limit():
        assert tokens.count_request(body) > 0
        assert conversations.count(body, "s") > 0
        assert conversations.quick(body, "s", 10)[0] is not None  # the second time: what was counted is known
