"""The real Claude Code CLI doing agentic work through ccr against a scripted Gemini 3 model behind an API that
validates every request as Google's does: thought signatures must survive Claude Code's history on every
round, parallel calls must be answered together, and the work must get done."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.claude import run_claude
from tests.e2e.gemini_agent import GeminiAgent
from tests.support.gemini_upstream import gemini_config
from tests.support.router import RouterServer
from tests.support.upstream import ScriptedUpstream

pytestmark = pytest.mark.e2e


@dataclass
class Setup:
    agent: GeminiAgent
    upstream: ScriptedUpstream
    make_router: Callable[[dict[str, Any]], RouterServer]
    workdir: Path
    home: Path

    def run(self, task: str) -> dict[str, Any]:
        router = self.make_router(gemini_config(self.upstream.url))
        return run_claude(router.url, f"TASK:{task} Please do the task.", "gm,gemini-3-pro-preview", self.workdir,
                          self.home, timeout=150)

    def task_requests(self, task: str) -> list[dict[str, Any]]:
        return [c.body for c in self.agent.api.calls if f"TASK:{task}" in str(c.body.get("contents", [])[:2])]


@pytest.fixture
def setup(tmp_path: Path, make_router: Callable[[dict[str, Any]], RouterServer]) -> Iterator[Setup]:
    workdir, home = tmp_path / "project", tmp_path / "home"
    workdir.mkdir()
    home.mkdir()
    agent = GeminiAgent(str(workdir))
    server = ScriptedUpstream(agent.api).start()
    yield Setup(agent, server, make_router, workdir, home)
    server.stop()


def completed(result: dict[str, Any]) -> str:
    assert result.get("is_error") is False, result
    return str(result["result"])


def test_write_run_read_with_thought_signatures_replayed(setup: Setup) -> None:
    result = setup.run("files")
    assert completed(result) == "LINES=2 READ=alpha-42,beta-7", (setup.agent.api.refusals, setup.agent.errors)
    assert (setup.workdir / "notes.txt").read_text() == "alpha-42\nbeta-7\n"
    assert result["num_turns"] == 4
    assert setup.agent.api.refusals == [] and setup.agent.errors == []
    sent = setup.task_requests("files")
    assert len(sent) == 4
    last = sent[-1]["contents"]
    steps = [c for c in last if c["role"] == "model" and any("functionCall" in p for p in c["parts"])]
    assert len(steps) == 3  # each step's first call came back with the very signature Gemini issued for it
    assert all(next(p for p in s["parts"] if "functionCall" in p)["thoughtSignature"] in setup.agent.api.issued
               for s in steps)
    # usage as Gemini reported it: 1200 prompt tokens of which 1000 cached, per request
    assert result["usage"]["cache_read_input_tokens"] == 4000 and result["usage"]["input_tokens"] == 800


def test_parallel_function_calls_in_one_step(setup: Setup) -> None:
    assert completed(setup.run("parallel")) == "OUTS=left-side|right-side"
    assert setup.agent.api.refusals == [] and setup.agent.errors == []
    final = setup.task_requests("parallel")[-1]["contents"]
    calls = [p for c in final for p in c["parts"] if "functionCall" in p]
    answers = [p["functionResponse"] for c in final for p in c["parts"] if "functionResponse" in p]
    assert len(calls) == 2 and "thoughtSignature" in calls[0] and "thoughtSignature" not in calls[1]
    assert [a["id"] for a in answers] == [c["functionCall"]["id"] for c in calls]
