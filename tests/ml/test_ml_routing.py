"""The classifier and the budget-aware policy inside the router, over real HTTP with a scripted upstream and a
real DuckDB log: /health readiness, one classification per user turn, rules on predicted labels, the policy's
cheapest-adequate choice, and budgets (hard block, free-only, soft downgrade, spend kept across a restart)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from router.budget.policy import required_tier
from tests.support.router import RouterServer, wait_ready
from tests.support.upstream import Received, Reply, ScriptedUpstream

MakeRouter = Callable[[dict[str, Any]], RouterServer]
USAGE = {"prompt_tokens": 1000, "completion_tokens": 100}
MODELS = [
    {"name": "small", "tier": 1, "pricing": {"input": 0.5, "output": 1.5}, "context_window": 64000},
    {"name": "mid", "tier": 2, "pricing": {"input": 1.0, "output": 4.0}, "context_window": 128000},
    {"name": "strong", "tier": 3, "pricing": {"input": 3.0, "output": 15.0}, "context_window": 200000},
    {"name": "local", "tier": 1, "pricing": {"input": 0, "output": 0}},
]
TIERS = {f"up,{m['name']}": m["tier"] for m in MODELS}


def answer(r: Received) -> Reply:
    return Reply(body={"id": "c", "object": "chat.completion", "model": r.body["model"], "choices": [
        {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "ok"}}], "usage": USAGE})


def config(url: str, **extra: Any) -> dict[str, Any]:
    return {"Providers": [{"name": "up", "api_base_url": f"{url}/v1/chat/completions", "api_key": "k",
                           "models": MODELS}],
            "Router": {"default": "up,mid"}, **extra}


POLICY = {"enabled": True, "difficultyThreshold": 0.5, "candidates": ["up,small", "up,mid", "up,strong"]}


def send(router: RouterServer, prompt: str, *, rounds: int = 0, key: str = "client-a", session: str = "s1",
         model: str = "claude-sonnet-4-5") -> httpx.Response:
    messages: list[dict[str, Any]] = [{"role": "user", "content": prompt}]
    for r in range(rounds):
        messages += [{"role": "assistant", "content": [{"type": "tool_use", "id": f"t{r}", "name": "Read",
                                                        "input": {"file_path": "a.py"}}]},
                     {"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"t{r}", "content": "x"}]}]
    return httpx.post(router.url + "/v1/messages", timeout=30, json={
        "model": model, "max_tokens": 100, "messages": messages,
        "tools": [{"name": "Read", "input_schema": {"type": "object"}}]},
        headers={"x-api-key": key, "x-claude-code-session-id": session})


def rows(router: RouterServer, sql: str) -> list[tuple[Any, ...]]:
    """Through the router's own connection: DuckDB has one writing process (flushes first)."""
    return router.app.state.ccr.log.query(sql)


def test_health_says_whether_the_classifier_is_ready(upstream: ScriptedUpstream, make_router: MakeRouter,
                                                     default_model: Any) -> None:
    upstream.script = answer
    router = make_router({**config(upstream.url), "Classifier": {"enabled": True}})
    assert httpx.get(router.url + "/health").json()["classifier"]["state"] in ("loading", "ready")
    wait_ready(router)
    health = httpx.get(router.url + "/health").json()["classifier"]
    assert health["state"] == "ready" and health["version"] == "default" and health["score"] > 0
    off = make_router(config(upstream.url))
    assert httpx.get(off.url + "/health").json()["classifier"] == {"state": "off"}


def test_the_policy_picks_the_cheapest_adequate_model_and_the_log_keeps_why(
        upstream: ScriptedUpstream, ml_router: MakeRouter) -> None:
    upstream.script = answer
    router = ml_router(config(upstream.url, Policy=POLICY))
    prompts = [
        "what does `git stash pop` do",
        "translate 'see you tomorrow' into French",
        ("We keep seeing a deadlock between the billing worker and the ledger service under load. Both take row "
         "locks in Postgres and also hold a Redis lock; stack dumps attached show them waiting on each other. "
         "Find the cause and redesign the locking across both services without losing exactly-once charging."),
    ]
    for i, prompt in enumerate(prompts):
        assert send(router, prompt, session=f"s{i}").status_code == 200
    decisions = router.decisions
    assert [d.signal for d in decisions] == ["policy"] * 3
    for d in decisions:
        assert d.ml is not None
        policy = d.features["policy"]
        need = required_tier(d.ml["complexity"], d.ml["difficulty"], 0.5, False)
        assert policy["required_tier"] == need
        adequate = sorted((c["expected_cost_usd"], c["target"]) for c in policy["considered"]
                          if TIERS[c["target"]] >= need)
        assert d.target == adequate[0][1]  # the cheapest of those good enough
        assert d.expected_cost == pytest.approx(adequate[0][0])
    assert decisions[1].ml["task_type"] == "other"
    assert decisions[2].ml["complexity"] == "high" and decisions[2].target == "up,strong"
    logged = rows(router, """SELECT d.task_type, d.complexity, d.difficulty, d.probabilities, d.expected_cost_usd, p.prompt
                     FROM decisions d JOIN prompts p USING (prompt_id) ORDER BY d.ts""")
    assert [r[5] for r in logged] == prompts
    for r, d in zip(logged, decisions, strict=True):
        assert (r[0], r[1], r[2]) == (d.ml["task_type"], d.ml["complexity"], d.ml["difficulty"])
        assert abs(sum(json.loads(r[3])["task_type"].values()) - 1) < 0.01
        assert r[4] == d.expected_cost


