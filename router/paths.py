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
    """ccr's data (model catalog, seed prompts, the shipped classifier): the repository's data/, installed as the
    package ccr_data; CCR_DATA_DIR overrides it."""
    import ccr_data

    return Path(ccr_data.root())


# what ccr keeps in the data directory: the config (keys), the decision log (prompts) and its WAL, the server's
# state, its logs and the classifier versions trained from the log
_PRIVATE_FILES = ("config.json", "ccr.duckdb", "ccr.duckdb.wal", "server.json", "ccr.pid")
_PRIVATE_DIRS = ("logs", "classifier")


def make_private() -> None:
    """Files this process creates are readable by the user alone (umask 077), and what an earlier version left
    readable by others is made private: the directory 0700, ccr's files in it 0600. Only ccr's own names are
    touched, in case CCR_HOME points at a folder that holds other things."""
    os.umask(0o077)
    root = data_dir()
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    _chmod(root, 0o700)
    for name in _PRIVATE_FILES:
        _chmod(root / name, 0o600)
    for name in _PRIVATE_DIRS:
        top = root / name
        if not top.is_dir() or top.is_symlink():
            continue
        _chmod(top, 0o700)
        for path in top.rglob("*"):
            if not path.is_symlink():
                _chmod(path, 0o700 if path.is_dir() else 0o600)


def _chmod(path: Path, mode: int) -> None:
    try:
        if not path.is_symlink() and path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)
    except FileNotFoundError:
        pass
    except PermissionError:  # someone else's file in our folder: leave it, never fail a start over it
        pass


def write_private(path: Path, text: str) -> None:
    """Replace `path` with `text` at once (readers never see half a file), readable by the user alone from its
    first byte (it may hold keys)."""
    path = path.resolve()  # a symlinked config (dotfiles) stays a symlink: its target is what is replaced
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
