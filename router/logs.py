"""Logging to the data directory. Request bodies and headers are never logged; every line passes through the
redacting formatter, so a key inside an upstream's error or a traceback is masked too."""

from __future__ import annotations

import logging
import logging.handlers
import sys

from router import paths
from router.redact import RedactingFormatter


def setup(enabled: bool, level: str, to_stderr: bool) -> None:
    root = logging.getLogger("ccr")
    root.handlers.clear()
    root.setLevel(level.upper())
    root.propagate = False
    fmt = RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    if enabled:
        paths.log_dir().mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            paths.log_dir() / "ccr.log", maxBytes=10 * 1024 * 1024, backupCount=3, encoding="utf-8")
        handler.setFormatter(fmt)
        root.addHandler(handler)
    if to_stderr:
        err = logging.StreamHandler(sys.stderr)
        err.setFormatter(fmt)
        root.addHandler(err)
    if not root.handlers:
        root.addHandler(logging.NullHandler())
