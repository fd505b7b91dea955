"""ccr's ML sections of config.json: `Classifier`, `Policy` (the budget-aware choice) and `Budgets`."""

from __future__ import annotations

from typing import Any

from router.config.checks import Report, expect, number, unknown_keys
from router.config.routing import check_target
from router.config.schema import (
    CLASSIFIER_WAIT_MS,
    BudgetConfig,
    BudgetLimits,
    ClassifierConfig,
    ModelGroup,
    PolicyConfig,
    ProviderConfig,
)

_ON_EXCEEDED = ("block", "freeOnly")


def _flag(raw: dict[str, Any], key: str, path: str, default: bool, rep: Report) -> bool:
    value = raw.get(key, default)
    return bool(value) if expect(value, bool, f"{path}.{key}", "true or false", rep) else default


def _share(raw: dict[str, Any], key: str, path: str, rep: Report) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if not expect(value, (int, float), f"{path}.{key}", "a number between 0 and 1", rep):
        return None
    if not 0 <= value <= 1:
        rep.error(f"{path}.{key}", f"must be between 0 and 1, got {value}")
        return None
    return float(value)


def _limits(raw: Any, path: str, rep: Report) -> BudgetLimits:
    if raw is None or not expect(raw, dict, path, 'an object with "daily" and/or "monthly" (USD)', rep):
        return BudgetLimits()
    unknown_keys(raw, {"daily", "monthly"}, path, rep)
    daily, monthly = number(raw, "daily", path, rep), number(raw, "monthly", path, rep)
    return BudgetLimits(float(daily) if daily is not None else None, float(monthly) if monthly is not None else None)


def parse_ml(data: dict[str, Any], providers: dict[str, ProviderConfig], groups: dict[str, ModelGroup],
             rep: Report) -> tuple[ClassifierConfig, PolicyConfig, BudgetConfig]:
    classifier = ClassifierConfig()
    raw = data.get("Classifier")
    if raw is not None and expect(raw, dict, "Classifier", "an object", rep):
        unknown_keys(raw, {"enabled", "threads", "logPrompts", "waitMs"}, "Classifier", rep)
        classifier = ClassifierConfig(enabled=_flag(raw, "enabled", "Classifier", True, rep),
                                      threads=number(raw, "threads", "Classifier", rep, integer=True) or 1,
                                      log_prompts=_flag(raw, "logPrompts", "Classifier", True, rep),
                                      wait_ms=number(raw, "waitMs", "Classifier", rep, integer=True)
                                      or CLASSIFIER_WAIT_MS)

    policy = PolicyConfig()
    raw = data.get("Policy")
    if raw is not None and expect(raw, dict, "Policy", "an object", rep):
        unknown_keys(raw, {"enabled", "overrideScenarios", "difficultyThreshold", "strongShare",
                           "expectedOutputTokens", "candidates"}, "Policy", rep)
        candidates: list[str] = []
        if "candidates" in raw and expect(raw["candidates"], list, "Policy.candidates", 'a list of "provider,model"',
                                          rep):
            for i, item in enumerate(raw["candidates"]):
                target = check_target(item, f"Policy.candidates[{i}]", providers, {}, rep)
                if target:
                    candidates.append(target)
        threshold, share = _share(raw, "difficultyThreshold", "Policy", rep), _share(raw, "strongShare", "Policy", rep)
        if threshold is not None and share is not None:
            rep.error("Policy", "give difficultyThreshold or strongShare, not both")
        policy = PolicyConfig(
            enabled=_flag(raw, "enabled", "Policy", True, rep),
            override_scenarios=_flag(raw, "overrideScenarios", "Policy", False, rep),
            difficulty_threshold=threshold, strong_share=share,
            expected_output_tokens=number(raw, "expectedOutputTokens", "Policy", rep, integer=True) or 1000,
            candidates=tuple(candidates))
        if policy.enabled and not classifier.enabled:
            rep.error("Policy.enabled", "the policy needs the classifier: remove Classifier.enabled: false")

    budgets = BudgetConfig()
    raw = data.get("Budgets")
    if raw is not None and expect(raw, dict, "Budgets", "an object", rep):
        unknown_keys(raw, {"daily", "monthly", "perKey", "keys", "softLimit", "onExceeded"}, "Budgets", rep)
        keys: dict[str, BudgetLimits] = {}
        if "keys" in raw and expect(raw["keys"], dict, "Budgets.keys", "an object of key id → limits", rep):
            keys = {k: _limits(v, f"Budgets.keys.{k}", rep) for k, v in raw["keys"].items()}
        on_exceeded = raw.get("onExceeded", "block")
        if on_exceeded not in _ON_EXCEEDED:
            rep.error("Budgets.onExceeded", f"must be one of {', '.join(_ON_EXCEEDED)}, got {on_exceeded!r}")
            on_exceeded = "block"
        soft = _share(raw, "softLimit", "Budgets", rep)
        budgets = BudgetConfig(total=_limits({k: raw[k] for k in ("daily", "monthly") if k in raw}, "Budgets", rep),
                               per_key=_limits(raw.get("perKey"), "Budgets.perKey", rep), keys=keys,
                               soft_limit=0.8 if soft is None else soft, on_exceeded=on_exceeded)
        if on_exceeded == "freeOnly" and not any(m.free for p in providers.values() for m in p.models.values()):
            rep.warn("Budgets.onExceeded", "freeOnly, but no model has a zero price: requests over budget are "
                     "blocked")
    del groups  # policy candidates are single models: a group's members are listed one by one
    return classifier, policy, budgets
