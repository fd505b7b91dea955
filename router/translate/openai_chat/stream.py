"""OpenAI Chat Completions stream → Anthropic Messages stream.

A `StreamTranslator` is made per upstream stream and owns all of its state. Blocks are emitted one at a
time with contiguous indices, as Anthropic does. Parallel tool calls whose argument pieces interleave are
handled without losing a byte: the open call keeps streaming, a call that starts while the open one's JSON
is still incomplete is buffered (with any text that arrives meanwhile) and emitted whole when the message
ends. A call is recognised by its index, or by a new id at a reused index (some providers send every call
at index 0).
"""

from __future__ import annotations

from typing import Any

import orjson

from router.translate.common import new_message_id, reasoning_signature, to_anthropic_id
from router.translate.openai_chat.maps import matched_stop, stop_reason, usage_from_openai
from router.translate.openai_chat.request import EXIT_TOOL
from router.translate.openai_chat.response import (
    check_finish,
    content_text,
    exit_text,
    reasoning_of,
    upstream_error,
)
from router.translate.reading import ToolNames
from router.translate.repair import repair_arguments
from router.translate.values import as_dict, as_list, as_str, encode_arguments
from router.wire.sse import event

_EMPTY: dict[str, Any] = {}
_DELTA = b'event: content_block_delta\ndata: {"type":"content_block_delta","index":'
_STOP = b'event: content_block_stop\ndata: {"type":"content_block_stop","index":'


class _Call:
    __slots__ = ("args", "index", "name", "state", "upstream_id")

    def __init__(self, upstream_id: str | None) -> None:
        self.upstream_id = upstream_id
        self.name = ""
        self.args: list[str] = []
        self.index = -1  # Anthropic block index once opened
        self.state = "pending"  # pending → open → closed, or pending → exit (tooluse's exit tool)

    def args_complete(self) -> bool:
        raw = "".join(self.args)
        if not raw.strip():
            return False
        try:
            orjson.loads(raw)
        except orjson.JSONDecodeError:
            return False
        return True


def _text_delta(index: int, kind: str, field: str, text: str) -> bytes:
    return (_DELTA + str(index).encode() + b',"delta":{"type":"' + kind.encode() + b'","' + field.encode()
            + b'":' + orjson.dumps(text) + b"}}\n\n")


