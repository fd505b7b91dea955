"""The real Claude Code CLI (pinned, installed from npm into a cache by the test setup) doing agentic work
through ccr against scripted OpenAI-format upstreams on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import openai_config
from tests.e2e.agent import Agent, stream_step, task_of, tool_results, whole_step
from tests.e2e.claude import claude_binary, run_claude
from tests.support.router import RouterServer, free_port, wait_ready
from tests.support.upstream import Received, Reply, ScriptedUpstream

pytestmark = pytest.mark.e2e

# a 1x1 PNG
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    work = tmp_path / "project"
    work.mkdir()
    return work


@dataclass
class Setup:
    """A scripted model behind an OpenAI endpoint, ccr in front of it, and a project directory."""

    agent: Agent
    upstream: ScriptedUpstream
    make_router: Callable[[dict[str, Any]], RouterServer]
    workdir: Path
    home: Path
    router: RouterServer | None = None

    def run(self, task: str, model: str = "up,gpt-test", **config: Any) -> dict[str, Any]:
        self.router = self.make_router(openai_config(self.upstream.url, **config))
        return run_claude(self.router.url, f"TASK:{task} Please do the task.", model, self.workdir, self.home)


@pytest.fixture
def setup(tmp_path: Path, make_router: Callable[[dict[str, Any]], RouterServer]) -> Iterator[Setup]:
    workdir, home = tmp_path / "project", tmp_path / "home"
    workdir.mkdir()
    home.mkdir()
    agent = Agent(str(workdir))
    server = ScriptedUpstream(agent).start()
    yield Setup(agent, server, make_router, workdir, home)
    server.stop()


def completed(result: dict[str, Any]) -> str:
    assert result.get("is_error") is False, result
    return str(result["result"])


def test_write_run_read_over_several_tool_rounds(setup: Setup) -> None:
    result = setup.run("files")
    assert completed(result) == "LINES=2 READ=alpha-42,beta-7"
    assert (setup.workdir / "notes.txt").read_text() == "alpha-42\nbeta-7\n"
    assert result["num_turns"] == 4
    # usage as the provider reported it: 1200 prompt tokens of which 1000 cached, per request
    assert result["usage"]["cache_read_input_tokens"] == 4000 and result["usage"]["input_tokens"] == 800
    sent = [r.body for r in setup.upstream.requests if r.body and "TASK:files" in str(r.body["messages"][:3])]
    assert len(sent) == 4
    assert all(r["stream"] and r["messages"][0]["role"] == "system" for r in sent)
    assert not setup.agent.errors


def test_parallel_tool_calls_with_interleaved_arguments(setup: Setup) -> None:
    assert completed(setup.run("parallel")) == "IDS=call_p1,call_p2 OUTS=left-side|right-side"


def test_reasoning_is_replayed_to_a_deepseek_style_provider(setup: Setup) -> None:
    assert completed(setup.run("reasoning", transformer={"use": ["deepseek"]})) == "REPLAYED=True"
    assert not setup.agent.errors
    main = [r.body for r in setup.upstream.requests if r.body and r.body.get("tools")]
    assert main[0]["thinking"] == {"type": "enabled"}  # Claude Code's adaptive thinking, mapped


def test_tool_result_image_reaches_the_model_as_an_image(setup: Setup) -> None:
    (setup.workdir / "dot.png").write_bytes(PNG)
    assert completed(setup.run("image")) == "IMAGE=data:image/png PNG=True"


def test_missing_provider_key_is_reported_to_the_user(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CCR_E2E_UNSET_KEY", raising=False)
    provider = {**openai_config(setup.upstream.url)["Providers"][0], "api_key": "${CCR_E2E_UNSET_KEY}"}
    result = setup.run("files", Providers=[provider])
    assert result["is_error"] is True
    assert "CCR_E2E_UNSET_KEY" in str(result.get("result"))
    assert setup.upstream.requests == []


def test_ccr_code_runs_claude_through_a_background_router(setup: Setup, ccr_home: Path) -> None:
    """The user's path: a config file, `ccr code` starting the router in the background and running claude."""
    config = openai_config(setup.upstream.url, PORT=free_port())
    (ccr_home / "config.json").write_text(json.dumps(config))
    env = {"PATH": os.environ["PATH"], "HOME": str(setup.home), "CCR_HOME": str(ccr_home),
           "CLAUDE_PATH": str(claude_binary()), "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "router", "code", "-p", "TASK:files Please do the task.", "--model", "up,gpt-test",
             "--allowedTools", "Write,Bash,Read", "--output-format", "json"],
            cwd=setup.workdir, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    finally:
        subprocess.run([sys.executable, "-m", "router", "stop"], env=env, capture_output=True, timeout=30)
    assert "done (pid" in proc.stderr, proc.stderr
    result = json.loads(proc.stdout)  # ccr's messages stay off claude's stdout
    assert completed(result) == "LINES=2 READ=alpha-42,beta-7"
    # every request Claude Code made is in the decision log, with the tokens the provider reported
    costs = json.loads(subprocess.run([sys.executable, "-m", "router", "costs", "--by", "model", "--json"],
                                      env=env, capture_output=True, text=True, check=True).stdout)
    assert [(c["group"], c["requests"], c["errors"]) for c in costs] == [("up,gpt-test", 4, 0)]
    assert costs[0]["input_tokens"] == 4 * 200 and costs[0]["cache_read_tokens"] == 4 * 1000


