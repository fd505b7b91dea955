"""Anthropic Messages request checks (cheap, top level only) and a message replayed as a stream."""

from __future__ import annotations

from typing import Any

import orjson

from router.wire.errors import InvalidRequest, UpstreamError
from router.wire.sse import SSEDecoder, event


def parse_body(raw: bytes) -> dict[str, Any]:
    if not raw:
        raise InvalidRequest("request body is empty; send a JSON object")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidRequest("request body must be a JSON object")
    try:
        # orjson reads 1024 levels of nesting but writes only ~254, and every path re-encodes some of the body
        # (token counts, translation, passthrough). Checked here, with a few levels to spare for the translators
        # that nest a part one level deeper; writing costs a fifth of the parse.
        orjson.dumps([[[[body]]]])
    except orjson.JSONEncodeError:
        raise InvalidRequest("request body is nested too deeply (at most 250 levels)") from None
    return body


def _require(body: dict[str, Any], field: str, kind: type, what: str) -> Any:
    if field not in body:
        raise InvalidRequest(f"{field}: field required")
    value = body[field]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise InvalidRequest(f"{field}: must be {what}")
    return value


def check_messages_request(body: dict[str, Any]) -> None:
    """The fields every translator relies on. Deeper problems are reported, with their path, where met."""
    _require(body, "model", str, "a string")
    messages = _require(body, "messages", list, "a list of messages")
    if not messages:
        raise InvalidRequest("messages: at least one message is required")
    max_tokens = _require(body, "max_tokens", int, "an integer")
    if max_tokens < 1:
        raise InvalidRequest("max_tokens: must be at least 1")
    if "stream" in body and not isinstance(body["stream"], bool):
        raise InvalidRequest("stream: must be true or false")
    system = body.get("system")
    if system is not None and not isinstance(system, str | list):
        raise InvalidRequest("system: must be a string or a list of text blocks")
    for key in ("temperature", "top_p"):
        value = body.get(key)
        if value is not None and (not isinstance(value, int | float) or isinstance(value, bool)):
            raise InvalidRequest(f"{key}: must be a number")
    check_tools(body)


def check_tools(body: dict[str, Any]) -> None:
    """`tools`, when given, is a list of objects (what Messages and count_tokens both take; counting and every
    translator walk it)."""
    tools = body.get("tools")
    if tools is None:
        return
    if not isinstance(tools, list):
        raise InvalidRequest("tools: must be a list of tool definitions")
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict):
            raise InvalidRequest(f"tools.{i}: must be an object (a tool definition with a name)")


def message_as_events(message: dict[str, Any]) -> bytes:
    """A complete message as the stream Anthropic would have sent (for upstreams that ignore `stream`)."""
    start = dict(message, content=[], stop_reason=None, stop_sequence=None)
    out = [event("message_start", {"type": "message_start", "message": start})]
    for i, block in enumerate(message["content"]):
        kind = block["type"]
        if kind == "text":
            out.append(event("content_block_start", {"type": "content_block_start", "index": i,
                                                     "content_block": {"type": "text", "text": ""}}))
            delta: dict[str, Any] = {"type": "text_delta", "text": block["text"]}
        elif kind == "thinking":
            out.append(event("content_block_start", {"type": "content_block_start", "index": i,
                                                     "content_block": {"type": "thinking", "thinking": "",
                                                                       "signature": ""}}))
            out.append(event("content_block_delta", {"type": "content_block_delta", "index": i,
                                                     "delta": {"type": "thinking_delta",
                                                               "thinking": block["thinking"]}}))
            delta = {"type": "signature_delta", "signature": block["signature"]}
        else:
            out.append(event("content_block_start", {"type": "content_block_start", "index": i,
                                                     "content_block": dict(block, input={})}))
            delta = {"type": "input_json_delta", "partial_json": orjson.dumps(block["input"]).decode()}
        out.append(event("content_block_delta", {"type": "content_block_delta", "index": i, "delta": delta}))
        out.append(event("content_block_stop", {"type": "content_block_stop", "index": i}))
    out.append(event("message_delta", {"type": "message_delta",
                                       "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                                       "usage": message["usage"]}))
    out.append(event("message_stop", {"type": "message_stop"}))
    return b"".join(out)


def accumulate(stream: bytes) -> dict[str, Any]:
    """Rebuild a message from Anthropic stream bytes, as the SDKs do."""
    message: dict[str, Any] = {}
    partial: dict[int, list[str]] = {}
    for _name, data in SSEDecoder().feed(stream):
        ev = orjson.loads(data)
        kind = ev.get("type")
        if kind == "message_start":
            message = ev["message"]
        elif kind == "content_block_start":
            message["content"].append(dict(ev["content_block"]))
        elif kind == "content_block_delta":
            block, delta = message["content"][ev["index"]], ev["delta"]
            if delta["type"] == "text_delta":
                block["text"] += delta["text"]
            elif delta["type"] == "thinking_delta":
                block["thinking"] += delta["thinking"]
            elif delta["type"] == "signature_delta":
                block["signature"] = delta["signature"]
            elif delta["type"] == "input_json_delta":
                partial.setdefault(ev["index"], []).append(delta["partial_json"])
        elif kind == "content_block_stop" and ev["index"] in partial:
            message["content"][ev["index"]]["input"] = _input("".join(partial.pop(ev["index"])))
        elif kind == "message_delta":
            message.update(ev["delta"])
            message["usage"] = {**message.get("usage", {}), **ev["usage"]}
        elif kind == "error":
            err = ev["error"]
            raise UpstreamError(err["message"], status=502, error_type=err["type"])
    return message


def _input(arguments: str) -> dict[str, Any]:
    """A tool call's input from its joined partial_json (what is not a JSON object is kept, never dropped)."""
    if not arguments:
        return {}
    try:
        value = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        return {"_raw_arguments": arguments}
    return value if isinstance(value, dict) else {"value": value}
