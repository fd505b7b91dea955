"""The real Claude Code CLI (pinned, from the test cache) doing agentic work through ccr against a scripted
reasoning model behind a validating OpenAI Responses endpoint: every request Claude Code makes, translated by
ccr, must be one the real API takes, and every step's reasoning (its encrypted content) must come back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.claude import run_claude
from tests.e2e.responses_agent import ResponsesAgent, task_of
from tests.support.responses_upstream import responses_config
from tests.support.router import RouterServer
from tests.support.upstream import ScriptedUpstream

pytestmark = pytest.mark.e2e


@dataclass
class Setup:
    agent: ResponsesAgent
    upstream: ScriptedUpstream
    router: RouterServer
    workdir: Path
    home: Path

    def run(self, task: str) -> dict[str, Any]:
        return run_claude(self.router.url, f"TASK:{task} Please do the task.", "oai,gpt-5.1-codex", self.workdir,
                          self.home, timeout=150)

    def task_bodies(self, task: str) -> list[dict[str, Any]]:
        return [b for b in self.agent.api.bodies if task_of(b) == task]


@pytest.fixture
def setup(tmp_path: Path, make_router: Callable[[dict[str, Any]], RouterServer]) -> Iterator[Setup]:
    workdir, home = tmp_path / "project", tmp_path / "home"
    workdir.mkdir()
    home.mkdir()
    agent = ResponsesAgent(str(workdir))
    server = ScriptedUpstream(agent.api).start()
    try:
        yield Setup(agent, server, make_router(responses_config(server.url)), workdir, home)
    finally:
        server.stop()


def completed(result: dict[str, Any]) -> str:
    assert result.get("is_error") is False, result
    return str(result["result"])


def test_write_run_read_with_reasoning_replayed_every_round(setup: Setup) -> None:
    result = setup.run("files")
    assert completed(result) == "LINES=2 READ=alpha-42,beta-7", (setup.agent.api.errors, setup.agent.errors)
    assert (setup.workdir / "notes.txt").read_text() == "alpha-42\nbeta-7\n"
    assert result["num_turns"] == 4
    assert not setup.agent.api.errors and not setup.agent.errors
    bodies = setup.task_bodies("files")
    assert len(bodies) == 4
    # the reasoning of every earlier step came back: 0, 1, 2, then 3 items, each one the upstream issued
    assert [sum(i["type"] == "reasoning" for i in b["input"]) for b in bodies] == [0, 1, 2, 3]
    assert all(b["stream"] and b["store"] is False and b["include"] == ["reasoning.encrypted_content"]
               and b["reasoning"]["effort"] == "high" for b in bodies)
    outputs = [i for i in bodies[-1]["input"] if i["type"] == "function_call_output"]
    assert [o["call_id"] for o in outputs] == ["call_w1", "call_b1", "call_r1"]
    # usage as the provider reported it: 1200 input tokens of which 1000 cached, per request
    assert result["usage"]["cache_read_input_tokens"] == 4000 and result["usage"]["input_tokens"] == 800


def test_parallel_calls_with_interleaved_arguments(setup: Setup) -> None:
    result = setup.run("parallel")
    assert completed(result) == "IDS=call_p1,call_p2 OUTS=left-side|right-side", (
        setup.agent.api.errors, setup.agent.errors)
    assert not setup.agent.api.errors and not setup.agent.errors
    last = setup.task_bodies("parallel")[-1]["input"]
    assert [i["type"] for i in last][-5:] == ["reasoning", "function_call", "function_call", "function_call_output",
                                              "function_call_output"]
