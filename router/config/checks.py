"""Small validators shared by the config parsers: each reports problems with their path and never raises."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


class Report:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.missing_vars: dict[str, str] = {}

    def error(self, path: str, msg: str) -> None:
        self.errors.append(f"{path}: {msg}")

    def warn(self, path: str, msg: str) -> None:
        self.warnings.append(f"{path}: {msg}")


def type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def expect(value: Any, kind: type | tuple[type, ...], path: str, what: str, rep: Report) -> bool:
    ok = isinstance(value, kind) and not (kind in (int, float, (int, float)) and isinstance(value, bool))
    if not ok:
        rep.error(path, f"must be {what}, got {type_name(value)}")
    return ok


def unknown_keys(obj: dict[str, Any], known: set[str], path: str, rep: Report) -> None:
    for key in obj:
        if key not in known:
            rep.warn(f"{path}.{key}" if path else key, "unknown key, ignored")


def is_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def is_local(url: str) -> bool:
    """A loopback or private-network host: a model served there has no per-token price."""
    import ipaddress

    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".local"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private


def number(obj: dict[str, Any], key: str, path: str, rep: Report, *, integer: bool = False) -> Any:
    if key not in obj:
        return None
    value = obj[key]
    kind: type | tuple[type, ...] = int if integer else (int, float)
    if not expect(value, kind, f"{path}.{key}", "an integer" if integer else "a number", rep):
        return None
    if value < 0 or (integer and value == 0):
        rep.error(f"{path}.{key}", "must be positive")
        return None
    return value
