"""Anthropic Messages request → Gemini GenerateContentRequest.

Roles become user/model with consecutive turns of one role merged (Gemini wants them alternating); tool calls
become functionCall parts carrying their thought signatures back (signatures.py), tool results functionResponse
parts in the next user turn, answering each call by id and name. Claude Code's mid-conversation system
messages stay where they were, as a marked user text: appending them to systemInstruction would move them to
the start and change the prefix Gemini's implicit cache matches on every turn.
"""

from __future__ import annotations

import mimetypes
import re
from typing import Any

from router.translate import reading
from router.translate.common import short_tool_name, to_upstream_id
from router.translate.gemini import signatures
from router.translate.gemini.options import GeminiOptions
from router.translate.gemini.schema import clean_parameters
from router.translate.reading import IMAGE_OMITTED, image_base64, text_of
from router.wire.errors import InvalidRequest

_STARTS_WELL = re.compile(r"^[A-Za-z_]")
SYSTEM_NOTE = "[system message]\n"


class ToolNames(reading.ToolNames):
    """Gemini function names: ≤64 characters of [a-zA-Z0-9_.:-], starting with a letter or underscore. Longer or
    odd MCP names get a stable short form, restored in the answer. One per request."""

    __slots__ = ()

    def shorten(self, name: str) -> str:
        s = short_tool_name(name)
        return s if _STARTS_WELL.match(s) else ("_" + s)[:64]


