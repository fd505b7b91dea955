"""Anthropic Messages request → OpenAI Responses request.

The conversation becomes a list of input items in the order it was said: messages, `function_call` items for
tool calls and `function_call_output` items (linked by call_id, never flattened into text) for their results,
and `reasoning` items where a thinking block came from this very provider and model (its signature carries the
item, encrypted content included). Claude Code's mid-conversation system notes stay where they are, as
`developer` messages: the role the Responses API gives instructions that are not the user's.

Dropped, because the Responses API has no place for them: stop_sequences, top_k, Anthropic's cache_control and
context_management. temperature and top_p are dropped for reasoning models, which answer 400 to them.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import orjson

from router.translate import reading
from router.translate.common import parse_reasoning_signature, to_upstream_id
from router.translate.openai_responses.options import EFFORT_RANK, ResponsesOptions
from router.translate.reading import IMAGE_OMITTED, ToolNames, image_data_url, text_of
from router.wire.errors import InvalidRequest

# the source a thinking block's ccr signature names when it carries a Responses reasoning item
SOURCE = "responses"
MIN_OUTPUT_TOKENS = 16  # the API refuses less ("integer below minimum value")
_ANTHROPIC_RANK = {"low": 2, "medium": 3, "high": 4, "xhigh": 5, "max": 6}
_MAX_CALL_ID = 64
_VALID_CALL_ID = re.compile(r"^[\w.:-]{1,64}$", re.ASCII)
_FOLLOWERS = ("message", "function_call")  # what a replayed reasoning item must be followed by
# what /responses/input_tokens takes of a request (it refuses the rest: max_output_tokens, stream, store …)
COUNT_KEYS = ("model", "input", "instructions", "tools", "tool_choice", "parallel_tool_calls", "reasoning", "text",
              "truncation")


def call_id(anthropic_id: str) -> str:
    """The upstream's call_id for a tool_use id: the id it made itself when it came from it, else the id as it
    is when it fits (≤ 64 chars of a safe alphabet), else a stable hash of it. The hash only has to agree
    between a call and its output within one request: the model never answers with a call id of the past."""
    raw = to_upstream_id(anthropic_id)
    if _VALID_CALL_ID.match(raw):
        return raw
    return "call_ccr_" + hashlib.sha256(raw.encode()).hexdigest()[:_MAX_CALL_ID - 9]


def _source(block: dict[str, Any], path: str, what: str) -> dict[str, Any]:
    source = block.get("source")
    if not isinstance(source, dict):
        raise InvalidRequest(f"{path}.source: required for {what} block")
    return source


def _image(block: dict[str, Any], path: str, blind: bool) -> dict[str, Any]:
    """An input_image; for a model known not to read images, a note in its place (an image still in the
    history after the turn that held it went to a model with vision)."""
    source = _source(block, path, "an image")
    if source.get("type") not in ("base64", "url"):
        raise InvalidRequest(f"{path}.source.type: must be 'base64' or 'url'")
    if blind:
        return {"type": "input_text", "text": IMAGE_OMITTED}
    url = image_data_url(source, f"{path}.source") if source["type"] == "base64" else str(source.get("url", ""))
    return {"type": "input_image", "image_url": url, "detail": "auto"}


def _document(block: dict[str, Any], path: str) -> dict[str, Any]:
    """A PDF as an input_file (data or URL); text documents as text."""
    source = _source(block, path, "a document")
    title = block.get("title") or "document"
    if not isinstance(title, str):
        raise InvalidRequest(f"{path}.title: must be a string")
    kind = source.get("type")
    if kind == "base64":
        media = source.get("media_type", "application/pdf")
        return {"type": "input_file", "filename": title if "." in title else f"{title}.pdf",
                "file_data": f"data:{media};base64,{source.get('data', '')}"}
    if kind == "url":
        return {"type": "input_file", "file_url": str(source.get("url", ""))}
    if kind == "text":
        return {"type": "input_text", "text": f"<document title={title!r}>\n{source.get('data', '')}\n</document>"}
    if kind == "content":
        inner = text_of(source.get("content", []), f"{path}.source.content")
        return {"type": "input_text", "text": f"<document title={title!r}>\n{inner}\n</document>"}
    raise InvalidRequest(f"{path}.source.type: unsupported document source {kind!r}")


def _output(block: dict[str, Any], path: str, blind: bool) -> str | list[dict[str, Any]]:
    """A tool result's `output`: a string, or parts when it holds images or files (the API takes input_text,
    input_image and input_file there, so an image goes back as an image, not as JSON text)."""
    content = block.get("content", "")
    error = "[tool error] " if block.get("is_error") else ""
    if isinstance(content, str):
        return error + content
    if not isinstance(content, list):
        raise InvalidRequest(f"{path}.content: must be a string or a list of content blocks")
    parts: list[dict[str, Any]] = []
    for i, part in enumerate(content):
        ppath = f"{path}.content.{i}"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            parts.append({"type": "input_text", "text": reading.text(part, ppath)})
        elif kind == "image":
            parts.append(_image(part, ppath, blind))
        elif kind == "document":
            parts.append(_document(part, ppath))
        elif kind == "tool_reference":
            parts.append({"type": "input_text", "text": f"Tool loaded: {part.get('tool_name', '')}"})
        elif kind == "search_result":
            parts.append({"type": "input_text", "text": f"{part.get('title', '')} ({part.get('source', '')})\n"
                          + text_of(part.get("content", []), f"{ppath}.content")})
    if all(p["type"] == "input_text" for p in parts):
        return error + "\n".join(p["text"] for p in parts)
    if error:
        parts.insert(0, {"type": "input_text", "text": error.strip()})
    return parts


def _message(role: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "message", "role": role, "content": parts}


def _user(content: Any, path: str, items: list[dict[str, Any]], blind: bool) -> None:
    if isinstance(content, str):
        if content:
            items.append(_message("user", [{"type": "input_text", "text": content}]))
        return
    parts: list[dict[str, Any]] = []
    outputs: list[dict[str, Any]] = []
    for _, bpath, block in reading.blocks(content, f"{path}.content"):
        kind = block.get("type")
        if kind == "text":
            if reading.text(block, bpath):
                parts.append({"type": "input_text", "text": block["text"]})
        elif kind == "image":
            parts.append(_image(block, bpath, blind))
        elif kind == "document":
            parts.append(_document(block, bpath))
        elif kind == "tool_result":
            tool_use_id = block.get("tool_use_id")
            if not isinstance(tool_use_id, str):
                raise InvalidRequest(f"{bpath}.tool_use_id: required for a tool_result block")
            outputs.append({"type": "function_call_output", "call_id": call_id(tool_use_id),
                            "output": _output(block, bpath, blind)})
        elif kind is None:
            raise InvalidRequest(f"{bpath}.type: required")
        # thinking in a user turn and unknown block kinds carry nothing the model can use
    items.extend(outputs)
    if parts:
        items.append(_message("user", parts))


def _reasoning_item(block: dict[str, Any], path: str, opts: ResponsesOptions) -> dict[str, Any] | None:
    """The reasoning item a thinking block carries, when this provider and model made it: encrypted content
    is only readable by the deployment that wrote it, and reasoning from elsewhere is never sent as its own."""
    signature = block.get("signature")
    if signature is not None and not isinstance(signature, str):
        raise InvalidRequest(f"{path}.signature: must be a string")
    source, details = parse_reasoning_signature(signature)
    if source != SOURCE or not details or not isinstance(details[0], dict):
        return None
    item = details[0]
    encrypted, rid, summary = item.get("encrypted_content"), item.get("id"), item.get("summary")
    if (not isinstance(encrypted, str) or not encrypted or not isinstance(rid, str)
            or item.get("provider") != opts.provider or item.get("model") != opts.model):
        return None
    texts = [s for s in summary if isinstance(s, str)] if isinstance(summary, list) else []
    return {"type": "reasoning", "id": rid, "encrypted_content": encrypted,
            "summary": [{"type": "summary_text", "text": t} for t in texts]}


def _assistant(content: Any, path: str, items: list[dict[str, Any]], names: ToolNames,
               opts: ResponsesOptions) -> None:
    if isinstance(content, str):
        content = [{"type": "text", "text": content}]
    if not isinstance(content, list):
        raise InvalidRequest(f"{path}.content: must be a string or a list of content blocks")
    # models since gpt-5.3-codex want each assistant message's phase back: text before a tool call is
    # commentary, the rest is the answer (sent to reasoning models only: older endpoints may not know the field)
    calls_after = [False] * (len(content) + 1)
    for i in range(len(content) - 1, -1, -1):
        block = content[i]
        calls_after[i] = calls_after[i + 1] or (isinstance(block, dict) and block.get("type") == "tool_use")
    texts: list[dict[str, Any]] = []
    phase_at = 0

    def flush() -> None:
        if texts:
            msg = _message("assistant", list(texts))
            if opts.reasoning:
                msg["phase"] = "commentary" if calls_after[phase_at] else "final_answer"
            items.append(msg)
            texts.clear()

    for i, bpath, block in reading.blocks(content, f"{path}.content"):
        kind = block.get("type")
        if kind == "text":
            if reading.text(block, bpath):
                texts.append({"type": "output_text", "text": block["text"]})
                phase_at = i
        elif kind == "tool_use":
            name, tool_id = block.get("name"), block.get("id")
            if not isinstance(name, str) or not isinstance(tool_id, str):
                raise InvalidRequest(f"{bpath}: a tool_use block needs string 'id' and 'name'")
            flush()
            items.append({"type": "function_call", "call_id": call_id(tool_id), "name": names.short(name),
                          "arguments": orjson.dumps(block.get("input", {})).decode()})
        elif kind == "thinking":
            reasoning = _reasoning_item(block, bpath, opts)
            if reasoning is not None:
                flush()
                items.append(reasoning)
        # redacted_thinking is Anthropic's encrypted reasoning: nothing another provider can read
    flush()


def _without_orphan_reasoning(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The API refuses a reasoning item that is not followed by the output item it led to (a turn cut short
    after thinking, a thinking block left at the end of a message): such items are left out."""
    keep: list[dict[str, Any]] = []
    for n, item in enumerate(items):
        if item.get("type") == "reasoning":
            nxt = items[n + 1] if n + 1 < len(items) else None
            if nxt is None or nxt.get("type") not in _FOLLOWERS or (
                    nxt.get("type") == "message" and nxt.get("role") != "assistant"):
                continue
        keep.append(item)
    return keep


