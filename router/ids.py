"""Ids for requests, messages and tool calls: a random prefix per process and a counter. Unique across processes
and restarts (the decision log's primary key relies on it), and far cheaper than a uuid4 per id."""

from __future__ import annotations

import itertools
import os

_PREFIX = os.urandom(6).hex()
_COUNTER = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{_PREFIX}{next(_COUNTER):010x}"