def test_primary_provider_down_and_the_fallback_completes_the_task(setup: Setup) -> None:
    agent = openai_config(setup.upstream.url)["Providers"][0]
    down = {**agent, "name": "primary", "api_base_url": f"http://127.0.0.1:{free_port()}/v1/chat/completions"}
    result = setup.run("files", model="primary,gpt-test", Providers=[down, agent],
                       Router={"default": "primary,gpt-test", "fallback": {"default": ["up,gpt-test"]}},
                       retry={"retries": 1, "baseDelayMs": 10})
    assert completed(result) == "LINES=2 READ=alpha-42,beta-7"
    assert setup.router is not None
    main = [d for d in setup.router.decisions if d.target == "primary,gpt-test"]
    assert len(main) == 4 and all(d.deployment == "up,gpt-test" for d in main)
    assert main[0].hops[0].deployment == "primary,gpt-test" and main[0].hops[0].outcome == "error"


def test_classified_and_policy_routed_requests_land_in_duckdb_and_ccr_costs(
        setup: Setup, ccr_home: Path, default_model: Any) -> None:
    """Classifier and policy on: Claude Code's turn is classified once, routed to the cheapest adequate model,
    and every request lands in the log with its labels, expected and actual cost."""
    priced = {"pricing": {"input": 1.0, "output": 4.0, "cache_read": 0.1}, "context_window": 200000}
    config = openai_config(setup.upstream.url, models=[
        {"name": "gpt-test", "tier": 2, **priced},
        {"name": "gpt-strong", "tier": 3, **priced, "pricing": {"input": 5.0, "output": 20.0}}],
        # a threshold no prompt reaches: tier 2 is always enough, and gpt-test is the cheaper tier-2 model
        Classifier={"enabled": True}, Policy={"enabled": True, "difficultyThreshold": 1.0})
    setup.router = setup.make_router(config)
    wait_ready(setup.router)
    result = run_claude(setup.router.url, "TASK:files Please do the task.", "claude-sonnet-4-5", setup.workdir,
                        setup.home)
    assert completed(result) == "LINES=2 READ=alpha-42,beta-7"
    decisions = setup.router.decisions
    assert [d.signal for d in decisions] == ["policy", "sticky", "sticky", "sticky"], [
        (d.signal, d.notes, d.ml, d.features) for d in decisions]
    assert decisions[0].target == "up,gpt-test"
    task = decisions[0].ml["task_type"] if decisions[0].ml else None
    assert task is not None and all(d.ml == decisions[0].ml for d in decisions)
    setup.router.stop()  # the log is written at stop; then the CLI reads the file itself
    env = {**os.environ, "CCR_HOME": str(ccr_home)}
    costs = json.loads(subprocess.run([sys.executable, "-m", "router", "costs", "--by", "task_type", "--json"],
                                      env=env, capture_output=True, text=True, check=True).stdout)
    assert [(c["group"], c["requests"], c["errors"]) for c in costs] == [(task, 4, 0)]
    assert costs[0]["cost_usd"] == pytest.approx(4 * (200 * 1.0 + 40 * 4.0 + 1000 * 0.1) / 1e6)
    import duckdb

    con = duckdb.connect(str(ccr_home / "ccr.duckdb"), read_only=True)
    try:
        logged = con.execute("""SELECT count(*), count(d.expected_cost_usd), count(DISTINCT d.prompt_id),
                                       any_value(p.prompt) FROM decisions d JOIN prompts p USING (prompt_id)""").fetchone()
    finally:
        con.close()
    assert logged == (4, 4, 1, "TASK:files Please do the task.")


