"""OpenAI Responses stream → Anthropic Messages stream.

A `ResponsesStream` is made per upstream stream and owns all of its state. The upstream's output items
(reasoning, message, function_call), keyed by `output_index`, become content blocks in the order they were
added, with indices 0, 1, 2… and one block open at a time, as Anthropic's SDKs require. When the deltas of two
items interleave, the item added first keeps streaming and the other's pieces wait until it is done; so output
indices may skip, repeat in any order, or arrive only with their `done` event, and no byte is lost or misplaced.

A reasoning item becomes a thinking block whose signature (sent just before the block stops, from the item's
`output_item.done`: the encrypted content in `added` may be incomplete) carries the item for replay; it does
so even without summary text. Nothing is sent to the client before the first output item: an `error` or
`response.failed` that comes first is still an HTTP error with its own status (and a chance to fall back).
"""

from __future__ import annotations

from typing import Any

import orjson

from router.translate.adapter import Partial
from router.translate.common import new_message_id, to_anthropic_id
from router.translate.openai_responses.response import (
    failure,
    message_text,
    reasoning_text,
    signature_for,
    stop_reason,
    usage_from_responses,
)
from router.translate.reading import ToolNames
from router.translate.values import as_dict, as_list, as_str, encode_arguments
from router.wire.errors import ProxyError, UpstreamUnavailable
from router.wire.sse import DONE, SSEDecoder, event

_DELTA = b'event: content_block_delta\ndata: {"type":"content_block_delta","index":'
_STOP = b'event: content_block_stop\ndata: {"type":"content_block_stop","index":'
_KINDS = {"reasoning": "reasoning", "message": "message", "function_call": "call"}
# delta events → (the kind of item they belong to, the kind of piece)
_PIECES = {
    "response.output_text.delta": ("message", "text"),
    "response.refusal.delta": ("message", "refusal"),
    "response.function_call_arguments.delta": ("call", "args"),
    "response.reasoning_summary_text.delta": ("reasoning", "summary"),
    "response.reasoning_text.delta": ("reasoning", "text"),
}
_TERMINAL = ("response.completed", "response.incomplete")


def _piece(index: int, kind: str, field: str, text: str) -> bytes:
    return (_DELTA + str(index).encode() + b',"delta":{"type":"' + kind.encode() + b'","' + field.encode()
            + b'":' + orjson.dumps(text) + b"}}\n\n")


class _Item:
    """One output item: its pieces wait in `pending` until it is the item being streamed."""

    __slots__ = ("block", "call_id", "done", "final", "kind", "name", "pending", "sent", "summary_index")

    def __init__(self, kind: str, item: dict[str, Any]) -> None:
        self.kind = kind  # reasoning | message | call | other
        self.block = -1  # the Anthropic block index once opened
        self.call_id = as_str(item.get("call_id"))
        self.name = as_str(item.get("name"))
        self.pending: list[str] = []
        self.sent = False  # some piece of it reached the client (or waits to)
        self.done = False
        self.final: dict[str, Any] = item
        self.summary_index: Any = None


