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

from router.translate.openai_chat import ChatOptions, ToolNames, translate_request, translate_response
from router.wire.anthropic import check_messages_request, message_as_events, parse_body
from router.wire.errors import InvalidRequest, UpstreamError
from tests.fuzz.anthropic_order import DELTAS_FOR_BLOCK, STOP_REASONS, check_stream
from tests.fuzz.drive import fixed_ids
from tests.fuzz.strategies import ANTHROPIC_REQUEST, CHAT_OPTIONS, OPENAI_ANSWER, dumps, nested


def to_openai(raw: bytes, opts: ChatOptions) -> dict[str, Any] | None:
    """What the OpenAI adapter sends upstream for these request bytes, or None when ccr refuses them with a 400."""
    try:
        body = parse_body(raw)
        check_messages_request(body)
        out, _names = translate_request(body, "m", opts)
    except InvalidRequest as exc:
        assert exc.status == 400 and exc.message
        return None
    orjson.dumps(out)  # what the relay does next
    return out


@given(ANTHROPIC_REQUEST, CHAT_OPTIONS)
def test_any_request_translates_or_is_refused(body: dict[str, Any], opts: ChatOptions) -> None:
    out = to_openai(dumps(body), opts)
    if out is not None:
        assert out["model"] == "m" and isinstance(out["messages"], list)
        assert all(m["role"] in ("system", "user", "assistant", "tool") for m in out["messages"])


@given(OPENAI_ANSWER)
def test_any_answer_translates_or_is_an_upstream_error(data: Any) -> None:
    raw = dumps(data)
    try:
        with fixed_ids():
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
