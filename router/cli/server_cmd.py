"""`ccr start | stop | restart | status | code | activate`: the server's life cycle, from the shell."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from router import paths
from router.cli.common import (
    client_host,
    config_file,
    ensure_config,
    get_health,
    load_or_explain,
    read_state,
)
from router.process import process_alive

if TYPE_CHECKING:
    from router.config import Config

START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0


def _prepare(args: argparse.Namespace) -> tuple[Path, Config, str, int] | None:
    path = config_file(args.config)
    if ensure_config(path):
        print(f"ccr: wrote an example config to {path}; edit it to add your providers and keys.")
    config = load_or_explain(path)
    if config is None:
        return None
    host = args.host or config.host
    port = args.port or config.port
    from router.server.run import refusal

    refused = refusal(config, host)
    if refused:
        print(f"ccr: {refused}", file=sys.stderr)
        return None
    return path, config, host, port


def _serve(path: Path, config: Config, host: str, port: int) -> int:
    from router.server.run import serve

    return serve(path, config, host, port)


def cmd_start(args: argparse.Namespace) -> int:
    prepared = _prepare(args)
    if prepared is None:
        return 1
    return _start(args, *prepared)


def _start(args: argparse.Namespace, path: Path, config: Config, host: str, port: int) -> int:
    state = read_state()
    if state is not None:
        print(f"ccr is already running on http://{client_host(state['host'])}:{state['port']} (pid {state['pid']}); "
              "use `ccr restart` to apply changes")
        return 0
    if args.foreground:
        return _serve(path, config, host, port)
    paths.log_dir().mkdir(parents=True, exist_ok=True)
    out = paths.log_dir() / "server.out"
    with open(out, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "router", "start", "--foreground", "--config", str(path),
             "--host", host, "--port", str(port)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "CCR_DAEMON": "1"},
        )
    print(f"ccr: starting on {host}:{port} ", end="", flush=True)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            print("failed.", file=sys.stderr)
            tail = out.read_text(errors="replace").splitlines()[-15:]
            print("\n".join(tail), file=sys.stderr)
            print(f"ccr: the server exited with code {proc.returncode}; the full log is {out}", file=sys.stderr)
            return 1
        health = get_health(host, port, timeout=0.5)
        if health and health.get("pid") == proc.pid:  # not some other server that holds the port
            print(f"done (pid {proc.pid}).")
            print("Point Claude Code at it with `ccr code`, or: eval \"$(ccr activate)\"")
            return 0
        print(".", end="", flush=True)
        time.sleep(0.25)
    print("timed out.", file=sys.stderr)
    print(f"ccr: the server did not answer on {host}:{port} within {START_TIMEOUT_S:.0f} s; see {out}",
          file=sys.stderr)
    return 1


def _stop(state: dict[str, Any]) -> bool:
    pid = int(state["pid"])
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    except PermissionError:
        raise SystemExit(f"ccr: not allowed to stop pid {pid} (started by another user?); stop it as that user") from None
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline:
        if not process_alive(pid):
            return True
        time.sleep(0.005)
    os.kill(pid, signal.SIGKILL)
    return False


def cmd_stop(args: argparse.Namespace) -> int:
    state = read_state()
    if state is None:
        print("ccr is not running")
        paths.state_path().unlink(missing_ok=True)
        paths.pid_path().unlink(missing_ok=True)
        return 0
    graceful = _stop(state)
    paths.state_path().unlink(missing_ok=True)
    paths.pid_path().unlink(missing_ok=True)
    print(f"ccr stopped (pid {state['pid']}{'' if graceful else ', killed after it did not stop in time'})")
    return 0


def cmd_restart(args: argparse.Namespace) -> int:
    prepared = _prepare(args)  # a config with a typo must not turn a restart into an outage
    state = read_state()
    if prepared is None:
        if state is not None:
            print(f"ccr: the running router (pid {state['pid']}) was left running on its old config",
                  file=sys.stderr)
        return 1
    if state is not None:
        _stop(state)
        paths.state_path().unlink(missing_ok=True)
    return _start(args, *prepared)


def cmd_status(args: argparse.Namespace) -> int:
    state = read_state()
    if state is None:
        print("ccr is not running")
        print(f"config: {paths.config_path()}")
        return 3
    health = get_health(state["host"], state["port"])
    uptime = health["uptime_s"] if health else time.time() - state["started"]
    hours, rest = divmod(int(uptime), 3600)
    print(f"ccr is running{'' if health else ' (not answering /health)'}")
    print(f"pid:     {state['pid']}")
    print(f"address: http://{client_host(state['host'])}:{state['port']}")
    print(f"uptime:  {hours}h {rest // 60:02d}m {rest % 60:02d}s")
    print(f"config:  {state['config']}")
    return 0


def _client_env(state: dict[str, Any], config: Config) -> dict[str, str]:
    return {
        "ANTHROPIC_BASE_URL": f"http://{client_host(state['host'])}:{state['port']}",
        # Claude Code needs some token; ccr checks it only when APIKEY is set
        "ANTHROPIC_AUTH_TOKEN": config.apikey or "ccr",
        "API_TIMEOUT_MS": str(config.api_timeout_ms),
    }


def _running_with_config() -> tuple[dict[str, Any], Config] | None:
    state = read_state()
    path = Path(state["config"]) if state else config_file(None)
    if state is None and not path.exists():
        return None
    config = load_or_explain(path, quiet=True)
    if config is None or state is None:
        return None
    return state, config


def cmd_code(args: argparse.Namespace) -> int:
    if read_state() is None:
        # claude's stdout may be piped (--output-format json): ccr's own messages go to stderr
        with contextlib.redirect_stdout(sys.stderr):
            code = cmd_start(argparse.Namespace(config=None, host=None, port=None, foreground=False))
        if code:
            return code
    found = _running_with_config()
    if found is None:
        return 1
    state, config = found
    claude = os.environ.get("CLAUDE_PATH") or shutil.which("claude")
    if not claude:
        print("ccr: Claude Code is not installed or not on PATH. Install it with "
              "`npm install -g @anthropic-ai/claude-code`, or set CLAUDE_PATH.", file=sys.stderr)
        return 127
    env = {k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"}
    env.update(_client_env(state, config))
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvpe(claude, [claude, *args.args], env)


def cmd_activate(args: argparse.Namespace) -> int:
    state = read_state()
    if state is None:
        print("ccr is not running; start it with `ccr start`", file=sys.stderr)
        return 1
    found = _running_with_config()
    if found is None:
        return 1
    env = _client_env(*found)
    if sys.stdout.isatty() and found[1].apikey:
        # shown on a screen, not evaluated: keep the key off it
        env["ANTHROPIC_AUTH_TOKEN"] = "<APIKEY from the config: run eval \"$(ccr activate)\">"
    for key, value in env.items():
        print(f"export {key}={json.dumps(value)}")
    print("unset ANTHROPIC_API_KEY")
    return 0