class StreamTranslator:
    def __init__(self, model: str, names: ToolNames, input_tokens_estimate: int = 0, repair_tools: bool = False,
                 exit_tool: bool = False) -> None:
        self.model = model
        # enhancetool: a call's arguments are held until it closes, then sent whole and repaired
        self.repair_tools = repair_tools
        # tooluse: a call of the exit tool is the model's answer in words, sent as text when the message ends
        self.exit_tool = exit_tool
        self.exits: list[_Call] = []
        self.names = names
        self.message_id = new_message_id()
        self.input_estimate = input_tokens_estimate
        self.next_index = 0
        self.open_kind: str | None = None  # "text" | "thinking" | "tool"
        self.open_call: _Call | None = None
        self.thinking_source: str | None = None
        self.thinking_details: list[dict[str, Any]] = []
        self.calls: dict[int, _Call] = {}
        self.current_key = 0  # the call a delta without an index continues
        self.deferred: list[tuple[str, Any]] = []
        self.buffering = False
        self.finish_reason: str | None = None
        self.stop_sequence: str | None = None  # the matched stop string, when the server names it
        self.refused = False
        self.usage: dict[str, Any] | None = None
        self.saw_tool_call = False
        self.output_chars = 0
        self.finished = False
        self.final_usage: dict[str, int] = {}  # the provider's own counts, for the decision log

    # ---- lifecycle -------------------------------------------------------------------------------------

    def start(self, first: Any = None) -> bytes:
        message: dict[str, Any] = {
            "id": self.message_id, "type": "message", "role": "assistant", "model": self.model, "content": [],
            "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": self.input_estimate, "output_tokens": 0,
                      "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
        }
        return event("message_start", {"type": "message_start", "message": message})

    @property
    def complete(self) -> bool:
        """True once the upstream said how the message ended."""
        return self.finish_reason is not None

    def feed(self, chunk: Any) -> bytes:
        if not isinstance(chunk, dict):
            return b""
        if chunk.get("error"):  # alone, or with a choice whose finish_reason is "error" (OpenRouter)
            raise upstream_error(chunk["error"])
        # Groq reports usage under x_groq. Fields of the wrong type read as absent (see response.py); the type
        # checks are written out inline: this runs once per upstream chunk
        usage = chunk.get("usage")
        if not (usage and type(usage) is dict) and "x_groq" in chunk:
            usage = as_dict(chunk["x_groq"]).get("usage")
        if usage and type(usage) is dict:
            self.usage = usage
        out: list[bytes] = []
        choices = chunk.get("choices")
        for choice in choices if type(choices) is list else ():
            if type(choice) is not dict or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta")
            if type(delta) is not dict:
                delta = _EMPTY
            if "reasoning_content" in delta or "reasoning" in delta or "reasoning_details" in delta:
                text, source, details = reasoning_of(delta)
                if text or details:
                    self._thinking(text, source, details, out)
            content = delta.get("content")
            if content:
                content = content if type(content) is str else content_text(content)
                if content:
                    self._text(content, out)
            refusal = delta.get("refusal")
            if refusal and type(refusal) is str:
                self.refused = True
                self._text(refusal, out)
            calls = delta.get("tool_calls")
            if calls:
                for call in as_list(calls):
                    if type(call) is dict:
                        self._tool(call, out)
            finish = choice.get("finish_reason")
            if finish and type(finish) is str:
                check_finish(finish)
                self.finish_reason = finish
                self.stop_sequence = matched_stop(choice)
            if "usage" in choice and as_dict(choice["usage"]):  # Moonshot/Kimi put it inside the choice
                self.usage = choice["usage"]
        return b"".join(out)

    def finish(self) -> bytes:
        """Close whatever is open, emit what was buffered, then message_delta and message_stop."""
        if self.finished:
            return b""
        self.finished = True
        out: list[bytes] = []
        self._close(out)
        self._flush_deferred(out)
        for call in self.exits:
            self._open("text", {"type": "text", "text": ""}, out)
            out.append(_text_delta(self.next_index - 1, "text_delta", "text", exit_text("".join(call.args))))
            self._close(out)
        if self.usage is not None:
            usage = usage_from_openai(self.usage)
        else:  # stream ended without usage: say what we know rather than zero
            usage = {"input_tokens": self.input_estimate, "output_tokens": max(1, self.output_chars // 4),
                     "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
        # for the decision log: the provider's counts, or the estimate marked as one (its cost still counts
        # against the budgets; the learned estimates ignore it)
        self.final_usage = usage if self.usage is not None else {**usage, "estimated": 1}
        reason = "refusal" if self.refused and not self.saw_tool_call else stop_reason(
            self.finish_reason, self.saw_tool_call)
        sequence = self.stop_sequence if reason == "end_turn" else None
        reason = "stop_sequence" if sequence else reason
        out.append(event("message_delta", {"type": "message_delta",
                                           "delta": {"stop_reason": reason, "stop_sequence": sequence},
                                           "usage": usage}))
        out.append(b'event: message_stop\ndata: {"type":"message_stop"}\n\n')
        return b"".join(out)

    def _flush_deferred(self, out: list[bytes]) -> None:
        """What waited behind an unfinished tool call, in arrival order, consecutive pieces joined."""
        i = 0
        while i < len(self.deferred):
            kind, item = self.deferred[i]
            if kind == "call":
                if item.state == "pending":
                    self._open_call(item, out)
                    self._close(out)
                i += 1
                continue
            j = i
            while j < len(self.deferred) and self.deferred[j][0] == kind:
                j += 1
            run = [item for _, item in self.deferred[i:j]]
            if kind == "text":
                self._open("text", {"type": "text", "text": ""}, out)
                out.append(_text_delta(self.next_index - 1, "text_delta", "text", "".join(run)))
            else:
                self._open("thinking", {"type": "thinking", "thinking": "", "signature": ""}, out)
                self.thinking_source = next((src for _, src, _ in run if src), None)
                for _, _, details in run:
                    if details:
                        self._merge_details(details)
                text = "".join(t for t, _, _ in run)
                if text:
                    out.append(_text_delta(self.next_index - 1, "thinking_delta", "thinking", text))
            self._close(out)
            i = j
        self.deferred = []

    # ---- blocks ----------------------------------------------------------------------------------------

    def _can_switch(self) -> bool:
        return self.open_kind != "tool" or (self.open_call is not None and self.open_call.args_complete())

    def _close(self, out: list[bytes]) -> None:
        if self.open_kind is None:
            return
        index = self.next_index - 1
        if self.open_kind == "thinking":
            signature = reasoning_signature(self.thinking_source or "reasoning_content", self.thinking_details)
            out.append(event("content_block_delta", {"type": "content_block_delta", "index": index,
                                                     "delta": {"type": "signature_delta", "signature": signature}}))
            self.thinking_details = []
        elif self.open_call is not None:
            if self.repair_tools:
                out.append(_text_delta(index, "input_json_delta", "partial_json",
                                       repair_arguments("".join(self.open_call.args))))
            self.open_call.state = "closed"
            self.open_call = None
        out.append(_STOP + str(index).encode() + b"}\n\n")
        self.open_kind = None

    def _open(self, kind: str, block: dict[str, Any], out: list[bytes]) -> int:
        self._close(out)
        index = self.next_index
        self.next_index += 1
        self.open_kind = kind
        out.append(event("content_block_start", {"type": "content_block_start", "index": index,
                                                 "content_block": block}))
        return index

    def _text(self, text: str, out: list[bytes]) -> None:
        self.output_chars += len(text)
        if self.open_kind != "text":
            if self.buffering or not self._can_switch():
                self.buffering = True  # everything after this waits, so order is kept
                self.deferred.append(("text", text))
                return
            self._open("text", {"type": "text", "text": ""}, out)
        out.append(_text_delta(self.next_index - 1, "text_delta", "text", text))

    def _thinking(self, text: str, source: str | None, details: list[Any] | None, out: list[bytes]) -> None:
        self.output_chars += len(text)
        if self.open_kind != "thinking":
            if self.buffering or not self._can_switch():
                self.buffering = True
                self.deferred.append(("thinking", (text, source, details)))
                return
            self._open("thinking", {"type": "thinking", "thinking": "", "signature": ""}, out)
            self.thinking_source = source
        if details:
            self._merge_details(details)
        if text:
            out.append(_text_delta(self.next_index - 1, "thinking_delta", "thinking", text))

    def _merge_details(self, details: list[Any]) -> None:
        """OpenRouter streams reasoning_details piece by piece; replay wants them whole."""
        for d in details:
            if not isinstance(d, dict):
                continue
            last = self.thinking_details[-1] if self.thinking_details else None
            # compared with a scalar first: == between two lists or objects nested as deep as orjson reads
            # exceeds Python's recursion limit
            index = d.get("index")
            if (last is not None and d.get("type") == "reasoning.text" and last.get("type") == "reasoning.text"
                    and (index is None or isinstance(index, int)) and last.get("index") == index):
                last["text"] = as_str(last.get("text")) + as_str(d.get("text"))
                if d.get("signature"):
                    last["signature"] = d["signature"]
            else:
                self.thinking_details.append(dict(d))

    def _tool(self, delta: dict[str, Any], out: list[bytes]) -> None:
        key = delta.get("index")
        upstream_id = as_str(delta.get("id")) or None
        if not isinstance(key, int):
            # no index: a continuation of the latest call, unless it names a function while that call already
            # has one: some servers stream each call whole with neither index nor id, and two of them must
            # stay two calls (a new key, below any real index)
            key = self.current_key
            latest = self.calls.get(key)
            if upstream_id is None and latest is not None and latest.name and as_str(
                    as_dict(delta.get("function")).get("name")):
                key = min([0, *self.calls]) - 1
        self.current_key = key
        call = self.calls.get(key)
        if call is None or (upstream_id and call.upstream_id and upstream_id != call.upstream_id):
            call = _Call(upstream_id)
            self.calls[key] = call
        elif upstream_id and not call.upstream_id:
            call.upstream_id = upstream_id
        fn = as_dict(delta.get("function"))
        if as_str(fn.get("name")) and not call.name:
            call.name = fn["name"]
        piece = fn.get("arguments")
        piece = encode_arguments(piece).decode() if isinstance(piece, dict) else as_str(piece)
        if piece:
            call.args.append(piece)
            self.output_chars += len(piece)
        if call.state == "open":
            if piece and not self.repair_tools:
                out.append(_text_delta(call.index, "input_json_delta", "partial_json", piece))
        elif call.state == "pending" and self.exit_tool and call.name == EXIT_TOOL:
            call.state = "exit"
            self.exits.append(call)
        elif call.state == "pending" and call.name and ("call", call) not in self.deferred:
            if not self.buffering and self._can_switch():
                self._open_call(call, out)
            else:
                self.buffering = True
                self.deferred.append(("call", call))

    def _open_call(self, call: _Call, out: list[bytes]) -> None:
        call.index = self._open("tool", {"type": "tool_use", "id": to_anthropic_id(call.upstream_id),
                                         "name": self.names.restore(call.name), "input": {}}, out)
        call.state = "open"
        self.open_call = call
        self.saw_tool_call = True  # only calls that became blocks: one without a name is never run
        if call.args and not self.repair_tools:
            out.append(_text_delta(call.index, "input_json_delta", "partial_json", "".join(call.args)))

