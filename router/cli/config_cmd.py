"""`ccr config show | validate | path`."""

from __future__ import annotations

import re
import sys

from router.cli.common import config_file
from router.config import ConfigError, load_config

# literal secrets are masked; "$VAR" references are not secrets and stay readable
_SECRET = re.compile(r'("(?:api_key|APIKEY)"\s*:\s*")([^"$][^"]*)(")')


def _mask(text: str) -> str:
    return _SECRET.sub(lambda m: m.group(1) + (m.group(2)[:3] + "…" if len(m.group(2)) > 8 else "…") + m.group(3),
                       text)


def run(action: str, explicit: str | None) -> int:
    path = config_file(explicit)
    if action == "path":
        print(path)
        return 0
    if not path.exists():
        print(f"ccr: no config at {path}; `ccr start` creates an example there", file=sys.stderr)
        return 1
    if action == "show":
        print(_mask(path.read_text(encoding="utf-8")), end="")
        return 0
    try:
        config = load_config(path)
    except ConfigError as exc:
        print(f"ccr: {exc}", file=sys.stderr)
        return 1
    for warning in config.warnings:
        print(f"warning: {warning}")
    models = sum(len(p.models) for p in config.providers.values())
    print(f"{path}: valid ({len(config.providers)} providers, {models} models, default "
          f"{config.router.default or 'not set'})")
    return 0
