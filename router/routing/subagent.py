"""The subagent tag, `<CCR-SUBAGENT-MODEL>provider,model</CCR-SUBAGENT-MODEL>`: found in any system block or in
the first user message (Claude Code has moved it more than once), and removed before the request goes
upstream."""

from __future__ import annotations

import re
from typing import Any

_TAG = re.compile(r"<CCR-SUBAGENT-MODEL>\s*([^<]*?)\s*</CCR-SUBAGENT-MODEL>\s*")
_MARK = "<CCR-SUBAGENT-MODEL>"


def _strip_blocks(content: Any) -> tuple[Any, str | None]:
    """(content without the tag, the tag's target) for a string or a list of blocks."""
    if isinstance(content, str):
        if _MARK not in content:
            return content, None
        m = _TAG.search(content)
        if not m:
            return content, None
        # Anthropic rejects empty text: a message that held only the tag keeps a word
        return _TAG.sub("", content) or "(subagent)", m.group(1)
    if not isinstance(content, list):
        return content, None
    found = None
    out = []
    for block in content:
        if isinstance(block, dict) and block.get("type") == "text" and _MARK in str(block.get("text", "")):
            text, target = _strip_blocks(block["text"])
            found = found or target
            block = dict(block, text=text)
        out.append(block)
    return out, found


def take_subagent_tag(body: dict[str, Any]) -> str | None:
    """The tag's "provider,model", removed from `body` in place; None (and nothing touched) when absent."""
    system, found = _strip_blocks(body.get("system"))
    if found is not None:
        body["system"] = system
    messages: list[Any] = body.get("messages") or []
    first = next((i for i, m in enumerate(messages) if isinstance(m, dict) and m.get("role") == "user"), None)
    if first is not None:
        content, in_user = _strip_blocks(messages[first].get("content"))
        if in_user is not None:
            messages[first] = dict(messages[first], content=content)
            found = found or in_user
    # a mid-conversation system message counts as a system block too
    for i, msg in enumerate(messages):
        if isinstance(msg, dict) and msg.get("role") == "system":
            content, in_system = _strip_blocks(msg.get("content"))
            if in_system is not None:
                messages[i] = dict(msg, content=content)
                found = found or in_system
    return found
