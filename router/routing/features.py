"""What routing looks at in a request, computed lazily and at most once: a rule or scenario that is not
configured never pays for its feature (the token count above all)."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Mapping
from functools import cached_property
from pathlib import PurePosixPath
from typing import Any

import orjson

from router.tokens import CONVERSATIONS

_THINK_HARD = re.compile(r"\bultrathink\b|\bthink (?:very |really )?hard(?:er)?\b|\bthink longer\b", re.I)
_REMINDER = re.compile(r"<system-reminder>.*?</system-reminder>", re.S)
_WORD = re.compile(r"[\w./-]+")  # linear: no backtracking over a long pasted blob
_MAX_PATH = 512
_PATH_KEYS = ("file_path", "path", "notebook_path")
RECENT_TOOL_ROUNDS = 3
INLINE_CHARS = 2_000  # new text counted on the event loop (~0.15 ms of tiktoken at most)
_BACKGROUND: set[asyncio.Future[int]] = set()  # exact counts running in the background: kept until done


def _texts(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        return [b["text"] for b in content if isinstance(b, dict) and b.get("type") == "text"
                and isinstance(b.get("text"), str)]
    return []


def _is_human_turn(msg: Any) -> bool:
    """A user message a person wrote: text, and no tool results (those are the agent's rounds)."""
    if not isinstance(msg, dict) or msg.get("role") != "user":
        return False
    content = msg.get("content")
    if isinstance(content, str):
        return True
    return isinstance(content, list) and not any(
        isinstance(b, dict) and b.get("type") == "tool_result" for b in content) and bool(_texts(content))


class RequestView:
    """A Messages request as routing sees it. Built per request; every feature is computed on first use."""

    def __init__(self, body: dict[str, Any], headers: Mapping[str, str] | None = None, size: int = 0) -> None:
        self.body = body
        self.headers = headers or {}
        self.size = size  # bytes of the request body: a free estimate of its tokens
        self.messages: list[Any] = body.get("messages") or []
        self.model: str = body.get("model", "")

    @cached_property
    def session(self) -> str | None:
        header = self.headers.get("x-claude-code-session-id")
        if header:
            return header
        user = (self.body.get("metadata") or {}).get("user_id") if isinstance(self.body.get("metadata"), dict) else None
        if not isinstance(user, str) or not user:
            return None
        if user.startswith("{"):
            try:
                parsed = orjson.loads(user)
            except orjson.JSONDecodeError:
                return user
            if isinstance(parsed, dict) and parsed.get("session_id"):
                return str(parsed["session_id"])
        return user

    @cached_property
    def prompt_index(self) -> int:
        """Position of the latest human prompt; -1 when there is none."""
        for i in range(len(self.messages) - 1, -1, -1):
            if _is_human_turn(self.messages[i]):
                return i
        return -1

    @cached_property
    def prompt(self) -> str:
        """The latest human prompt, without Claude Code's <system-reminder> insertions."""
        if self.prompt_index < 0:
            return ""
        text = "\n".join(_texts(self.messages[self.prompt_index].get("content")))
        return _REMINDER.sub("", text).strip()

    @cached_property
    def turn_key(self) -> str | None:
        """Session + which prompt + the requested model: equal for every tool round of one user turn."""
        if self.session is None or self.prompt_index < 0:
            return None
        digest = hashlib.blake2b(self.prompt.encode(), digest_size=8).hexdigest()
        return f"{self.session}:{self.prompt_index}:{digest}:{self.model}"

    @cached_property
    def prompt_id(self) -> str | None:
        """One user turn of one conversation, whatever model is asked: the classifier's cache key and the
        `prompts` row of the log."""
        if self.prompt_index < 0 or not self.prompt:
            return None
        digest = hashlib.blake2b(f"{self.session}:{self.prompt_index}:{self.prompt}".encode(),
                                 digest_size=12).hexdigest()
        return f"p_{digest}"

    @cached_property
    def depth(self) -> int:
        """Human turns before the latest one."""
        return sum(1 for m in self.messages[:max(self.prompt_index, 0)] if _is_human_turn(m))

    @property
    def estimated_tokens(self) -> int:
        """The tokenizer's count when it has run, else the body's size / 4."""
        return int(self.__dict__.get("token_count", self.size // 4))

    @cached_property
    def needs_reasoning(self) -> bool:
        """The user asked for deep thinking: effort xhigh/max, or "ultrathink" / "think hard" in the prompt. Not
        Claude Code's default thinking, which it sends on every request (a 31,999-token budget for Sonnet 4.5)."""
        effort = self.body.get("output_config")
        if isinstance(effort, dict) and effort.get("effort") in ("xhigh", "max"):
            return True
        return bool(_THINK_HARD.search(self.prompt))

    @cached_property
    def tool_rounds(self) -> int:
        """Assistant turns since the latest human prompt."""
        start = self.prompt_index + 1 if self.prompt_index >= 0 else 0
        return sum(1 for m in self.messages[start:] if isinstance(m, dict) and m.get("role") == "assistant")

    @cached_property
    def thinking(self) -> bool:
        thinking = self.body.get("thinking")
        return isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive")

    @cached_property
    def web_search(self) -> bool:
        return any(isinstance(t, dict) and str(t.get("type", "")).startswith("web_search")
                   for t in self.body.get("tools") or ())

    @cached_property
    def has_image(self) -> bool:
        """An image in the latest user turn, pasted or returned by a tool."""
        for msg in reversed(self.messages):
            if isinstance(msg, dict) and msg.get("role") == "user":
                return _contains_image(msg.get("content"))
        return False

    @cached_property
    def token_count(self) -> int:
        """Counted incrementally: what this conversation's earlier requests counted is not counted again."""
        return CONVERSATIONS.count(self.body, self.session)

    async def count_tokens(self) -> int:
        """The token count, without holding the event loop on the tokenizer: short new text is counted inline;
        a long new message in a conversation already counted is estimated from the conversation's own
        characters per token while its exact count runs in the background for the next request; a long
        conversation seen for the first time (after a restart, say) is counted in a worker thread."""
        if "token_count" not in self.__dict__:
            count, pending = CONVERSATIONS.quick(self.body, self.session, INLINE_CHARS)
            if count is None:
                count = await asyncio.to_thread(CONVERSATIONS.count, self.body, self.session)
            elif pending:
                _BACKGROUND.add(asyncio.get_running_loop().run_in_executor(
                    None, CONVERSATIONS.count, self.body, self.session))
                for done in [f for f in _BACKGROUND if f.done()]:
                    _BACKGROUND.discard(done)
            self.__dict__["token_count"] = count
        return self.token_count

    @cached_property
    def file_types(self) -> frozenset[str]:
        """Extensions of files named in the prompt or touched by the recent tool calls."""
        found = {ext for m in _WORD.finditer(self.prompt) if (ext := _extension(m.group(0)))}
        rounds = 0
        for msg in reversed(self.messages):
            if not isinstance(msg, dict) or msg.get("role") != "assistant" or not isinstance(msg.get("content"), list):
                continue
            rounds += 1
            if rounds > RECENT_TOOL_ROUNDS:
                break
            for block in msg["content"]:
                if isinstance(block, dict) and block.get("type") == "tool_use" and isinstance(block.get("input"), dict):
                    for key in _PATH_KEYS:
                        value = block["input"].get(key)
                        suffix = PurePosixPath(value).suffix if isinstance(value, str) else ""
                        if suffix:
                            found.add(suffix.lower())
        return frozenset(found)

    def summary(self) -> dict[str, Any]:
        """The features a decision records (only those already computed, plus the cheap ones)."""
        out: dict[str, Any] = {"model": self.model, "session": self.session, "messages": len(self.messages),
                               "tool_rounds": self.tool_rounds, "thinking": self.thinking,
                               "prompt_chars": len(self.prompt)}
        for name in ("token_count", "has_image", "web_search", "file_types"):
            if name in self.__dict__:
                value = self.__dict__[name]
                out[name] = sorted(value) if isinstance(value, frozenset) else value
        return out


def _extension(word: str) -> str | None:
    """".py" of "src/app/main.py"; None for "e.g.", "v1.2", a URL's end or a long blob."""
    word = word.rstrip("./-")
    dot = word.rfind(".")
    if len(word) > _MAX_PATH or dot <= 0 or word[dot - 1] in "./-":
        return None
    ext = word[dot + 1:]
    if not 1 <= len(ext) <= 10 or not ext[0].isalpha() or not ext.isalnum() or not ext.isascii():
        return None
    return "." + ext.lower()


def _contains_image(content: Any) -> bool:
    if not isinstance(content, list):
        return False
    for block in content:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "image":
            return True
        if block.get("type") == "tool_result" and _contains_image(block.get("content")):
            return True
    return False
