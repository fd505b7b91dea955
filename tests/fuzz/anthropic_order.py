"""One validator of an Anthropic Messages event stream, for every test that produces one (fuzzing, fault
injection). It checks what the official SDKs and Claude Code rely on, and returns what it saw so a test can
assert more.

A valid stream: `message_start` first; content blocks one at a time (as Anthropic streams them) with indices
0, 1, 2… in start order; each delta inside its open block and of a type that block accepts (a thinking block's
signature last); `message_delta` once with every block closed, then `message_stop` last. An `error` event may
end the stream at any point, with blocks left open (the stream was cut short). Pings may come anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from router.wire.sse import SSEDecoder

# which delta types each block type accepts
DELTAS_FOR_BLOCK: dict[str, frozenset[str]] = {
    "text": frozenset({"text_delta", "citations_delta"}),
    "thinking": frozenset({"thinking_delta", "signature_delta"}),
    "redacted_thinking": frozenset(),
    "tool_use": frozenset({"input_json_delta"}),
    "server_tool_use": frozenset({"input_json_delta"}),
}
STOP_REASONS = frozenset({"end_turn", "max_tokens", "stop_sequence", "tool_use", "pause_turn", "refusal",
                          "model_context_window_exceeded"})
# the string field each delta type carries
_DELTA_FIELD = {"text_delta": "text", "thinking_delta": "thinking", "signature_delta": "signature",
                "input_json_delta": "partial_json"}
_BLOCK_STRINGS = {"text": ("text",), "thinking": ("thinking", "signature"), "tool_use": ("id", "name"),
                  "server_tool_use": ("id", "name")}


class OrderError(AssertionError):
    """The stream breaks the Anthropic event order; the message says where."""


@dataclass
class Block:
    type: str
    start: dict[str, Any]
    deltas: list[dict[str, Any]] = field(default_factory=list)
    closed: bool = False

    def text(self, delta_type: str) -> str:
        """The concatenated string field of this block's deltas of one type."""
        return "".join(d[_DELTA_FIELD[delta_type]] for d in self.deltas if d["type"] == delta_type)


@dataclass
class Seen:
    message: dict[str, Any]
    blocks: list[Block]
    stop_reason: str | None  # None when an error ended the stream
    usage: dict[str, Any] | None
    error: dict[str, Any] | None  # the `error` object of an error event that ended the stream


def events_of(stream: bytes) -> list[tuple[str | None, dict[str, Any]]]:
    """(event name, payload) of every event, each payload a JSON object."""
    out: list[tuple[str | None, dict[str, Any]]] = []
    decoder = SSEDecoder()
    for name, data in decoder.feed(stream) + decoder.close():
        try:
            payload = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise OrderError(f"event data is not JSON ({exc}): {data[:200]!r}") from None
        if not isinstance(payload, dict):
            raise OrderError(f"event data is not a JSON object: {data[:200]!r}")
        out.append((name.decode() if name is not None else None, payload))
    return out


def check_stream(stream: bytes, *, json_inputs: bool = False) -> Seen:
    """Validate Anthropic stream bytes. `json_inputs`: every tool_use block's partial_json pieces must join
    into a JSON object (true of Anthropic itself; a translator passing through a model's broken arguments is
    not held to it)."""
    return check_events(events_of(stream), json_inputs=json_inputs)


def _fail(i: int, what: str) -> OrderError:
    return OrderError(f"event {i}: {what}")


