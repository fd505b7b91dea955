"""The `ccr` command as a user runs it: a real process, a temporary data directory, a free port."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from router.config.jsonc import loads
from tests.support.router import free_port

FIXTURE = Path(__file__).parent.parent / "fixtures" / "config" / "claude_code_router.json"


def ccr(*args: str, env: dict[str, str] | None = None, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "router", *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)


@pytest.fixture
def running(ccr_home: Path) -> Any:
    port = free_port()
    started = ccr("start", "--port", str(port))
    assert started.returncode == 0, started.stderr
    yield port
    ccr("stop")


def test_lifecycle(running: int, ccr_home: Path) -> None:
    config = ccr_home / "config.json"
    assert config.exists() and "//" in config.read_text()  # the commented example, written on first start
    assert oct(config.stat().st_mode & 0o777) == "0o600"
    status = ccr("status")
    assert status.returncode == 0
    assert "ccr is running" in status.stdout and f"http://127.0.0.1:{running}" in status.stdout
    assert "uptime:" in status.stdout and str(config) in status.stdout
    pid = int(status.stdout.split("pid:")[1].split()[0])
    assert httpx.get(f"http://127.0.0.1:{running}/health").json()["pid"] == pid
    again = ccr("start", "--port", str(running))
    assert again.returncode == 0 and "already running" in again.stdout
    request = {"model": "claude-opus-4-8", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    # the first start generated a key that clients must send
    apikey = loads(config.read_text())["APIKEY"]
    assert apikey.startswith("ccr-") and len(apikey) > 40
    refused = httpx.post(f"http://127.0.0.1:{running}/v1/messages", json=request)
    assert refused.status_code == 401 and "APIKEY" in refused.json()["error"]["message"]
    # with no provider keys the router still serves, and says which variable is missing
    resp = httpx.post(f"http://127.0.0.1:{running}/v1/messages", json=request, headers={"x-api-key": apikey})
    message = resp.json()["error"]["message"]  # the default and its fallback: both keys are named
    assert resp.status_code == 403 and "DEEPSEEK_API_KEY" in message and "OPENROUTER_API_KEY" in message
    assert (ccr_home / "logs" / "ccr.log").exists()
    # everything the session wrote is the user's alone
    assert oct(ccr_home.stat().st_mode & 0o777) == "0o700"
    written = [p for p in ccr_home.rglob("*") if p.is_file()]
    assert {p.name for p in written} >= {"config.json", "ccr.duckdb", "server.json", "ccr.pid", "ccr.log",
                                         "server.out"}
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in written} == {p.name: "0o600" for p in written}
    stopped = ccr("stop")
    assert stopped.returncode == 0 and f"pid {pid}" in stopped.stdout
    after = ccr("status")
    assert after.returncode == 3 and "not running" in after.stdout


def test_activate_and_code(running: int, ccr_home: Path, tmp_path: Path) -> None:
    exports = ccr("activate").stdout
    assert f'export ANTHROPIC_BASE_URL="http://127.0.0.1:{running}"' in exports
    assert "unset ANTHROPIC_API_KEY" in exports
    fake = tmp_path / "claude"
    fake.write_text("#!/bin/sh\necho \"args=$*\"\necho \"url=$ANTHROPIC_BASE_URL token=$ANTHROPIC_AUTH_TOKEN "
                    "key=${ANTHROPIC_API_KEY:-none}\"\n")
    fake.chmod(0o755)
    out = ccr("code", "-p", "hello", env={"CLAUDE_PATH": str(fake), "ANTHROPIC_API_KEY": "sk-real"}).stdout
    assert "args=-p hello" in out
    apikey = loads((ccr_home / "config.json").read_text())["APIKEY"]
    assert f"url=http://127.0.0.1:{running} token={apikey} key=none" in out
    assert f'export ANTHROPIC_AUTH_TOKEN="{apikey}"' in exports


def test_refuses_public_bind_without_key(ccr_home: Path) -> None:
    (ccr_home / "config.json").write_text('{"Providers": []}')  # a config from before keys were generated
    result = ccr("start", "--host", "0.0.0.0", "--port", str(free_port()), "--foreground")
    assert result.returncode == 1 and "refusing to listen on 0.0.0.0 without an API key" in result.stderr
    # serve() itself refuses too, for whoever calls it without the CLI
    from router.config import parse_config
    from router.server.run import serve

    with pytest.raises(SystemExit, match=r"refusing to listen on 0\.0\.0\.0"):
        serve(ccr_home / "config.json", parse_config({"Providers": []}), "0.0.0.0", free_port())


def test_invalid_config_does_not_start(ccr_home: Path) -> None:
    (ccr_home / "config.json").write_text(json.dumps({"Providers": [{"name": "x", "api_base_url": "nope",
                                                                     "models": ["m"]}]}))
    result = ccr("start", "--port", str(free_port()))
    assert result.returncode == 1
    assert "Providers[0].api_base_url: not a URL" in result.stderr
    assert ccr("status").returncode == 3


def test_config_commands(ccr_home: Path, tmp_path: Path) -> None:
    target = tmp_path / "c.json"
    target.write_text(FIXTURE.read_text())
    assert ccr("config", "path").stdout.strip() == str(ccr_home / "config.json")
    shown = ccr("config", "show", "--config", str(target)).stdout
    assert "your-secret-key" not in shown and "sk-xxx" not in shown  # literal secrets masked
    assert '"$OPENROUTER_KEY"' in shown  # references are not secrets
    valid = ccr("config", "validate", "--config", str(target), env={"OPENROUTER_KEY": "x", "DEEPSEEK_KEY": "y"})
    assert valid.returncode == 0 and "valid (6 providers" in valid.stdout
    assert "ZAI_KEY is not set" in valid.stdout
    target.write_text('{"PORT": "high"}')
    invalid = ccr("config", "validate", "--config", str(target))
    assert invalid.returncode == 1 and "PORT: must be an integer" in invalid.stderr


def test_commands_that_do_not_serve_import_nothing_heavy() -> None:
    probe = ("import sys, router.cli.main, router.cli.server_cmd, router.cli.config_cmd, router.cli.common, "
             "router.cli.log_cmd, router.cli.ml_cmd, classifier, classifier.taxonomy, classifier.versions; "
             "print([m for m in ('fastapi', 'starlette', 'aiohttp', 'uvicorn', 'tiktoken', 'httpx', 'duckdb', "
             "'urllib.request', 'torch', 'sentence_transformers', 'sklearn', 'numpy') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_start_fails_when_the_port_is_taken(ccr_home: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = ccr("start", "--port", str(port))
    assert result.returncode == 1 and "failed" in result.stderr
    assert ccr("status").returncode == 3


def test_a_stale_state_file_with_a_reused_pid_is_not_ccr(ccr_home: Path) -> None:
    other = subprocess.Popen(["sleep", "30"])
    try:
        (ccr_home / "server.json").write_text(json.dumps(
            {"pid": other.pid, "host": "127.0.0.1", "port": 1, "started": 0, "config": "x"}))
        assert ccr("status").returncode == 3
        assert ccr("stop").stdout.strip() == "ccr is not running"
        assert other.poll() is None  # the unrelated process was left alone
    finally:
        other.kill()
        other.wait()


@pytest.mark.parametrize("recorded", ["none", "other start time"])
def test_stop_never_signals_claude_code_routers_ccr(ccr_home: Path, recorded: str) -> None:
    """claude-code-router's command is also `ccr`: a state file naming its pid must not get it killed."""
    other = subprocess.Popen(["bash", "-c", "sleep 30", "ccr", "start"])  # its command line: … ccr start
    try:
        state = {"pid": other.pid, "host": "127.0.0.1", "port": 1, "started": 0, "config": "x"}
        if recorded != "none":
            state["starttime"] = 1  # ccr records its own start; this process started later
        (ccr_home / "server.json").write_text(json.dumps(state))
        assert ccr("stop").stdout.strip() == "ccr is not running"
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


