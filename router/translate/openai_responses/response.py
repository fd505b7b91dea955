"""OpenAI Responses answer → Anthropic message (non-streaming), and what the stream shares with it: usage, stop
reasons, the error a failed response stands for, and a reasoning item's thinking text and signature.

As in the Chat translator, an upstream's answer is not trusted to have the shape it should: a field of the
wrong type reads as absent.
"""

from __future__ import annotations

from typing import Any

from router.translate.common import new_message_id, reasoning_signature, to_anthropic_id
from router.translate.openai_responses.request import SOURCE
from router.translate.reading import ToolNames
from router.translate.values import as_dict, as_list, as_str, count, parse_arguments
from router.wire.errors import UpstreamError, UpstreamUnavailable, type_for_status

# incomplete_details.reason → Anthropic stop_reason
_INCOMPLETE = {"max_output_tokens": "max_tokens", "content_filter": "refusal"}

_CONTEXT_HINT = ("prompt is too long for the model's context window; run /compact or start a new conversation, "
                 "or route long conversations to a model with a larger context (Router.longContext)")
_IMAGE_HINT = "an image in the conversation was refused; remove it or send it in another format"
# a failed response's error code → (the status a client gets, what to do about it)
_FAILURES: dict[str, tuple[int, str]] = {
    "rate_limit_exceeded": (429, ""),
    "insufficient_quota": (429, "the OpenAI account is out of quota; check its plan and billing"),
    "server_error": (500, ""),
    "server_is_overloaded": (529, ""),
    "slow_down": (429, ""),
    "vector_store_timeout": (504, ""),
    "invalid_prompt": (400, ""),
    "context_length_exceeded": (400, _CONTEXT_HINT),
    "string_above_max_length": (400, ""),
    "data_residency_mismatch": (400, "the project's data residency does not allow this request"),
    "bio_policy": (400, ""),
    "misalignment_policy_violation": (400, ""),
    "invalid_image": (400, _IMAGE_HINT),
    "invalid_image_format": (400, _IMAGE_HINT),
    "invalid_base64_image": (400, _IMAGE_HINT),
    "invalid_image_url": (400, _IMAGE_HINT),
    "image_too_large": (400, _IMAGE_HINT),
    "image_too_small": (400, _IMAGE_HINT),
    "image_parse_error": (400, _IMAGE_HINT),
    "image_content_policy_violation": (400, _IMAGE_HINT),
    "invalid_image_mode": (400, _IMAGE_HINT),
    "image_file_too_large": (400, _IMAGE_HINT),
    "unsupported_image_media_type": (400, _IMAGE_HINT),
    "empty_image_file": (400, _IMAGE_HINT),
    "failed_to_download_image": (400, _IMAGE_HINT),
    "image_file_not_found": (400, _IMAGE_HINT),
}
_TYPE_STATUS = {"invalid_request_error": 400, "rate_limit_error": 429, "insufficient_quota": 429,
                "server_error": 500}


def failure(err: Any, provider: str) -> UpstreamError:
    """The error a failed response (`response.failed`, an `error` event, a 200 body holding `error`) stands
    for, with the status Claude Code acts on: it retries 429 and 5xx, and shows a 400 at once."""
    err = as_dict(err)
    code = as_str(err.get("code")) or as_str(err.get("type"))
    status, hint = _FAILURES.get(code, (_TYPE_STATUS.get(as_str(err.get("type")), 502), ""))
    message = as_str(err.get("message")) or "the response failed"
    text = f"provider '{provider}' failed: {message}" + (f" ({code})" if code else "") + (f" — {hint}" if hint else "")
    return UpstreamError(text, status=status, error_type=type_for_status(status))


