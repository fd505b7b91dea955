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
