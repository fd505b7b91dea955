"""A real `ccr start` session with traffic, upstream 401s and errors that echo the provider's key: afterwards no
file ccr wrote holds a secret, every file is the user's alone, and `ccr log purge --prompts` leaves no prompt on
the disk."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cli.test_cli import ccr
from tests.support.router import free_port
from tests.support.upstream import Received, Reply, ScriptedUpstream, sse

PROVIDER_KEY = "prov-secret-Zq81xY7wVu"  # no known key shape: only its registration can mask it
SECOND_KEY = "prov-second-Kp42mN9rT"
APIKEY = "ccr-client-key-Lm55pQ3s"
SECRETS = (PROVIDER_KEY, SECOND_KEY, APIKEY)
MARKER = "PROMPT-MARKER-9f3c"


def script(r: Received) -> Reply:
    """Answers that echo the credentials they were sent, as careless providers do."""
    prompt = r.body["messages"][-1]["content"] if r.body else ""
    auth = r.headers.get("Authorization", "")
    if "401" in prompt:
        return Reply(status=401, body={"error": {"message": f"Incorrect API key provided: {auth[7:]}"}})
    if "500" in prompt:
        return Reply(status=500, content_type="text/plain", body=f"crashed handling {auth}".encode())
    if "midstream" in prompt:
        return Reply(chunks=sse({"choices": [{"index": 0, "delta": {"content": "partial"}}]},
                                {"error": {"message": f"key {auth[7:]} was revoked"}}))
    return Reply(body={"id": "c1", "object": "chat.completion", "model": "m",
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": "fine"},
                                    "finish_reason": "stop"}],
                       "usage": {"prompt_tokens": 5, "completion_tokens": 1}})


@pytest.fixture
def session(ccr_home: Path) -> Iterator[tuple[int, ScriptedUpstream]]:
    upstream = ScriptedUpstream(script).start()
    config = {
        "Providers": [{"name": "up", "api_base_url": f"{upstream.url}/v1/chat/completions",
                       "api_key": [PROVIDER_KEY, SECOND_KEY], "models": ["m"],
                       "transformer": {"use": [["customparams", {"seed": 1}]]}}],
        "Router": {"default": "up,m"}, "APIKEY": APIKEY, "LOG_LEVEL": "debug", "Classifier": {"enabled": False},
        "retry": {"retries": 0},
    }
    (ccr_home / "config.json").write_text(json.dumps(config))
    port = free_port()
    started = ccr("start", "--port", str(port))
    assert started.returncode == 0, started.stderr
    try:
        yield port, upstream
    finally:
        ccr("stop")
        upstream.stop()


def ask(port: int, prompt: str, stream: bool = False) -> httpx.Response:
    return httpx.post(f"http://127.0.0.1:{port}/v1/messages", headers={"x-api-key": APIKEY}, timeout=30,
                      json={"model": "up,m", "max_tokens": 5, "stream": stream,
                            "messages": [{"role": "user", "content": prompt}]})


def files_written(home: Path) -> dict[Path, bytes]:
    """Everything under the data directory but the config (which the user writes and which holds the keys)."""
    return {p: p.read_bytes() for p in home.rglob("*") if p.is_file() and p.name != "config.json"}


def test_secrets_never_reach_a_file_or_a_client(session: tuple[int, ScriptedUpstream], ccr_home: Path) -> None:
    port, _ = session
    answers: list[httpx.Response] = [ask(port, f"{MARKER} say hi")]
    assert answers[0].status_code == 200
    for prompt in ("401 please", "500 please"):
        answers.append(ask(port, prompt))
        assert answers[-1].status_code >= 400
    answers.append(ask(port, "midstream please", stream=True))
    assert b"event: error" in answers[-1].content and b"[redacted]" in answers[-1].content
    assert "[redacted]" in answers[1].json()["error"]["message"]
    for resp in answers:
        assert not any(s.encode() in resp.content for s in SECRETS), resp.text
        assert not any(s in json.dumps(dict(resp.headers)) for s in SECRETS)
    shown = ccr("config", "show").stdout
    assert not any(s in shown for s in SECRETS) and '"up"' in shown

    assert ccr("stop").returncode == 0  # everything is written out
    written = files_written(ccr_home)
    assert any(p.name == "ccr.log" for p in written) and any(p.name == "ccr.duckdb" for p in written)
    log = (ccr_home / "logs" / "ccr.log").read_text()
    assert "answered HTTP 401" in log and "[redacted]" in log  # the failures were logged, masked
    for path, data in written.items():
        for secret in SECRETS:
            assert secret.encode() not in data, f"{secret} in {path}"
    modes = {str(p.relative_to(ccr_home)): oct(p.stat().st_mode & 0o777) for p in ccr_home.rglob("*")}
    assert modes == {name: "0o700" if (ccr_home / name).is_dir() else "0o600" for name in modes}


def test_purge_prompts_running_and_stopped(session: tuple[int, ScriptedUpstream], ccr_home: Path) -> None:
    port, _ = session
    for i in range(3):
        assert ask(port, f"{MARKER} turn {i}").status_code == 200
    db = ccr_home / "ccr.duckdb"
    purged = ccr("log", "purge", "--prompts")
    assert purged.returncode == 0 and "deleted 3 logged prompts" in purged.stdout, purged.stderr
    assert MARKER.encode() not in db.read_bytes()
    assert ask(port, f"{MARKER} after the purge").status_code == 200  # the router logs on, into the new file
    stats = json.loads(ccr("stats", "--json").stdout)
    assert stats["requests"] == 4  # decisions and outcomes were kept, only prompts went
    refused = ccr("label", "p_nope", "--strong")  # the running router refuses it: the status of a local refusal
    assert refused.returncode == 2 and "the router says: no logged prompt p_nope" in refused.stderr, refused.stderr
    assert ccr("stop").returncode == 0
    assert any(MARKER.encode() in data for data in files_written(ccr_home).values())  # the newest turn
    purged = ccr("log", "purge", "--prompts")  # the router is stopped: the file itself
    assert purged.returncode == 0 and "deleted 1 logged prompts" in purged.stdout, purged.stderr
    assert all(MARKER.encode() not in data for data in files_written(ccr_home).values())
    assert oct(db.stat().st_mode & 0o777) == "0o600"
    assert json.loads(ccr("stats", "--json").stdout)["requests"] == 4


def test_purge_needs_to_be_told_what(ccr_home: Path) -> None:
    result = ccr("log", "purge")
    assert result.returncode == 2 and "--prompts" in result.stderr


# aiohttp leaves the socket of a failed proxy connection to the garbage collector
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_proxy_credentials_stay_out_of_errors(make_router: Any) -> None:
    """A proxy that cannot be reached: the error names it, never its password."""
    router = make_router({"Providers": [{"name": "up", "api_base_url": "http://127.0.0.1:9/v1/chat/completions",
                                         "api_key": PROVIDER_KEY, "models": ["m"]}],
                          "Router": {"default": "up,m"}, "retry": {"retries": 0},
                          "PROXY_URL": "http://user:proxy-pass-Hj27@127.0.0.1:9"})
    resp = httpx.post(router.url + "/v1/messages", json={"model": "up,m", "max_tokens": 5,
                                                          "messages": [{"role": "user", "content": "hi"}]})
    assert resp.status_code == 502 and "proxy-pass-Hj27" not in resp.text and PROVIDER_KEY not in resp.text
