"""Spend against the budgets, kept in memory: read from the decision log at start, then added to as each
request's cost is known, so checking a request costs two dictionary lookups. Amounts are integer
nano-dollars: sums and comparisons are exact. Days and months are UTC."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from router.config.schema import BudgetConfig, BudgetLimits

NANO = 1_000_000_000
Clock = Callable[[], float]


def nanos(usd: float) -> int:
    return round(usd * NANO)


@dataclass(frozen=True, slots=True)
class Verdict:
    state: str  # ok | soft | hard
    message: str | None = None  # which cap, what was spent, what to do

    @property
    def over(self) -> bool:
        return self.state == "hard"


OK = Verdict("ok")


class Spend:
    def __init__(self, budgets: BudgetConfig, clock: Clock = time.time) -> None:
        self.budgets = budgets
        self.clock = clock
        self._lock = threading.Lock()
        self._day = self._month = ""
        self._spent: dict[tuple[str, str | None], int] = {}  # (period, key id or None for everyone) → nano-USD

    def _periods(self, at: float | None = None) -> tuple[str, str]:
        day = dt.datetime.fromtimestamp(self.clock() if at is None else at, dt.UTC).strftime("%Y-%m-%d")
        return day, day[:7]

    def _roll(self) -> tuple[str, str]:
        day, month = self._periods()
        if (day, month) != (self._day, self._month):
            self._spent = {k: v for k, v in self._spent.items() if k[0] in (day, month)}
            self._day, self._month = day, month
        return day, month

    def load(self, rows: list[tuple[str | None, str, float]]) -> None:
        """Rows of (key id, 'YYYY-MM-DD' UTC day, USD) from the log, for this month."""
        with self._lock:
            day, month = self._roll()
            for key, when, usd in rows:
                self._add(key, str(when), usd, day, month)

    def add(self, key: str | None, usd: float | None, at: float | None = None) -> None:
        if not usd:
            return
        with self._lock:
            day, month = self._roll()
            when, _ = self._periods(at)
            self._add(key, when, usd, day, month)

    def settle(self, key: str | None, reserved: float, actual: float) -> None:
        """Replace a reservation made at decision time by the request's actual cost (in exact nano-dollars)."""
        delta = nanos(actual) - nanos(reserved)
        if delta:
            with self._lock:
                day, month = self._roll()
                for period in (day, month):
                    for who in (None, key) if key else (None,):
                        self._spent[(period, who)] = self._spent.get((period, who), 0) + delta

    def _add(self, key: str | None, when: str, usd: float, day: str, month: str) -> None:
        amount = nanos(usd)
        periods = ([day] if when == day else []) + ([month] if when[:7] == month else [])
        for period in periods:
            for who in (None, key) if key else (None,):
                self._spent[(period, who)] = self._spent.get((period, who), 0) + amount

    def spent(self, key: str | None = None) -> tuple[int, int]:
        """(today, this month) in nano-USD, for one key or (None) everyone."""
        with self._lock:
            return self._spent_now(key)

    def _spent_now(self, key: str | None) -> tuple[int, int]:
        day, month = self._roll()
        return self._spent.get((day, key), 0), self._spent.get((month, key), 0)

    def check(self, key: str | None) -> Verdict:
        """The worst state over every cap that applies to this key (for the policy's choice of tiers)."""
        with self._lock:
            return self._check(key)

    def reserve(self, key: str | None, usd: float | None) -> tuple[Verdict, float]:
        """Check the caps and, unless one is exhausted, count the request's expected cost against them, as one
        step: parallel requests (subagents, several sessions) cannot all pass on the same remaining budget. The
        amount reserved is returned, to be `settle`d with the actual cost."""
        with self._lock:
            verdict = self._check(key)
            if verdict.over or not usd:
                return verdict, 0.0
            day, month = self._roll()
            self._add(key, day, usd, day, month)
            return verdict, usd

    def _check(self, key: str | None) -> Verdict:
        caps: list[tuple[str, BudgetLimits, str | None]] = [("global", self.budgets.total, None)]
        if key:
            own = self.budgets.keys.get(key)
            caps.append((f"key {key}", own or self.budgets.per_key, key))
        worst = OK
        for who, limits, k in caps:
            today, month = self._spent_now(k)
            for period, cap, used in (("daily", limits.daily, today), ("monthly", limits.monthly, month)):
                if cap is None:
                    continue
                cap_n = nanos(cap)
                if used >= cap_n:
                    reset = "at 00:00 UTC" if period == "daily" else "on the 1st of next month (UTC)"
                    return Verdict("hard", f"ccr budget exhausted: the {period} budget of {who} is ${cap:.2f} and "
                                           f"${used / NANO:.4f} is spent; it resets {reset}. Raise Budgets in the "
                                           "router's config, or wait.")
                if used >= cap_n * self.budgets.soft_limit and worst.state == "ok":
                    worst = Verdict("soft", f"{period} budget of {who}: ${used / NANO:.4f} of ${cap:.2f} spent, "
                                            f"over the soft limit of {self.budgets.soft_limit:.0%}: cheaper tiers")
        return worst