def check_events(events: list[tuple[str | None, dict[str, Any]]], *, json_inputs: bool = False) -> Seen:
    if not events:
        raise OrderError("the stream holds no event")
    blocks: list[Block] = []
    message: dict[str, Any] | None = None
    stop: str | None = None
    usage: dict[str, Any] | None = None
    saw_delta = saw_stop = False
    for i, (name, ev) in enumerate(events):
        kind = ev.get("type")
        if name is not None and name != kind:
            raise _fail(i, f"event name {name!r} differs from its data's type {kind!r}")
        if saw_stop:
            raise _fail(i, f"{kind} after message_stop")
        if kind == "error":
            err = ev.get("error")
            if not (isinstance(err, dict) and isinstance(err.get("type"), str)
                    and isinstance(err.get("message"), str)):
                raise _fail(i, f"malformed error event {ev!r}")
            if i != len(events) - 1:
                raise _fail(i, "an error event must end the stream")
            return Seen(message or {}, blocks, None, usage, err)
        if kind == "ping":
            continue
        if message is None:
            if kind != "message_start":
                raise _fail(i, f"the stream opens with {kind}, not message_start")
            message = ev.get("message")
            if not (isinstance(message, dict) and message.get("type") == "message"
                    and message.get("role") == "assistant" and message.get("content") == []
                    and isinstance(message.get("id"), str) and isinstance(message.get("usage"), dict)):
                raise _fail(i, f"malformed message_start {ev!r}")
            continue
        if kind == "message_start":
            raise _fail(i, "a second message_start")
        open_block = blocks[-1] if blocks and not blocks[-1].closed else None
        if kind == "content_block_start":
            if saw_delta:
                raise _fail(i, "a block started after message_delta")
            if open_block is not None:
                raise _fail(i, f"block {len(blocks)} started while block {len(blocks) - 1} is open")
            if ev.get("index") != len(blocks):
                raise _fail(i, f"block index {ev.get('index')!r}, expected {len(blocks)}")
            block = ev.get("content_block")
            if not isinstance(block, dict) or block.get("type") not in DELTAS_FOR_BLOCK:
                raise _fail(i, f"unknown content block {block!r}")
            for key in _BLOCK_STRINGS.get(block["type"], ()):
                if not isinstance(block.get(key), str):
                    raise _fail(i, f"{block['type']} block without a string {key!r}: {block!r}")
            blocks.append(Block(block["type"], block))
        elif kind == "content_block_delta":
            index, delta = ev.get("index"), ev.get("delta")
            if open_block is None or index != len(blocks) - 1:
                raise _fail(i, f"delta for block {index!r}, which is not open")
            if not isinstance(delta, dict) or delta.get("type") not in DELTAS_FOR_BLOCK[open_block.type]:
                raise _fail(i, f"delta {delta!r} in a {open_block.type} block")
            text_field = _DELTA_FIELD.get(delta["type"])
            if text_field is not None and not isinstance(delta.get(text_field), str):
                raise _fail(i, f"{delta['type']} without a string {text_field!r}")
            if open_block.deltas and open_block.deltas[-1]["type"] == "signature_delta":
                raise _fail(i, "a delta after the thinking block's signature")
            open_block.deltas.append(delta)
        elif kind == "content_block_stop":
            if open_block is None or ev.get("index") != len(blocks) - 1:
                raise _fail(i, f"stop for block {ev.get('index')!r}, which is not open")
            if json_inputs and open_block.type in ("tool_use", "server_tool_use"):
                raw = open_block.text("input_json_delta") or "{}"
                try:
                    parsed = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    raise _fail(i, f"tool input is not JSON: {raw[:200]!r}") from None
                if not isinstance(parsed, dict):
                    raise _fail(i, f"tool input is not a JSON object: {raw[:200]!r}")
            open_block.closed = True
        elif kind == "message_delta":
            if saw_delta:
                raise _fail(i, "a second message_delta")
            if open_block is not None:
                raise _fail(i, f"message_delta while block {len(blocks) - 1} is open")
            delta, usage = ev.get("delta"), ev.get("usage")
            if not isinstance(delta, dict) or delta.get("stop_reason") not in STOP_REASONS:
                raise _fail(i, f"message_delta with stop reason {delta!r}")
            if not (isinstance(usage, dict) and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                                                    for v in usage.values() if not isinstance(v, dict))):
                raise _fail(i, f"message_delta usage {usage!r} is not token counts")
            stop = delta["stop_reason"]
            saw_delta = True
        elif kind == "message_stop":
            if not saw_delta:
                raise _fail(i, "message_stop without message_delta")
            saw_stop = True
        else:
            raise _fail(i, f"unknown event type {kind!r}")
    if not saw_stop:
        raise OrderError("the stream ends without message_stop or an error event")
    assert message is not None
    return Seen(message, blocks, stop, usage, None)
