"""The routing part of config.json: model groups, rules, fallbacks, retries, health, Router mode, custom router.

Parsed after the providers, so that every target ("provider,model" or a group name) is checked against what
is configured and every problem carries its path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from classifier.taxonomy import COMPLEXITY_NAMES, TASK_NAMES
from router.config.checks import Report, expect, number, unknown_keys
from router.config.schema import (
    STRATEGIES,
    BreakerPolicy,
    DispatchRoute,
    GroupMember,
    HealthCheck,
    ModelGroup,
    ProviderConfig,
    RetryPolicy,
    RouterMode,
    RoutingConfig,
    Rule,
    RuleConditions,
)

SCENARIOS = ("default", "background", "think", "longContext", "webSearch", "image")
TASK_TYPES = TASK_NAMES
COMPLEXITIES = COMPLEXITY_NAMES

_RULE_KEYS = {"name", "priority", "targetModel", "conditions", "fallback", "description"}
_CONDITION_KEYS = {"messageContains", "fileTypes", "tokenCount", "expression", "taskType", "complexity", "scenario"}


def check_target(value: Any, path: str, providers: dict[str, ProviderConfig], groups: dict[str, Any],
                 rep: Report) -> str | None:
    """A "provider,model" or the name of a model group."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and "," not in value and value in groups:
        return value
    if not isinstance(value, str) or "," not in value:
        known = f" or a model group ({', '.join(groups)})" if groups else ""
        rep.error(path, f'must be "provider,model"{known}, got {value!r}')
        return None
    prov, _, model = value.partition(",")
    if prov not in providers:
        rep.error(path, f"provider '{prov}' is not configured (configured: {', '.join(providers) or 'none'})")
        return None
    if model not in providers[prov].models:
        rep.warn(path, f"model '{model}' is not listed in provider '{prov}' models; it will be sent as written")
    return value


def _targets(raw: Any, path: str, providers: dict[str, ProviderConfig], groups: dict[str, Any],
             rep: Report) -> tuple[str, ...]:
    items = [raw] if isinstance(raw, str) else raw
    if not expect(items, list, path, '"provider,model" or a list of them', rep):
        return ()
    out = []
    for i, item in enumerate(items):
        target = check_target(item, f"{path}[{i}]" if isinstance(raw, list) else path, providers, groups, rep)
        if target:
            out.append(target)
    return tuple(out)


def parse_groups(raw: Any, providers: dict[str, ProviderConfig], rep: Report) -> dict[str, ModelGroup]:
    groups: dict[str, ModelGroup] = {}
    if raw is None or not expect(raw, dict, "ModelGroups", "an object of named groups", rep):
        return groups
    for name, spec in raw.items():
        path = f"ModelGroups.{name}"
        if "," in name:
            rep.error(path, "a group name must not contain a comma")
            continue
        if not expect(spec, dict, path, 'an object with "deployments"', rep):
            continue
        unknown_keys(spec, {"strategy", "deployments"}, path, rep)
        strategy = spec.get("strategy", "round_robin")
        if strategy not in STRATEGIES:
            rep.error(f"{path}.strategy", f"must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
            continue
        members: list[GroupMember] = []
        raw_members = spec.get("deployments")
        if not isinstance(raw_members, list) or not raw_members:
            rep.error(f"{path}.deployments", 'required: a list of "provider,model" or {"target", "weight"}')
            continue
        for i, m in enumerate(raw_members):
            mpath = f"{path}.deployments[{i}]"
            entry = {"target": m} if isinstance(m, str) else m
            if not expect(entry, dict, mpath, '"provider,model" or {"target", "weight"}', rep):
                continue
            unknown_keys(entry, {"target", "weight"}, mpath, rep)
            target = check_target(entry.get("target"), f"{mpath}.target", providers, {}, rep)
            weight = number(entry, "weight", mpath, rep)
            if weight is not None and weight <= 0:
                rep.error(f"{mpath}.weight", "must be greater than 0 (leave a deployment out to never use it)")
                continue
            if target:
                members.append(GroupMember(target, float(weight) if weight is not None else 1.0))
        if members:
            groups[name] = ModelGroup(name, strategy, tuple(members))
    return groups


def _string_list(raw: Any, path: str, rep: Report, allowed: tuple[str, ...] | None = None) -> tuple[str, ...]:
    items = [raw] if isinstance(raw, str) else raw
    if not expect(items, list, path, "a string or a list of strings", rep):
        return ()
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, str) or not item:
            rep.error(f"{path}[{i}]", "must be a non-empty string")
        elif allowed is not None and item not in allowed:
            rep.error(f"{path}[{i}]", f"unknown value {item!r}; one of {', '.join(allowed)}")
        else:
            out.append(item)
    return tuple(out)


