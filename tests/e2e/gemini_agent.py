"""A scripted Gemini 3 model behind the validating Gemini API, for driving the real Claude Code CLI.

Like agent.py, it reads the conversation the way a model would (the task in the first user prompt, the function
responses so far) and answers with the next step, as Gemini streams it: thought summaries, then function calls
whose first carries a thought signature this "Gemini" issued. The API in front refuses a replayed step whose
first call lacks its signature; the agent also notes any step that came back with the skip value or a foreign
signature instead of the one it issued, so a lost signature shows up even where Google would let it pass.
"""

from __future__ import annotations

import re
from typing import Any

from tests.support.gemini_upstream import SKIP, Call, GeminiAPI, response, stream, usage, whole
from tests.support.upstream import Reply

Step = dict[str, Any]


def task_of(body: dict[str, Any]) -> str | None:
    for content in body.get("contents", []):
        if content.get("role") == "user":
            for part in content["parts"]:
                m = re.search(r"TASK:(\w+)", part.get("text", ""))
                if m:
                    return m.group(1)
    return None


def results(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [p["functionResponse"] for c in body.get("contents", []) for p in c["parts"] if "functionResponse" in p]


def output(result: dict[str, Any]) -> str:
    response_ = result["response"]
    text = response_.get("output", response_.get("error", ""))
    # Claude Code appends <system-reminder> notes to some tool results
    return re.sub(r"<system-reminder>.*?</system-reminder>", "", str(text), flags=re.S).strip()


class GeminiAgent:
    def __init__(self, workdir: str, model: str = "gemini-3-pro-preview") -> None:
        self.workdir = workdir
        self.model = model
        self.errors: list[str] = []
        self.api = GeminiAPI(self.answer)
        self.tasks = {"files": self.files, "parallel": self.parallel}

    def answer(self, call: Call) -> Reply:
        body = call.body
        self._check_signatures(body)
        task = task_of(body)
        handler = self.tasks.get(task or "")
        step = handler(body) if handler else {"text": "ok"}
        events = self._events(step)
        return stream(*events) if call.streamed else whole(*events)

    def _check_signatures(self, body: dict[str, Any]) -> None:
        for i, content in enumerate(body.get("contents", [])):
            calls = [p for p in content["parts"] if "functionCall" in p]
            if content["role"] == "model" and calls:
                signature = calls[0].get("thoughtSignature")
                if signature == SKIP or signature not in self.api.issued:
                    self.errors.append(f"step at contents[{i}] came back without its own signature ({signature!r})")

    def _events(self, step: Step) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        thought = step.get("thought")
        if thought:
            half = len(thought) // 2
            for piece in (thought[:half], thought[half:]):
                events.append(response([{"text": piece, "thought": True}], meta=usage(1200, 0, 1000),
                                       model=self.model))
        text = step.get("text")
        if text:
            for piece in re.findall(r".{1,12}", text, re.S):
                events.append(response([{"text": piece}], meta=usage(1200, 5, 1000), model=self.model))
        calls = step.get("calls") or []
        if calls:
            parts: list[dict[str, Any]] = []
            for i, (name, args) in enumerate(calls):
                part: dict[str, Any] = {"functionCall": {"name": name, "args": args}}
                if i == 0:
                    part["thoughtSignature"] = self.api.sign()
                parts.append(part)
            events.append(response(parts, meta=usage(1200, 30, 1000, 10), model=self.model))
            events.append(response([{"text": ""}], "STOP", usage(1200, 30, 1000, 10), model=self.model))
        else:  # a text answer: Gemini 3 signs its last part, an empty one here
            events.append(response([{"text": "", "thoughtSignature": self.api.sign()}], "STOP",
                                   usage(1200, 30, 1000, 10), model=self.model))
        return events

    def path(self, name: str) -> str:
        return f"{self.workdir}/{name}"

    def files(self, body: dict[str, Any]) -> Step:
        done = results(body)
        if len(done) == 0:
            return {"thought": "**Writing** I should create the file first.",
                    "text": "I'll write the file.",
                    "calls": [("Write", {"file_path": self.path("notes.txt"), "content": "alpha-42\nbeta-7\n"})]}
        if len(done) == 1:
            return {"thought": "Now count its lines.",
                    "calls": [("Bash", {"command": f"wc -l < {self.path('notes.txt')}", "description": "Count"})]}
        if len(done) == 2:
            return {"thought": "Read it back.", "calls": [("Read", {"file_path": self.path("notes.txt")})]}
        lines = output(done[1])
        found = re.findall(r"(alpha-\d+|beta-\d+)", output(done[2]))
        return {"thought": "Report.", "text": f"LINES={lines} READ={','.join(found)}"}

    def parallel(self, body: dict[str, Any]) -> Step:
        done = results(body)
        if not done:
            return {"thought": "Two independent commands: run both at once.", "calls": [
                ("Bash", {"command": "echo left-side", "description": "Echo left"}),
                ("Bash", {"command": "echo right-side", "description": "Echo right"})]}
        return {"text": f"OUTS={'|'.join(output(r) for r in done)}"}
