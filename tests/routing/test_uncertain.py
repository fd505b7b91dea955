"""An `uncertain` task type is the classifier's best guess, not a label to act on: rules on taskType skip (with
a note), expressions that read it skip, and the policy picks by the models' own tiers, not per-task ones."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from classifier.model import Prediction
from router.config import parse_config
from router.providers.provider import Providers
from router.routing.features import RequestView
from router.routing.pipeline import RoutingEngine
from tests.routing.helpers import request


class StubClassifier:
    """The runtime's interface, answering one fixed prediction."""

    state = "ready"
    ready = True
    version = "stub"

    def __init__(self, prediction: Prediction) -> None:
        self.prediction = prediction

    def predict(self, turn: str, prompt: str, conversation: Any) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        future.set_result(self.prediction)
        return future


def prediction(uncertain: bool) -> Prediction:
    top = 0.35 if uncertain else 0.9
    return Prediction("debug", "medium", 0.1, {"task_type": {"debug": top, "generate": 1 - top}}, uncertain=uncertain)


MODELS = [{"name": "small", "pricing": {"input": 0.1, "output": 0.4}, "tier": 1},
          {"name": "debugger", "pricing": {"input": 0.5, "output": 2.0}, "tier": 1, "tiers": {"debug": 2}},
          {"name": "mid", "pricing": {"input": 1.0, "output": 4.0}, "tier": 2}]


def decide(config: dict[str, Any], uncertain: bool) -> Any:
    parsed = parse_config({"Providers": [{"name": "p", "api_base_url": "http://127.0.0.1:9/v1/chat/completions",
                                          "api_key": "k", "models": MODELS}],
                           "Router": {"default": "p,small"}, **config})
    engine = RoutingEngine(parsed, Providers(parsed), classifier=StubClassifier(prediction(uncertain)))
    decision, _ = asyncio.run(engine.decide(RequestView(request("the login test fails"),
                                                        {"x-claude-code-session-id": "s"})))
    return decision


RULES = [
    ("a taskType condition", {"conditions": {"taskType": ["debug"]}}),
    ("an expression on taskType", {"conditions": {"expression": "taskType == 'debug'"}}),
]


@pytest.mark.parametrize(("case", "rule"), RULES, ids=[r[0] for r in RULES])
@pytest.mark.parametrize("uncertain", [False, True])
def test_rules_on_the_task_type(case: str, rule: dict[str, Any], uncertain: bool) -> None:
    decision = decide({"routingRules": [{"name": "debuggers", "targetModel": "p,mid", **rule}]}, uncertain)
    if not uncertain:
        assert decision.signal == "rule:debuggers" and decision.target == "p,mid"
    else:
        assert decision.target == "p,small" and decision.signal != "rule:debuggers"
        assert any("debuggers" in n and ("uncertain" in n or "taskType" in n) for n in decision.notes), decision.notes


@pytest.mark.parametrize(("uncertain", "target"), [(False, "p,debugger"), (True, "p,mid")])
def test_the_policy_uses_per_task_tiers_only_when_sure(uncertain: bool, target: str) -> None:
    """Medium complexity needs tier 2: the debugger is tier 2 for debug only, and cheaper than mid."""
    decision = decide({"Policy": {"enabled": True, "difficultyThreshold": 0.5}}, uncertain)
    assert decision.signal == "policy" and decision.target == target
