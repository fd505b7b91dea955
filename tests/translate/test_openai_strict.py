"""The OpenAI request checks the scripted upstreams apply (tests/support/openai_strict.py): they refuse what
OpenAI refuses, and every request ccr translates passes them."""

from __future__ import annotations

from typing import Any

import pytest

from router.translate.openai_chat.options import ChatOptions
from router.translate.openai_chat.request import translate_request
from tests.support.openai_strict import check_chat

USER = {"role": "user", "content": "hi"}
CALL = {"role": "assistant", "content": None, "tool_calls": [
    {"id": "c1", "type": "function", "function": {"name": "Bash", "arguments": "{}"}}]}
IMAGE = {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}}]}


@pytest.mark.parametrize(("body", "message"), [
    ({"model": "m", "messages": [USER], "thinking": {"type": "enabled"}}, "Unrecognized request argument supplied: thinking"),
    ({"model": "m", "messages": [USER, {**CALL, "reasoning_content": "x"}, {"role": "tool", "tool_call_id": "c1", "content": "ok"}]},
     "('reasoning_content' was unexpected)"),
    ({"model": "m", "messages": [USER, CALL, USER]}, "did not have response messages: c1"),
    ({"model": "m", "messages": [USER, CALL]}, "did not have response messages: c1"),
    ({"model": "m", "messages": [USER, {"role": "tool", "tool_call_id": "zz", "content": "ok"}]}, "must be a response to a preceeding"),
    ({"model": "m", "messages": [{"role": "assistant", "content": [{"type": "image_url", "image_url": {"url": "u"}}]}]},
     "Image URLs are only allowed for messages with role 'user'"),
    ({"model": "m", "messages": [USER], "stream_options": {"include_usage": True}}, "only allowed when 'stream' is enabled"),
    ({"model": "m", "messages": [USER], "max_tokens": 1, "max_completion_tokens": 1}, "cannot both be set"),
    ({"model": "m", "messages": [USER], "tools": [{"type": "function", "function": {"name": "mcp__x.y"}}]},
     "does not match pattern"),
])
def test_what_openai_refuses_is_refused(body: dict[str, Any], message: str) -> None:
    problem = check_chat(body)
    assert problem is not None and message in problem


def test_images_to_a_model_without_vision_are_refused() -> None:
    body = {"model": "m", "messages": [IMAGE]}
    assert check_chat(body) is None
    assert "only supported by certain models" in str(check_chat(body, vision=False))


HISTORIES: dict[str, list[dict[str, Any]]] = {
    "tools and results": [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": [{"type": "text", "text": "ok"},
                                          {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {}},
                                          {"type": "tool_use", "id": "toolu_2", "name": "Read", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_2", "content": [
            {"type": "text", "text": "r2"}, {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}]},
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "r1"}, {"type": "text", "text": "and"}]}],
    "interrupted call": [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {}}]},
        {"role": "user", "content": "stop, do something else"}],
    "foreign reasoning": [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "hm", "signature": "ccr1.reasoning_content"},
                                          {"type": "text", "text": "done"}]},
        {"role": "user", "content": "next"}],
    "mid-conversation system": [
        {"role": "user", "content": "go"}, {"role": "system", "content": "note"}, {"role": "user", "content": "more"}],
}


@pytest.mark.parametrize("name", list(HISTORIES))
def test_every_translated_request_passes(name: str) -> None:
    body = {"model": "x", "max_tokens": 100, "stream": True, "system": "s", "messages": HISTORIES[name],
            "tools": [{"name": "Bash", "input_schema": {"type": "object"}}, {"name": "mcp__srv__very.long-name", "input_schema": {"type": "object"}}],
            "tool_choice": {"type": "auto"}, "thinking": {"type": "adaptive"}, "metadata": {"user_id": "u" * 200}}
    out, _ = translate_request(body, "m", ChatOptions(reasoning_capable=True))
    assert check_chat(out) is None


def test_images_left_in_the_history_reach_a_blind_model_as_a_note() -> None:
    """The turn with the screenshot went to a model with vision; later turns go to one without, which would
    answer 400 to the image still in the history."""
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}
    body = {"model": "x", "max_tokens": 100, "messages": [
        {"role": "user", "content": [image, {"type": "text", "text": "what is this?"}]},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Read", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": [image]}]},
        {"role": "assistant", "content": "a dot"}, {"role": "user", "content": "thanks"}]}
    sighted, _ = translate_request(body, "m", ChatOptions())
    assert "only supported by certain models" in str(check_chat(sighted, vision=False))
    blind, _ = translate_request(body, "m", ChatOptions(blind=True))
    assert check_chat(blind, vision=False) is None
    assert "does not read images" in blind["messages"][0]["content"]
    assert "does not read images" in blind["messages"][2]["content"]
