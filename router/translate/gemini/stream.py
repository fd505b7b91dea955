"""Gemini stream (streamGenerateContent?alt=sse: each event a whole GenerateContentResponse, no [DONE]) →
Anthropic Messages stream.

Gemini sends every part whole (a function call arrives complete, text and thoughts in pieces), so blocks open and
close in arrival order with indices 0,1,2…; one translator per stream owns the state. Thought signatures travel
on thinking blocks as signatures.py describes: a thought's own on its block, a function call's on the thinking
block right before its tool_use (an empty one when there was no thought text), a text part's on a thinking
block right after that text when more blocks follow. The signature of an answer's final text is not passed on:
a message ending in a thinking block reads as an empty answer to Claude Code, and Gemini validates only the
signatures of function calls.
"""

from __future__ import annotations

from typing import Any

import orjson

from router.translate.common import new_message_id, to_anthropic_id
from router.translate.gemini import signatures
from router.translate.gemini.errors import FAILURES, REFUSALS, blocked_prompt, finish_failure, gemini_error
from router.translate.gemini.request import ToolNames
from router.translate.values import as_list, as_str, count
from router.wire.sse import event

_DELTA = b'event: content_block_delta\ndata: {"type":"content_block_delta","index":'
_STOP = b'event: content_block_stop\ndata: {"type":"content_block_stop","index":'


def usage_of(meta: Any) -> dict[str, int]:
    """usageMetadata (cumulative) in Anthropic's terms: cached prompt tokens apart, thoughts are output."""
    meta = meta if isinstance(meta, dict) else {}
    cached = count(meta.get("cachedContentTokenCount"))
    prompt = count(meta.get("promptTokenCount")) + count(meta.get("toolUsePromptTokenCount"))
    return {"input_tokens": max(prompt - cached, 0),
            "output_tokens": count(meta.get("candidatesTokenCount")) + count(meta.get("thoughtsTokenCount")),
            "cache_creation_input_tokens": 0, "cache_read_input_tokens": cached}


def _delta(index: int, kind: str, field: str, text: str) -> bytes:
    return (_DELTA + str(index).encode() + b',"delta":{"type":"' + kind.encode() + b'","' + field.encode()
            + b'":' + orjson.dumps(text) + b"}}\n\n")


