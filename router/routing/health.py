"""Passive health: a circuit breaker per deployment.

closed ──(N consecutive failures, or the error rate over the window)──▶ open
open ──(cooldown passed)──▶ half-open: one probe request at a time
half-open ──(probe succeeds)──▶ closed      half-open ──(probe fails)──▶ open again
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from router.config.schema import BreakerPolicy


class CircuitBreaker:
    __slots__ = ("_clock", "_failures", "_opened_at", "_outcomes", "_probing", "policy", "state")

    def __init__(self, policy: BreakerPolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self._clock = clock
        self.state = "closed"
        self._outcomes: deque[bool] = deque(maxlen=policy.window)
        self._failures = 0  # consecutive
        self._opened_at = 0.0
        self._probing = False

    def _cooled(self) -> bool:
        return self._clock() - self._opened_at >= self.policy.cooldown_ms / 1000

    @property
    def healthy(self) -> bool:
        """Would a request be let through now (without taking the half-open probe slot)."""
        if self.state == "closed":
            return True
        if self.state == "open":
            return self._cooled()
        return not self._probing

    def allow(self) -> bool:
        """Take the right to send a request: always when closed, one probe at a time when half-open."""
        if self.state == "open" and self._cooled():
            self.state = "half_open"
            self._probing = False
        if self.state == "closed":
            return True
        if self.state == "half_open" and not self._probing:
            self._probing = True
            return True
        return False

    def release(self) -> None:
        """Give back a half-open probe slot without an outcome (the client left, or the request was bad)."""
        self._probing = False

    def success(self) -> None:
        if self.state != "closed":
            self.state = "closed"
            self._outcomes.clear()
        self._probing = False
        self._failures = 0
        self._outcomes.append(True)

    def failure(self) -> None:
        self._probing = False
        if self.state == "open":
            return  # requests in flight when it opened must not push the cooldown back
        if self.state == "half_open":
            self._open()
            return
        self._failures += 1
        self._outcomes.append(False)
        p = self.policy
        failed = self._outcomes.count(False)
        if self._failures >= p.consecutive_failures or (
                len(self._outcomes) >= p.min_requests and failed / len(self._outcomes) >= p.error_rate):
            self._open()

    def _open(self) -> None:
        self.state = "open"
        self._opened_at = self._clock()
        self._failures = 0
