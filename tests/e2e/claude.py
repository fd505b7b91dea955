"""Installing the pinned Claude Code CLI into a cache, and running it headless against ccr."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

CLAUDE_CODE_VERSION = "2.1.337"
CACHE = Path(os.environ.get("CCR_TEST_CACHE", Path.home() / ".cache" / "ccr-tests"))


def claude_binary() -> Path:
    """The pinned CLI, installed from npm on first use (about 100 MB, once per machine)."""
    prefix = CACHE / f"claude-code-{CLAUDE_CODE_VERSION}"
    binary = prefix / "node_modules" / ".bin" / "claude"
    if binary.exists():
        return binary
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed to install Claude Code for the end-to-end tests")
    prefix.mkdir(parents=True, exist_ok=True)
    print(f"Installing Claude Code {CLAUDE_CODE_VERSION} from npm into {prefix} (once per machine)…", flush=True)
    subprocess.run([npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--loglevel=error",
                    f"@anthropic-ai/claude-code@{CLAUDE_CODE_VERSION}"], check=True, timeout=600)
    return binary


def run_claude(base_url: str, prompt: str, model: str, workdir: Path, home: Path,
               tools: str = "Write,Bash,Read", timeout: float = 120, token: str = "test-token") -> dict[str, Any]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "ANTHROPIC_BASE_URL": base_url,
        "ANTHROPIC_AUTH_TOKEN": token,
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
    }
    proc = subprocess.run(
        [str(claude_binary()), "-p", prompt, "--model", model, "--allowedTools", tools, "--output-format", "json"],
        cwd=workdir, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
    )
    try:
        result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise AssertionError(f"claude printed no JSON result (exit {proc.returncode}):\n"
                             f"stdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-2000:]}") from None
    result["_stderr"] = proc.stderr
    return result


if __name__ == "__main__":  # `make test` installs the CLI up front, with npm's own progress
    print(f"Claude Code {CLAUDE_CODE_VERSION} for the end-to-end tests: {claude_binary()}")