def _conditions(raw: Any, path: str, rep: Report) -> RuleConditions | None:
    from router.routing.expr import ExprError, Expression

    if not expect(raw, dict, path, "an object of conditions", rep):
        return None
    unknown_keys(raw, _CONDITION_KEYS, path, rep)
    values: dict[str, Any] = {}
    if "messageContains" in raw:
        values["message_contains"] = tuple(s.lower() for s in _string_list(raw["messageContains"],
                                                                         f"{path}.messageContains", rep))
    if "fileTypes" in raw:
        values["file_types"] = tuple("." + s.lower().lstrip(".") for s in _string_list(raw["fileTypes"],
                                                                                    f"{path}.fileTypes", rep))
    for key, attr, allowed in (("taskType", "task_type", TASK_TYPES), ("complexity", "complexity", COMPLEXITIES),
                               ("scenario", "scenario", SCENARIOS)):
        if key in raw:
            values[attr] = _string_list(raw[key], f"{path}.{key}", rep, allowed)
    sources = []
    tokens = raw.get("tokenCount")
    if isinstance(tokens, dict):
        unknown_keys(tokens, {"min", "max"}, f"{path}.tokenCount", rep)
        values["token_min"] = number(tokens, "min", f"{path}.tokenCount", rep, integer=True)
        values["token_max"] = number(tokens, "max", f"{path}.tokenCount", rep, integer=True)
    elif isinstance(tokens, str):  # a cost rule: "tokenCount >= 500 && tokenCount < 2000"
        sources.append((f"{path}.tokenCount", tokens))
    elif tokens is not None:
        rep.error(f"{path}.tokenCount", 'must be {"min", "max"} or an expression such as "tokenCount < 500"')
    if "expression" in raw:
        if isinstance(raw["expression"], str):
            sources.append((f"{path}.expression", raw["expression"]))
        else:
            rep.error(f"{path}.expression", "must be a string")
    exprs = []
    for spath, source in sources:
        try:
            exprs.append(Expression(source))
        except ExprError as exc:
            rep.error(spath, f"invalid expression: {exc}")
    if exprs:
        values["expression"] = exprs[0] if len(exprs) == 1 else Expression.all_of(exprs)
    if not values:
        rep.error(path, "a rule needs at least one condition")
        return None
    return RuleConditions(**values)


def _rules(raw: Any, providers: dict[str, ProviderConfig], groups: dict[str, ModelGroup],
           rep: Report) -> tuple[Rule, ...]:
    if raw is None or not expect(raw, list, "routingRules", "a list of rules", rep):
        return ()
    rules: list[Rule] = []
    names: set[str] = set()
    for i, spec in enumerate(raw):
        path = f"routingRules[{i}]"
        if not expect(spec, dict, path, "an object", rep):
            continue
        unknown_keys(spec, _RULE_KEYS, path, rep)
        name = spec.get("name")
        if not isinstance(name, str) or not name:
            rep.error(f"{path}.name", "required: a name that the decision log will show")
            continue
        if name in names:
            rep.error(f"{path}.name", f"duplicate rule name '{name}'")
            continue
        names.add(name)
        priority = spec.get("priority", 0)
        if not expect(priority, int, f"{path}.priority", "an integer", rep):
            continue
        target = check_target(spec.get("targetModel"), f"{path}.targetModel", providers, groups, rep)
        if target is None and "targetModel" not in spec:
            rep.error(f"{path}.targetModel", 'required: "provider,model" or a model group')
        conditions = _conditions(spec.get("conditions", {}), f"{path}.conditions", rep)
        fallback = _targets(spec.get("fallback", []), f"{path}.fallback", providers, groups, rep)
        if target and conditions:
            rules.append(Rule(name, priority, target, conditions, fallback))
    rules.sort(key=lambda r: -r.priority)  # stable: equal priorities keep their order in the file
    return tuple(rules)


def _policy(raw: Any, path: str, keys: dict[str, str], rep: Report) -> dict[str, Any]:
    """camelCase keys of the file → field names, for the simple numeric policy objects."""
    if raw is None or not expect(raw, dict, path, "an object", rep):
        return {}
    unknown_keys(raw, set(keys), path, rep)
    out = {}
    for key, attr in keys.items():
        if key == "enabled":
            if "enabled" in raw and expect(raw["enabled"], bool, f"{path}.enabled", "true or false", rep):
                out[attr] = raw["enabled"]
            continue
        if key == "retries" and raw.get(key) == 0:  # no retries is a valid choice
            out[attr] = 0
            continue
        value = number(raw, key, path, rep, integer=key != "errorRate")
        if value is not None:
            out[attr] = value
    if "error_rate" in out and not 0 < out["error_rate"] <= 1:
        rep.error(f"{path}.errorRate", "must be between 0 and 1")
    return out


