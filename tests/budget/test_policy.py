"""The budget-aware choice: cheapest adequate model, tier requirements, capability and context filters, and the
expected-cost arithmetic (cache share and learned output tokens included)."""

from __future__ import annotations

from typing import Any

import pytest

from router.budget.learned import MIN_SAMPLES, Learned
from router.budget.policy import Need, Policy, expected_cost, required_tier
from router.config import parse_config


def _config(**policy: Any) -> Any:
    models = [
        {"name": "small", "pricing": {"input": 0.1, "output": 0.4}, "tier": 1, "context_window": 32000},
        {"name": "mid", "pricing": {"input": 1.0, "output": 4.0, "cache_read": 0.1}, "tier": "medium",
         "context_window": 128000, "capabilities": {"vision": True}},
        {"name": "mid-cheap-debugger", "pricing": {"input": 0.5, "output": 2.0}, "tier": 1, "tiers": {"debug": 2},
         "context_window": 128000},
        {"name": "strong", "pricing": {"input": 3.0, "output": 15.0, "cache_read": 0.3}, "tier": 3,
         "context_window": 200000, "capabilities": {"vision": True, "reasoning": True}},
        {"name": "unpriced", "tier": 3},
    ]
    return parse_config({"Providers": [{"name": "p", "api_base_url": "https://api.example.com/v1/chat/completions",
                                        "api_key": "k", "models": models}],
                         "Router": {"default": "p,small"}, "Policy": policy})


NEED = Need(tools=True, vision=False, reasoning=False, input_tokens=1000)


@pytest.mark.parametrize(("complexity", "difficulty", "soft", "tier"), [
    ("low", 0.1, False, 1), ("medium", 0.1, False, 2), ("high", 0.4, False, 2), ("low", 0.5, False, 3),
    ("high", 0.9, False, 3), ("high", 0.9, True, 2), ("medium", 0.2, True, 1), ("low", 0.0, True, 1),
])
def test_required_tier(complexity: str, difficulty: float, soft: bool, tier: int) -> None:
    assert required_tier(complexity, difficulty, 0.5, soft) == tier


@pytest.mark.parametrize(("task", "complexity", "difficulty", "need", "chosen", "fallback"), [
    ("generate", "low", 0.1, NEED, "p,small", ("p,mid-cheap-debugger", "p,mid")),
    ("generate", "medium", 0.1, NEED, "p,mid", ("p,strong",)),
    # the per-task tier makes the cheaper model adequate for debugging only
    ("debug", "medium", 0.1, NEED, "p,mid-cheap-debugger", ("p,mid", "p,strong")),
    ("plan", "high", 0.8, NEED, "p,strong", ()),
    # vision: only mid and strong can see; context: 100k tokens do not fit the small model
    ("generate", "low", 0.1, Need(True, True, False, 1000), "p,mid", ("p,strong",)),
    ("generate", "low", 0.1, Need(True, False, False, 100_000), "p,mid-cheap-debugger", ("p,mid", "p,strong")),
    ("generate", "low", 0.1, Need(True, False, True, 1000), "p,strong", ()),
    ("generate", "low", 0.1, Need(True, False, False, 197_000), None, ()),
])
def test_cheapest_adequate(task: str, complexity: str, difficulty: float, need: Need, chosen: str | None,
                           fallback: tuple[str, ...]) -> None:
    choice = Policy(_config(), Learned(1000)).choose(need, task, complexity, difficulty, 0.5)
    assert (choice.target, choice.fallback) == (chosen, fallback)
    excluded = {c["target"]: c["excluded"] for c in choice.considered}
    assert "p,unpriced" not in excluded  # no price: not a candidate at all


def test_without_an_adequate_model_the_best_available_is_used_and_noted() -> None:
    choice = Policy(_config(), Learned(1000)).choose(Need(True, True, False, 150_000), "plan", "high", 0.9, 0.5)
    assert choice.target == "p,strong" and choice.note is None
    only_mid = Policy(_config(candidates=["p,small", "p,mid"]), Learned(1000))
    choice = only_mid.choose(NEED, "plan", "high", 0.9, 0.5)
    assert choice.target == "p,mid"
    assert choice.note == "policy: no model reaches tier 3 for plan; using tier 2"


def test_free_only_keeps_free_models() -> None:
    config = parse_config({"Providers": [{"name": "p", "api_base_url": "https://api.example.com/v1/chat/completions",
                                          "api_key": "k", "models": [
                                              {"name": "local", "pricing": {"input": 0, "output": 0}, "tier": 1},
                                              {"name": "paid", "pricing": {"input": 1, "output": 1}, "tier": 3}]}],
                           "Router": {"default": "p,paid"}, "Policy": {}})
    choice = Policy(config, Learned(1000)).choose(NEED, "plan", "high", 0.9, 0.5, free_only=True)
    assert choice.target == "p,local"


