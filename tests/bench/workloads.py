"""The benchmark's requests and the upstream's answers: a real Claude Code request (captured from the CLI,
tests/fixtures/claude_code/request_hi.json, grown by three tool rounds to Claude Code's mid-task size), the same
streamed, and a small request; an OpenAI answer as JSON and as a stream of 50 chunks; a 150k-token
conversation for the routing decision."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "claude_code" / "request_hi.json"
CHUNKS = 50

_CODE = "".join(f"    def handler_{i}(self, request):\n        return self.dispatch(request, {i})\n" for i in range(130))


def claude_code_request(stream: bool) -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(json.loads(FIXTURE.read_text()))
    body["model"] = "claude-opus-4-8"
    body["stream"] = stream
    body["messages"] = [body["messages"][0]]
    for i in range(3):  # three tool rounds of the turn: Claude Code reads files, as it does mid-task
        body["messages"].append({"role": "assistant", "content": [
            {"type": "text", "text": f"Reading module {i}."},
            {"type": "tool_use", "id": f"toolu_bench{i}", "name": "Read", "input": {"file_path": f"/src/app/mod{i}.py"}}]})
        body["messages"].append({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": f"toolu_bench{i}", "content": _CODE}]})
    return body


def small_request() -> dict[str, Any]:
    return {"model": "claude-haiku-4-5", "max_tokens": 256,
            "messages": [{"role": "user", "content": "Say hi in one word."}]}


def openai_json() -> bytes:
    return json.dumps({
        "id": "chatcmpl-bench", "object": "chat.completion", "created": 1, "model": "bench-model",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": "Done: the handlers are registered in order."}}],
        "usage": {"prompt_tokens": 18000, "completion_tokens": 12, "total_tokens": 18012,
                  "prompt_tokens_details": {"cached_tokens": 16000}}}).encode()


def openai_stream() -> bytes:
    def event(delta: dict[str, Any], finish: str | None = None, usage: dict[str, Any] | None = None) -> str:
        chunk: dict[str, Any] = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1,
                                 "model": "bench-model", "choices": [{"index": 0, "delta": delta,
                                                                      "finish_reason": finish}]}
        if usage is not None:
            chunk["usage"] = usage
        return "data: " + json.dumps(chunk) + "\n\n"

    events = [event({"role": "assistant", "content": ""})]
    events += [event({"content": f"word{i} "}) for i in range(CHUNKS - 2)]
    events.append(event({}, "stop", {"prompt_tokens": 18000, "completion_tokens": 48,
                                     "prompt_tokens_details": {"cached_tokens": 16000}}))
    return ("".join(events) + "data: [DONE]\n\n").encode()


def _round(i: int, lines: int = 160) -> list[dict[str, Any]]:
    """One tool round: the agent reads a file, the tool returns it."""
    code = "".join(f"    def handler_{i}_{j}(self, request):\n        return self.dispatch(request, {j})\n"
                   for j in range(lines))
    return [{"role": "assistant", "content": [
                {"type": "text", "text": f"Reading module {i}."},
                {"type": "tool_use", "id": f"toolu_long{i}", "name": "Read",
                 "input": {"file_path": f"/src/app/module_{i}.py"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"toolu_long{i}",
                                          "content": f"# module {i}\n{code}"}]}]


def long_conversation(tokens: int = 150_000) -> tuple[dict[str, Any], Callable[[int], dict[str, Any]]]:
    """A Claude Code conversation of about `tokens` tokens (tiktoken's count), several human turns of file
    reads, and a function giving the next request of its last turn: the same conversation plus the tool round
    `i`, the only new content."""
    from router.tokens import count_request

    body = claude_code_request(False)
    body["messages"] = body["messages"][:1]
    i = 0
    while count_request(body) < tokens:
        if i and i % 12 == 0:  # a new human turn now and then
            body["messages"].append({"role": "assistant", "content": [{"type": "text", "text": "Done."}]})
            body["messages"].append({"role": "user", "content": f"Now look at the modules after {i}."})
        body["messages"] += _round(i)
        i += 1

    def next_request(n: int) -> dict[str, Any]:
        return {**body, "messages": [*body["messages"], *_round(100_000 + n)]}

    return body, next_request


# The same 50-chunk text answer in each wire format's stream, for the translation cost per chunk.
def gemini_stream() -> bytes:
    events = [{"candidates": [{"content": {"role": "model", "parts": [{"text": f"word{i} "}]}, "index": 0}],
               "modelVersion": "gemini-2.5-flash"} for i in range(CHUNKS - 1)]
    events.append({"candidates": [{"content": {"role": "model", "parts": [{"text": "end"}]}, "index": 0,
                                   "finishReason": "STOP"}],
                   "usageMetadata": {"promptTokenCount": 18000, "cachedContentTokenCount": 16000,
                                     "candidatesTokenCount": 48, "totalTokenCount": 18048}})
    return "".join(f"data: {json.dumps(e)}\r\n\r\n" for e in events).encode()


def responses_stream() -> bytes:
    item = {"id": "msg_b", "type": "message", "status": "in_progress", "role": "assistant", "content": []}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": {"id": "resp_b", "status": "in_progress", "output": []}},
        {"type": "response.output_item.added", "output_index": 0, "item": item},
        {"type": "response.content_part.added", "output_index": 0, "content_index": 0, "item_id": "msg_b",
         "part": {"type": "output_text", "text": ""}}]
    events += [{"type": "response.output_text.delta", "output_index": 0, "content_index": 0, "item_id": "msg_b",
                "delta": f"word{i} "} for i in range(CHUNKS - 5)]
    done = {**item, "status": "completed", "content": [{"type": "output_text", "text": "…"}]}
    events += [{"type": "response.output_item.done", "output_index": 0, "item": done},
               {"type": "response.completed", "response": {"id": "resp_b", "status": "completed", "output": [done],
                "usage": {"input_tokens": 18000, "input_tokens_details": {"cached_tokens": 16000},
                          "output_tokens": 48}}}]
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events).encode()


def anthropic_stream() -> bytes:
    message = {"id": "msg_b", "type": "message", "role": "assistant", "model": "bench", "content": [],
               "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 18000, "output_tokens": 1}}
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": message},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}]
    events += [{"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": f"word{i} "}}
               for i in range(CHUNKS - 5)]
    events += [{"type": "content_block_stop", "index": 0},
               {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": 48}},
               {"type": "message_stop"}]
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events).encode()
