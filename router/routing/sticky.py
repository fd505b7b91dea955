"""Per-turn stickiness: one decision per user turn, kept for its tool rounds.

Claude Code sends a request per tool round; deciding once per turn keeps the provider's prompt cache warm,
keeps thinking signatures valid, and makes routing cost nothing on follow-up rounds. A turn is the session,
the position and text of the latest human prompt, and the requested model (so `/model` re-decides).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TurnChoice:
    target: str
    deployment_id: str
    signal: str
    fallback: tuple[str, ...] = ()  # the deciding rule's own fallbacks


class TurnCache:
    def __init__(self, max_turns: int = 10_000, ttl_s: float = 3600.0) -> None:
        self.max_turns = max_turns
        self.ttl_s = ttl_s
        self._turns: OrderedDict[str, tuple[float, TurnChoice]] = OrderedDict()

    def get(self, key: str) -> TurnChoice | None:
        entry = self._turns.get(key)
        if entry is None:
            return None
        if time.monotonic() - entry[0] > self.ttl_s:
            del self._turns[key]
            return None
        self._turns.move_to_end(key)
        return entry[1]

    def put(self, key: str, choice: TurnChoice) -> None:
        self._turns[key] = (time.monotonic(), choice)
        self._turns.move_to_end(key)
        while len(self._turns) > self.max_turns:
            self._turns.popitem(last=False)
