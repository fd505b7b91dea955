"""Where trained heads live. The default model (seed data only) is cached per data hash under the cache
directory, shared by every data directory on the machine. Models trained by `ccr train` are kept as numbered
versions in $CCR_HOME/classifier/versions; ACTIVE names the one in use, and history.json the activations, so
`ccr train --rollback` can go back."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from router import paths

DEFAULT = "default"


def cache_dir() -> Path:
    return Path(os.environ.get("CCR_CACHE_DIR") or Path.home() / ".cache" / "ccr").expanduser()


def root() -> Path:
    return paths.data_dir() / "classifier"


def versions_dir() -> Path:
    return root() / "versions"


def _history_path() -> Path:
    return root() / "history.json"


def history() -> list[dict[str, Any]]:
    path = _history_path()
    return list(json.loads(path.read_text())) if path.exists() else []


def active_name() -> str:
    path = root() / "ACTIVE"
    name = path.read_text().strip() if path.exists() else DEFAULT
    return name if name == DEFAULT or (versions_dir() / name).is_dir() else DEFAULT


def listing() -> list[dict[str, Any]]:
    """Every kept version with its metadata, oldest first."""
    out = []
    for d in sorted(versions_dir().glob("v*")):
        meta_path = d / "meta.json"
        if meta_path.exists():
            out.append({"name": d.name, **json.loads(meta_path.read_text())})
    return out


def next_dir() -> Path:
    taken = [int(d.name[1:]) for d in versions_dir().glob("v*") if d.name[1:].isdigit()]
    return versions_dir() / f"v{max(taken, default=0) + 1:04d}"


def activate(name: str, reason: str) -> None:
    if name != DEFAULT and not (versions_dir() / name / "meta.json").exists():
        known = ", ".join(v["name"] for v in listing()) or "none yet"
        raise ValueError(f"no classifier version {name!r} (kept: {known}; or 'default')")
    root().mkdir(parents=True, exist_ok=True)
    entries = history()
    entries.append({"name": name, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "reason": reason})
    _write(_history_path(), json.dumps(entries, indent=2) + "\n")
    _write(root() / "ACTIVE", name + "\n")


def previous() -> str | None:
    """The version that was active before the current one (None when there is nothing to go back to)."""
    current = active_name()
    for entry in reversed(history()):
        if entry["name"] != current:
            return str(entry["name"])
    return DEFAULT if current != DEFAULT else None


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)