REASONING_FIELDS = ("reasoning_content", "reasoning", "reasoning_details")


def test_a_conversation_moves_from_a_reasoning_provider_to_a_strict_one(setup: Setup) -> None:
    """The turn begins on a DeepSeek-style reasoner (reasoning_content and a tool call), which then fails; the
    fallback is a strict OpenAI-compatible provider that answers 400 to reasoning fields it does not know, as
    OpenAI, Groq and Mistral do. Claude Code finishes the task on it."""
    task = "TASK:switch"

    def reasoner(req: Received) -> Reply:
        body = req.body or {}
        if task_of(body) != "switch":
            return Reply(chunks=stream_step({"text": "ok"})) if body.get("stream") else Reply(body=whole_step(
                {"text": "ok"}))
        if tool_results(body):  # the second round: the reasoner is down
            return Reply(status=503, body={"error": {"message": "overloaded", "type": "server_error"}})
        return Reply(chunks=stream_step({"reasoning": "I should look first.",
                                         "calls": [("call_s1", "Bash", {"command": "echo switched",
                                                                        "description": "Echo"})]}))

    def strict(req: Received) -> Reply:
        body = req.body or {}
        for i, msg in enumerate(body.get("messages", [])):
            extra = [k for k in REASONING_FIELDS if k in msg]
            if extra:
                return Reply(status=400, body={"error": {
                    "message": f"Additional properties are not allowed ('{extra[0]}' was unexpected) - "
                               f"'messages.{i}'", "type": "invalid_request_error", "param": None, "code": None}})
        out = (tool_results(body) or [{"content": ""}])[-1]["content"].strip()
        return Reply(chunks=stream_step({"text": f"SWITCHED={out}"}))

    strict_up = ScriptedUpstream(strict).start()
    setup.upstream.script = reasoner
    try:
        base = openai_config(setup.upstream.url)["Providers"][0]
        providers = [{**base, "name": "reasoner", "transformer": {"use": ["deepseek"]}},
                     {**base, "name": "strict", "api_base_url": f"{strict_up.url}/v1/chat/completions"}]
        setup.router = setup.make_router(openai_config(
            setup.upstream.url, Providers=providers, retry={"retries": 0},
            Router={"default": "reasoner,gpt-test", "fallback": {"default": ["strict,gpt-test"]}}))
        result = run_claude(setup.router.url, f"{task} Please do the task.", "reasoner,gpt-test", setup.workdir,
                            setup.home)
        assert completed(result) == "SWITCHED=switched"
        finished = [r.body for r in strict_up.requests if r.body and task_of(r.body) == "switch"]
        assert finished and not any(k in m for b in finished for m in b["messages"] for k in REASONING_FIELDS)
    finally:
        strict_up.stop()
