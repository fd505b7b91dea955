"""Deployments: keys and groups, the four strategies, circuit breakers, stickiness per turn."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest

from router.config.schema import BreakerPolicy
from router.routing.health import CircuitBreaker
from tests.routing.helpers import decide, engine, provider, request, tool_round


def group_config(strategy: str, **extra: Any) -> dict[str, Any]:
    return {"Providers": [provider("a", ["m"]), provider("b", ["m"]), provider("c", ["m"])],
            "ModelGroups": {"g": {"strategy": strategy, "deployments": [
                {"target": "a,m", "weight": 3}, {"target": "b,m", "weight": 1}, "c,m"]}},
            "Router": {"default": "g"}, **extra}


def test_weighted_split_within_tolerance() -> None:
    eng = engine(group_config("weighted"))
    eng.deployments.rng = random.Random(7)
    picks = Counter(eng.deployments.order("g")[0].target for _ in range(5000))
    # weights 3 : 1 : 1
    assert abs(picks["a,m"] / 5000 - 0.6) < 0.03
    assert abs(picks["b,m"] / 5000 - 0.2) < 0.03
    assert abs(picks["c,m"] / 5000 - 0.2) < 0.03


def test_round_robin_and_priority() -> None:
    eng = engine(group_config("round_robin"))
    assert [eng.deployments.order("g")[0].target for _ in range(6)] == ["a,m", "b,m", "c,m"] * 2
    eng = engine(group_config("priority"))
    assert [d.target for d in eng.deployments.order("g")] == ["a,m", "b,m", "c,m"]


def test_least_latency_measures_every_deployment_then_prefers_the_fastest() -> None:
    eng = engine(group_config("least_latency"))
    seen = []
    for ms in (300.0, 80.0, 150.0):
        dep = eng.deployments.order("g")[0]
        seen.append(dep.target)
        dep.observe_ttft(ms)
    assert sorted(seen) == ["a,m", "b,m", "c,m"]  # each measured once
    fastest = min(eng.deployments.members("g")[1], key=lambda d: d.ttft_ms or 0)
    assert eng.deployments.order("g")[0] is fastest


def test_unhealthy_deployments_are_skipped_while_another_exists() -> None:
    eng = engine(group_config("priority"))
    a, b, c = eng.deployments.members("g")[1]
    for _ in range(5):
        a.breaker.failure()
    assert a.breaker.state == "open"
    assert [d.target for d in eng.deployments.order("g")] == ["b,m", "c,m", "a,m"]
    for dep in (b, c):
        for _ in range(5):
            dep.breaker.failure()
    assert len(eng.deployments.order("g")) == 3  # all open: still something to try, in strategy order


def test_several_keys_are_several_deployments() -> None:
    cfg = {"Providers": [provider("a", ["m"], api_key=["k1", "k2", "k3"])], "Router": {"default": "a,m"}}
    eng = engine(cfg)
    firsts = [eng.deployments.order("a,m")[0].id for _ in range(3)]
    assert firsts == ["a,m#key1", "a,m#key2", "a,m#key3"]
    dep = eng.deployments.order("a,m")[0]
    assert dep.provider.auth_headers(dep.key_index)["authorization"] == f"Bearer k{dep.key_index + 1}"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_circuit_breaker_open_half_open_closed() -> None:
    clock = Clock()
    cb = CircuitBreaker(BreakerPolicy(consecutive_failures=3, cooldown_ms=10_000), clock)
    cb.failure()
    cb.failure()
    assert cb.state == "closed" and cb.allow()
    cb.failure()
    assert cb.state == "open" and not cb.allow() and not cb.healthy
    clock.now = 9.9
    assert not cb.allow()
    clock.now = 10.0
    assert cb.healthy and cb.allow() and cb.state == "half_open"
    assert not cb.allow()  # one probe at a time
    cb.failure()
    assert cb.state == "open"  # the probe failed: a new cooldown
    clock.now = 20.0
    assert cb.allow()
    cb.success()
    assert cb.state == "closed" and cb.allow() and cb.allow()


def test_circuit_breaker_error_rate() -> None:
    cb = CircuitBreaker(BreakerPolicy(consecutive_failures=100, error_rate=0.5, window=10, min_requests=10))
    for i in range(9):
        (cb.failure if i % 2 else cb.success)()
    assert cb.state == "closed"  # 4 of 9: not enough requests yet
    cb.failure()
    assert cb.state == "open"  # 5 of 10


def test_turn_is_sticky_across_tool_rounds_and_released_by_a_new_prompt() -> None:
    eng = engine(group_config("round_robin"))
    headers = {"x-claude-code-session-id": "s1"}
    first, chain, view = decide(eng, request("build it"), headers)
    assert first.signal == "default"
    eng.remember(view, first, chain[0])
    body = request("build it")
    for i in range(4):
        body = tool_round(body, f"t{i}")
        again, again_chain, _ = decide(eng, body, headers)
        assert again.signal == "sticky" and again_chain[0] is chain[0]
    new_prompt = {**body, "messages": [*body["messages"], {"role": "assistant", "content": "done"},
                                       {"role": "user", "content": "now test it"}]}
    fresh, fresh_chain, _ = decide(eng, new_prompt, headers)
    assert fresh.signal == "default" and fresh_chain[0] is not chain[0]  # round robin moved on
    other_session, _, _ = decide(eng, tool_round(request("build it"), "t0"), {"x-claude-code-session-id": "s2"})
    assert other_session.signal == "default"


def test_sticky_deployment_that_failed_is_not_kept_first() -> None:
    eng = engine(group_config("priority"))
    headers = {"x-claude-code-session-id": "s1"}
    decision, chain, view = decide(eng, request("go"), headers)
    eng.remember(view, decision, chain[1])  # b answered (a had failed)
    _, sticky_chain, _ = decide(eng, tool_round(request("go"), "t"), headers)
    assert sticky_chain[0].target == "b,m"
    for _ in range(5):
        chain[1].breaker.failure()
    _, after, _ = decide(eng, tool_round(request("go"), "t"), headers)
    assert after[0].target == "a,m"


def test_session_from_metadata_user_id() -> None:
    import json

    user_id = json.dumps({"device_id": "d", "account_uuid": "", "session_id": "abc-123"})
    _, _, view = decide(engine(group_config("priority")), {**request(), "metadata": {"user_id": user_id}})
    assert view.session == "abc-123" and view.turn_key and view.turn_key.startswith("abc-123:")


@pytest.mark.parametrize("strategy", ["round_robin", "weighted", "least_latency", "priority"])
def test_every_strategy_gives_every_deployment_once(strategy: str) -> None:
    eng = engine(group_config(strategy))
    order = eng.deployments.order("g")
    assert sorted(d.target for d in order) == ["a,m", "b,m", "c,m"]


def test_a_sticky_turn_keeps_the_rules_fallbacks() -> None:
    cfg = {"Providers": [provider("r", ["m"]), provider("b", ["m"])], "Router": {"default": "r,m"},
           "routingRules": [{"name": "go", "targetModel": "r,m", "conditions": {"messageContains": ["go"]},
                             "fallback": ["b,m"]}]}
    eng = engine(cfg)
    headers = {"x-claude-code-session-id": "s"}
    decision, chain, view = decide(eng, request("go"), headers)
    assert [d.id for d in chain] == ["r,m", "b,m"]
    eng.remember(view, decision, chain[1])  # the rule's fallback answered
    again, sticky_chain, _ = decide(eng, tool_round(request("go"), "t"), headers)
    assert again.signal == "sticky" and [d.id for d in sticky_chain] == ["b,m", "r,m"]
