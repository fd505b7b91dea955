"""What the benchmark's load runs and its in-process figures share: ports, and the router's configuration."""

from __future__ import annotations

import json
import os
import socket
import time
import urllib.request
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"bench: nothing listens on {port} after {timeout:.0f} s")


def wait_ready(port: int, timeout: float = 600) -> str:
    """Until the router on `port` has loaded its classifier (the first run on a machine trains the default one):
    its start-up work must not be measured with what follows. The classifier's state."""
    wait_port(port)
    deadline = time.monotonic() + timeout
    state = "loading"
    while state == "loading" and time.monotonic() < deadline:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as answer:
            state = json.loads(answer.read())["classifier"]["state"]
        time.sleep(0.05)
    return str(state)


def router_config(upstream_port: int, path: str) -> dict[str, Any]:
    """Full routing: the classifier and the budget-aware policy on, the decision log on, two priced models."""
    priced = {"context_window": 200000}
    return {
        "Providers": [{"name": "up", "api_base_url": f"http://127.0.0.1:{upstream_port}/{path}/v1/chat/completions",
                       "api_key": "sk-bench", "models": [
                           {"name": "bench-small", "tier": 1, "pricing": {"input": 0.3, "output": 1.2}, **priced},
                           {"name": "bench-strong", "tier": 3, "pricing": {"input": 3, "output": 15}, **priced}]}],
        "Router": {"default": "up,bench-strong"},
        "Classifier": {"enabled": True}, "Policy": {"enabled": True, "strongShare": 0.3},
        "LOG_LEVEL": "warning",
    }


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0