def usage_from_responses(u: Any) -> dict[str, int]:
    """input_tokens includes cached (and cache-written) tokens, which Anthropic counts apart; output_tokens
    includes the reasoning tokens."""
    u = as_dict(u)
    details = as_dict(u.get("input_tokens_details"))
    cached = count(details.get("cached_tokens"))
    written = count(details.get("cache_write_tokens"))
    return {
        "input_tokens": max(count(u.get("input_tokens")) - cached - written, 0),
        "output_tokens": count(u.get("output_tokens")),
        "cache_creation_input_tokens": written,
        "cache_read_input_tokens": cached,
    }


def stop_reason(response: dict[str, Any], saw_call: bool, refused: bool) -> str:
    if response.get("status") == "incomplete":
        reason = as_str(as_dict(response.get("incomplete_details")).get("reason"))
        if reason in _INCOMPLETE:
            return _INCOMPLETE[reason]
    if saw_call:
        return "tool_use"
    return "refusal" if refused else "end_turn"


def reasoning_text(item: dict[str, Any]) -> str:
    """What a reasoning item shows: its summary (parts apart by a blank line), else its raw reasoning text."""
    summary = [as_str(s.get("text")) for s in as_list(item.get("summary")) if isinstance(s, dict)]
    if any(summary):
        return "\n\n".join(t for t in summary if t)
    return "".join(as_str(c.get("text")) for c in as_list(item.get("content")) if isinstance(c, dict))


def signature_for(item: dict[str, Any], provider: str, model: str) -> str:
    """The thinking block's signature: the reasoning item, to be replayed in place on the next turn (to this
    provider and model only). Without encrypted content there is nothing to replay."""
    encrypted, rid = item.get("encrypted_content"), item.get("id")
    if not isinstance(encrypted, str) or not encrypted or not isinstance(rid, str) or not rid:
        return reasoning_signature(SOURCE)
    summary = [as_str(s.get("text")) for s in as_list(item.get("summary")) if isinstance(s, dict)]
    return reasoning_signature(SOURCE, [{"id": rid, "encrypted_content": encrypted, "summary": summary,
                                         "provider": provider, "model": model}])


def message_text(item: dict[str, Any]) -> tuple[str, bool]:
    """(text, whether it is a refusal) of an output message's parts."""
    texts, refused = [], False
    for part in as_list(item.get("content")):
        part = as_dict(part)
        if part.get("type") == "refusal":
            refused = True
            texts.append(as_str(part.get("refusal")))
        else:
            texts.append(as_str(part.get("text")))
    return "".join(texts), refused


def translate_response(data: Any, label: str, names: ToolNames, provider: str, model: str) -> dict[str, Any]:
    if isinstance(data, dict) and data.get("error") and not data.get("output"):
        raise failure(data["error"], provider)
    if not isinstance(data, dict) or not isinstance(data.get("output"), list):
        raise UpstreamUnavailable(f"provider '{provider}' answered 200 without an output list; it may not speak the "
                                  "OpenAI Responses API at this URL (api_base_url should end in /responses)")
    if data.get("status") == "failed":
        raise failure(data.get("error") or {"message": "the response failed"}, provider)
    content: list[dict[str, Any]] = []
    saw_call = refused = False
    for item in data["output"]:
        item = as_dict(item)
        kind = item.get("type")
        if kind == "reasoning":
            content.append({"type": "thinking", "thinking": reasoning_text(item),
                            "signature": signature_for(item, provider, model)})
        elif kind == "message":
            text, refusal = message_text(item)
            refused = refused or refusal
            if text:
                content.append({"type": "text", "text": text})
        elif kind == "function_call":
            saw_call = True
            content.append({"type": "tool_use", "id": to_anthropic_id(as_str(item.get("call_id"))),
                            "name": names.restore(as_str(item.get("name"))),
                            "input": parse_arguments(item.get("arguments"))})
    return {
        "id": new_message_id(),
        "type": "message",
        "role": "assistant",
        "model": label,
        "content": content,
        "stop_reason": stop_reason(data, saw_call, refused),
        "stop_sequence": None,
        "usage": usage_from_responses(data.get("usage")),
    }
