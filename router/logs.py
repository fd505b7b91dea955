"""Logging to the data directory. Request bodies and headers are never logged; every line passes through the
redacting formatter, so a key inside an upstream's error or a traceback is masked too. Not only ccr's own
loggers: uvicorn's, asyncio's and aiohttp's records reach the same handlers through the root logger, and a
background server's stray output (uncaught exceptions in threads) is redacted on its way to server.out."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from typing import TextIO

from router import paths
from router.redact import RedactingFormatter, redact


class RedactingStream:
    """A text stream whose writes are redacted: what Python prints outside logging (thread excepthooks,
    warnings) when the server runs in the background."""

    def __init__(self, inner: TextIO) -> None:
        self.inner = inner

    def write(self, text: str) -> int:
        return self.inner.write(redact(text))

    def flush(self) -> None:
        self.inner.flush()

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def setup(enabled: bool, level: str, to_stderr: bool) -> None:
    ours = logging.getLogger("ccr")
    ours.handlers.clear()
    ours.setLevel(level.upper())
    ours.propagate = True
    top = logging.getLogger()  # libraries' records (warnings and up) end here too
    top.handlers.clear()
    top.setLevel(logging.WARNING)
    fmt = RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    if enabled:
        paths.log_dir().mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            paths.log_dir() / "ccr.log", maxBytes=10 * 1024 * 1024, backupCount=3, encoding="utf-8")
        handler.setFormatter(fmt)
        top.addHandler(handler)
    if to_stderr:
        err = logging.StreamHandler(sys.stderr)
        err.setFormatter(fmt)
        top.addHandler(err)
    else:  # a background server: whatever is printed lands in server.out
        sys.stdout = RedactingStream(sys.stdout)
        sys.stderr = RedactingStream(sys.stderr)
    if not top.handlers:
        top.addHandler(logging.NullHandler())
