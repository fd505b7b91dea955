"""Text from outside (logged prompts, ids a client sent) made safe to print to a terminal or write to a log line:
control characters and bidi overrides shown as escapes, never acted on (an escape sequence recolouring the
terminal, a carriage return or newline forging a log line, an override reordering what is shown around it)."""

from __future__ import annotations

_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
_ESCAPES.update({c: f"\\u{c:04x}" for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x2028, 0x2029)})
_LINES = {c: e for c, e in _ESCAPES.items() if c not in (0x09, 0x0A)}  # tabs and newlines kept


def printable(text: str, *, lines: bool = False) -> str:
    """`text` with every control character escaped; with `lines`, tabs and newlines are kept (a prompt shown
    whole), without, the text stays on one line (a log record)."""
    return text.translate(_LINES if lines else _ESCAPES)
