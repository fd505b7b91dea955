"""The decision pipeline: scenarios and their precedence, the subagent tag, rules, aliases, default."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.routing.helpers import decide, engine, provider, request, tool_round

IMAGE = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}
TAG = "<CCR-SUBAGENT-MODEL>sub,agent</CCR-SUBAGENT-MODEL>"


def config(**extra: Any) -> dict[str, Any]:
    return {
        "Providers": [provider("p", ["default", "bg", "think", "long", "search", "vision", "opus-like"]),
                      provider("sub", ["agent"])],
        "Router": {"default": "p,default", "background": "p,bg", "think": "p,think", "longContext": "p,long",
                   "longContextThreshold": 2000, "webSearch": "p,search", "image": "p,vision"},
        "Aliases": {"opus": "p,opus-like"},
        **extra,
    }


LONG = "word " * 2500
THINK = {"thinking": {"type": "adaptive"}}
SEARCH = {"tools": [{"type": "web_search_20250305", "name": "web_search"}]}

SCENARIOS: list[tuple[str, dict[str, Any], str, str]] = [
    ("explicit", request(model="sub,agent"), "explicit", "sub,agent"),
    ("background", request(model="claude-haiku-4-5"), "background", "p,bg"),
    ("think", request(**THINK), "think", "p,think"),
    ("longContext", request(LONG), "longContext", "p,long"),
    ("webSearch", request(**SEARCH), "webSearch", "p,search"),
    ("image", {**request(), "messages": [{"role": "user", "content": [IMAGE, {"type": "text", "text": "see"}]}]},
     "image", "p,vision"),
    ("image in a tool result", tool_round(request(), "t1", [IMAGE]), "image", "p,vision"),
    ("alias by family", request(model="claude-opus-4-8"), "alias", "p,opus-like"),
    ("configured model name", request(model="search"), "model", "p,search"),
    ("default", request(), "default", "p,default"),
    # precedence, claude-code-router's order
    ("explicit beats longContext", request(LONG, model="sub,agent"), "explicit", "sub,agent"),
    ("longContext beats subagent", request(LONG + TAG), "longContext", "p,long"),
    ("subagent beats background", request(TAG, model="claude-haiku-4-5"), "subagent", "sub,agent"),
    ("background beats think", request(model="claude-haiku-4-5", **THINK), "background", "p,bg"),
    ("webSearch beats think", request(**SEARCH, **THINK), "webSearch", "p,search"),
    ("image beats think", {**request(**THINK), "messages": [{"role": "user", "content": [IMAGE]}]}, "image",
     "p,vision"),
    ("think beats alias", request(model="claude-opus-4-8", **THINK), "think", "p,think"),
]


@pytest.mark.parametrize(("body", "signal", "target"), [c[1:] for c in SCENARIOS], ids=[c[0] for c in SCENARIOS])
def test_scenarios_and_precedence(body: dict[str, Any], signal: str, target: str) -> None:
    decision, chain, _ = decide(engine(config()), body)
    assert (decision.signal, decision.target) == (signal, target)
    assert chain[0].target == target


def test_long_context_counts_thinking_and_tool_results() -> None:
    eng = engine(config())
    thinking = {**request(), "messages": [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": LONG, "signature": "s"},
                                          {"type": "text", "text": "a"}]},
        {"role": "user", "content": "next"}]}
    assert decide(eng, thinking)[0].signal == "longContext"
    assert decide(eng, tool_round(request(), "t1", LONG))[0].signal == "longContext"


SUBAGENT_POSITIONS: list[tuple[str, dict[str, Any]]] = [
    ("system string", {**request(), "system": f"You are a helper. {TAG}"}),
    ("first system block", {**request(), "system": [{"type": "text", "text": TAG}, {"type": "text", "text": "x"}]}),
    ("third system block", {**request(), "system": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"},
                                                    {"type": "text", "text": f"agent prompt\n{TAG}\nmore"}]}),
    ("first user message, string", {**request(), "messages": [{"role": "user", "content": f"{TAG} do it"}]}),
    ("first user message, second block", request(f"{TAG}\nDo the research.")),
    ("mid-conversation system message", {**request(), "messages": [
        {"role": "user", "content": "go"}, {"role": "system", "content": [{"type": "text", "text": TAG}]}]}),
]


@pytest.mark.parametrize("body", [c[1] for c in SUBAGENT_POSITIONS], ids=[c[0] for c in SUBAGENT_POSITIONS])
def test_subagent_tag_anywhere_is_found_and_removed(body: dict[str, Any]) -> None:
    decision, _, view = decide(engine(config()), json.loads(json.dumps(body)))
    assert (decision.signal, decision.target) == ("subagent", "sub,agent")
    assert "CCR-SUBAGENT-MODEL" not in json.dumps(view.body)


def test_subagent_tag_naming_nothing_configured_is_noted_and_ignored() -> None:
    decision, _, view = decide(engine(config()), request("<CCR-SUBAGENT-MODEL>nope,x</CCR-SUBAGENT-MODEL> hi"))
    assert decision.signal == "default" and "nope,x" in decision.notes[0]
    assert "CCR-SUBAGENT-MODEL" not in json.dumps(view.body)


def rules_config(*rules: dict[str, Any]) -> dict[str, Any]:
    return config(routingRules=list(rules))


def rule(name: str, priority: int = 0, target: str = "sub,agent", **conditions: Any) -> dict[str, Any]:
    return {"name": name, "priority": priority, "targetModel": target, "conditions": conditions}


RULES: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    ("phrase in prompt", rule("r", messageContains=["fix the bug"]), request("Please FIX the bug now"), True),
    ("whole words only", rule("r", messageContains=["fix"]), request("add a prefix"), False),
    ("not in tool results", rule("r", messageContains=["secret"]),
     tool_round(request("go on"), "t1", "the secret is here"), False),
    ("not in system reminders", rule("r", messageContains=["nice"]), request("hello"), False),
    ("file type in prompt", rule("r", fileTypes=["py"]), request("look at src/app/main.py please"), True),
    ("file type of a recent tool call", rule("r", fileTypes=[".rs"]), {**request("go"), "messages": [
        *request("go")["messages"],
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "Read",
                                           "input": {"file_path": "/x/lib.rs"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "fn main"}]}]}, True),
    ("other file type", rule("r", fileTypes=[".go"]), request("look at main.py"), False),
    ("tokenCount range in", rule("r", tokenCount={"min": 1, "max": 100}), request("short"), True),
    ("tokenCount range out", rule("r", tokenCount={"min": 100}), request("short"), False),
    ("cost rule expression", rule("r", tokenCount="tokenCount < 500"), request("short"), True),
    ("cost rule expression false", rule("r", tokenCount="tokenCount >= 500 && tokenCount < 2000"), request("x"),
     False),
    ("expression on rounds", rule("r", expression="toolRounds >= 1"), tool_round(request(), "t1"), True),
    ("scenario condition", rule("r", scenario=["think"]), request(**THINK), True),
    ("scenario condition unmet", rule("r", scenario=["background"]), request(**THINK), False),
]


@pytest.mark.parametrize(("spec", "body", "matches"), [c[1:] for c in RULES], ids=[c[0] for c in RULES])
def test_rule_conditions(spec: dict[str, Any], body: dict[str, Any], matches: bool) -> None:
    decision, _, _ = decide(engine(rules_config(spec)), body)
    assert (decision.signal == "rule:r") is matches


def test_rules_need_the_classifier_for_task_type_and_say_so() -> None:
    decision, _, _ = decide(engine(rules_config(rule("ml", taskType=["debug"]))), request("fix this"))
    assert decision.signal == "default"
    assert "taskType/complexity need the classifier" in decision.notes[0]


def test_rule_precedence_by_priority_then_file_order() -> None:
    cfg = rules_config(rule("low", 1, "p,bg", messageContains=["deploy"]),
                       rule("high", 9, "p,think", messageContains=["deploy"]),
                       rule("also-high", 9, "p,long", messageContains=["deploy"]))
    decision, _, _ = decide(engine(cfg), request("deploy it"))
    assert (decision.signal, decision.target) == ("rule:high", "p,think")


def test_rule_fallbacks_come_first_in_the_chain() -> None:
    cfg = rules_config({**rule("r", messageContains=["go"]), "fallback": ["p,bg"]})
    cfg["fallbackModel"] = "p,default"
    _, chain, _ = decide(engine(cfg), request("go"))
    assert [d.id for d in chain] == ["sub,agent", "p,bg", "p,default"]


def test_scenario_fallbacks_then_global() -> None:
    cfg = config(fallback={"think": ["sub,agent"], "default": ["p,bg"]}, fallbackModel=["p,long"])
    _, chain, _ = decide(engine(cfg), request(**THINK))
    assert [d.id for d in chain] == ["p,think", "sub,agent", "p,long"]
    _, chain, _ = decide(engine(cfg), request())
    assert [d.id for d in chain] == ["p,default", "p,bg", "p,long"]


def test_decision_records_what_it_saw() -> None:
    decision, _, _ = decide(engine(config()), request(LONG),
                            {"x-claude-code-session-id": "sess-1"})
    assert decision.session == "sess-1"
    assert decision.features["token_count"] > 2000 and decision.elapsed_ms >= 0
    assert decision.candidates == ["p,long"]


def test_a_message_that_held_only_the_tag_keeps_a_word() -> None:
    body = {**request(), "messages": [{"role": "user", "content": TAG}], "system": TAG}
    decision, _, view = decide(engine(config()), body)
    assert decision.signal == "subagent"
    assert view.body["messages"][0]["content"] == "(subagent)" and view.body["system"] == "(subagent)"


@pytest.mark.parametrize(("prompt", "types"), [
    ("look at src/app/main.py and README.md, then /x/lib.rs", [".md", ".py", ".rs"]),
    ("v1.2 of https://example.org/path is out", []),
    ("a pasted blob " + "Ab0_-" * 8000 + " and " + "a." * 20000, []),  # long runs: linear, no backtracking
])
def test_file_types_in_the_prompt(prompt: str, types: list[str]) -> None:
    _, _, view = decide(engine(config()), request(prompt))
    assert sorted(view.file_types) == types
