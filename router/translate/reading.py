"""Reading an Anthropic request, the same for every format a translator writes: text of blocks and systems,
tool names within an upstream's limits, deferred tools a history has loaded, and the effort a request asks for."""

from __future__ import annotations

import binascii
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from router.translate.common import short_tool_name
from router.translate.history import paired
from router.wire.errors import InvalidRequest

# Claude Code's first system block is billing metadata for Anthropic, not an instruction to the model
BILLING = "x-anthropic-billing-header:"
# what a model known not to read images gets where an image was (providers answer 400 to the image itself)
IMAGE_OMITTED = "[an image was here; this model does not read images]"

# the image formats Anthropic takes, by their first bytes (WebP: RIFF....WEBP)
_IMAGE_MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF87a", "image/gif"),
                (b"GIF89a", "image/gif"))
IMAGE_TYPES = "'image/jpeg', 'image/png', 'image/gif' or 'image/webp'"
# images checked already, by length and their first and last 64 characters: an image stays in the history and
# comes back with every later request, and checking it whole costs ~2 ms a megabyte each time
_CHECKED: OrderedDict[tuple[int, str, str], str] = OrderedDict()
_CHECKED_MAX = 512


def _sniff(head: bytes) -> str | None:
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return next((media for magic, media in _IMAGE_MAGIC if head.startswith(magic)), None)


def image_base64(source: dict[str, Any], path: str) -> tuple[str, str]:
    """(media type, data) of a base64 image source, checked as Anthropic checks it: base64 of a JPEG, PNG, GIF or
    WebP image. The media type sent on is the one the bytes are: Claude Code has labelled JPEG screenshots
    image/png, which Anthropic refuses with a 400 that stays in the session's history; another provider gets the
    image as what it is. InvalidRequest naming the field otherwise."""
    data = source.get("data")
    if not isinstance(data, str) or not data:
        raise InvalidRequest(f"{path}.data: must be the image's bytes, base64-encoded (a non-empty string)")
    key = (len(data), data[:64], data[-64:])
    media = _CHECKED.get(key)
    if media is not None:
        _CHECKED.move_to_end(key)  # still in the session's history: kept over images no longer sent
    else:
        try:
            head = binascii.a2b_base64(data[:24], strict_mode=True)
            binascii.a2b_base64(data, strict_mode=True)
        except ValueError as exc:  # binascii.Error, or a character outside ASCII
            raise InvalidRequest(f"{path}.data: invalid base64 data ({exc}); send the file's bytes base64-encoded, "
                                 "without a data: prefix or line breaks") from None
        found = _sniff(head)
        if found is None:
            declared = source.get("media_type")
            raise InvalidRequest(f"{path}.data: the image is not a JPEG, PNG, GIF or WebP image (declared "
                                 f"{declared!r}); media_type must be one of {IMAGE_TYPES}")
        media = _CHECKED[key] = found
        if len(_CHECKED) > _CHECKED_MAX:
            _CHECKED.popitem(last=False)
    return media, data


def image_data_url(source: dict[str, Any], path: str) -> str:
    """A base64 image source as the data URL OpenAI's formats take, checked as image_base64 checks it."""
    media, data = image_base64(source, path)
    return f"data:{media};base64,{data}"


class ToolNames:
    """Short upstream tool name → the name Claude Code knows. One per request."""

    __slots__ = ("original",)

    def __init__(self) -> None:
        self.original: dict[str, str] = {}

    def shorten(self, name: str) -> str:
        """The upstream's form of a name (≤64 characters of [a-zA-Z0-9_-]; longer MCP names hashed)."""
        return short_tool_name(name)

    def short(self, name: str) -> str:
        s = self.shorten(name)
        if s != name:
            self.original[s] = name
        return s

    def restore(self, name: str) -> str:
        return self.original.get(name, name)