def test_one_classification_per_user_turn(upstream: ScriptedUpstream, ml_router: MakeRouter) -> None:
    upstream.script = answer
    router = ml_router(config(upstream.url, Policy=POLICY))
    classifier = router.app.state.ccr.classifier
    calls: list[str] = []
    predict = classifier._predict
    classifier._predict = lambda prompt, conversation: calls.append(prompt) or predict(prompt, conversation)
    for rounds in range(4):  # the turn's first request, then three tool rounds
        assert send(router, "add a --verbose flag to the CLI", rounds=rounds).status_code == 200
    assert calls == ["add a --verbose flag to the CLI"]
    assert [d.signal for d in router.decisions] == ["policy", "sticky", "sticky", "sticky"]
    assert len({json.dumps(d.ml) for d in router.decisions}) == 1
    assert rows(router, "SELECT count(*) FROM prompts") == [(1,)]
    assert rows(router, "SELECT count(DISTINCT prompt_id), count(*) FROM decisions") == [(1, 4)]


def test_rules_see_the_predicted_labels(upstream: ScriptedUpstream, make_router: MakeRouter,
                                        ml_router: MakeRouter) -> None:
    upstream.script = answer
    rules = {"routingRules": [{"name": "classified", "targetModel": "up,strong",
                               "conditions": {"expression": "difficulty >= 0"}}]}
    without = make_router(config(upstream.url, **rules))
    assert send(without, "hello").status_code == 200
    d = without.decisions[0]
    assert d.signal == "default" and "difficulty is not known" in d.notes[0]
    router = ml_router(config(upstream.url, **rules))
    assert send(router, "hello").status_code == 200
    assert router.decisions[0].signal == "rule:classified"


def _spend(router: RouterServer, times: int) -> None:
    for i in range(times):
        assert send(router, f"write a haiku number {i}", session=f"x{i}").status_code == 200


# one request: 1,000 input tokens and 100 output on mid ($1/$4 per million) = $0.0014
COST = (1000 * 1.0 + 100 * 4.0) / 1e6


def test_a_hard_limit_blocks_with_an_anthropic_error_and_is_logged(upstream: ScriptedUpstream,
                                                                   make_router: MakeRouter) -> None:
    upstream.script = answer
    router = make_router(config(upstream.url, Budgets={"daily": 3 * COST}))
    _spend(router, 3)
    assert router.app.state.ccr.spend.spent() == (3 * 1_400_000, 3 * 1_400_000)  # nano-dollars, exact
    refused = send(router, "one more")
    assert refused.status_code == 400
    assert refused.json()["error"]["type"] == "invalid_request_error"
    assert refused.json()["error"]["message"].startswith(
        "ccr budget exhausted: the daily budget of global is $0.00 and $0.0042 is spent")
    assert len(upstream.requests) == 3
    assert rows(router, "SELECT status, error_type, cost_usd FROM outcomes ORDER BY ts DESC LIMIT 1") == [
        (400, "invalid_request_error", None)]


def test_parallel_requests_cannot_share_the_last_of_a_budget(upstream: ScriptedUpstream, make_router: MakeRouter,
                                                              tmp_path: Path) -> None:
    """Parallel subagents at a nearly spent budget: a custom hook holds each request inside the pipeline, after
    the early check, so that all of them are in flight at once; only one may pass, since the check and the
    reservation of its expected cost are one step."""
    upstream.script = answer
    hook = tmp_path / "slow_router.py"
    hook.write_text("import time\n\ndef route(request, context):\n    time.sleep(0.3)\n    return None\n")
    router = make_router(config(upstream.url, Budgets={"daily": 3 * COST + 1e-9}, CUSTOM_ROUTER_PATH=str(hook),
                                CUSTOM_ROUTER_TIMEOUT_MS=5000))
    _spend(router, 3)  # 1 nano-dollar left
    with ThreadPoolExecutor(4) as pool:  # the hook runs four at a time
        answers = list(pool.map(lambda i: send(router, f"subagent task {i}", session=f"p{i}"), range(4)))
    assert sorted(a.status_code for a in answers) == [200, 400, 400, 400]
    assert all("budget exhausted" in a.json()["error"]["message"] for a in answers if a.status_code == 400)
    assert len(upstream.requests) == 4  # three before, one of the four


