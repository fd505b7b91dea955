"""Budgets: spend kept in exact integer nano-dollars, global and per key, daily and monthly, with soft and
hard limits, periods that roll over at UTC midnight, and spend read back from the log at start."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from router.budget.spend import NANO, Spend
from router.config import ConfigError, parse_config
from router.config.schema import BudgetConfig, BudgetLimits


class Clock:
    def __init__(self, when: dt.datetime) -> None:
        self.now = when.replace(tzinfo=dt.UTC).timestamp()

    def __call__(self) -> float:
        return self.now


NOON = dt.datetime(2026, 11, 21, 12, 0)


def test_exact_arithmetic_at_the_daily_hard_limit() -> None:
    spend = Spend(BudgetConfig(total=BudgetLimits(daily=1.0)), Clock(NOON))
    for _ in range(10):
        spend.add(None, 0.1)  # ten times 0.1 is exactly 1.0 here: no float drift
    assert spend.spent() == (NANO, NANO)
    verdict = spend.check(None)
    assert verdict.state == "hard"
    assert verdict.message == ("ccr budget exhausted: the daily budget of global is $1.00 and $1.0000 is spent; "
                               "it resets at 00:00 UTC. Raise Budgets in the router's config, or wait.")


@pytest.mark.parametrize(("spent", "state"), [(0.79, "ok"), (0.7999999, "ok"), (0.8, "soft"), (0.99, "soft"),
                                              (0.999999999, "soft"), (1.0, "hard"), (1.2, "hard")])
def test_soft_and_hard_limits(spent: float, state: str) -> None:
    spend = Spend(BudgetConfig(total=BudgetLimits(monthly=1.0), soft_limit=0.8), Clock(NOON))
    spend.add(None, spent)
    assert spend.check(None).state == state


def test_per_key_limits_and_a_key_of_its_own() -> None:
    budgets = BudgetConfig(total=BudgetLimits(daily=100.0), per_key=BudgetLimits(daily=2.0),
                           keys={"vip": BudgetLimits(daily=10.0)})
    spend = Spend(budgets, Clock(NOON))
    spend.add("alice", 2.0)
    spend.add("vip", 5.0)
    assert spend.check("alice").over
    assert "daily budget of key alice is $2.00" in (spend.check("alice").message or "")
    assert spend.check("bob").state == "ok"  # another key: its own cap, nothing spent
    assert spend.check("vip").state == "ok"  # its own, higher cap
    assert spend.spent() == (7 * NANO, 7 * NANO)  # the global total counts every key
    spend.add("bob", 93.0)
    assert spend.check("bob").over  # global cap reached: every key is blocked
    assert "global" in (spend.check("vip").message or "")


def test_periods_roll_over_at_utc_midnight_and_month_start() -> None:
    clock = Clock(dt.datetime(2026, 11, 30, 23, 59))
    spend = Spend(BudgetConfig(total=BudgetLimits(daily=1.0, monthly=3.0)), clock)
    spend.add(None, 1.0)
    assert spend.check(None).over
    clock.now += 120  # 1 December, 00:01 UTC
    assert spend.spent() == (0, 0)
    assert spend.check(None).state == "ok"


def test_spend_is_read_back_from_the_log_rows() -> None:
    spend = Spend(BudgetConfig(total=BudgetLimits(daily=5.0, monthly=50.0)), Clock(NOON))
    spend.load([(None, "2026-11-21", 1.25), ("k1", "2026-11-21", 2.5), ("k1", "2026-11-02", 10.0),
                (None, "2026-10-31", 99.0)])  # last month: ignored
    assert spend.spent() == (round(3.75 * NANO), round(13.75 * NANO))
    assert spend.spent("k1") == (round(2.5 * NANO), round(12.5 * NANO))


@pytest.mark.parametrize(("budgets", "problem"), [
    ({"daily": -1}, "Budgets.daily: must be positive"),
    ({"onExceeded": "panic"}, "Budgets.onExceeded: must be one of block, freeOnly"),
    ({"perKey": 5}, "Budgets.perKey: must be an object"),
    ({"softLimit": 2}, "Budgets.softLimit: must be between 0 and 1"),
])
def test_budget_config_errors(budgets: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"Providers": [], "Budgets": budgets})
    assert problem in str(err.value)


def test_a_reservation_counts_at_once_and_settles_to_the_actual_cost() -> None:
    spend = Spend(BudgetConfig(total=BudgetLimits(daily=1.0)), Clock(NOON))
    spend.add("k", 0.6)  # two requests in flight, each expected to cost $0.60
    assert spend.check("k").state == "ok"
    spend.add("k", 0.6)
    assert spend.check("k").over  # the second one's reservation already counts
    spend.settle("k", 0.6, 0.25)
    spend.settle("k", 0.6, 0.0)  # failed: cost nothing
    assert spend.spent() == spend.spent("k") == (250_000_000, 250_000_000)