def messages(body: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """The request's messages, their history repaired (`history.paired`), each as its path, role ('user',
    'assistant' or 'system') and content (not None)."""
    for i, msg in enumerate(paired(body["messages"])):
        path = f"messages.{i}"
        if not isinstance(msg, dict):
            raise InvalidRequest(f"{path}: must be an object with 'role' and 'content'")
        role, content = msg.get("role"), msg.get("content")
        if content is None:
            raise InvalidRequest(f"{path}.content: required")
        if role not in ("user", "assistant", "system"):
            raise InvalidRequest(f"{path}.role: must be 'user', 'assistant' or 'system', got {role!r}")
        yield path, role, content


def blocks(content: Any, path: str) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """A message's content blocks, each with its index and path (`path` is the content's own); the content must
    be a list (a string is the caller's case) and each block an object."""
    if not isinstance(content, list):
        raise InvalidRequest(f"{path}: must be a string or a list of content blocks")
    for i, block in enumerate(content):
        where = f"{path}.{i}"
        if not isinstance(block, dict):
            raise InvalidRequest(f"{where}: must be a content block object")
        yield i, where, block


def text(block: dict[str, Any], path: str) -> str:
    value = block.get("text", "")
    if not isinstance(value, str):
        raise InvalidRequest(f"{path}.text: must be a string")
    return value


def text_of(content: Any, path: str) -> str:
    """A system prompt or message content as one text: its text blocks, without Claude Code's billing block."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise InvalidRequest(f"{path}: must be a string or a list of content blocks")
    texts = (text(b, f"{path}.{i}") for i, b in enumerate(content) if isinstance(b, dict) and b.get("type") == "text")
    return "\n\n".join(t for t in texts if t and not t.startswith(BILLING))


def referenced_tools(messages: list[Any]) -> set[str]:
    """Deferred tools become visible once a ToolSearch result references them (Anthropic expands those)."""
    found: set[str] = set()
    for msg in messages:
        content = msg.get("content") if isinstance(msg, dict) else None
        for block in content if isinstance(content, list) else ():
            if isinstance(block, dict) and block.get("type") == "tool_result" and isinstance(block.get("content"), list):
                found.update(p["tool_name"] for p in block["content"] if isinstance(p, dict)
                             and p.get("type") == "tool_reference" and isinstance(p.get("tool_name"), str))
    return found


def effort(body: dict[str, Any]) -> tuple[str | None, int | None]:
    """(Anthropic effort or 'off', thinking budget) from thinking and output_config.effort."""
    thinking = body.get("thinking") or {}
    kind = thinking.get("type") if isinstance(thinking, dict) else None
    config = body.get("output_config")
    level = config.get("effort") if isinstance(config, dict) else None
    if level is not None and not isinstance(level, str):
        raise InvalidRequest("output_config.effort: must be a string")
    if kind == "disabled" or (kind is None and level is None):
        return "off", None
    if kind == "enabled":
        budget = thinking.get("budget_tokens")
        if level is None and isinstance(budget, int):
            level = "low" if budget < 4096 else "medium" if budget < 16384 else "high"
        return level or "medium", budget if isinstance(budget, int) else None
    return level or "high", None


def tools(body: dict[str, Any]) -> tuple[list[tuple[int, dict[str, Any]]], list[dict[str, Any]]]:
    """(the client's own tools to send, with their index in `tools`; Anthropic's server tools, which cannot run
    elsewhere: web search, code execution…). A deferred tool is sent once a ToolSearch result in the history
    references it."""
    listed = body.get("tools")
    if not listed:
        return [], []
    if not isinstance(listed, list):
        raise InvalidRequest("tools: must be a list")
    referenced: set[str] | None = None
    own: list[tuple[int, dict[str, Any]]] = []
    server: list[dict[str, Any]] = []
    for i, tool in enumerate(listed):
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            raise InvalidRequest(f"tools.{i}.name: required")
        if "input_schema" not in tool and tool.get("type") not in (None, "custom"):
            server.append(tool)
            continue
        if tool.get("defer_loading"):
            if referenced is None:
                referenced = referenced_tools(body["messages"])
            if tool["name"] not in referenced:
                continue
        schema = tool.get("input_schema")
        if schema is not None and not isinstance(schema, dict):
            raise InvalidRequest(f"tools.{i}.input_schema: must be a JSON Schema object")
        own.append((i, tool))
    return own, server


def tool_choice(choice: Any) -> tuple[str, str | None, bool | None]:
    """(auto | any | none | tool, the tool's name for `tool`, False when parallel calls are turned off)."""
    if not isinstance(choice, dict):
        raise InvalidRequest("tool_choice: must be an object with a 'type'")
    kind = choice.get("type")
    parallel = False if choice.get("disable_parallel_tool_use") else None
    if kind in ("auto", "any"):
        return kind, None, parallel
    if kind == "none":
        return kind, None, None
    if kind == "tool":
        if not isinstance(choice.get("name"), str):
            raise InvalidRequest("tool_choice.name: required when type is 'tool'")
        return kind, choice["name"], parallel
    raise InvalidRequest(f"tool_choice.type: must be auto, any, tool or none, got {kind!r}")
