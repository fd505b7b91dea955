"""The budget-aware choice: among the models with the capabilities and context a request needs, the cheapest
whose quality tier for the predicted task type meets what the prompt requires.

Required tier: 3 (strong) when difficulty ≥ the threshold, else 1 for low complexity and 2 otherwise; one
lower (never below 1) while a budget is over its soft limit. The threshold is `difficultyThreshold`, or the
one that sends `strongShare` of prompts to strong models (from the classifier's validation quantiles), or 0.5.

Expected cost = input tokens × (input price, or the cache-read price for the share the log says this model
reads from its cache) + expected output tokens (learned per task type from the log) × output price.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from router.budget.learned import Learned
from router.config.schema import Config, ModelInfo

OUTPUT_RESERVE = 4096  # context a request keeps for its answer when the window is checked
FALLBACKS = 2


@dataclass(frozen=True, slots=True)
class Need:
    tools: bool
    vision: bool
    reasoning: bool
    input_tokens: int


@dataclass(slots=True)
class Choice:
    target: str | None
    fallback: tuple[str, ...]
    required_tier: int
    expected_cost: float | None
    considered: list[dict[str, Any]] = field(default_factory=list)
    note: str | None = None

    def summary(self) -> dict[str, Any]:
        return {"required_tier": self.required_tier, "chosen": self.target, "expected_cost_usd": self.expected_cost,
                "considered": self.considered}


def expected_cost(learned: Learned, target: str, info: ModelInfo, input_tokens: int, task_type: str | None) -> float:
    if info.pricing is None:
        return 0.0
    p = info.pricing
    cached = learned.cache_share(target) if p.cache_read else 0.0
    per_input = (1 - cached) * p.input + cached * p.cache_read
    return (input_tokens * per_input + learned.output_tokens(task_type) * p.output) / 1_000_000


def required_tier(complexity: str, difficulty: float, threshold: float, soft: bool) -> int:
    tier = 3 if difficulty >= threshold else (1 if complexity == "low" else 2)
    return max(1, tier - 1) if soft else tier


class Policy:
    def __init__(self, config: Config, learned: Learned) -> None:
        self.config = config
        self.learned = learned
        wanted = set(config.policy.candidates)
        self.catalog: list[tuple[str, ModelInfo]] = [
            (f"{p.name},{name}", info) for p in config.providers.values() for name, info in p.models.items()
            if info.pricing is not None and info.tier is not None and (not wanted or f"{p.name},{name}" in wanted)]

    def expected_cost(self, target: str, info: ModelInfo, input_tokens: int, task_type: str | None) -> float:
        return expected_cost(self.learned, target, info, input_tokens, task_type)

    def choose(self, need: Need, task_type: str | None, complexity: str, difficulty: float, threshold: float,
               soft: bool = False, free_only: bool = False) -> Choice:
        tier = required_tier(complexity, difficulty, threshold, soft)
        fit: list[tuple[float, int, str]] = []
        considered: list[dict[str, Any]] = []
        for target, info in self.catalog:
            why = self._unfit(info, need, free_only)
            model_tier = info.tier_for(task_type) or 0
            cost = round(self.expected_cost(target, info, need.input_tokens, task_type), 8)
            considered.append({"target": target, "tier": model_tier, "expected_cost_usd": cost, "excluded": why})
            if why is None:
                fit.append((cost, model_tier, target))
        adequate = sorted((c, -t, name) for c, t, name in fit if t >= tier)
        note = None
        if not adequate and fit:  # nothing good enough: the best there is, cheapest among equals
            best = max(t for _, t, _ in fit)
            adequate = sorted((c, -t, name) for c, t, name in fit if t == best)
            note = f"policy: no model reaches tier {tier} for {task_type or 'this turn'}; using tier {best}"
        if not adequate:
            return Choice(None, (), tier, None, considered,
                          "policy: no model has the capabilities and context this request needs")
        ranked = [name for _, _, name in adequate]
        return Choice(ranked[0], tuple(ranked[1:1 + FALLBACKS]), tier, adequate[0][0], considered, note)

    @staticmethod
    def _unfit(info: ModelInfo, need: Need, free_only: bool) -> str | None:
        caps = info.capabilities
        if need.tools and not caps.tools:
            return "no tools"
        if need.vision and not caps.vision:
            return "no vision"
        if need.reasoning and not caps.reasoning:
            return "no reasoning"
        if info.context_window and need.input_tokens + OUTPUT_RESERVE > info.context_window:
            return f"context {info.context_window} too small"
        if free_only and not info.free:
            return "not free"
        return None
