"""A scripted model behind an OpenAI Chat Completions endpoint, for driving the real Claude Code CLI.

It reads the conversation the way a model would (the task in the first user prompt, the tool results so far)
and answers with the next step, streamed in OpenAI's chunk format with the quirks a scenario asks for. What
it answers depends only on what ccr delivered, so a lost or garbled tool result shows up as a wrong step.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import Any

from tests.support.openai_strict import refusal
from tests.support.upstream import Received, Reply, sse

Step = dict[str, Any]
USAGE = {"prompt_tokens": 1200, "completion_tokens": 40, "prompt_tokens_details": {"cached_tokens": 1000}}


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"id": "chatcmpl-e2e", "object": "chat.completion.chunk", "model": "scripted",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def stream_step(step: Step, *, interleave: bool = False) -> list[bytes]:
    """A step ({"text", "reasoning", "calls": [(id, name, args)]}) as an OpenAI stream."""
    events: list[Any] = [_chunk({"role": "assistant", "content": ""})]
    reasoning = step.get("reasoning")
    if reasoning:
        for piece in (reasoning[: len(reasoning) // 2], reasoning[len(reasoning) // 2:]):
            events.append(_chunk({"reasoning_content": piece}))
    text = step.get("text")
    if text:
        for piece in re.findall(r".{1,12}", text, re.S):
            events.append(_chunk({"content": piece}))
    calls = step.get("calls") or []
    pieces = []
    for i, (call_id, name, args) in enumerate(calls):
        raw = json.dumps(args)
        cut = len(raw) // 2
        events.append(_chunk({"tool_calls": [{"index": i, "id": call_id, "type": "function",
                                              "function": {"name": name, "arguments": ""}}]}))
        first = _chunk({"tool_calls": [{"index": i, "function": {"arguments": raw[:cut]}}]})
        second = _chunk({"tool_calls": [{"index": i, "function": {"arguments": raw[cut:]}}]})
        if interleave:
            events.append(first)
            pieces.append(second)
        else:
            events.extend([first, second])
    events.extend(pieces)  # interleaved: every call's second half arrives after all calls started
    events.append(_chunk({}, "tool_calls" if calls else "stop"))
    events.append({"id": "chatcmpl-e2e", "object": "chat.completion.chunk", "choices": [],
                   "usage": step.get("usage", USAGE)})
    events.append("[DONE]")
    return sse(*events)


def whole_step(step: Step) -> dict[str, Any]:
    """The same step as one non-streamed chat.completion."""
    msg: dict[str, Any] = {"role": "assistant", "content": step.get("text")}
    if step.get("reasoning"):
        msg["reasoning_content"] = step["reasoning"]
    if step.get("calls"):
        msg["tool_calls"] = [{"id": i, "type": "function", "function": {"name": n, "arguments": json.dumps(a)}}
                             for i, n, a in step["calls"]]
    return {"id": "chatcmpl-e2e", "object": "chat.completion", "choices": [
        {"index": 0, "message": msg, "finish_reason": "tool_calls" if step.get("calls") else "stop"}],
        "usage": step.get("usage", USAGE)}


def task_of(body: dict[str, Any]) -> str | None:
    for msg in body.get("messages", []):
        if msg.get("role") == "user":
            content = msg.get("content")
            texts = [content] if isinstance(content, str) else [
                p.get("text", "") for p in content or [] if p.get("type") == "text"]
            for t in texts:
                m = re.search(r"TASK:(\w+)", t)
                if m:
                    return m.group(1)
    return None


def tool_results(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in body.get("messages", []) if m.get("role") == "tool"]


def images_after_tools(body: dict[str, Any]) -> list[str]:
    urls = []
    for m in body.get("messages", []):
        if m.get("role") == "user" and isinstance(m.get("content"), list):
            urls += [p["image_url"]["url"] for p in m["content"] if p.get("type") == "image_url"]
    return urls


class Agent:
    """Dispatches on the TASK:name marker in the prompt; requests without one get a short plain answer."""

    def __init__(self, workdir: str) -> None:
        self.workdir = workdir
        self.errors: list[str] = []
        self.tasks: dict[str, Callable[[dict[str, Any]], Step | Reply]] = {
            "files": self.files, "parallel": self.parallel, "reasoning": self.reasoning, "image": self.image,
        }

    def __call__(self, req: Received) -> Reply:
        body = req.body or {}
        task = task_of(body)
        # what OpenAI would refuse is refused here too (the reasoning task plays DeepSeek, which takes its
        # reasoning_content back)
        refused = refusal(req, allow=frozenset({"thinking", "reasoning_content"}) if task == "reasoning" else frozenset())
        if refused is not None:
            self.errors.append(f"refused: {refused.body}")
            return refused
        handler = self.tasks.get(task or "")
        step: Step | Reply = handler(body) if handler else {"text": "ok"}
        if isinstance(step, Reply):
            return step
        if not body.get("stream"):
            return Reply(body=self._whole(step))
        return Reply(chunks=stream_step(step, interleave=task == "parallel"))

    @staticmethod
    def _whole(step: Step) -> dict[str, Any]:
        return whole_step(step)

    def path(self, name: str) -> str:
        return f"{self.workdir}/{name}"

    # write a file, run a command on it, read it back, answer with what was read
    def files(self, body: dict[str, Any]) -> Step:
        results = tool_results(body)
        if len(results) == 0:
            return {"text": "I'll write the file.", "calls": [
                ("call_w1", "Write", {"file_path": self.path("notes.txt"), "content": "alpha-42\nbeta-7\n"})]}
        if len(results) == 1:
            return {"calls": [("call_b1", "Bash", {"command": f"wc -l < {self.path('notes.txt')}",
                                                   "description": "Count lines"})]}
        if len(results) == 2:
            return {"calls": [("call_r1", "Read", {"file_path": self.path("notes.txt")})]}
        # Claude Code appends <system-reminder> notes to some tool results (e.g. tokens left, for Claude models)
        lines = re.sub(r"<system-reminder>.*?</system-reminder>", "", results[1]["content"], flags=re.S).strip()
        read = results[2]["content"]
        found = re.findall(r"(alpha-\d+|beta-\d+)", read)
        return {"text": f"LINES={lines} READ={','.join(found)}"}

    # two calls in one answer, argument pieces interleaved
    def parallel(self, body: dict[str, Any]) -> Step:
        results = tool_results(body)
        if not results:
            return {"calls": [
                ("call_p1", "Bash", {"command": "echo left-side", "description": "Echo left"}),
                ("call_p2", "Bash", {"command": "echo right-side", "description": "Echo right"}),
            ]}
        ids = [r["tool_call_id"] for r in results]
        outs = [r["content"].strip() for r in results]
        return {"text": f"IDS={','.join(ids)} OUTS={'|'.join(outs)}"}

    # DeepSeek thinking mode: 400 unless earlier assistant turns carry reasoning_content back
    def reasoning(self, body: dict[str, Any]) -> Step | Reply:
        assistants = [m for m in body["messages"] if m.get("role") == "assistant"]
        for m in assistants:
            if m.get("tool_calls") and not m.get("reasoning_content"):
                self.errors.append("reasoning_content missing on replay")
                return Reply(status=400, body={"error": {
                    "message": "Missing `reasoning_content` field in the assistant message at message index 2.",
                    "type": "invalid_request_error", "param": None, "code": "invalid_request_error"}})
        if not tool_results(body):
            return {"reasoning": "The user wants the date; I should run a command to check.",
                    "calls": [("call_d1", "Bash", {"command": "echo thought-ok", "description": "Echo"})]}
        replayed = assistants[0].get("reasoning_content", "")
        return {"reasoning": "Now answer.", "text": f"REPLAYED={'run a command' in replayed}"}

    # a tool result holding an image must reach the model as an image
    def image(self, body: dict[str, Any]) -> Step:
        if not tool_results(body):
            return {"calls": [("call_i1", "Read", {"file_path": self.path("dot.png")})]}
        urls = images_after_tools(body)
        if not urls:
            return {"text": "NO-IMAGE"}
        header, _, data = urls[0].partition(",")
        is_png = base64.b64decode(data)[:4] == b"\x89PNG"
        return {"text": f"IMAGE={header.split(';')[0]} PNG={is_png}"}
