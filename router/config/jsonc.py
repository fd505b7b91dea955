"""JSON with comments: `//` and `/* */` outside strings, and trailing commas, so the example config can explain itself.

A plain claude-code-router config.json is valid input as it is.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

_COMMENT = re.compile(r'"(?:[^"\\]|\\.)*"|//[^\n]*|/\*.*?\*/', re.S)
_TRAILING_COMMA = re.compile(r'"(?:[^"\\]|\\.)*"|,(?=\s*[}\]])')


class JSONCError(ValueError):
    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"line {line}, column {column}: {message}")
        self.line = line
        self.column = column


def _strip(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        tok = m.group(0)
        if tok.startswith('"'):
            return tok
        # keep newlines so error positions still point at the right line
        return re.sub(r"[^\n]", " ", tok)

    # comments first, so that a comma followed by a comment and then "}" is seen as trailing
    return _TRAILING_COMMA.sub(repl, _COMMENT.sub(repl, text))


def blank_comments(text: str) -> str:
    """The text with its comments blanked out, every other character where it was."""
    return _COMMENT.sub(lambda m: m.group(0) if m.group(0).startswith('"') else re.sub(r"[^\n]", " ", m.group(0)),
                        text)


def loads(text: str) -> Any:
    cleaned = _strip(text)
    try:
        return orjson.loads(cleaned)
    except orjson.JSONDecodeError as exc:
        pos = exc.pos
        line = cleaned.count("\n", 0, pos) + 1
        column = pos - (cleaned.rfind("\n", 0, pos) + 1) + 1
        raise JSONCError(exc.msg, line, column) from None
