"""Anthropic Messages request → OpenAI Chat Completions request.

Order and meaning are kept: mid-conversation system messages stay where they are, tool results become tool
messages right after the assistant turn that called them, images inside tool results are delivered as images
in a user message that follows, and reasoning is replayed in the field it came in.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import orjson

from router.translate import reading
from router.translate.common import parse_reasoning_signature, to_upstream_id
from router.translate.openai_chat.options import ChatOptions
from router.translate.reading import IMAGE_OMITTED, ToolNames, image_data_url, text_of
from router.wire.errors import InvalidRequest

_REASONING_FIELDS = ("reasoning_content", "reasoning", "reasoning_details")
_EFFORTS = {"low": "low", "medium": "medium", "high": "high", "xhigh": "high", "max": "high"}
# DeepSeek documents low, high and max (and maps the rest itself: minimal → low, medium and xhigh → high, ultra →
# max); sending only those keeps a stricter deployment of it (a proxy, a local server) from refusing the rest
_DEEPSEEK_EFFORTS = {"minimal": "low", "low": "low", "medium": "high", "high": "high", "xhigh": "high", "max": "max",
                     "ultra": "max"}


def _image_part(block: dict[str, Any], path: str, blind: bool = False) -> dict[str, Any]:
    """An image as OpenAI's part; for a model known not to read images, a note in its place (an image still in
    the history after the turn that held it went to a model with vision: providers answer 400 to it)."""
    source = block.get("source")
    if not isinstance(source, dict):
        raise InvalidRequest(f"{path}.source: required for an image block")
    if source.get("type") not in ("base64", "url"):
        raise InvalidRequest(f"{path}.source.type: must be 'base64' or 'url'")
    if blind:
        return {"type": "text", "text": IMAGE_OMITTED}
    url = image_data_url(source, f"{path}.source") if source["type"] == "base64" else source.get("url", "")
    return {"type": "image_url", "image_url": {"url": url}}


def _document_part(block: dict[str, Any], path: str) -> dict[str, Any]:
    source = block.get("source")
    if not isinstance(source, dict):
        raise InvalidRequest(f"{path}.source: required for a document block")
    title = block.get("title") or "document"
    if not isinstance(title, str):
        raise InvalidRequest(f"{path}.title: must be a string")
    kind = source.get("type")
    if kind == "base64":
        media = source.get("media_type", "application/pdf")
        filename = title if "." in title else f"{title}.pdf"
        return {"type": "file", "file": {"filename": filename,
                                         "file_data": f"data:{media};base64,{source.get('data', '')}"}}
    if kind == "text":
        return {"type": "text", "text": f"<document title={title!r}>\n{source.get('data', '')}\n</document>"}
    if kind == "content":
        inner = text_of(source.get("content", []), f"{path}.source.content")
        return {"type": "text", "text": f"<document title={title!r}>\n{inner}\n</document>"}
    if kind == "url":
        return {"type": "text", "text": f"<document title={title!r} url={source.get('url', '')!r} />"}
    raise InvalidRequest(f"{path}.source.type: unsupported document source {kind!r}")


def _tool_result(block: dict[str, Any], path: str, blind: bool) -> tuple[str, list[dict[str, Any]]]:
    """(text for the tool message, image parts to deliver after it)."""
    content = block.get("content", "")
    images: list[dict[str, Any]] = []
    if isinstance(content, str):
        text = content
    elif isinstance(content, list):
        texts = []
        for i, part in enumerate(content):
            kind = part.get("type") if isinstance(part, dict) else None
            if kind == "text":
                texts.append(reading.text(part, f"{path}.content.{i}"))
            elif kind == "image" and blind:
                texts.append(_image_part(part, f"{path}.content.{i}", blind)["text"])
            elif kind == "image":
                images.append(_image_part(part, f"{path}.content.{i}"))
            elif kind == "document":
                doc = _document_part(part, f"{path}.content.{i}")
                if doc["type"] == "text":
                    texts.append(doc["text"])
                else:
                    images.append(doc)
            elif kind == "tool_reference":
                texts.append(f"Tool loaded: {part.get('tool_name', '')}")
            elif kind == "search_result":
                texts.append(f"{part.get('title', '')} ({part.get('source', '')})\n"
                             + text_of(part.get("content", []), f"{path}.content.{i}.content"))
        text = "\n".join(texts)
        if images and not text:
            text = "(the attachment follows in the next message)" if len(images) == 1 else (
                f"({len(images)} attachments follow in the next message)")
    else:
        raise InvalidRequest(f"{path}.content: must be a string or a list of content blocks")
    if block.get("is_error"):
        text = f"[tool error] {text}"
    return text, images


def _call_id(anthropic_id: str, opts: ChatOptions) -> str:
    upstream = to_upstream_id(anthropic_id)
    if opts.tool_ids == "mistral" and not _MISTRAL_ID.fullmatch(upstream):
        # the same id always maps to the same 9 characters, so a call and its result still match
        number = int.from_bytes(hashlib.sha256(upstream.encode()).digest()[:8], "big")
        chars = []
        for _ in range(9):
            number, digit = divmod(number, 62)
            chars.append(_BASE62[digit])
        return "".join(chars)
    return upstream


# tooluse: the tool a model calls when no other tool fits, with what it would have said
EXIT_TOOL = "ExitTool"
_EXIT_TOOL_DEF = {"type": "function", "function": {
    "name": EXIT_TOOL,
    "description": "Call this tool when no other tool fits the next step: to answer the user, ask a question or "
                   "report that the task is done. Put your whole message in `response`.",
    "parameters": {"type": "object", "properties": {"response": {"type": "string", "description": "your message"}},
                   "required": ["response"]}}}
_EXIT_TOOL_NOTE = ("Tool mode is on: every answer is a tool call. Use the tool that does the next step; when none "
                   f"fits (to answer, ask or finish), call {EXIT_TOOL} with your message.")

_MISTRAL_ID = re.compile(r"[A-Za-z0-9]{9}")
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _user(content: Any, path: str, out: list[dict[str, Any]], opts: ChatOptions) -> None:
    if isinstance(content, str):
        out.append({"role": "user", "content": content})
        return
    parts: list[dict[str, Any]] = []
    attachments: list[dict[str, Any]] = []
    for _, bpath, block in reading.blocks(content, f"{path}.content"):
        kind = block.get("type")
        if kind == "text":
            if reading.text(block, bpath):
                parts.append({"type": "text", "text": block["text"]})
        elif kind == "image":
            parts.append(_image_part(block, bpath, opts.blind))
        elif kind == "document":
            parts.append(_document_part(block, bpath))
        elif kind == "tool_result":
            tool_use_id = block.get("tool_use_id")
            if not isinstance(tool_use_id, str):
                raise InvalidRequest(f"{bpath}.tool_use_id: required for a tool_result block")
            text, images = _tool_result(block, bpath, opts.blind)
            # tool messages must directly follow the assistant message that made the calls
            out.append({"role": "tool", "tool_call_id": _call_id(tool_use_id, opts), "content": text})
            if images:
                attachments.append({"type": "text", "text": f"Attachments returned by tool call {tool_use_id}:"})
                attachments.extend(images)
        elif kind is None:
            raise InvalidRequest(f"{bpath}.type: required")
        # thinking in a user turn and unknown block kinds carry nothing an OpenAI model can use
    parts = attachments + parts
    if not parts:
        return
    if all(p["type"] == "text" for p in parts):
        out.append({"role": "user", "content": "\n\n".join(p["text"] for p in parts)})
    else:
        out.append({"role": "user", "content": parts})


def _assistant(content: Any, path: str, out: list[dict[str, Any]], names: ToolNames, opts: ChatOptions) -> None:
    if isinstance(content, str):
        out.append({"role": "assistant", "content": content})
        return
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    reasoning: dict[str, list[str]] = {}
    details: list[Any] = []
    for _, bpath, block in reading.blocks(content, f"{path}.content"):
        kind = block.get("type")
        if kind == "text":
            texts.append(reading.text(block, bpath))
        elif kind == "tool_use":
            name, tool_id = block.get("name"), block.get("id")
            if not isinstance(name, str) or not isinstance(tool_id, str):
                raise InvalidRequest(f"{bpath}: a tool_use block needs string 'id' and 'name'")
            calls.append({
                "id": _call_id(tool_id, opts),
                "type": "function",
                "function": {"name": names.short(name), "arguments": orjson.dumps(block.get("input", {})).decode()},
            })
        elif kind == "thinking":
            signature = block.get("signature")
            if signature is not None and not isinstance(signature, str):
                raise InvalidRequest(f"{bpath}.signature: must be a string")
            # replayed only to a provider that takes reasoning back, in the field it reads: strict providers
            # (OpenAI, Groq, Mistral) answer 400 to reasoning_content after a switch from a reasoning model
            source, carried = parse_reasoning_signature(signature)
            field = opts.replay_field or ("reasoning_details" if opts.reasoning_style == "openrouter"
                                          and source in _REASONING_FIELDS else None)
            if field:
                reasoning.setdefault(field, []).append(str(block.get("thinking") or ""))
            if carried and opts.reasoning_style == "openrouter":
                details.extend(carried)
        elif kind == "redacted_thinking" and opts.reasoning_style == "openrouter":
            details.append({"type": "reasoning.encrypted", "data": block.get("data", "")})
    msg: dict[str, Any] = {"role": "assistant", "content": "".join(texts) if texts or not calls else None}
    if calls:
        msg["tool_calls"] = calls
    for field, pieces in reasoning.items():
        if field != "reasoning_details":
            msg[field] = "".join(pieces)
    if details:
        msg["reasoning_details"] = details
    if opts.reasoning_style == "openrouter" and "reasoning" not in msg and "reasoning_details" in reasoning:
        msg["reasoning"] = "".join(reasoning["reasoning_details"])
    out.append(msg)


def _tool_def(tool: dict[str, Any], names: ToolNames, opts: ChatOptions) -> dict[str, Any]:
    schema = tool.get("input_schema") or {"type": "object", "properties": {}}
    if opts.strip_schema_keys:
        schema = {k: v for k, v in schema.items() if k not in opts.strip_schema_keys}
    fn: dict[str, Any] = {"name": names.short(tool["name"]), "parameters": schema}
    if tool.get("description"):
        fn["description"] = tool["description"]
    return {"type": "function", "function": fn}


def _tool_choice(choice: Any, names: ToolNames) -> tuple[Any, bool | None]:
    """(tool_choice, parallel_tool_calls) for an Anthropic tool_choice."""
    kind, name, parallel = reading.tool_choice(choice)
    if kind == "tool":
        assert name is not None
        return {"type": "function", "function": {"name": names.short(name)}}, parallel
    return {"any": "required"}.get(kind, kind), parallel


def _apply_reasoning(body: dict[str, Any], out: dict[str, Any], opts: ChatOptions) -> None:
    effort, budget = reading.effort(body)
    if opts.reasoning_style == "deepseek":
        if effort == "off":
            out["thinking"] = {"type": "disabled"}
        else:
            out["thinking"] = {"type": "enabled"}
            out["reasoning_effort"] = _DEEPSEEK_EFFORTS.get(effort or "", "high")
    elif opts.reasoning_style == "openrouter":
        if budget is not None:
            out["reasoning"] = {"max_tokens": budget}
        elif effort != "off":
            out["reasoning"] = {"effort": _EFFORTS.get(effort or "", "high")}
    elif opts.reasoning_style == "dashscope":
        # DashScope refuses thinking on a request that is not streamed
        if effort == "off" or not body.get("stream"):
            out["enable_thinking"] = False
        elif opts.reasoning_capable:
            out["enable_thinking"] = True
            if budget is not None:
                out["thinking_budget"] = budget
    elif opts.reasoning_style == "zai":
        out["thinking"] = {"type": "disabled" if effort == "off" else "enabled"}
    elif opts.reasoning_style == "openai" and opts.reasoning_capable and effort != "off":
        out["reasoning_effort"] = _EFFORTS.get(effort or "", "high")


def _fill_reasoning(messages: list[dict[str, Any]], out: dict[str, Any]) -> None:
    """Providers that take reasoning back (DeepSeek's and Kimi's thinking modes) refuse an assistant tool call
    without its `reasoning_content`, which a history from another provider does not have. Earlier turns get an
    empty one; when the turn in progress lacks it, DeepSeek answers this request without thinking (which it
    accepts) rather than with reasoning that was never there."""
    human = max((i for i, m in enumerate(messages) if m["role"] == "user"), default=-1)
    for i, msg in enumerate(messages):
        if msg["role"] != "assistant" or not msg.get("tool_calls") or "reasoning_content" in msg:
            continue
        thinking = out.get("thinking")
        if i > human and isinstance(thinking, dict) and thinking.get("type") == "enabled":
            out["thinking"] = {"type": "disabled"}
            out.pop("reasoning_effort", None)
        msg["reasoning_content"] = ""


def _user_field(user_id: str, limit: int) -> str:
    if len(user_id) <= limit:
        return user_id
    return hashlib.sha256(user_id.encode()).hexdigest()[:limit]


def translate_request(body: dict[str, Any], model: str, opts: ChatOptions) -> tuple[dict[str, Any], ToolNames]:
    """The body must already have passed `wire.anthropic.check_request` (messages is a list, …)."""
    names = ToolNames()
    messages: list[dict[str, Any]] = []
    system = body.get("system")
    if system:
        text = text_of(system, "system")
        if text:
            messages.append({"role": "system", "content": text})
    for path, role, content in reading.messages(body):
        if role == "user":
            _user(content, path, messages, opts)
        elif role == "assistant":
            _assistant(content, path, messages, names, opts)
        else:  # system
            messages.append({"role": "system", "content": text_of(content, f"{path}.content")})

    out: dict[str, Any] = {"model": model, "messages": messages}
    max_tokens = body["max_tokens"]
    if opts.max_output_tokens:
        max_tokens = min(max_tokens, opts.max_output_tokens)
    if opts.whole_max_tokens and not body.get("stream"):
        max_tokens = min(max_tokens, opts.whole_max_tokens)
    out[opts.max_tokens_field] = max_tokens
    for key in ("temperature", "top_p"):
        if body.get(key) is not None:
            out[key] = body[key]
    if body.get("stop_sequences"):
        out["stop"] = body["stop_sequences"]
    metadata = body.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("user_id"), str) and metadata["user_id"]:
        out["user"] = _user_field(metadata["user_id"], opts.user_limit)
    tools = [_tool_def(tool, names, opts) for _, tool in reading.tools(body)[0]]
    if tools:
        out["tools"] = tools
        if body.get("tool_choice") is not None:
            choice, parallel = _tool_choice(body["tool_choice"], names)
            out["tool_choice"] = choice
            if parallel is not None:
                out["parallel_tool_calls"] = parallel
        if opts.exit_tool and out.get("tool_choice", "auto") in ("auto", "required"):
            tools.append(_EXIT_TOOL_DEF)
            out["tool_choice"] = "required"
            if messages and messages[0]["role"] == "system":  # some chat templates take one system message, first
                messages[0] = {"role": "system", "content": f"{messages[0]['content']}\n\n{_EXIT_TOOL_NOTE}"}
            else:
                messages.insert(0, {"role": "system", "content": _EXIT_TOOL_NOTE})
    if opts.sampling is not None:
        if isinstance(body.get("top_k"), int):
            out["top_k"] = body["top_k"]
        out.update(opts.sampling)
    _apply_reasoning(body, out, opts)
    if opts.replay_field == "reasoning_content":
        _fill_reasoning(messages, out)
    if body.get("stream"):
        out["stream"] = True
        if opts.stream_usage:
            out["stream_options"] = {"include_usage": True}
    if opts.extra_params:
        out.update(opts.extra_params)
    for key in opts.drop_params:
        out.pop(key, None)
    return out, names