class ResponsesStream:
    def __init__(self, label: str, names: ToolNames, provider: str, model: str, input_estimate: int = 0) -> None:
        self.label = label
        self.names = names
        self.provider = provider
        self.model = model
        self.input_estimate = input_estimate
        self.message_id = new_message_id()
        self.decoder = SSEDecoder()
        self.items: dict[int, _Item] = {}
        self.queue: list[_Item] = []  # in the order they were added
        self.head = 0  # queue position of the item being streamed
        self.next_block = 0
        self.started = False
        self.finished = False
        self.saw_call = False
        self.refused = False
        self.output_chars = 0
        self.usage: dict[str, int] = {}

    # ---- the StreamTranslation protocol -----------------------------------------------------------------

    def feed(self, data: bytes) -> bytes:
        return self._events(self.decoder.feed(data))

    def close(self) -> bytes:
        out = self._events(self.decoder.close())
        if self.finished:
            return out
        truncated = UpstreamUnavailable(f"provider '{self.provider}' ended the stream before the answer was complete")
        if not self.started:
            raise truncated
        raise Partial(out, truncated)

    def _events(self, events: list[tuple[bytes | None, bytes]]) -> bytes:
        out: list[bytes] = []
        try:
            for name, data in events:
                if self.finished:
                    break
                if data == DONE:
                    continue
                try:
                    ev = orjson.loads(data)
                except orjson.JSONDecodeError:
                    raise UpstreamUnavailable(f"provider '{self.provider}' sent a stream event that is not JSON: "
                                              f"{data[:120].decode('utf-8', 'replace')!r}") from None
                if isinstance(ev, dict):
                    self._event(as_str(ev.get("type")) or (name or b"").decode("utf-8", "replace"), ev, out)
        except ProxyError as exc:
            if self.started:
                raise Partial(b"".join(out), exc) from None
            raise
        return b"".join(out)

    # ---- events ----------------------------------------------------------------------------------------

    def _event(self, kind: str, ev: dict[str, Any], out: list[bytes]) -> None:
        piece = _PIECES.get(kind)
        if piece is not None:
            delta = ev.get("delta")
            if isinstance(delta, str) and delta:
                self._piece(self._item(ev, piece[0]), piece[1], delta, ev, out)
        elif kind == "response.output_item.added":
            self._added(ev.get("output_index"), as_dict(ev.get("item")), out)
        elif kind == "response.output_item.done":
            self._done(ev.get("output_index"), as_dict(ev.get("item")), out)
        elif kind == "response.function_call_arguments.done":
            item = self._item(ev, "call")  # a server that sends the arguments only whole
            if not item.sent and as_str(ev.get("arguments")):
                self._piece(item, "args", ev["arguments"], ev, out)
        elif kind in _TERMINAL:
            self._terminal(as_dict(ev.get("response")), out)
        elif kind == "response.failed":
            response = as_dict(ev.get("response"))
            raise failure(response.get("error") or {"message": "the response failed"}, self.provider)
        elif kind == "error":
            raise failure(ev.get("error") if isinstance(ev.get("error"), dict) else ev, self.provider)
        # response.created / in_progress / queued, content_part and summary_part events, *.done texts: the
        # deltas and the items carry what they say

    def _item(self, ev: dict[str, Any], kind: str) -> _Item:
        """The item a delta belongs to: by output_index, else the latest of its kind; one never announced is
        added now (servers that skip `added`)."""
        key = ev.get("output_index")
        if isinstance(key, int):
            item = self.items.get(key)
            return item if item is not None else self._new(key, kind, {})
        latest = next((i for i in reversed(self.queue) if i.kind == kind and not i.done), None)
        return latest if latest is not None else self._new(-1 - len(self.queue), kind, {})

    def _new(self, key: int, kind: str, data: dict[str, Any]) -> _Item:
        item = _Item(kind, data)
        self.items[key] = item
        self.queue.append(item)
        return item

    def _added(self, key: Any, data: dict[str, Any], out: list[bytes]) -> None:
        key = key if isinstance(key, int) else -1 - len(self.queue)
        if key in self.items:  # announced twice, or its deltas came first
            item = self.items[key]
            item.call_id = item.call_id or as_str(data.get("call_id"))
            item.name = item.name or as_str(data.get("name"))
        else:
            item = self._new(key, _KINDS.get(as_str(data.get("type")), "other"), data)
        self._advance(out)

    def _piece(self, item: _Item, piece: str, text: str, ev: dict[str, Any], out: list[bytes]) -> None:
        if item.done:
            return  # the item's done event already said all
        self.output_chars += len(text)
        if piece == "refusal":
            self.refused = True
        elif piece == "summary":
            # a new summary part after text of an earlier one: a blank line between them, as in the whole answer
            part = ev.get("summary_index")
            # an index only: compared below, and == between two lists nested as deep as orjson reads exceeds
            # Python's recursion limit
            part = part if isinstance(part, int) else None
            if item.summary_index is not None and part != item.summary_index and item.sent:
                text = "\n\n" + text
            item.summary_index = part
        item.sent = True
        if self._streaming(item):
            self._emit(item, text, out)
        else:
            item.pending.append(text)

    def _done(self, key: Any, data: dict[str, Any], out: list[bytes]) -> None:
        if not isinstance(key, int) or key not in self.items:
            kind = _KINDS.get(as_str(data.get("type")), "other")
            key = key if isinstance(key, int) else -1 - len(self.queue)
            self._new(key, kind, data)
        item = self.items[key]
        if item.done:
            return
        item.final = data or item.final
        item.call_id = as_str(data.get("call_id")) or item.call_id
        item.name = as_str(data.get("name")) or item.name
        if not item.sent:  # no deltas came: the done item holds it all
            whole = self._whole_text(item)
            if whole:
                item.sent = True
                item.pending.append(whole)
                self.output_chars += len(whole)
        item.done = True
        self._advance(out)

    def _whole_text(self, item: _Item) -> str:
        if item.kind == "reasoning":
            return reasoning_text(item.final)
        if item.kind == "message":
            text, refused = message_text(item.final)
            self.refused = self.refused or refused
            return text
        if item.kind == "call":
            args = item.final.get("arguments")
            return encode_arguments(args).decode() if isinstance(args, dict) else as_str(args)
        return ""

    def _terminal(self, response: dict[str, Any], out: list[bytes]) -> None:
        # the final response holds every item whole: it completes items whose done event never came, and
        # brings those none of whose events came (servers that send only the final response)
        for n, data in enumerate(as_list(response.get("output"))):
            if not isinstance(data, dict):
                continue
            if n in self.items:
                if self.items[n].kind == _KINDS.get(as_str(data.get("type")), "other"):
                    self._done(n, data, out)
            elif not self._seen(data):
                self._added(n, data, out)
                self._done(n, data, out)
        for item in self.queue:  # items still streaming when the response ended (cut at max_output_tokens)
            item.done = True
        self._advance(out)
        self._begin(out)
        reported = response.get("usage")
        if isinstance(reported, dict):
            usage = usage_from_responses(reported)
            self.usage.update(usage)
        else:  # say what is known rather than zero; the log marks it as an estimate
            usage = {"input_tokens": self.input_estimate, "output_tokens": max(1, self.output_chars // 4),
                     "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
            self.usage.update(usage, estimated=1)
        out.append(event("message_delta", {"type": "message_delta",
                                           "delta": {"stop_reason": stop_reason(response, self.saw_call,
                                                                                self.refused),
                                                     "stop_sequence": None},
                                           "usage": usage}))
        out.append(b'event: message_stop\ndata: {"type":"message_stop"}\n\n')
        self.finished = True

    def _seen(self, data: dict[str, Any]) -> bool:
        """Whether an item of the final response already came under another output_index."""
        ident = as_str(data.get("id")) or as_str(data.get("call_id"))  # a string: == on deep values recurses
        return bool(ident) and any(i.final.get("id") == ident or (i.call_id and i.call_id == ident)
                                   for i in self.items.values())

    # ---- blocks ----------------------------------------------------------------------------------------

    def _streaming(self, item: _Item) -> bool:
        return self.head < len(self.queue) and self.queue[self.head] is item

    def _begin(self, out: list[bytes]) -> None:
        if self.started:
            return
        self.started = True
        message: dict[str, Any] = {
            "id": self.message_id, "type": "message", "role": "assistant", "model": self.label, "content": [],
            "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": self.input_estimate, "output_tokens": 0, "cache_creation_input_tokens": 0,
                      "cache_read_input_tokens": 0}}
        out.append(event("message_start", {"type": "message_start", "message": message}))

    def _open(self, item: _Item, out: list[bytes]) -> None:
        if item.block >= 0:
            return
        if item.kind == "reasoning":
            block: dict[str, Any] = {"type": "thinking", "thinking": "", "signature": ""}
        elif item.kind == "call":
            self.saw_call = True
            block = {"type": "tool_use", "id": to_anthropic_id(item.call_id or None),
                     "name": self.names.restore(item.name), "input": {}}
        else:
            block = {"type": "text", "text": ""}
        self._begin(out)
        item.block = self.next_block
        self.next_block += 1
        out.append(event("content_block_start", {"type": "content_block_start", "index": item.block,
                                                 "content_block": block}))

    def _emit(self, item: _Item, text: str, out: list[bytes]) -> None:
        if item.kind == "other":
            return
        self._open(item, out)
        if item.kind == "reasoning":
            out.append(_piece(item.block, "thinking_delta", "thinking", text))
        elif item.kind == "call":
            out.append(_piece(item.block, "input_json_delta", "partial_json", text))
        else:
            out.append(_piece(item.block, "text_delta", "text", text))

    def _advance(self, out: list[bytes]) -> None:
        """Stream the head item's waiting pieces; while it is done, close it and move to the next one."""
        while self.head < len(self.queue):
            item = self.queue[self.head]
            if item.kind in ("reasoning", "call"):
                self._open(item, out)  # these are blocks even when empty: the signature, the call
            for text in item.pending:
                self._emit(item, text, out)
            item.pending = []
            if not item.done:
                return
            if item.block >= 0:
                if item.kind == "reasoning":
                    signature = signature_for(item.final, self.provider, self.model)
                    out.append(event("content_block_delta", {"type": "content_block_delta", "index": item.block,
                                                             "delta": {"type": "signature_delta",
                                                                       "signature": signature}}))
                out.append(_STOP + str(item.block).encode() + b"}\n\n")
            self.head += 1