def test_expected_cost_arithmetic() -> None:
    config = _config()
    strong = config.providers["p"].models["strong"]
    learned = Learned(1000)
    # 2,000 input tokens at $3/M + 1,000 output at $15/M
    assert expected_cost(learned, "p,strong", strong, 2000, "debug") == pytest.approx(0.006 + 0.015, abs=1e-12)
    # the log: this model reads 75% of its input from cache ($0.30/M), debug answers average 400 tokens
    learned.observe("debug", "p,strong", {"input_tokens": 250, "cache_read_input_tokens": 750, "output_tokens": 400})
    for _ in range(MIN_SAMPLES - 1):
        learned.observe("debug", None, {"output_tokens": 400})
    cost = expected_cost(learned, "p,strong", strong, 2000, "debug")
    assert cost == pytest.approx((2000 * (0.25 * 3.0 + 0.75 * 0.3) + 400 * 15.0) / 1e6, abs=1e-12)
    assert learned.output_tokens("plan") == 1000  # nothing learned for plan yet: the constant


def test_builtin_catalog_fills_what_the_config_leaves_out() -> None:
    config = parse_config({"Providers": [{"name": "ds", "api_base_url": "https://api.deepseek.com/chat/completions",
                                          "api_key": "k", "models": ["deepseek-chat",
                                                                     {"name": "deepseek-reasoner", "tier": 3}]}],
                           "Router": {"default": "ds,deepseek-chat"}})
    chat, reasoner = config.providers["ds"].models["deepseek-chat"], config.providers["ds"].models["deepseek-reasoner"]
    assert chat.pricing is not None and chat.pricing.input == 0.28 and chat.tier == 2
    assert "pricing" in chat.from_catalog
    assert reasoner.tier == 3 and reasoner.tier_for("debug") == 3 and "tier" not in reasoner.from_catalog


@pytest.mark.parametrize(("policy", "problem"), [
    ({"strongShare": 1.5}, "Policy.strongShare: must be between 0 and 1"),
    ({"strongShare": 0.3, "difficultyThreshold": 0.5}, "not both"),
    ({"candidates": ["nope,x"]}, "Policy.candidates[0]: provider 'nope' is not configured"),
])
def test_policy_config_errors_name_the_path(policy: dict[str, Any], problem: str) -> None:
    from router.config import ConfigError

    with pytest.raises(ConfigError) as err:
        _config(**policy)
    assert problem in str(err.value)


@pytest.mark.parametrize(("body", "needed"), [
    # what Claude Code 2.1.330 sends by default: neither asks for a reasoning model
    ({"thinking": {"type": "enabled", "budget_tokens": 31999}}, False),
    ({"thinking": {"type": "adaptive"}, "output_config": {"effort": "high"}}, False),
    ({"thinking": {"type": "adaptive"}, "output_config": {"effort": "max"}}, True),
    ({"output_config": {"effort": "xhigh"}}, True),
    ({"prompt": "ultrathink about the cache invalidation"}, True),
    ({"prompt": "Think hard before you change the scheduler"}, True),
    ({"prompt": "I think hardware is the issue"}, False),
])
def test_what_asks_for_a_reasoning_model(body: dict[str, Any], needed: bool) -> None:
    from router.routing.features import RequestView

    prompt = body.pop("prompt", "fix it")
    view = RequestView({"model": "m", "messages": [{"role": "user", "content": prompt}], **body})
    assert view.needs_reasoning is needed


@pytest.mark.parametrize(("url", "free"), [
    ("http://127.0.0.1:11434/v1/chat/completions", True), ("http://localhost:8000/v1/chat/completions", True),
    ("http://192.168.1.20:8000/v1/chat/completions", True), ("http://gpu-box.local/v1/chat/completions", True),
    ("https://openrouter.ai/api/v1/chat/completions", False),
])
def test_a_local_model_is_free_unless_priced(url: str, free: bool) -> None:
    config = parse_config({"Providers": [{"name": "p", "api_base_url": url, "api_key": "k",
                                          "models": ["qwen3-coder", {"name": "x", "pricing": {"input": 1}}]}],
                           "Router": {"default": "p,qwen3-coder"}})
    served, priced = config.providers["p"].models["qwen3-coder"], config.providers["p"].models["x"]
    assert served.free is free and served.tier == 2  # the catalog still gives its tier and context
    assert priced.pricing is not None and priced.pricing.input == 1
