"""A scripted reasoning model behind a validating OpenAI Responses endpoint, for driving the real Claude Code CLI.

Like agent.py it reads the conversation as a model would (the task in the first user message, the function call
outputs so far) and answers with the next step; every step reasons, and its reasoning item (encrypted content
issued by the upstream) must come back in place on every later request of the task, or the step is an error.
The upstream itself (tests/support/responses_upstream.py) refuses anything the real API would.
"""

from __future__ import annotations

import re
from typing import Any

from tests.support.responses_upstream import ResponsesAPI, Step
from tests.support.upstream import Reply


def task_of(body: dict[str, Any]) -> str | None:
    for item in body.get("input", []):
        if item.get("type") == "message" and item.get("role") == "user":
            for part in item.get("content") or []:
                m = re.search(r"TASK:(\w+)", part.get("text", ""))
                if m:
                    return m.group(1)
    return None


def outputs(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in body.get("input", []) if i.get("type") == "function_call_output"]


def output_text(item: dict[str, Any]) -> str:
    out = item["output"]
    text = out if isinstance(out, str) else "".join(p.get("text", "") for p in out)
    # Claude Code appends <system-reminder> notes to some tool results
    return re.sub(r"<system-reminder>.*?</system-reminder>", "", text, flags=re.S).strip()


class ResponsesAgent:
    def __init__(self, workdir: str) -> None:
        self.workdir = workdir
        self.errors: list[str] = []
        self.api = ResponsesAPI(self.step, interleave=True)

    def path(self, name: str) -> str:
        return f"{self.workdir}/{name}"

    def step(self, body: dict[str, Any]) -> Step | Reply:
        task = task_of(body)
        if task is None:
            return Step(text="ok")
        # every earlier step of this task reasoned: all of its reasoning items must be back, each in place
        kinds = [i.get("type") for i in body["input"]]
        steps = sum(1 for n, k in enumerate(kinds) if k == "function_call" and (n == 0 or kinds[n - 1] != k))
        replayed = [n for n, k in enumerate(kinds) if k == "reasoning"]
        # each in place: right before the step's message or first call
        in_place = all(kinds[n + 1] in ("message", "function_call") for n in replayed)
        if len(replayed) != steps or not in_place:
            self.errors.append(f"{task}: reasoning items at {replayed} after {steps} steps: {kinds}")
        return self.files(body) if task == "files" else self.parallel(body)

    # write a file, run a command on it, read it back, answer with what was read
    def files(self, body: dict[str, Any]) -> Step:
        done = outputs(body)
        if len(done) == 0:
            return Step(reasoning="The user wants a notes file; I will write it first.", text="I'll write the file.",
                        calls=[("call_w1", "Write", {"file_path": self.path("notes.txt"),
                                                     "content": "alpha-42\nbeta-7\n"})])
        if len(done) == 1:  # a reasoning item without a summary: still replayed
            return Step(reasoning="", calls=[("call_b1", "Bash", {"command": f"wc -l < {self.path('notes.txt')}",
                                                                  "description": "Count lines"})])
        if len(done) == 2:
            return Step(reasoning="Counted; now read it back.",
                        calls=[("call_r1", "Read", {"file_path": self.path("notes.txt")})])
        lines = output_text(done[1])
        found = re.findall(r"(alpha-\d+|beta-\d+)", output_text(done[2]))
        return Step(reasoning="Report.", text=f"LINES={lines} READ={','.join(found)}")

    # two calls in one answer, their argument pieces interleaved
    def parallel(self, body: dict[str, Any]) -> Step:
        done = outputs(body)
        if not done:
            return Step(reasoning="Two independent commands: run both at once.", calls=[
                ("call_p1", "Bash", {"command": "echo left-side", "description": "Echo left"}),
                ("call_p2", "Bash", {"command": "echo right-side", "description": "Echo right"})])
        return Step(reasoning="", text=f"IDS={','.join(o['call_id'] for o in done)} "
                                       f"OUTS={'|'.join(output_text(o) for o in done)}")