def test_restart_with_a_broken_config_keeps_the_router(running: int, ccr_home: Path) -> None:
    config = ccr_home / "config.json"
    good = config.read_text()
    config.write_text(good.replace('"Providers"', '"Providers": 5, "Old"', 1))
    result = ccr("restart", "--port", str(running))
    assert result.returncode == 1 and "left running on its old config" in result.stderr
    assert ccr("status").returncode == 0  # no outage
    config.write_text(good)
    assert ccr("restart", "--port", str(running)).returncode == 0


def test_config_show_masks_every_secret(tmp_path: Path) -> None:
    target = tmp_path / "c.json"
    target.write_text(json.dumps({
        "Providers": [{"name": "a", "api_base_url": "https://a.test/v1/chat/completions",
                       "api_key": ["list-key-one", "list-key-two"], "models": ["m"],
                       "transformer": {"use": [["customparams", {"headers": {"x-goog-api-key": "cp-secret-value"},
                                                                 "max_tokens": 100}]]}}],
        "PROXY_URL": "http://proxyuser:proxy-password@proxy.test:3128", "APIKEY": "ccr-own-key-123",
        "routingRules": [{"name": "small", "conditions": {"tokenCount": "tokenCount < 500"}}],
    }, indent=2))
    shown = ccr("config", "show", "--config", str(target)).stdout
    for secret in ("list-key-one", "list-key-two", "cp-secret-value", "proxy-password", "proxyuser",
                   "ccr-own-key-123"):
        assert secret not in shown
    assert "tokenCount < 500" in shown and "proxy.test:3128" in shown and '"max_tokens": 100' in shown
    # a short "key" (a local server's placeholder) is no secret, and masking it would garble the file
    target.write_text(json.dumps({"Providers": [{"name": "ollama", "api_base_url": "http://localhost:11434/v1",
                                                 "api_key": "ollama", "models": ["qwen"]}],
                                  "Router": {"default": "ollama,qwen"}}))
    assert '"default": "ollama,qwen"' in ccr("config", "show", "--config", str(target)).stdout


def test_config_apikey_adds_a_key_once(ccr_home: Path) -> None:
    config = ccr_home / "config.json"
    # as the example of earlier versions was written: a comment with a brace first, the key commented out
    config.write_text('// ccr config {see the README}\n{\n  // mine\n  "Providers": [],\n'
                      '  // "APIKEY": "$CCR_API_KEY",\n}\n')
    added = ccr("config", "apikey")
    assert added.returncode == 0 and "ccr restart" in added.stdout
    text = config.read_text()
    key = loads(text)["APIKEY"]
    assert key.startswith("ccr-") and key not in added.stdout and "// mine" in text
    assert oct(config.stat().st_mode & 0o777) == "0o600"
    again = ccr("config", "apikey")
    assert again.returncode == 0 and "already sets APIKEY" in again.stdout and loads(config.read_text())["APIKEY"] == key


@pytest.mark.parametrize("args", [("train", "--list"), ("config", "path"), ("--help",)])
def test_a_reader_that_stops_early_gets_no_noise(args: tuple[str, ...], ccr_home: Path) -> None:
    """`ccr … | head -c 0`: the reader has gone before ccr writes; that is not a failure to report."""
    done = subprocess.run(f"{sys.executable} -m router {' '.join(args)} | head -c 0; exit ${{PIPESTATUS[0]}}",
                          shell=True, executable="/bin/bash", capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    assert done.stderr == "" and done.returncode in (0, 141), (done.returncode, done.stderr)