def _str(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise InvalidRequest(f"{path}: must be a string")
    return value


def _source(block: dict[str, Any], path: str) -> dict[str, Any]:
    source = block.get("source")
    if not isinstance(source, dict):
        raise InvalidRequest(f"{path}.source: required for an {block.get('type')} block")
    return source


def _image(block: dict[str, Any], path: str, opts: GeminiOptions) -> dict[str, Any]:
    source = _source(block, path)
    if opts.blind:
        return {"text": IMAGE_OMITTED}
    kind = source.get("type")
    if kind == "base64":
        media, data = image_base64(source, f"{path}.source")
        return {"inlineData": {"mimeType": media, "data": data}}
    if kind == "url":
        return _file(_str(source.get("url", ""), f"{path}.source.url"), None)
    raise InvalidRequest(f"{path}.source.type: must be 'base64' or 'url'")


def _file(url: str, mime: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {"fileUri": url}
    mime = mime or mimetypes.guess_type(url.split("?", 1)[0])[0]
    if mime:
        data["mimeType"] = mime
    return {"fileData": data}


def _document(block: dict[str, Any], path: str, opts: GeminiOptions) -> dict[str, Any]:
    source = _source(block, path)
    title = block.get("title") or "document"
    kind = source.get("type")
    if kind == "base64":
        return {"inlineData": {"mimeType": _str(source.get("media_type", "application/pdf"),
                                                f"{path}.source.media_type"),
                               "data": _str(source.get("data", ""), f"{path}.source.data")}}
    if kind == "text":
        return {"text": f"<document title={title!r}>\n{source.get('data', '')}\n</document>"}
    if kind == "content":
        inner = text_of(source.get("content", []), f"{path}.source.content")
        return {"text": f"<document title={title!r}>\n{inner}\n</document>"}
    if kind == "url":
        return _file(_str(source.get("url", ""), f"{path}.source.url"), "application/pdf")
    raise InvalidRequest(f"{path}.source.type: unsupported document source {kind!r}")


def _tool_result(block: dict[str, Any], path: str, opts: GeminiOptions) -> tuple[str, list[dict[str, Any]]]:
    """(the result's text, the attachments to deliver after the function responses)."""
    content = block.get("content", "")
    if isinstance(content, str):
        return content, []
    texts: list[str] = []
    attachments: list[dict[str, Any]] = []
    for _, ppath, part in reading.blocks(content, f"{path}.content"):
        kind = part.get("type")
        if kind == "text":
            texts.append(_str(part.get("text", ""), f"{ppath}.text"))
        elif kind == "image":
            image = _image(part, ppath, opts)
            (texts.append(image["text"]) if "text" in image else attachments.append(image))
        elif kind == "document":
            doc = _document(part, ppath, opts)
            (texts.append(doc["text"]) if "text" in doc else attachments.append(doc))
        elif kind == "tool_reference":
            texts.append(f"Tool loaded: {part.get('tool_name', '')}")
        elif kind == "search_result":
            texts.append(f"{part.get('title', '')} ({part.get('source', '')})\n"
                         + text_of(part.get("content", []), f"{ppath}.content"))
    text = "\n".join(texts)
    if attachments and not text:
        text = "(the attachment follows)" if len(attachments) == 1 else f"({len(attachments)} attachments follow)"
    return text, attachments


class _Builder:
    """The contents list, merging consecutive turns of one role."""

    def __init__(self) -> None:
        self.contents: list[dict[str, Any]] = []

    def add(self, role: str, parts: list[dict[str, Any]]) -> None:
        if not parts:
            return
        if self.contents and self.contents[-1]["role"] == role:
            merged = self.contents[-1]["parts"] + parts
            if role == "user":  # the answers to the model's calls open the turn, whatever was merged before them
                merged.sort(key=lambda p: "functionResponse" not in p)
            self.contents[-1]["parts"] = merged
        else:
            self.contents.append({"role": role, "parts": parts})


class _Translator:
    def __init__(self, opts: GeminiOptions) -> None:
        self.opts = opts
        self.names = ToolNames()
        self.call_names: dict[str, str] = {}  # Anthropic tool_use id → the Gemini name it was sent with
        # the Anthropic ids of the calls the next user message answers: history.paired has made every other
        # result text, except those too malformed to read, which Gemini would refuse as answering no call
        self.open_calls: set[str] = set()
        self.out = _Builder()

    def user(self, content: Any, path: str) -> None:
        if isinstance(content, str):
            if content:
                self.out.add("user", [{"text": content}])
            return
        responses: list[dict[str, Any]] = []
        attachments: list[dict[str, Any]] = []
        parts: list[dict[str, Any]] = []
        for _, bpath, block in reading.blocks(content, f"{path}.content"):
            kind = block.get("type")
            if kind == "text":
                if _str(block.get("text", ""), f"{bpath}.text"):
                    parts.append({"text": block["text"]})
            elif kind == "image":
                parts.append(_image(block, bpath, self.opts))
            elif kind == "document":
                parts.append(_document(block, bpath, self.opts))
            elif kind == "tool_result":
                call_id = block.get("tool_use_id")
                if not isinstance(call_id, str):
                    raise InvalidRequest(f"{bpath}.tool_use_id: required for a tool_result block")
                text, extra = _tool_result(block, bpath, self.opts)
                if call_id not in self.open_calls:
                    raise InvalidRequest(f"{bpath}.tool_use_id: {call_id!r} answers no tool_use of the assistant "
                                         "message before it (or one already answered)")
                self.open_calls.discard(call_id)
                # Gemini documents `output` and `error` as the keys of a function's response object
                response = {"error": text} if block.get("is_error") else {"output": text}
                responses.append({"functionResponse": {"id": to_upstream_id(call_id),
                                                       "name": self.call_names.get(call_id, "unknown_tool"),
                                                       "response": response}})
                if extra:
                    attachments.append({"text": f"Attachments returned by tool call {call_id}:"})
                    attachments.extend(extra)
            elif kind is None:
                raise InvalidRequest(f"{bpath}.type: required")
            # thinking in a user turn and unknown kinds carry nothing Gemini can use
        self.out.add("user", responses + attachments + parts)
        self.open_calls = set()

    def assistant(self, content: Any, path: str) -> None:
        if isinstance(content, str):
            self.open_calls = set()
            if content:
                self.out.add("model", [{"text": content}])
            return
        parts: list[dict[str, Any]] = []
        calls: set[str] = set()
        pending: str | None = None  # a signature for the part the next block becomes
        for _, bpath, block in reading.blocks(content, f"{path}.content"):
            kind = block.get("type")
            part: dict[str, Any] | None = None
            if kind == "text":
                text = _str(block.get("text", ""), f"{bpath}.text")
                if text:
                    part = {"text": text}
            elif kind == "tool_use":
                name, call_id = block.get("name"), block.get("id")
                if not isinstance(name, str) or not isinstance(call_id, str):
                    raise InvalidRequest(f"{bpath}: a tool_use block needs string 'id' and 'name'")
                if call_id in calls:  # one result would answer both, and Gemini wants a response per call
                    raise InvalidRequest(f"{bpath}.id: {call_id!r} is the id of an earlier tool_use in this message")
                calls.add(call_id)
                short = self.names.short(name)
                self.call_names[call_id] = short
                args = block.get("input")
                part = {"functionCall": {"id": to_upstream_id(call_id), "name": short,
                                         "args": args if isinstance(args, dict) else {}}}
            elif kind == "thinking":
                carried = signatures.unpack(block.get("signature"))
                if carried is None:
                    continue  # another provider's thinking, or Anthropic's: never a Gemini signature
                if "p" in carried and parts and "text" in parts[-1] and "thoughtSignature" not in parts[-1]:
                    parts[-1]["thoughtSignature"] = carried["p"]
                if "t" in carried:
                    parts.append({"text": str(block.get("thinking") or ""), "thought": True,
                                  "thoughtSignature": carried["t"]})
                pending = carried.get("n", pending)
                continue
            if part is None:
                continue  # redacted thinking, server tool blocks: nothing Gemini can read back
            if pending is not None:
                part["thoughtSignature"] = pending
                pending = None
            parts.append(part)
        self.open_calls = calls
        if self.opts.current:
            first_call = next((p for p in parts if "functionCall" in p), None)
            if first_call is not None and "thoughtSignature" not in first_call:
                first_call["thoughtSignature"] = signatures.SKIP
        self.out.add("model", parts)


def _tools(body: dict[str, Any], names: ToolNames) -> list[dict[str, Any]]:
    """The tools entry: function declarations; Anthropic's web search becomes Google Search grounding when it
    is the only tool (Gemini 2.x refuses search together with function calling), else it is left out as the
    other server tools are."""
    own, server = reading.tools(body)
    declarations: list[dict[str, Any]] = []
    declared: dict[str, int] = {}  # Gemini name → the tool's index: Gemini refuses a name declared twice
    for i, tool in own:
        decl: dict[str, Any] = {"name": names.short(tool["name"])}
        if decl["name"] in declared:
            raise InvalidRequest(f"tools.{i}.name: {tool['name']!r} is declared twice (as tools."
                                 f"{declared[decl['name']]} too, or a name that shortens to the same)")
        declared[decl["name"]] = i
        if isinstance(tool.get("description"), str) and tool["description"]:
            decl["description"] = tool["description"]
        parameters = clean_parameters(tool.get("input_schema"))
        if parameters is not None:
            decl["parameters"] = parameters
        declarations.append(decl)
    if declarations:
        return [{"functionDeclarations": declarations}]
    search = any(str(tool.get("type", "")).startswith("web_search") for tool in server)
    return [{"googleSearch": {}}] if search else []


def _tool_config(choice: Any, names: ToolNames) -> dict[str, Any]:
    kind, name, _parallel = reading.tool_choice(choice)  # Gemini has no switch for parallel calls
    config: dict[str, Any] = {"mode": {"auto": "AUTO", "any": "ANY", "none": "NONE", "tool": "ANY"}[kind]}
    if name is not None:
        config["allowedFunctionNames"] = [names.short(name)]
    return {"functionCallingConfig": config}


_LEVELS = {"low": "low", "medium": "medium", "high": "high", "xhigh": "high", "max": "high"}
_LEAST_BUDGET = {"pro": 128, "flash-lite": 512}
_BUDGETS = {"low": 1024, "medium": 8192, "high": -1, "xhigh": 24576, "max": 32768}  # -1: Gemini decides


def _thinking_config(body: dict[str, Any], opts: GeminiOptions) -> dict[str, Any] | None:
    thinking = body.get("thinking")
    kind = thinking.get("type") if isinstance(thinking, dict) else None
    config = body.get("output_config")
    effort = config.get("effort") if isinstance(config, dict) else None
    if effort is not None and not isinstance(effort, str):
        raise InvalidRequest("output_config.effort: must be a string")
    if kind is None and effort is None:
        return None  # the model's default; its thoughts are not shown
    if kind == "disabled":
        if opts.current:  # Gemini 3 always thinks; the least it offers
            return {"thinkingLevel": "minimal" if opts.family.startswith("flash") else "low"}
        return {"thinkingBudget": 0} if opts.family.startswith("flash") else None  # 2.5 Pro cannot stop
    budget = thinking.get("budget_tokens") if kind == "enabled" and isinstance(thinking, dict) else None
    if not isinstance(budget, int) or isinstance(budget, bool):
        budget = None
    elif budget < 1:  # thinking asked for, with no budget: the least there is (0 would turn it off, or 400 on Pro)
        budget = 1
    if opts.current:
        if effort is None and budget is not None:
            effort = "low" if budget < 4096 else "medium" if budget < 16384 else "high"
        level = _LEVELS.get(effort or "high", "high")
        if level == "medium" and opts.family == "pro" and opts.generation == 3:
            level = "high"  # Gemini 3 Pro offers low and high
        return {"thinkingLevel": level, "includeThoughts": True}
    if budget is None:
        budget = _BUDGETS.get(effort or "high", -1)
    if budget > 0:
        # the documented ranges: Pro 128–32768, Flash 1–24576, Flash-Lite 512–24576 (below: a 400)
        budget = min(budget, 32768 if opts.family == "pro" else 24576)
        budget = max(budget, _LEAST_BUDGET.get(opts.family, 1))
    return {"thinkingBudget": budget, "includeThoughts": True}


def translate_request(body: dict[str, Any], model: str, opts: GeminiOptions) -> tuple[dict[str, Any], ToolNames]:
    """The body must already have passed `wire.anthropic.check_request` (messages is a list, …)."""
    tr = _Translator(opts)
    out: dict[str, Any] = {}
    system = body.get("system")
    if system:
        text = text_of(system, "system")
        if text:
            out["systemInstruction"] = {"parts": [{"text": text}]}
    for path, role, content in reading.messages(body):
        if role == "user":
            tr.user(content, path)
        elif role == "assistant":
            tr.assistant(content, path)
        else:  # system
            text = text_of(content, f"{path}.content")
            if text:
                tr.out.add("user", [{"text": SYSTEM_NOTE + text}])
    if not tr.out.contents:
        raise InvalidRequest("messages: no content to send (every message is empty)")
    out["contents"] = tr.out.contents
    tools = _tools(body, tr.names)
    if tools:
        out["tools"] = tools
        if body.get("tool_choice") is not None and "functionDeclarations" in tools[0]:
            out["toolConfig"] = _tool_config(body["tool_choice"], tr.names)
    generation: dict[str, Any] = {}
    max_tokens = body["max_tokens"]
    if opts.max_output_tokens:
        max_tokens = min(max_tokens, opts.max_output_tokens)
    generation["maxOutputTokens"] = max_tokens
    top_k = body.get("top_k")  # temperature and top_p were checked with the request
    if top_k is not None and (not isinstance(top_k, int) or isinstance(top_k, bool)):
        raise InvalidRequest("top_k: must be an integer")
    for key, field in (("temperature", "temperature"), ("top_p", "topP"), ("top_k", "topK")):
        if body.get(key) is not None:
            generation[field] = body[key]
    stops = body.get("stop_sequences")
    if stops is not None and (not isinstance(stops, list) or not all(isinstance(s, str) for s in stops)):
        raise InvalidRequest("stop_sequences: must be a list of strings")
    if stops:
        generation["stopSequences"] = stops
    thinking = _thinking_config(body, opts)
    if thinking:
        generation["thinkingConfig"] = thinking
    out["generationConfig"] = generation
    return out, tr.names