def _tools(body: dict[str, Any], names: ToolNames) -> list[dict[str, Any]]:
    out = []
    for _, tool in reading.tools(body)[0]:
        # strict mode would demand every property required and additionalProperties false: Claude Code's
        # schemas are neither
        fn: dict[str, Any] = {"type": "function", "name": names.short(tool["name"]),
                              "parameters": tool.get("input_schema") or {"type": "object", "properties": {}},
                              "strict": False}
        if tool.get("description"):
            fn["description"] = tool["description"]
        out.append(fn)
    return out


def _tool_choice(choice: Any, names: ToolNames) -> tuple[Any, bool | None]:
    """(tool_choice, parallel_tool_calls) for an Anthropic tool_choice."""
    kind, name, parallel = reading.tool_choice(choice)
    if kind == "tool":
        assert name is not None
        return {"type": "function", "name": names.short(name)}, parallel
    return {"any": "required"}.get(kind, kind), parallel


def effort(body: dict[str, Any], efforts: tuple[str, ...]) -> str:
    """The model's effort for Anthropic's thinking / output_config.effort: the same level where the model takes
    it, else the highest it takes below (xhigh and max become the model's highest); thinking off (or not asked
    for, as in Claude Code's background calls) is the lowest the model takes (none, minimal or low)."""
    wanted, _budget = reading.effort(body)
    if wanted == "off":
        return efforts[0]
    rank = _ANTHROPIC_RANK.get(wanted or "", _ANTHROPIC_RANK["high"])
    fitting = [e for e in efforts if EFFORT_RANK.get(e, 0) <= rank]
    return fitting[-1] if fitting else efforts[0]


