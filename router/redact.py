"""Secrets kept out of everything ccr writes or answers: log lines, error messages (which also reach the decision
log and the client), and the CLI's output.

Two nets: the secrets this process knows (provider keys, ccr's APIKEY, proxy credentials, secret-looking
`customparams`), registered when a config is loaded, and the shapes of common credentials (provider key
prefixes, bearer tokens, credentials in URLs) for keys ccr was never told about, such as a client's wrong key
echoed back by an upstream. Secrets shorter than MIN_SECRET characters are not matched literally: replacing
every "ccr" or "abc" in a log would destroy it and protect nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

MIN_SECRET = 6
MASK = "[redacted]"

# key shapes: OpenAI/Anthropic/DeepSeek/OpenRouter/Groq ("sk-…", "sk-ant-…", "sk-or-…", "gsk_…"), Google ("AIza…"),
# xAI ("xai-…"), GitHub and Hugging Face tokens; bearer tokens and x-api-key headers; a `key=` query parameter;
# the password of user:password@host in a URL
_SHAPES = (
    r"\b(?:sk|gsk|xai|pk|rk)[-_][A-Za-z0-9_\-]{12,}"
    r"|\bAIza[0-9A-Za-z_\-]{30,}"
    r"|\b(?:ghp|gho|ghs|hf)_[A-Za-z0-9]{20,}"
    r"|(?i:(?<=bearer )[A-Za-z0-9._~+/=\-]{8,})"
    r"|(?i:(?<=x-api-key: )[^\s\"',]{8,})"
    r"|(?i:(?<=[?&]key=)[^&\s\"']{8,})"
    r"|(?<=://)[^/\s:@\"']+:[^/\s@\"']+(?=@)"
)
_shapes = re.compile(_SHAPES)
_literals: set[str] = set()
_known: re.Pattern[str] | None = None


def register(secrets: Iterable[str | None]) -> None:
    """Add the literal secrets of a loaded config (kept for the life of the process: a key may still appear in
    a late log line after a reload)."""
    global _known
    found = {s for s in secrets if s and len(s) >= MIN_SECRET}
    if not found - _literals:
        return
    _literals.update(found)
    # longest first, so that a key containing another is masked whole
    _known = re.compile("|".join(re.escape(s) for s in sorted(_literals, key=len, reverse=True)))


def redact(text: str) -> str:
    if _known is not None:
        text = _known.sub(MASK, text)
    return _shapes.sub(MASK, text)


class RedactingFormatter(logging.Formatter):
    """A formatter whose every line (tracebacks included) has its secrets masked."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


# by the end of the name: `api_key`, `APIKEY`, `x-goog-api-key`, `access_token`, `Authorization`, but not
# `max_tokens` or `tokenCount`
_SECRET_NAME = re.compile(r"(?i)(?:key|token|secret|passw(?:or)?d|authorization|credentials?|cookie)$")


def is_secret_name(name: str) -> bool:
    """A config or header name whose value is a credential (`api_key`, `Authorization`, `x-goog-api-key` …)."""
    return bool(_SECRET_NAME.search(name))


def secret_values(node: object, secret: bool = False) -> list[str]:
    """Every string held under a secret-looking name, anywhere in a JSON-like value (lists of keys included)."""
    if isinstance(node, str):
        return [node] if secret else []
    if isinstance(node, dict):
        return [v for k, child in node.items() for v in secret_values(child, secret or is_secret_name(str(k)))]
    if isinstance(node, list | tuple):
        return [v for child in node for v in secret_values(child, secret)]
    return []
