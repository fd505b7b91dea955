"""Shared by the commands: finding, creating and loading the config, and reading the server's state file."""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from router import paths
from router.process import is_ccr_process, process_alive

if TYPE_CHECKING:  # status, stop and activate must not pay for the config machinery
    from router.config import Config


def config_file(explicit: str | None) -> Path:
    return Path(explicit).expanduser().resolve() if explicit else paths.config_path()


def ensure_config(path: Path) -> bool:
    """Write the commented example, with a new random APIKEY, on first start (only at the default location).
    True if it was written."""
    if path.exists() or path != paths.config_path():
        return False
    from router.config.example import example_config

    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    paths.write_private(path, example_config())
    return True


def load_or_explain(path: Path, *, quiet: bool = False) -> Config | None:
    from router.config import ConfigError, load_config

    try:
        config = load_config(path)
    except ConfigError as exc:
        print(f"ccr: {exc}", file=sys.stderr)
        print("Fix the file (see `ccr config validate`) and try again.", file=sys.stderr)
        return None
    for warning in () if quiet else config.warnings:
        print(f"ccr: warning: {warning}", file=sys.stderr)
    return config


def read_state() -> dict[str, Any] | None:
    """The running server's state file, if its process is alive and is ccr."""
    try:
        state = json.loads(paths.state_path().read_text())
        pid = int(state["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return dict(state) if process_alive(pid) and is_ccr_process(pid, state.get("starttime")) else None


def client_host(host: str) -> str:
    """Where a local client reaches a server bound to `host`."""
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def get_json(host: str, port: int, path: str, timeout: float = 1.0, key: str | None = None,
             post: Any = None, errors: bool = False) -> Any:
    """GET (or POST `post` as JSON) over a plain socket (urllib would cost more to import than the whole command
    may take); the JSON body of a 200, else None (with `errors`, an Anthropic-format error answer exits with its
    message)."""
    auth = f"x-api-key: {key}\r\n" if key else ""
    payload = json.dumps(post).encode() if post is not None else b""
    method = "POST" if post is not None else "GET"
    extra = f"content-type: application/json\r\ncontent-length: {len(payload)}\r\n" if post is not None else ""
    try:
        with socket.create_connection((client_host(host).strip("[]"), port), timeout=timeout) as sock:
            sock.sendall(f"{method} {path} HTTP/1.0\r\nHost: {client_host(host)}:{port}\r\n{auth}{extra}\r\n".encode()
                         + payload)
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
    except OSError:
        return None
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.") or b" 200 " not in head.split(b"\r\n", 1)[0]:
        if errors:
            try:
                message = json.loads(body)["error"]["message"]
            except (ValueError, KeyError, TypeError):
                return None
            print(f"ccr: the router says: {message}", file=sys.stderr)
            status = head.split(b" ", 2)[1]
            # what was asked is wrong (4xx): the exit status of the same mistake caught here, before asking
            raise SystemExit(2 if status[:1] == b"4" else 1)
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def get_health(host: str, port: int, timeout: float = 1.0) -> dict[str, Any] | None:
    found = get_json(host, port, "/health", timeout)
    return dict(found) if isinstance(found, dict) else None


def reader_left() -> int:
    """The reader of stdout stopped (`ccr stats | head -2`): say nothing, and let Python say nothing at exit (its
    flush of stdout would fail again). The exit status a shell gives a process SIGPIPE ended."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 141
