"""Conversation repairs every translating adapter needs before it writes another format's history.

Strict providers refuse a history where a tool call has no result (OpenAI: "tool_call_ids did not have response
messages", Gemini: function call without a function response, Responses: "No tool output found") or a result
answers no call. Claude Code's histories hold both after an interrupted turn, a compacted conversation or a
switch between providers mid-turn. The repair keeps what was said: an unanswered call gets a result saying it was
interrupted, and a result without its call becomes text in the user's turn.
"""

from __future__ import annotations

from typing import Any

INTERRUPTED = "(no result: this tool call was interrupted before it returned)"


def _calls(msg: Any) -> list[str]:
    content = msg.get("content") if isinstance(msg, dict) and msg.get("role") == "assistant" else None
    if not isinstance(content, list):
        return []
    return [b["id"] for b in content
            if isinstance(b, dict) and b.get("type") == "tool_use" and isinstance(b.get("id"), str)]


def _results(msg: Any) -> list[str]:
    content = msg.get("content") if isinstance(msg, dict) and msg.get("role") == "user" else None
    if not isinstance(content, list):
        return []
    # a result without an id is malformed, not orphaned: the translator names the field
    return [b["tool_use_id"] for b in content if isinstance(b, dict) and b.get("type") == "tool_result"
            and isinstance(b.get("tool_use_id"), str)]


def _as_text(block: dict[str, Any]) -> dict[str, Any]:
    content = block.get("content", "")
    if not isinstance(content, str | list) or (isinstance(content, list) and not all(
            isinstance(p, dict) and isinstance(p.get("text", ""), str) for p in content)):
        return block  # malformed: left for the translator to name the field
    if isinstance(content, list):
        content = "\n".join(p.get("text", "") if p.get("type") == "text" else
                            f"[{p['type'] if isinstance(p.get('type'), str) else 'part'} omitted]" for p in content)
    label = "error" if block.get("is_error") else "result"
    return {"type": "text", "text": f"[tool {label} for call {block.get('tool_use_id')}]\n{content or ''}"}


def paired(messages: list[Any]) -> list[Any]:
    """The messages with every tool call answered in the user turn right after it, its results in call order and
    first, and every result following its call. A system note Claude Code put between a call and its results goes
    after the results (strict providers want the results right after the call). The list comes back unchanged
    (the same object) when nothing needed repair, the common case."""
    expected: list[str] = []
    for msg in messages:
        if isinstance(msg, dict) and msg.get("role") == "system":
            if expected:
                return _repair(messages)
            continue  # Claude Code's mid-conversation system notes sit between turns
        got = _results(msg)
        if got != expected or (got and not _leads(msg)):
            return _repair(messages)
        expected = _calls(msg)
    return messages


def _leads(msg: dict[str, Any]) -> bool:
    """The results come first in the user turn."""
    content = msg["content"]
    first = next((i for i, b in enumerate(content) if not (isinstance(b, dict) and b.get("type") == "tool_result")),
                 len(content))
    return all(not (isinstance(b, dict) and b.get("type") == "tool_result") for b in content[first:])


def _repair(messages: list[Any]) -> list[Any]:
    out: list[Any] = []
    pending: list[str] = []
    held: list[Any] = []  # system notes between a call and its results
    for msg in messages:
        role = msg.get("role") if isinstance(msg, dict) else None
        if role == "system":
            (held if pending else out).append(msg)
            continue
        if pending and role != "user":
            out.append({"role": "user", "content": [_interrupted(i) for i in pending]})
            out.extend(held)
            pending, held = [], []
        if role == "user":
            msg = dict(msg, content=_answered(msg.get("content"), pending))
        out.append(msg)
        out.extend(held)
        held = []
        pending = _calls(msg)
    if held:  # calls, then a system note, then nothing: the calls were not answered before the conversation went on
        out.append({"role": "user", "content": [_interrupted(i) for i in pending]})
    # calls left pending by the last message are the model's turn in progress: left as they are
    return out + held


def _answered(content: Any, pending: list[str]) -> list[Any]:
    """A user turn's blocks: the results of `pending` first, in call order (an interrupted note for each missing
    one, the first result of a call repeated), then the rest, results that answer no call made text."""
    blocks = content if isinstance(content, list) else [{"type": "text", "text": content}]
    found: dict[str, Any] = {}
    rest: list[Any] = []
    for b in blocks:
        if isinstance(b, dict) and b.get("type") == "tool_result" and isinstance(b.get("tool_use_id"), str):
            call = b.get("tool_use_id")
            if call in pending and call not in found:
                found[call] = b
            else:
                rest.append(_as_text(b))
        else:
            rest.append(b)
    return [found.get(call) or _interrupted(call) for call in pending] + rest


def _interrupted(call_id: str) -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": call_id, "content": INTERRUPTED, "is_error": True}
