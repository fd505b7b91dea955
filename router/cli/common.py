"""Shared by the commands: finding, creating and loading the config, and reading the server's state file."""

from __future__ import annotations

import ipaddress
import json
import os
import sys
from pathlib import Path
from typing import Any

from router import paths
from router.config import Config, ConfigError, load_config


def config_file(explicit: str | None) -> Path:
    return Path(explicit).expanduser().resolve() if explicit else paths.config_path()


def ensure_config(path: Path) -> bool:
    """Write the commented example on first start (only at the default location). True if it was written."""
    if path.exists() or path != paths.config_path():
        return False
    from router.config.example import EXAMPLE_CONFIG

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(EXAMPLE_CONFIG, encoding="utf-8")
    path.chmod(0o600)  # it will hold keys
    return True


def load_or_explain(path: Path, *, quiet: bool = False) -> Config | None:
    try:
        config = load_config(path)
    except ConfigError as exc:
        print(f"ccr: {exc}", file=sys.stderr)
        print("Fix the file (see `ccr config validate`) and try again.", file=sys.stderr)
        return None
    for warning in () if quiet else config.warnings:
        print(f"ccr: warning: {warning}", file=sys.stderr)
    return config


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_ccr_process(pid: int) -> bool:
    """A pid from a state file may have been reused after a crash or reboot: make sure it is ccr's."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return not Path("/proc/self").exists()  # no procfs (macOS): trust the pid
    except OSError:
        return True
    return b"router" in cmdline or b"ccr" in cmdline


def read_state() -> dict[str, Any] | None:
    """The running server's state file, if its process is alive and is ccr."""
    try:
        state = json.loads(paths.state_path().read_text())
        pid = int(state["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return dict(state) if is_ccr_process(pid) else None


def client_host(host: str) -> str:
    """Where a local client reaches a server bound to `host`."""
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host
