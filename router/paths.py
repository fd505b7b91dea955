"""Where ccr keeps its files: one data directory, `~/.ccr` unless CCR_HOME says otherwise."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    return Path(os.environ.get("CCR_HOME") or Path.home() / ".ccr").expanduser()


def config_path() -> Path:
    return data_dir() / "config.json"


def log_dir() -> Path:
    return data_dir() / "logs"


def pid_path() -> Path:
    return data_dir() / "ccr.pid"


def state_path() -> Path:
    """JSON written by a running server: pid, host, port, start time, config path."""
    return data_dir() / "server.json"


def repo_data_dir() -> Path:
    """The repository's data/ (seed prompts, held-out set, model catalog); CCR_DATA_DIR overrides it for an
    installed copy elsewhere."""
    return Path(os.environ.get("CCR_DATA_DIR") or Path(__file__).resolve().parent.parent / "data")