def _hashed(value: str) -> str:
    # Claude Code's user_id is a JSON object of device and session ids: OpenAI asks for a hash, ≤ 64 chars
    return hashlib.sha256(value.encode()).hexdigest()[:64]


def translate_request(body: dict[str, Any], model: str, opts: ResponsesOptions) -> tuple[dict[str, Any], ToolNames]:
    """The body must already have passed `wire.anthropic.check_request` (messages is a list, …)."""
    names = ToolNames()
    items: list[dict[str, Any]] = []
    for path, role, content in reading.messages(body):
        if role == "user":
            _user(content, path, items, opts.blind)
        elif role == "assistant":
            _assistant(content, path, items, names, opts)
        else:  # system
            text = text_of(content, f"{path}.content")
            if text:
                items.append(_message("developer", [{"type": "input_text", "text": text}]))

    out: dict[str, Any] = {"model": model}
    system = body.get("system")
    instructions = text_of(system, "system") if system else ""
    if instructions:
        out["instructions"] = instructions
    out["input"] = _without_orphan_reasoning(items)
    max_tokens = body["max_tokens"]
    if opts.max_output_tokens:
        max_tokens = min(max_tokens, opts.max_output_tokens)
    out["max_output_tokens"] = max(max_tokens, MIN_OUTPUT_TOKENS)
    tools = _tools(body, names)
    if tools:
        out["tools"] = tools
        if body.get("tool_choice") is not None:
            choice, parallel = _tool_choice(body["tool_choice"], names)
            out["tool_choice"] = choice
            if parallel is not None:
                out["parallel_tool_calls"] = parallel
    out["store"] = False  # ccr sends the whole conversation each time; nothing needs keeping at OpenAI
    if opts.reasoning:
        level = effort(body, opts.efforts)
        reasoning: dict[str, Any] = {"effort": level}
        thinking = body.get("thinking")
        # Claude Code asks for thinking it does not show with display "omitted": no summary is written then
        if level != "none" and not (isinstance(thinking, dict) and thinking.get("display") == "omitted"):
            reasoning["summary"] = "auto"
        out["reasoning"] = reasoning
        # with store false, the reasoning comes back encrypted and goes out again with the next turn
        out["include"] = ["reasoning.encrypted_content"]
    else:
        for key in ("temperature", "top_p"):
            if body.get(key) is not None:
                out[key] = body[key]
    metadata = body.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("user_id"), str) and metadata["user_id"]:
        user = _hashed(metadata["user_id"])
        out["safety_identifier"] = user
        out["prompt_cache_key"] = user  # one session's requests share a cache
    if body.get("stream"):
        out["stream"] = True
    if opts.extra_params:
        out.update(opts.extra_params)
    return out, names