class StreamTranslator:
    def __init__(self, model: str, names: ToolNames, provider: str, input_estimate: int = 0) -> None:
        self.model = model
        self.names = names
        self.provider = provider
        self.message_id = new_message_id()
        self.input_estimate = input_estimate
        self.next_index = 0
        self.open: str | None = None  # "thinking" | "text"
        self.block_signatures: dict[str, str] = {}  # of the open thinking block
        self.text_signature: str | None = None  # of the open text block, carried on a block after it
        # a closed text block's signature, waiting for the next block: its carrier goes out only if more follows,
        # since Claude Code reads a message that ends with a thinking block as an empty answer
        self.held: str | None = None
        self.saw_call = False
        self.call_ids: set[str] = set()  # the tool_use ids given out, unique as Anthropic's must be
        self.finish_reason: str | None = None
        self.meta: dict[str, Any] | None = None
        self.sources: dict[str, str] = {}  # Google Search grounding: uri → title
        self.output_chars = 0
        self.finished = False
        self.final_usage: dict[str, int] = {}

    @property
    def complete(self) -> bool:
        return self.finish_reason is not None

    def start(self, first: Any) -> bytes:
        meta = first.get("usageMetadata") if isinstance(first, dict) else None
        usage = usage_of(meta) if isinstance(meta, dict) and "promptTokenCount" in meta else {
            "input_tokens": self.input_estimate, "output_tokens": 0, "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0}
        usage["output_tokens"] = 0
        message: dict[str, Any] = {"id": self.message_id, "type": "message", "role": "assistant", "model": self.model,
                   "content": [], "stop_reason": None, "stop_sequence": None, "usage": usage}
        return event("message_start", {"type": "message_start", "message": message})

    def feed(self, chunk: Any) -> bytes:
        if isinstance(chunk, list):  # the JSON-array form, should an upstream ignore alt=sse: one level only, a
            # list nested 1000 deep (orjson reads 1024) would otherwise recurse past Python's limit
            return b"".join(self.feed(c) for c in chunk if not isinstance(c, list))
        if not isinstance(chunk, dict):
            return b""
        if chunk.get("error"):
            raise gemini_error(chunk["error"], self.provider)
        meta = chunk.get("usageMetadata")
        if isinstance(meta, dict):
            self.meta = meta
        candidates = chunk.get("candidates")
        candidate = candidates[0] if isinstance(candidates, list) and candidates else None
        if not isinstance(candidate, dict):
            feedback = chunk.get("promptFeedback")
            if isinstance(feedback, dict) and isinstance(feedback.get("blockReason"), str) and feedback["blockReason"]:
                raise blocked_prompt(feedback["blockReason"], feedback.get("blockReasonMessage"), self.provider)
            return b""
        out: list[bytes] = []
        content = candidate.get("content")
        parts = content.get("parts") if isinstance(content, dict) else None
        for part in parts if isinstance(parts, list) else ():
            if isinstance(part, dict):
                self._part(part, out)
        grounding = candidate.get("groundingMetadata")
        if isinstance(grounding, dict):
            for item in as_list(grounding.get("groundingChunks")):
                web = item.get("web") if isinstance(item, dict) else None
                if isinstance(web, dict) and isinstance(web.get("uri"), str):
                    title = web.get("title")  # str() of anything else could nest past the recursion limit
                    self.sources.setdefault(web["uri"], title if isinstance(title, str) and title else web["uri"])
        reason = candidate.get("finishReason")
        if isinstance(reason, str) and reason:
            if reason in FAILURES:
                raise finish_failure(reason, candidate.get("finishMessage"), self.provider)
            self.finish_reason = reason
        return b"".join(out)

    def finish(self) -> bytes:
        if self.finished:
            return b""
        self.finished = True
        out: list[bytes] = []
        self._close(out)
        if self.sources:
            lines = "\n".join(f"- [{title}]({uri})" for uri, title in self.sources.items())
            self._open_text(out)
            out.append(_delta(self.next_index - 1, "text_delta", "text", "\n\nSources:\n" + lines))
            self._close(out)
        if self.meta is not None:
            usage = usage_of(self.meta)
            self.final_usage = usage
        else:  # no counts from the provider: an estimate, marked as one for the log
            usage = {"input_tokens": self.input_estimate, "output_tokens": max(1, self.output_chars // 4),
                     "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
            self.final_usage = {**usage, "estimated": 1}
        reason = self.finish_reason or "STOP"
        if reason in REFUSALS:
            stop = "refusal"
        elif reason == "MAX_TOKENS":
            stop = "max_tokens"
        else:  # STOP, OTHER: Gemini says STOP after function calls too, Claude Code runs tools on tool_use only
            stop = "tool_use" if self.saw_call else "end_turn"
        out.append(event("message_delta", {"type": "message_delta",
                                           "delta": {"stop_reason": stop, "stop_sequence": None}, "usage": usage}))
        out.append(b'event: message_stop\ndata: {"type":"message_stop"}\n\n')
        return b"".join(out)

    # ---- parts -----------------------------------------------------------------------------------------

    def _part(self, part: dict[str, Any], out: list[bytes]) -> None:
        signature = part.get("thoughtSignature")
        signature = signature if isinstance(signature, str) and signature else None
        text = part.get("text")
        text = text if isinstance(text, str) else ""
        call = part.get("functionCall")
        if isinstance(call, dict):
            self._call(call, signature, out)
        elif part.get("thought") is True:
            if self.open != "thinking":
                self._close(out)
                self._open_block("thinking", {"type": "thinking", "thinking": "", "signature": ""}, out)
            if text:
                self.output_chars += len(text)
                out.append(_delta(self.next_index - 1, "thinking_delta", "thinking", text))
            if signature:
                self.block_signatures["t"] = signature
        elif text:
            self._open_text(out)
            self.output_chars += len(text)
            out.append(_delta(self.next_index - 1, "text_delta", "text", text))
            if signature:
                self.text_signature = signature
        elif signature:  # an empty part that only signs what came before it
            if self.open == "text":
                self.text_signature = signature
            else:
                self._close(out)
                self.held = signature
        # inline images, executable code and the like: nothing Claude Code can show as a block

    def _call(self, call: dict[str, Any], signature: str | None, out: list[bytes]) -> None:
        if self.open == "thinking" and signature:
            self.block_signatures["n"] = signature
            signature = None
        self._close(out)
        if signature:
            self._carrier({"n": signature}, out)
        args = call.get("args")
        try:
            raw = orjson.dumps(args if isinstance(args, dict) else {}).decode()
        except orjson.JSONEncodeError:
            raise finish_failure("MALFORMED_FUNCTION_CALL", "arguments nested too deeply to pass on",
                                 self.provider) from None
        upstream_id, name = call.get("id"), call.get("name")
        call_id = to_anthropic_id(upstream_id if isinstance(upstream_id, str) else None)
        if call_id in self.call_ids:  # an id Gemini gave twice: Claude Code would answer both calls as one
            call_id = to_anthropic_id(None)
        self.call_ids.add(call_id)
        index = self._open_block("tool", {"type": "tool_use", "id": call_id, "name": self.names.restore(as_str(name)),
                                          "input": {}}, out)
        out.append(_delta(index, "input_json_delta", "partial_json", raw))
        self.output_chars += len(raw)
        self.saw_call = True
        out.append(_STOP + str(index).encode() + b"}\n\n")
        self.open = None

    # ---- blocks ----------------------------------------------------------------------------------------

    def _open_block(self, kind: str, block: dict[str, Any], out: list[bytes]) -> int:
        if self.held is not None:
            held, self.held = self.held, None
            self._carrier({"p": held}, out)
        index = self.next_index
        self.next_index += 1
        self.open = kind
        out.append(event("content_block_start", {"type": "content_block_start", "index": index,
                                                 "content_block": block}))
        return index

    def _open_text(self, out: list[bytes]) -> None:
        if self.open != "text":
            self._close(out)
            self._open_block("text", {"type": "text", "text": ""}, out)

    def _carrier(self, carried: dict[str, str], out: list[bytes]) -> None:
        """A thinking block with no text that only carries signatures."""
        self._open_block("thinking", {"type": "thinking", "thinking": "", "signature": ""}, out)
        self.block_signatures = carried
        self._close(out)

    def _close(self, out: list[bytes]) -> None:
        if self.open is None:
            return
        index = self.next_index - 1
        kind, self.open = self.open, None
        if kind == "thinking":
            out.append(event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": {
                "type": "signature_delta", "signature": signatures.pack(self.block_signatures)}}))
            self.block_signatures = {}
        out.append(_STOP + str(index).encode() + b"}\n\n")
        if kind == "text" and self.text_signature:
            self.held, self.text_signature = self.text_signature, None
