"""Python plugins (`plugins` in the config): on_request may change the request, on_response a whole answer and
sees a stream once it has ended, on_error sees failures; a failing plugin fails its request with its name."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from router.config import ConfigError, parse_config
from router.plugins import PluginError, Plugins
from router.wire.anthropic import accumulate
from tests.conftest import openai_config
from tests.e2e.agent import stream_step, whole_step
from tests.support.router import RouterServer
from tests.support.upstream import Received, Reply, ScriptedUpstream

PLUGIN = Path(__file__).parent.parent / "fixtures" / "plugins" / "audit.py"


def _echo(req: Received) -> Reply:
    """Answers with the last user message it received, so the test sees what the plugin changed."""
    if req.body["messages"][-1]["content"] == "fail upstream":
        return Reply(status=400, body={"error": {"message": "bad request", "type": "invalid_request_error"}})
    step = {"text": f"got: {req.body['messages'][-1]['content']}"}
    return Reply(chunks=stream_step(step)) if req.body.get("stream") else Reply(body=whole_step(step))


def _router(make_router: Callable[[dict[str, Any]], RouterServer], upstream: ScriptedUpstream, record: Path,
            **options: Any) -> RouterServer:
    upstream.script = _echo
    return make_router(openai_config(upstream.url, plugins=[{"path": str(PLUGIN),
                                                              "options": {"record": str(record), **options}}]))


def _post(router: RouterServer, content: str, stream: bool = False) -> httpx.Response:
    return httpx.post(f"{router.url}/v1/messages", json={
        "model": "up,gpt-test", "max_tokens": 100, "stream": stream,
        "messages": [{"role": "user", "content": content}]}, timeout=10)


def _seen(record: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in record.read_text().splitlines()]


def test_plugins_change_requests_and_whole_answers(tmp_path: Path, upstream: ScriptedUpstream,
                                                   make_router: Callable[[dict[str, Any]], RouterServer]) -> None:
    record = tmp_path / "seen.jsonl"
    router = _router(make_router, upstream, record)
    answer = _post(router, "hello")
    assert answer.status_code == 200
    assert answer.json()["content"][0]["text"] == "GOT: HELLO [AUDITED]"
    streamed = _post(router, "again", stream=True)
    assert accumulate(streamed.content)["content"] == [{"type": "text", "text": "got: again [audited]"}]  # not changed
    seen = _seen(record)
    assert [s["kind"] for s in seen] == ["request", "response", "request", "response"]
    assert seen[0]["value"] == {"role": "user", "content": "hello"}
    assert seen[3]["value"] == [{"type": "text", "text": "got: again [audited]"}]
    ctx = seen[0]["ctx"]
    assert (ctx["provider"], ctx["model"], ctx["streamed"]) == ("up", "gpt-test", False)
    assert ctx["request_id"].startswith("req_") and ctx["options"]["record"] == str(record)


def test_plugins_see_errors(tmp_path: Path, upstream: ScriptedUpstream,
                            make_router: Callable[[dict[str, Any]], RouterServer]) -> None:
    record = tmp_path / "seen.jsonl"
    upstream.script = lambda r: Reply(status=400, body={"error": {"message": "context too long"}})
    router = make_router(openai_config(upstream.url, plugins=[{"path": str(PLUGIN), "options": {"record": str(record)}}]))
    assert _post(router, "x").status_code == 400
    errors = [s for s in _seen(record) if s["kind"] == "error"]
    assert errors[0]["value"]["status"] == 400 and "context too long" in errors[0]["value"]["message"]


def test_a_failing_plugin_fails_its_request_by_name(tmp_path: Path, upstream: ScriptedUpstream,
                                                    make_router: Callable[[dict[str, Any]], RouterServer]) -> None:
    record = tmp_path / "seen.jsonl"
    router = _router(make_router, upstream, record, fail=True)
    answer = _post(router, "hello")
    assert answer.status_code == 500
    error = answer.json()["error"]
    assert error["type"] == "api_error"
    assert "plugin audit.py failed in on_request: RuntimeError: policy store unreachable" in error["message"]
    assert "Traceback" not in answer.text
    assert not upstream.requests  # nothing went upstream
    assert [s["kind"] for s in _seen(record)].count("request") == 1  # not retried: ccr's failure, not the provider's
    assert all(d.breaker.state == "closed" and not d.breaker._failures for d in router.app.state.ccr.engine.deployments.all())


@pytest.mark.parametrize(("plugins", "message"), [
    (["missing.py"], "plugins[0]: missing.py: no such file"),
    (["plugin.js"], "ccr runs Python plugins"),
    ([{"path": str(PLUGIN), "options": 5}], "plugins[0].options: must be an object"),
    ("audit.py", "plugins: must be a list"),
])
def test_plugin_config_mistakes_are_named(plugins: Any, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"Providers": [], "plugins": plugins}, "<t>")
    assert message in str(info.value)


def test_a_plugin_that_cannot_load_stops_the_start(tmp_path: Path) -> None:
    for text, message in (("raise ImportError('no module named presidio')", "failed to load: ImportError"),
                          ("x = 1", "defines none of on_request, on_response, on_error")):
        bad = tmp_path / "bad.py"
        bad.write_text(text)
        config = parse_config({"Providers": [], "plugins": [str(bad)]}, "<t>")
        with pytest.raises(PluginError, match=message):
            Plugins(config.plugins)
