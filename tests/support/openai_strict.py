"""What OpenAI's Chat Completions endpoint refuses, checked the way it checks: a scripted upstream built with
`strict_chat()` answers 400 with OpenAI's own message to a body the real API would refuse, so a translation that
only works against a lenient server fails its test.

Checked: unknown top-level parameters and message fields (`reasoning_content` on a strict provider), roles, tool
calls without a tool message answering each (and tool messages answering nothing), content part types and where
images may go, images sent to a model without vision, tool names and schemas, `stream_options` without `stream`,
both token limits at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tests.support.upstream import Received, Reply

TOP_LEVEL = {
    "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "n", "stream",
    "stream_options", "stop", "presence_penalty", "frequency_penalty", "logit_bias", "logprobs", "top_logprobs",
    "user", "tools", "tool_choice", "parallel_tool_calls", "response_format", "seed", "reasoning_effort",
    "service_tier", "store", "metadata", "modalities", "audio", "prediction", "verbosity", "web_search_options",
    "safety_identifier", "prompt_cache_key",
}
MESSAGE_FIELDS = {
    "system": {"role", "content", "name"}, "developer": {"role", "content", "name"},
    "user": {"role", "content", "name"},
    "assistant": {"role", "content", "name", "tool_calls", "refusal", "audio", "function_call"},
    "tool": {"role", "content", "tool_call_id"},
}
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def check_chat(body: Any, vision: bool = True, allow: frozenset[str] = frozenset()) -> str | None:
    """OpenAI's message for what it would refuse in `body`, or None. `allow`: parameters and message fields a
    provider takes besides OpenAI's (DeepSeek's `thinking` and `reasoning_content`)."""
    if not isinstance(body, dict):
        return "We could not parse the JSON body of your request."
    for key in body:
        if key not in TOP_LEVEL and key not in allow:
            return f"Unrecognized request argument supplied: {key}"
    if "max_tokens" in body and "max_completion_tokens" in body:
        return "max_tokens and max_completion_tokens cannot both be set"
    if "stream_options" in body and not body.get("stream"):
        return "The 'stream_options' parameter is only allowed when 'stream' is enabled."
    for i, tool in enumerate(body.get("tools") or []):
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(fn, dict) or tool.get("type") != "function":
            return f"Invalid value at 'tools[{i}]': expected a function tool."
        if not _TOOL_NAME.match(str(fn.get("name"))):
            return (f"Invalid 'tools[{i}].function.name': string does not match pattern. Expected a string that "
                    "matches the pattern '^[a-zA-Z0-9_-]+$'.")
        params = fn.get("parameters")
        if params is not None and (not isinstance(params, dict) or params.get("type") != "object"):
            return f"Invalid schema for function '{fn.get('name')}': schema must be a JSON Schema of 'type: \"object\"'."
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "Invalid 'messages': empty array. Expected an array with minimum length 1."
    pending: list[str] = []
    for i, msg in enumerate(messages):
        role = msg.get("role") if isinstance(msg, dict) else None
        if role not in MESSAGE_FIELDS:
            return f"Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', 'tool', 'developer'."
        extra = set(msg) - MESSAGE_FIELDS[role] - allow
        if extra:
            return f"Additional properties are not allowed ('{sorted(extra)[0]}' was unexpected) - 'messages.{i}'"
        if role == "tool":
            if msg.get("tool_call_id") not in pending:
                return ("Invalid parameter: messages with role 'tool' must be a response to a preceeding message "
                        "with 'tool_calls'.")
            pending.remove(msg["tool_call_id"])
            continue
        if pending:
            return ("An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                    f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(pending)}")
        content = msg.get("content")
        if isinstance(content, list):
            for j, part in enumerate(content):
                kind = part.get("type") if isinstance(part, dict) else None
                if kind not in ("text", "image_url", "file", "input_audio", "refusal"):
                    return f"Invalid value: '{kind}'. Supported values are: 'text', 'image_url', 'input_audio', 'refusal', and 'file'."
                if kind == "image_url" and role != "user":
                    return f"Invalid 'messages[{i}]'. Image URLs are only allowed for messages with role 'user', but this message with role '{role}' contains an image URL."
                if kind == "image_url" and not vision:
                    return f"Invalid content type. image_url is only supported by certain models. - 'messages.{i}.content.{j}'"
        elif content is None and not msg.get("tool_calls"):
            return f"Invalid value for 'content': expected a string, got null. - 'messages.{i}'"
        if role == "assistant":
            pending = [c["id"] for c in msg.get("tool_calls") or []]
    if pending:
        return ("An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(pending)}")
    return None


def refusal(req: Received, vision: bool = True, allow: frozenset[str] = frozenset()) -> Reply | None:
    """OpenAI's 400 for a chat completion request it would refuse."""
    if not req.path.endswith("/chat/completions"):
        return None
    problem = check_chat(req.body, vision, allow)
    if problem is None:
        return None
    return Reply(status=400, body={"error": {"message": problem, "type": "invalid_request_error", "param": None,
                                             "code": None}})


def strict_chat(script: Callable[[Received], Reply], vision: bool = True) -> Callable[[Received], Reply]:
    """`script` behind OpenAI's request checks."""
    return lambda req: refusal(req, vision) or script(req)
