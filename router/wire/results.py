"""What a relay hands back to a handler: a whole answer, or a stream that has already started well."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field


@dataclass(slots=True)
class Whole:
    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    usage: dict[str, int] = field(default_factory=dict)  # Anthropic-style, as the upstream reported it


@dataclass(slots=True)
class Stream:
    """Committed: the upstream answered 200 and its first event was not an error."""

    chunks: AsyncIterator[bytes]
    headers: dict[str, str] = field(default_factory=dict)
    usage: dict[str, int] = field(default_factory=dict)  # filled in by the time the stream ends
