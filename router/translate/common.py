"""Maps shared by every translator: stop reasons, usage, tool names and ids, carried reasoning."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import orjson

from router.ids import unique

OPENAI_STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
    "end_turn": "end_turn",
    "tool_use": "tool_use",
    "max_tokens": "max_tokens",
}

# finish reasons that mean the provider failed, with the status a client should see
ERROR_FINISH_REASONS = {"error": 502, "insufficient_system_resource": 529}

_VALID_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_VALID_ID = re.compile(r"^[a-zA-Z0-9_-]+$")
_INVALID_CHARS = re.compile(r"[^a-zA-Z0-9_-]")
_ID_PREFIX = "ccrid_"


def matched_stop(choice: Any) -> str | None:
    """The stop sequence that ended the answer, when the server says which (vLLM and SGLang put the matched
    string in the choice's `stop_reason`; OpenAI says nothing, and a token id is no sequence)."""
    if isinstance(choice, dict) and choice.get("finish_reason") == "stop":
        matched = choice.get("stop_reason")
        if isinstance(matched, str) and matched:
            return matched
    return None


def stop_reason(finish_reason: str | None, saw_tool_call: bool) -> str:
    """Some providers say "stop" after tool calls; Claude Code only runs tools on tool_use."""
    reason = OPENAI_STOP_REASONS.get(finish_reason or "stop", "end_turn")
    if saw_tool_call and reason == "end_turn":
        return "tool_use"
    if reason == "tool_use" and not saw_tool_call:
        return "end_turn"
    return reason


def _count(value: Any) -> int:
    """A token count as providers send it (an int, a float, now and then a string of digits); anything else,
    or a count no tokenizer produces (negative, or beyond what JSON writers take), is 0."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 2**53:
        return 0
    return int(value)


def usage_from_openai(u: Any) -> dict[str, int]:
    """prompt_tokens includes cached (and, on OpenRouter, cache-write) tokens; Anthropic counts them apart."""
    if not u or not isinstance(u, dict):
        return {"input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0}
    details = u.get("prompt_tokens_details")
    details = details if isinstance(details, dict) else {}
    cached = _count(details.get("cached_tokens")) or _count(u.get("prompt_cache_hit_tokens"))
    written = _count(details.get("cache_write_tokens"))
    prompt = _count(u.get("prompt_tokens"))
    return {
        "input_tokens": max(prompt - cached - written, 0),
        "output_tokens": _count(u.get("completion_tokens")),
        "cache_creation_input_tokens": written,
        "cache_read_input_tokens": cached,
    }


def short_tool_name(name: str) -> str:
    """OpenAI allows ≤64 chars of [a-zA-Z0-9_-]; longer MCP names get a stable hashed short form."""
    if _VALID_NAME.match(name):
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return _INVALID_CHARS.sub("_", name)[:55] + "_" + digest


def to_anthropic_id(upstream_id: str | None) -> str:
    """Anthropic requires ids of [a-zA-Z0-9_-]; others (Kimi's `functions.Bash:0`) are encoded reversibly."""
    if not upstream_id:
        return unique("toolu_ccr")
    if _VALID_ID.match(upstream_id):
        return upstream_id
    return _ID_PREFIX + base64.urlsafe_b64encode(upstream_id.encode()).decode().rstrip("=")


def to_upstream_id(anthropic_id: str) -> str:
    if anthropic_id.startswith(_ID_PREFIX):
        raw = anthropic_id[len(_ID_PREFIX):]
        try:
            return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            return anthropic_id
    return anthropic_id


# A thinking block produced from another provider's reasoning carries, in its signature, which field the
# reasoning came in (and OpenRouter's reasoning_details), so a later turn replays it exactly as it came.
SIGNATURE_PREFIX = "ccr1."


def reasoning_signature(source: str, details: list[Any] | None = None) -> str:
    if details:
        try:
            packed = base64.urlsafe_b64encode(orjson.dumps(details)).decode().rstrip("=")
        except orjson.JSONEncodeError:  # nested deeper than orjson writes: the reasoning is replayed without them
            return f"{SIGNATURE_PREFIX}{source}"
        return f"{SIGNATURE_PREFIX}{source}.{packed}"
    return f"{SIGNATURE_PREFIX}{source}"


def parse_reasoning_signature(signature: str | None) -> tuple[str | None, list[Any] | None]:
    """(source field, details) of a ccr signature; (None, None) for a real Anthropic signature."""
    if not signature or not signature.startswith(SIGNATURE_PREFIX):
        return None, None
    source, _, packed = signature[len(SIGNATURE_PREFIX):].partition(".")
    if not packed:
        return source, None
    try:
        details = orjson.loads(base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4)))
        orjson.dumps(details)  # they are sent on: deeper than orjson writes (it reads deeper) counts as garbled
    except (ValueError, orjson.JSONDecodeError, orjson.JSONEncodeError):
        return source, None
    return source, details if isinstance(details, list) else None


def new_message_id() -> str:
    return unique("msg_ccr")
