"""The real Claude Code CLI (pinned, installed from npm into a cache by the test setup) doing agentic work
through ccr against scripted OpenAI-format upstreams on 127.0.0.1."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import openai_config
from tests.e2e.agent import Agent
from tests.e2e.claude import run_claude
from tests.support.router import RouterServer
from tests.support.upstream import ScriptedUpstream

pytestmark = pytest.mark.e2e

# a 1x1 PNG
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    work = tmp_path / "project"
    work.mkdir()
    return work


@pytest.fixture
def agent_upstream(workdir: Path) -> Iterator[tuple[Agent, ScriptedUpstream]]:
    agent = Agent(str(workdir))
    server = ScriptedUpstream(agent).start()
    yield agent, server
    server.stop()


def claude(router: RouterServer, task: str, workdir: Path, tmp_path: Path, model: str = "up,gpt-test",
           token: str = "test-token") -> dict[str, Any]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return run_claude(router.url, f"TASK:{task} Please do the task.", model, workdir, home, token=token)


def completed(result: dict[str, Any]) -> str:
    assert result.get("is_error") is False, result
    return str(result["result"])


def test_write_run_read_over_several_tool_rounds(
    agent_upstream: tuple[Agent, ScriptedUpstream], make_router: Callable[[dict[str, Any]], RouterServer],
    workdir: Path, tmp_path: Path,
) -> None:
    agent, upstream = agent_upstream
    router = make_router(openai_config(upstream.url))
    result = claude(router, "files", workdir, tmp_path)
    assert completed(result) == "LINES=2 READ=alpha-42,beta-7"
    assert (workdir / "notes.txt").read_text() == "alpha-42\nbeta-7\n"
    assert result["num_turns"] == 4
    # usage as the provider reported it: 1200 prompt tokens of which 1000 cached, per request
    assert result["usage"]["cache_read_input_tokens"] == 4000 and result["usage"]["input_tokens"] == 800
    sent = [r.body for r in upstream.requests if r.body and "TASK:files" in str(r.body["messages"][:3])]
    assert len(sent) == 4
    assert all(r["stream"] and r["messages"][0]["role"] == "system" for r in sent)
    assert not agent.errors


def test_parallel_tool_calls_with_interleaved_arguments(
    agent_upstream: tuple[Agent, ScriptedUpstream], make_router: Callable[[dict[str, Any]], RouterServer],
    workdir: Path, tmp_path: Path,
) -> None:
    _agent, upstream = agent_upstream
    router = make_router(openai_config(upstream.url))
    assert completed(claude(router, "parallel", workdir, tmp_path)) == \
        "IDS=call_p1,call_p2 OUTS=left-side|right-side"


def test_reasoning_is_replayed_to_a_deepseek_style_provider(
    agent_upstream: tuple[Agent, ScriptedUpstream], make_router: Callable[[dict[str, Any]], RouterServer],
    workdir: Path, tmp_path: Path,
) -> None:
    agent, upstream = agent_upstream
    router = make_router(openai_config(upstream.url, transformer={"use": ["deepseek"]}))
    assert completed(claude(router, "reasoning", workdir, tmp_path)) == "REPLAYED=True"
    assert not agent.errors
    main = [r.body for r in upstream.requests if r.body and r.body.get("tools")]
    assert main[0]["thinking"] == {"type": "enabled"}  # Claude Code's adaptive thinking, mapped


def test_tool_result_image_reaches_the_model_as_an_image(
    agent_upstream: tuple[Agent, ScriptedUpstream], make_router: Callable[[dict[str, Any]], RouterServer],
    workdir: Path, tmp_path: Path,
) -> None:
    _agent, upstream = agent_upstream
    (workdir / "dot.png").write_bytes(PNG)
    router = make_router(openai_config(upstream.url))
    assert completed(claude(router, "image", workdir, tmp_path)) == "IMAGE=data:image/png PNG=True"


def test_missing_provider_key_is_reported_to_the_user(
    agent_upstream: tuple[Agent, ScriptedUpstream], make_router: Callable[[dict[str, Any]], RouterServer],
    workdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _agent, upstream = agent_upstream
    monkeypatch.delenv("CCR_E2E_UNSET_KEY", raising=False)
    config = openai_config(upstream.url)
    config["Providers"][0]["api_key"] = "${CCR_E2E_UNSET_KEY}"
    router = make_router(config)
    result = claude(router, "files", workdir, tmp_path)
    assert result["is_error"] is True
    assert "CCR_E2E_UNSET_KEY" in str(result.get("result")) + result["_stderr"]
    assert upstream.requests == []
