"""OpenAI Chat Completions' finish reasons and usage, in Anthropic's terms."""

from __future__ import annotations

from typing import Any

from router.translate.values import count

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


def usage_from_openai(u: Any) -> dict[str, int]:
    """prompt_tokens includes cached (and, on OpenRouter, cache-write) tokens; Anthropic counts them apart."""
    if not u or not isinstance(u, dict):
        return {"input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0}
    details = u.get("prompt_tokens_details")
    details = details if isinstance(details, dict) else {}
    cached = count(details.get("cached_tokens")) or count(u.get("prompt_cache_hit_tokens"))
    written = count(details.get("cache_write_tokens"))
    prompt = count(u.get("prompt_tokens"))
    return {
        "input_tokens": max(prompt - cached - written, 0),
        "output_tokens": count(u.get("completion_tokens")),
        "cache_creation_input_tokens": written,
        "cache_read_input_tokens": cached,
    }
