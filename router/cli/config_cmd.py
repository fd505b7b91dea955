"""`ccr config show | validate | path | apikey`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from router import paths
from router.cli.common import config_file
from router.config import ConfigError, jsonc, load_config
from router.redact import MIN_SECRET, redact, secret_values


def _literal_secrets(data: Any) -> list[str]:
    """The secrets written literally in a config: values under secret-looking names (lists of keys and
    `customparams` included) and proxy credentials. "$VAR" references are not secrets and stay readable."""
    found = secret_values(data)
    if isinstance(data, dict) and isinstance(data.get("PROXY_URL"), str):
        parts = urlsplit(data["PROXY_URL"])
        found += [parts.password or "", parts.username or ""]
    return [s for s in found if s and not s.startswith("$")]


def _masked(secret: str) -> str:
    return secret[:3] + "…" if len(secret) > 8 else "…"


def mask(text: str) -> str:
    """The file as written (comments kept), every secret masked; unparsable files still lose the key shapes."""
    try:
        secrets = _literal_secrets(jsonc.loads(text))
    except jsonc.JSONCError:
        secrets = []
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) < MIN_SECRET:  # "ollama" or "x" are no credentials, and masking them would garble the file
            continue
        # a JSON string that is the secret, or the password / user of credentials in a URL
        for before, after in (('"', '"'), (":", "@"), ("//", ":")):
            text = text.replace(before + secret + after, before + _masked(secret) + after)
    return redact(text)


def add_apikey(path: Path) -> int:
    from router.config.example import new_apikey

    text = path.read_text(encoding="utf-8")
    try:
        data = jsonc.loads(text)
    except jsonc.JSONCError as exc:
        print(f"ccr: {path} is not valid JSON at {exc}; fix it first", file=sys.stderr)
        return 1
    if not isinstance(data, dict):
        print(f"ccr: {path} must hold a JSON object", file=sys.stderr)
        return 1
    if data.get("APIKEY"):
        print(f"{path} already sets APIKEY; `ccr code` and `ccr activate` pass it on")
        return 0
    if "APIKEY" in data:  # "APIKEY": "" or null: set it in place rather than write the key twice
        print(f"ccr: {path} has an empty APIKEY; remove that line and run this again", file=sys.stderr)
        return 1
    brace = jsonc.blank_comments(text).index("{")  # the object's own brace, not one inside a leading comment
    line = f'\n  // every client sends this key; `ccr code` and `ccr activate` pass it on\n  "APIKEY": "{new_apikey()}",'
    paths.write_private(path, text[:brace + 1] + line + text[brace + 1:])
    print(f"added a random APIKEY to {path}; `ccr restart` to apply it, then start Claude Code with `ccr code` "
          'or eval "$(ccr activate)"')
    return 0


def run(action: str, explicit: str | None) -> int:
    path = config_file(explicit)
    if action == "path":
        print(path)
        return 0
    if not path.exists():
        print(f"ccr: no config at {path}; `ccr start` creates an example there", file=sys.stderr)
        return 1
    if action == "show":
        print(mask(path.read_text(encoding="utf-8")), end="")
        return 0
    if action == "apikey":
        return add_apikey(path)
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