def test_spend_is_kept_across_a_restart(upstream: ScriptedUpstream) -> None:
    upstream.script = answer
    first = RouterServer(config(upstream.url, Budgets={"perKey": {"daily": 2 * COST}})).start()
    try:
        _spend(first, 2)
    finally:
        first.stop()
    second = RouterServer(config(upstream.url, Budgets={"perKey": {"daily": 2 * COST}})).start()
    try:
        assert send(second, "again", key="client-a").status_code == 400  # read back from the log
        assert send(second, "again", key="client-b").status_code == 200  # another key has its own budget
    finally:
        second.stop()


def test_free_only_routes_to_free_models_over_the_limit(upstream: ScriptedUpstream, make_router: MakeRouter) -> None:
    upstream.script = answer
    router = make_router(config(upstream.url, Budgets={"daily": COST, "onExceeded": "freeOnly"},
                                fallback={"default": ["up,local"]}))
    _spend(router, 1)
    assert send(router, "more please").status_code == 200
    assert upstream.requests[-1].body["model"] == "local"
    assert "Only free models are used" in router.decisions[-1].notes[0]


def test_the_soft_limit_downgrades_the_policy(upstream: ScriptedUpstream, ml_router: MakeRouter) -> None:
    upstream.script = answer
    router = ml_router(config(upstream.url, Policy={**POLICY, "difficultyThreshold": 0.0},  # everything "strong"
                              Budgets={"daily": 100 * COST, "softLimit": 0.05}))
    for session in ("a", "b"):  # $0.0045 each on strong: 6.4 × COST after two, over the soft 5 × COST
        assert send(router, "design the sharding scheme", session=session).status_code == 200
        assert router.decisions[-1].target == "up,strong" and not router.decisions[-1].notes
    assert send(router, "design the sharding scheme", session="c").status_code == 200
    last = router.decisions[-1]
    assert last.features["policy"]["required_tier"] == 2 and last.target == "up,mid"
    assert any(n.startswith("budget: daily budget of global") for n in last.notes)


def test_the_policy_comes_before_aliases_and_after_explicit_choices(upstream: ScriptedUpstream,
                                                                    ml_router: MakeRouter) -> None:
    upstream.script = answer
    router = ml_router(config(upstream.url, Policy=POLICY, Aliases={"sonnet": "up,strong"}))
    assert send(router, "what is a closure", session="a").status_code == 200
    assert send(router, "what is a closure", session="b", model="up,strong").status_code == 200
    assert [d.signal for d in router.decisions] == ["policy", "explicit"]


def test_a_classifier_failure_leaves_routing_to_the_rules(upstream: ScriptedUpstream, ml_router: MakeRouter) -> None:
    upstream.script = answer
    router = ml_router(config(upstream.url, Policy=POLICY))
    classifier = router.app.state.ccr.classifier

    def broken(prompt: str, conversation: Any) -> Any:
        raise ValueError("bad model file")

    classifier._predict = broken
    assert send(router, "add pagination to the list endpoint").status_code == 200
    d = router.decisions[-1]
    assert d.signal == "default" and d.ml is None
    assert "classifier failed: ValueError: bad model file" in d.notes
    assert "policy skipped: the classifier is ready" not in d.notes  # said once, precisely


def test_labels_not_needed_to_route_still_reach_the_log(upstream: ScriptedUpstream, ml_router: MakeRouter) -> None:
    upstream.script = answer
    router = ml_router(config(upstream.url))  # no policy, no label rules: routing does not wait
    assert send(router, "explain the difference between a mutex and a semaphore").status_code == 200
    d = router.decisions[-1]
    deadline = time.monotonic() + 5  # the answer may leave before the labels are ready
    while d.ml is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert d.signal == "default" and d.ml is not None and d.ml["task_type"] == "explain"
    assert rows(router, "SELECT task_type FROM decisions") == [("explain",)]


def test_a_busy_classifier_does_not_hold_routing_past_its_bound(upstream: ScriptedUpstream,
                                                                 ml_router: MakeRouter) -> None:
    """A burst of new turns on a shared router queues behind one classifier thread: past Classifier.waitMs the turn
    is routed without its labels (the policy steps aside, and says why), and the log still gets them."""
    upstream.script = answer
    router = ml_router(config(upstream.url, Policy=POLICY, Classifier={"waitMs": 50}))
    classifier = router.app.state.ccr.classifier
    real = classifier._predict

    def slow(prompt: str, conversation: Any) -> Any:
        time.sleep(0.5)
        return real(prompt, conversation)

    classifier._predict = slow
    started = time.monotonic()
    assert send(router, "explain the difference between a mutex and a semaphore").status_code == 200
    assert time.monotonic() - started < 0.45  # routed before the labels came
    d = router.decisions[-1]
    assert d.signal == "default" and d.ml is None
    assert "classifier busy: its labels were not ready in 50 ms (Classifier.waitMs); routed without them" in d.notes
    deadline = time.monotonic() + 5
    while d.ml is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert d.ml is not None and rows(router, "SELECT task_type FROM decisions") == [("explain",)]
