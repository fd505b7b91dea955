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
from collections.abc import Callable, Iterable

from router.printable import printable

MIN_SECRET = 6
MASK = "[redacted]"

# Credential shapes, each (pattern, group of the secret; 0 for the whole match). Key-like tokens need a digit
# and some length, so that words such as "sk-learn-estimator" or "Bearer authentication" stay as they are:
# OpenAI/Anthropic/DeepSeek/OpenRouter ("sk-…"), Groq ("gsk_…"), xAI ("xai-…"), Google ("AIza…"), GitHub and
# Hugging Face tokens; the value of an Authorization (Bearer or Basic), x-api-key, api-key (Azure) or
# x-goog-api-key header; a `key=` query parameter (Gemini); the user:password of credentials in a URL.
_TOKEN = r"(?=[A-Za-z0-9._~+/=\-]*\d)[A-Za-z0-9._~+/=\-]{12,}"
_SHAPE_GROUPS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"\b(?:sk|gsk|xai)[-_](?=[\w-]*\d)[\w-]{20,}"), 0),
    (re.compile(r"\bAIza[\w-]{30,}"), 0),
    (re.compile(r"\b(?:ghp|gho|ghs|ghu|hf)_[A-Za-z0-9]{20,}"), 0),
    (re.compile(r"(?i)\b(?:bearer|basic)\s+(" + _TOKEN + ")"), 1),
    (re.compile(r"(?i)\b(?:x-api-key|api-key|x-goog-api-key)[\"']?\s*[:=]\s*[\"']?([^\s\"',;]{8,})"), 1),
    (re.compile(r"[?&]key=([^&\s\"']{8,})"), 1),
    (re.compile(r"://([^/\s:@\"']+:[^/\s@\"']+)@"), 1),
)
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
    for pattern, replacement in _SHAPES:
        text = pattern.sub(replacement, text)
    return text


def _masker(group: int) -> Callable[[re.Match[str]], str]:
    """Masks one group of a match and keeps the rest (the header name, `key=`, `://`)."""
    def mask(m: re.Match[str]) -> str:
        whole, start = m.group(0), m.start()
        return whole[:m.start(group) - start] + MASK + whole[m.end(group) - start:]
    return mask


_SHAPES = tuple((pattern, _masker(group) if group else MASK) for pattern, group in _SHAPE_GROUPS)


class RedactingFormatter(logging.Formatter):
    """A formatter whose every line (tracebacks included) has its secrets masked, and whose message stays one line
    whatever a client put in it (an id with a newline cannot forge a record)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        # masked before it is escaped: the credential shapes find a secret by the whitespace before it
        return printable(redact(super().formatMessage(record)))

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
