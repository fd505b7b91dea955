"""Histories with a tool call and no result, or a result and no call, repaired before any translation."""

from __future__ import annotations

from typing import Any

import pytest

from router.translate.history import INTERRUPTED, paired


def call(*ids: str) -> dict[str, Any]:
    return {"role": "assistant", "content": [{"type": "tool_use", "id": i, "name": "Bash", "input": {}} for i in ids]}


def result(*ids: str, text: str | None = None) -> dict[str, Any]:
    content: list[dict[str, Any]] = [{"type": "tool_result", "tool_use_id": i, "content": f"out-{i}"} for i in ids]
    if text:
        content.append({"type": "text", "text": text})
    return {"role": "user", "content": content}


ASK = {"role": "user", "content": "go"}
NOTE = {"role": "system", "content": "a mid-conversation note"}
DONE = {"role": "assistant", "content": "done"}


@pytest.mark.parametrize("history", [
    [ASK],
    [ASK, call("a", "b"), result("a", "b"), NOTE, DONE],
    [ASK, call("a")],  # the turn in progress: the model's calls, not yet run
], ids=["plain", "paired", "pending-last"])
def test_paired_history_is_left_alone(history: list[Any]) -> None:
    assert paired(history) is history


def _summary(history: list[Any]) -> list[tuple[str, list[str]]]:
    """(role, [what each block is]) for each message."""
    out = []
    for m in history:
        blocks = m["content"] if isinstance(m["content"], list) else [{"type": "text", "text": m["content"]}]
        out.append((m["role"], [
            f"result:{b['tool_use_id']}:{'interrupted' if b['content'] == INTERRUPTED else b['content']}"
            if b["type"] == "tool_result" else f"call:{b['id']}" if b["type"] == "tool_use"
            else f"text:{b['text'].splitlines()[0]}" for b in blocks]))
    return out


@pytest.mark.parametrize(("history", "expected"), [
    # one of two parallel calls was interrupted: it gets a result saying so, in call order
    ([ASK, call("a", "b"), result("b", text="stop"), DONE],
     [("user", ["text:go"]), ("assistant", ["call:a", "call:b"]),
      ("user", ["result:a:interrupted", "result:b:out-b", "text:stop"]), ("assistant", ["text:done"])]),
    # the calls were never answered and the conversation went on: a user turn with the results is put in
    ([ASK, call("a"), DONE],
     [("user", ["text:go"]), ("assistant", ["call:a"]), ("user", ["result:a:interrupted"]),
      ("assistant", ["text:done"])]),
    # a result whose call is gone (compacted away): its text is kept as text
    ([result("z", text="and then"), DONE],
     [("user", ["text:[tool result for call z]", "text:and then"]), ("assistant", ["text:done"])]),
    # the same result twice: the first answers the call, the second is kept as text
    ([ASK, call("a"), result("a", "a"), DONE],
     [("user", ["text:go"]), ("assistant", ["call:a"]), ("user", ["result:a:out-a", "text:[tool result for call a]"]),
      ("assistant", ["text:done"])]),
    # a system note between a call and its results goes after the results
    ([ASK, call("a"), NOTE, result("a"), DONE],
     [("user", ["text:go"]), ("assistant", ["call:a"]), ("user", ["result:a:out-a"]),
      ("system", ["text:a mid-conversation note"]), ("assistant", ["text:done"])]),
    ([ASK, call("a"), NOTE, DONE],
     [("user", ["text:go"]), ("assistant", ["call:a"]), ("user", ["result:a:interrupted"]),
      ("system", ["text:a mid-conversation note"]), ("assistant", ["text:done"])]),
    # parallel results come back as they finish; strict providers want them in call order, and first
    ([ASK, call("a", "b"), result("b", "a"), DONE],
     [("user", ["text:go"]), ("assistant", ["call:a", "call:b"]), ("user", ["result:a:out-a", "result:b:out-b"]),
      ("assistant", ["text:done"])]),
    ([ASK, call("a"), {"role": "user", "content": [{"type": "text", "text": "also"}, *result("a")["content"]]}, DONE],
     [("user", ["text:go"]), ("assistant", ["call:a"]), ("user", ["result:a:out-a", "text:also"]),
      ("assistant", ["text:done"])]),
    ([ASK, call("a"), NOTE],
     [("user", ["text:go"]), ("assistant", ["call:a"]), ("user", ["result:a:interrupted"]),
      ("system", ["text:a mid-conversation note"])]),
], ids=["one-interrupted", "never-answered", "orphan-result", "duplicate-result", "system-between",
        "system-between-unanswered", "reordered", "text-first", "system-last"])
def test_broken_history_is_repaired(history: list[Any], expected: list[Any]) -> None:
    repaired = paired(history)
    assert _summary(repaired) == expected
    assert paired(repaired) is repaired  # the repair is complete


def test_repair_reaches_the_openai_request() -> None:
    from router.translate.openai_chat.options import ChatOptions
    from router.translate.openai_chat.request import translate_request

    body = {"max_tokens": 100, "messages": [ASK, call("a", "b"), result("b"), DONE, {"role": "user", "content": "ok"}]}
    out, _ = translate_request(body, "m", ChatOptions())
    tools = [m for m in out["messages"] if m["role"] == "tool"]
    assert [(m["tool_call_id"], m["content"]) for m in tools] == [("a", f"[tool error] {INTERRUPTED}"), ("b", "out-b")]
