"""What the benchmark's load runs and its in-process figures share: ports, and the router's configuration."""

from __future__ import annotations

import socket
import time
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
