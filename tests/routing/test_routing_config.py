"""Routing configuration is validated at load, every problem with its path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from router.config import ConfigError, parse_config
from tests.routing.helpers import provider


def base(**extra: Any) -> dict[str, Any]:
    return {"Providers": [provider("a", ["m"]), provider("b", ["m"])], "Router": {"default": "a,m"}, **extra}


def rule(**spec: Any) -> dict[str, Any]:
    return {"name": "r", "targetModel": "a,m", "conditions": {"messageContains": ["x"]}, **spec}


ERRORS: list[tuple[str, dict[str, Any], str]] = [
    ("bad expression", {"routingRules": [rule(conditions={"tokenCount": "tokenCount <"})]},
     "routingRules[0].conditions.tokenCount: invalid expression: unexpected end"),
    ("hostile expression", {"routingRules": [rule(conditions={"expression": "__import__('os')"})]},
     "routingRules[0].conditions.expression: invalid expression: unknown name '__import__'"),
    ("unknown target", {"routingRules": [rule(targetModel="zz,m")]},
     "routingRules[0].targetModel: provider 'zz' is not configured"),
    ("missing target", {"routingRules": [{"name": "r", "conditions": {"messageContains": ["x"]}}]},
     "routingRules[0].targetModel: required"),
    ("no conditions", {"routingRules": [rule(conditions={})]}, "routingRules[0].conditions: a rule needs at least"),
    ("unknown task type", {"routingRules": [rule(conditions={"taskType": ["chat"]})]},
     "routingRules[0].conditions.taskType[0]: unknown value 'chat'"),
    ("duplicate rule", {"routingRules": [rule(), rule()]}, "routingRules[1].name: duplicate rule name 'r'"),
    ("bad strategy", {"ModelGroups": {"g": {"strategy": "random", "deployments": ["a,m"]}}},
     "ModelGroups.g.strategy: must be one of round_robin, weighted, least_latency, priority"),
    ("group member unknown", {"ModelGroups": {"g": {"deployments": ["a,m", {"target": "q,m"}]}}},
     "ModelGroups.g.deployments[1].target: provider 'q' is not configured"),
    ("zero weight", {"ModelGroups": {"g": {"strategy": "weighted", "deployments": [{"target": "a,m", "weight": 0}]}}},
     "ModelGroups.g.deployments[0].weight: must be greater than 0"),
    ("unknown scenario", {"fallback": {"thinking": ["a,m"]}}, "fallback.thinking: unknown scenario"),
    ("fallback target", {"Router": {"default": "a,m", "fallback": {"default": ["a,m", "x"]}}},
     'Router.fallback.default[1]: must be "provider,model"'),
    ("fallbackModel", {"fallbackModel": "nope,m"}, "fallbackModel: provider 'nope' is not configured"),
    ("retry", {"retry": {"retries": -1}}, "retry.retries: must be positive"),
    ("classifier wait", {"Classifier": {"waitMs": 0}}, "Classifier.waitMs: must be positive"),
    ("classifier wait type", {"Classifier": {"waitMs": "1s"}}, "Classifier.waitMs: must be an integer"),
    ("error rate", {"circuitBreaker": {"errorRate": 2}}, "circuitBreaker.errorRate: must be between 0 and 1"),
    ("health check", {"healthCheck": {"enabled": "yes"}}, "healthCheck.enabled: must be true or false"),
    ("router mode", {"RouterMode": {"model": "a,m"}}, "RouterMode.routes: required"),
    ("router mode route", {"RouterMode": {"model": "a,m", "routes": {"fast": {"model": "a,m"}}}},
     "RouterMode.routes.fast.description: required"),
    ("js custom router", {"CUSTOM_ROUTER_PATH": "/tmp/router.js"}, "CUSTOM_ROUTER_PATH: /tmp/router.js: ccr runs"),
    ("missing custom router", {"CUSTOM_ROUTER_PATH": "/nonexistent/r.py"}, "no such file"),
]


@pytest.mark.parametrize(("extra", "message"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_routing_problems_name_their_path(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(base(**extra))
    assert any(message in p for p in info.value.problems), info.value.problems


def test_a_full_routing_config_loads(tmp_path: Path) -> None:
    hook = tmp_path / "r.py"
    hook.write_text("def route(request, context):\n    return None\n")
    config = parse_config(base(
        ModelGroups={"fast": {"strategy": "weighted", "deployments": [{"target": "a,m", "weight": 2}, "b,m"]}},
        routingRules=[rule(priority=5, fallback=["fast"]),
                      rule(name="cheap", conditions={"tokenCount": "tokenCount < 500"}, targetModel="fast")],
        fallback={"default": ["b,m"]}, fallbackModel="fast",
        retry={"retries": 0, "deadlineMs": 5000}, circuitBreaker={"consecutiveFailures": 2},
        healthCheck={"enabled": True, "interval": 1000, "timeout": 200},
        RouterMode={"model": "b,m", "routes": {"fast": {"model": "fast", "description": "quick edits"}}},
        CUSTOM_ROUTER_PATH=str(hook),
        Router={"default": "fast", "think": "a,m"},
    ))
    r = config.routing
    assert [x.name for x in r.rules] == ["r", "cheap"] and r.rules[0].fallback == ("fast",)
    assert r.groups["fast"].members[0].weight == 2 and r.fallback == {"default": ("b,m",)}
    assert r.fallback_model == ("fast",) and r.retry.retries == 0 and r.breaker.consecutive_failures == 2
    assert r.health_check.enabled and r.router_mode is not None and r.router_mode.routes["fast"].target == "fast"
    assert config.router.default == "fast" and r.custom_router_path == str(hook.resolve())


def test_two_long_conditions_combine_without_reparsing() -> None:
    long = " && ".join(["tokenCount > 1"] * 20)  # under the 500-character limit alone, not together
    config = parse_config(base(routingRules=[rule(conditions={"tokenCount": long, "expression": long})]))
    expr = config.routing.rules[0].conditions.expression
    assert expr({"tokenCount": 5}) is True and expr.names == {"tokenCount"}
