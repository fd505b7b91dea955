"""OpenAI Chat Completions response → Anthropic message (non-streaming).

An upstream's answer is not trusted to have the shape it should: a field of the wrong type reads as absent,
here and in the stream translator, so that it never becomes an internal error or an invalid Anthropic message.
"""

from __future__ import annotations

from typing import Any

from router.translate.common import new_message_id, reasoning_signature, to_anthropic_id
from router.translate.openai_chat.maps import (
    ERROR_FINISH_REASONS,
    matched_stop,
    stop_reason,
    usage_from_openai,
)
from router.translate.openai_chat.request import EXIT_TOOL
from router.translate.reading import ToolNames
from router.translate.repair import repair_arguments
from router.translate.values import as_dict, as_list, as_str, parse_arguments, shown
from router.wire.errors import UpstreamError, UpstreamUnavailable, type_for_status


def content_text(content: Any) -> str:
    """A message's content: a string or, from a few providers, a list of parts with text."""
    if isinstance(content, list):
        return "".join(as_str(p.get("text")) for p in content if isinstance(p, dict))
    return as_str(content)


def reasoning_of(message: dict[str, Any]) -> tuple[str, str | None, list[Any] | None]:
    """(text, source field, details) of whatever reasoning a provider attached to a message or delta."""
    details = message.get("reasoning_details")
    if isinstance(details, list) and details:
        text = "".join(as_str(d.get("text")) or as_str(d.get("summary")) for d in details if isinstance(d, dict))
        return text, "reasoning_details", details
    for field in ("reasoning_content", "reasoning"):
        value = message.get(field)
        if isinstance(value, str) and value:
            return value, field, None
    return "", None, None


def upstream_error(err: Any) -> UpstreamError:
    """An error object sent with status 200: as a stream chunk ({"error": {...}}) or as the whole body."""
    if not isinstance(err, dict):
        return UpstreamError(f"upstream error: {shown(err)}", status=502)
    code = err.get("code")
    status = code if isinstance(code, int) and 400 <= code < 600 else 502
    message = err.get("message")
    message = shown(message) if message else "upstream reported an error"
    return UpstreamError(f"upstream error: {message}", status=status, error_type=type_for_status(status))


def check_finish(finish_reason: Any) -> None:
    """DeepSeek's insufficient_system_resource, OpenRouter's error: the answer is not complete."""
    if finish_reason in ERROR_FINISH_REASONS:
        raise upstream_error({"message": f"the provider stopped with finish_reason '{finish_reason}'",
                              "code": ERROR_FINISH_REASONS[finish_reason]})


def exit_text(arguments: Any) -> str:
    """What the model said through the exit tool (its `response`; the raw arguments when they hold none)."""
    value = parse_arguments(repair_arguments(arguments) if isinstance(arguments, str) else arguments)
    response = value.get("response")
    return response if isinstance(response, str) else as_str(arguments)


def translate_response(data: Any, model: str, names: ToolNames, repair_tools: bool = False,
                       exit_tool: bool = False) -> dict[str, Any]:
    if isinstance(data, dict) and data.get("error") and not data.get("choices"):
        raise upstream_error(data["error"])
    if (not isinstance(data, dict) or not isinstance(data.get("choices"), list) or not data["choices"]
            or not isinstance(data["choices"][0], dict)):
        raise UpstreamUnavailable("upstream answered 200 without choices; the provider may not speak OpenAI "
                                  "Chat Completions at this URL (check api_base_url)")
    choice = data["choices"][0]
    finish = as_str(choice.get("finish_reason"))
    check_finish(finish)
    message = as_dict(choice.get("message"))
    content: list[dict[str, Any]] = []
    text, source, details = reasoning_of(message)
    if source:
        content.append({"type": "thinking", "thinking": text, "signature": reasoning_signature(source, details)})
    body_text = content_text(message.get("content"))
    if body_text:
        content.append({"type": "text", "text": body_text})
    refusal = as_str(message.get("refusal"))
    if refusal and not body_text:
        content.append({"type": "text", "text": refusal})
    calls = [c for c in as_list(message.get("tool_calls")) if isinstance(c, dict)]
    for call in list(calls):
        fn = as_dict(call.get("function"))
        arguments = fn.get("arguments")
        if repair_tools and isinstance(arguments, str):
            arguments = repair_arguments(arguments)
        if exit_tool and fn.get("name") == EXIT_TOOL:  # the model answered in words through the exit tool
            calls.remove(call)
            content.append({"type": "text", "text": exit_text(arguments)})
            continue
        content.append({
            "type": "tool_use",
            "id": to_anthropic_id(as_str(call.get("id"))),
            "name": names.restore(as_str(fn.get("name"))),
            "input": parse_arguments(arguments),
        })
    reason = "refusal" if refusal and not calls else stop_reason(finish, bool(calls))
    sequence = matched_stop(choice) if reason == "end_turn" else None
    return {
        "id": new_message_id(),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": "stop_sequence" if sequence else reason,
        "stop_sequence": sequence,
        "usage": usage_from_openai(data.get("usage")),
    }
