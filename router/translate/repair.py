"""Repairing the tool-call arguments weaker models write (the `enhancetool` transformer).

What they get wrong, in the order it is tried: a code fence or prose around the object; the object encoded twice
(a JSON string holding JSON); Python's spelling (single quotes, True/None); trailing commas; unquoted keys; raw
newlines and tabs inside strings; an object cut off before its closing quotes and brackets. What cannot be read
as an object becomes `{}`, so the client's own input validation tells the model what was missing.
"""

from __future__ import annotations

import ast
import re
from typing import Any

import orjson

from router.translate.values import encode_arguments

_FENCE = re.compile(r"^\s*```[a-zA-Z]*\s*\n?(.*?)\n?\s*```\s*$", re.S)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_BARE_KEY = re.compile(r"([{,]\s*)([A-Za-z_$][A-Za-z0-9_$-]*)(\s*:)")


def _object(text: str) -> dict[str, Any] | None:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if isinstance(value, str):  # encoded twice
        return _object(value)
    return value if isinstance(value, dict) else None


def _python(text: str) -> dict[str, Any] | None:
    if len(text) > 100_000:  # literal_eval's parser is recursive and slow on huge inputs
        return None
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return None
    if not isinstance(value, dict):
        return None
    try:
        orjson.dumps(value)  # keys and values JSON can hold (no tuples as keys, no sets)
    except TypeError:
        return None
    return value


def _close(text: str) -> str:
    """Escape raw control characters inside strings and close what was left open, in order."""
    out: list[str] = []
    stack: list[str] = []
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            elif ch == "\n":
                out.append("\\n")
                continue
            elif ch == "\t":
                out.append("\\t")
                continue
            elif ch == "\r":
                out.append("\\r")
                continue
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]" and stack and stack[-1] == ch:
            stack.pop()
        out.append(ch)
    if escaped:
        out.pop()
    if in_string:
        out.append('"')
    tail = "".join(out).rstrip()
    if tail.endswith(","):
        tail = tail[:-1]
    elif tail.endswith(":"):
        tail += "null"
    return tail + "".join(reversed(stack))


def repair_arguments(raw: str) -> str:
    """Tool arguments as a JSON object's text: `raw` itself when it already is one. An object found nested
    deeper than orjson writes (it reads deeper) is the upstream's error (UpstreamUnavailable)."""
    try:
        if isinstance(orjson.loads(raw), dict):
            return raw
    except orjson.JSONDecodeError:
        pass
    text = raw.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    found = _object(text)  # encoded twice
    if found is not None:
        return encode_arguments(found).decode()
    start = text.find("{")
    if start > 0:
        text = text[start:]
    end = text.rfind("}")
    candidates = [text, text[: end + 1]] if end > 0 else [text]
    for candidate in candidates:
        for attempt in (candidate, _TRAILING_COMMA.sub(r"\1", candidate)):
            found = _object(attempt) or _python(attempt)
            if found is not None:
                return encode_arguments(found).decode()
    unquoted = _BARE_KEY.sub(r'\1"\2"\3', text)  # last: it could touch a string's text
    for attempt in (text, unquoted):
        fixed = _close(_TRAILING_COMMA.sub(r"\1", attempt))
        found = _object(fixed) or _object(_TRAILING_COMMA.sub(r"\1", fixed)) or _python(fixed)
        if found is not None:
            return encode_arguments(found).decode()
    return "{}"