def _router_mode(raw: Any, providers: dict[str, ProviderConfig], groups: dict[str, ModelGroup],
                 rep: Report) -> RouterMode | None:
    if raw is None or not expect(raw, dict, "RouterMode", "an object", rep):
        return None
    unknown_keys(raw, {"enabled", "model", "timeoutMs", "routes"}, "RouterMode", rep)
    if raw.get("enabled") is False:
        return None
    model = check_target(raw.get("model"), "RouterMode.model", providers, groups, rep)
    if model is None and raw.get("model") is None:
        rep.error("RouterMode.model", 'required: the small "provider,model" that picks a route')
    routes: dict[str, DispatchRoute] = {}
    raw_routes = raw.get("routes")
    if not isinstance(raw_routes, dict) or not raw_routes:
        rep.error("RouterMode.routes", 'required: {"name": {"model": "provider,model", "description": "..."}}')
        return None
    for name, spec in raw_routes.items():
        path = f"RouterMode.routes.{name}"
        if not expect(spec, dict, path, 'an object with "model" and "description"', rep):
            continue
        unknown_keys(spec, {"model", "description"}, path, rep)
        target = check_target(spec.get("model"), f"{path}.model", providers, groups, rep)
        description = spec.get("description")
        if not isinstance(description, str) or not description:
            rep.error(f"{path}.description", "required: what this route is for, in a sentence")
        elif target:
            routes[name] = DispatchRoute(target, description)
    timeout = number(raw, "timeoutMs", "RouterMode", rep, integer=True) or 1500
    return RouterMode(model, routes, timeout) if model and routes else None


def parse_routing(data: dict[str, Any], router_section: dict[str, Any], providers: dict[str, ProviderConfig],
                  groups: dict[str, ModelGroup], rep: Report, base: Path) -> RoutingConfig:
    """`base`: the config file's folder, which a relative CUSTOM_ROUTER_PATH is read from."""
    fallback: dict[str, tuple[str, ...]] = {}
    for where, raw in (("fallback", data.get("fallback")), ("Router.fallback", router_section.get("fallback"))):
        if raw is None or not expect(raw, dict, where, "an object of scenario → list of targets", rep):
            continue
        for scenario, targets in raw.items():
            if scenario not in SCENARIOS:
                rep.error(f"{where}.{scenario}", f"unknown scenario; one of {', '.join(SCENARIOS)}")
                continue
            fallback[scenario] = _targets(targets, f"{where}.{scenario}", providers, groups, rep)
    custom = data.get("CUSTOM_ROUTER_PATH") or None
    if custom is not None and expect(custom, str, "CUSTOM_ROUTER_PATH", "a path", rep):
        path = base / Path(custom).expanduser()  # an absolute path stays as it is
        if path.suffix != ".py":
            rep.error("CUSTOM_ROUTER_PATH", f"{custom}: ccr runs Python routers (a .py file defining "
                      "route(request, context)); a JavaScript router must be ported")
            custom = None
        elif not path.is_file():
            rep.error("CUSTOM_ROUTER_PATH", f"{custom}: no such file ({path}; a relative path is read from the "
                      "config file's folder)")
            custom = None
        else:
            custom = str(path.resolve())
    return RoutingConfig(
        rules=_rules(data.get("routingRules"), providers, groups, rep),
        groups=groups,
        fallback=fallback,
        fallback_model=_targets(data["fallbackModel"], "fallbackModel", providers, groups, rep)
        if data.get("fallbackModel") else (),
        retry=RetryPolicy(**_policy(data.get("retry"), "retry", {
            "retries": "retries", "baseDelayMs": "base_delay_ms", "maxDelayMs": "max_delay_ms",
            "deadlineMs": "deadline_ms"}, rep)),
        breaker=BreakerPolicy(**_policy(data.get("circuitBreaker"), "circuitBreaker", {
            "consecutiveFailures": "consecutive_failures", "errorRate": "error_rate", "window": "window",
            "minRequests": "min_requests", "cooldownMs": "cooldown_ms"}, rep)),
        health_check=HealthCheck(**_policy(data.get("healthCheck"), "healthCheck", {
            "enabled": "enabled", "interval": "interval_ms", "timeout": "timeout_ms"}, rep)),
        router_mode=_router_mode(data.get("RouterMode"), providers, groups, rep),
        custom_router_path=custom,
        custom_router_timeout_ms=number(data, "CUSTOM_ROUTER_TIMEOUT_MS", "", rep, integer=True) or 500,
    )
