"""OpenAI Chat Completions JSON answers → Anthropic messages."""

from __future__ import annotations

import json
from typing import Any

import pytest

from router.translate.common import parse_reasoning_signature
from router.translate.openai_chat import ToolNames, translate_response
from router.wire.errors import UpstreamUnavailable
from tests.translate.stream_helpers import message_of, translate_bytes


def answer(message: dict[str, Any], finish: str = "stop", usage: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": "c", "object": "chat.completion", "choices": [{"index": 0, "message": message,
                                                                 "finish_reason": finish}],
            "usage": usage or {"prompt_tokens": 10, "completion_tokens": 3}}


def test_text_tools_and_reasoning() -> None:
    msg = translate_response(answer({
        "role": "assistant", "content": "Reading.", "reasoning_content": "need the file",
        "tool_calls": [{"id": "functions.Read:0", "type": "function",
                        "function": {"name": "Read", "arguments": '{"file_path": "/a"}'}}]},
        "tool_calls", {"prompt_tokens": 100, "completion_tokens": 9, "prompt_tokens_details": {"cached_tokens": 60}}),
        "up,m", ToolNames())
    assert msg["content"][0]["type"] == "thinking" and msg["content"][0]["thinking"] == "need the file"
    assert parse_reasoning_signature(msg["content"][0]["signature"]) == ("reasoning_content", None)
    assert msg["content"][1] == {"type": "text", "text": "Reading."}
    tool = msg["content"][2]
    assert tool["name"] == "Read" and tool["input"] == {"file_path": "/a"}
    assert tool["id"].startswith("ccrid_")
    assert msg["stop_reason"] == "tool_use"
    assert msg["usage"] == {"input_tokens": 40, "output_tokens": 9, "cache_creation_input_tokens": 0,
                            "cache_read_input_tokens": 60}


@pytest.mark.parametrize(("arguments", "expected"), [
    ("", {}),
    ('{"a": 1}', {"a": 1}),
    ({"a": 1}, {"a": 1}),
    ('{"a": ', {"_raw_arguments": '{"a": '}),
])
def test_tool_arguments(arguments: Any, expected: dict[str, Any]) -> None:
    msg = translate_response(answer({"role": "assistant", "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "T", "arguments": arguments}}]}, "tool_calls"),
        "up,m", ToolNames())
    assert msg["content"][0]["input"] == expected


def test_refusal_and_length() -> None:
    msg = translate_response(answer({"role": "assistant", "content": None, "refusal": "I can't help with that."}),
                             "up,m", ToolNames())
    assert msg["content"] == [{"type": "text", "text": "I can't help with that."}]
    assert msg["stop_reason"] == "refusal"
    assert translate_response(answer({"role": "assistant", "content": "cut"}, "length"), "up,m",
                              ToolNames())["stop_reason"] == "max_tokens"


@pytest.mark.parametrize("data", [{}, {"choices": []}, [], {"object": "list", "data": []}])
def test_answer_without_choices_is_an_upstream_error(data: Any) -> None:
    with pytest.raises(UpstreamUnavailable):
        translate_response(data, "up,m", ToolNames())


@pytest.mark.parametrize(("fields", "source"), [
    ({"reasoning_content": "r"}, "reasoning_content"),  # DeepSeek, Kimi, vLLM
    ({"reasoning": "r"}, "reasoning"),  # Groq, OpenRouter
    ({"reasoning": "r", "reasoning_details": [{"type": "reasoning.text", "text": "r"}]}, "reasoning_details"),
])
def test_every_reasoning_field_becomes_thinking(fields: dict[str, Any], source: str) -> None:
    msg = translate_response(answer({"role": "assistant", "content": "a", **fields}), "up,m", ToolNames())
    thinking = msg["content"][0]
    assert thinking["type"] == "thinking" and thinking["thinking"] == "r"
    assert parse_reasoning_signature(thinking["signature"])[0] == source


# vLLM and SGLang name the matched stop string in the choice's stop_reason; OpenAI names nothing; a token id is
# no sequence
@pytest.mark.parametrize(("choice_extra", "reason", "sequence"), [
    ({"stop_reason": "END"}, "stop_sequence", "END"),
    ({}, "end_turn", None),
    ({"stop_reason": 128009}, "end_turn", None),
    ({"stop_reason": None}, "end_turn", None),
])
def test_the_matched_stop_sequence_is_reported(choice_extra: dict[str, Any], reason: str, sequence: str | None) -> None:
    choice = {"index": 0, "message": {"role": "assistant", "content": "a"}, "finish_reason": "stop", **choice_extra}
    whole = translate_response({"choices": [choice]}, "up,m", ToolNames())
    assert (whole["stop_reason"], whole["stop_sequence"]) == (reason, sequence)
    chunks = [{"choices": [{"index": 0, "delta": {"content": "a"}}]},
              {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop", **choice_extra}]}]
    raw = b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"
    streamed = message_of(translate_bytes([raw]))
    assert (streamed["stop_reason"], streamed.get("stop_sequence")) == (reason, sequence)
