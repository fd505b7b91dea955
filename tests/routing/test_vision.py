"""An image bound for a model known not to read images goes to Router.image or a model that reads them, for
that request, whatever chose the blind model (default, stickiness, an explicit `/model`); the decision says why.
A model whose capabilities nobody stated is not second-guessed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.routing.helpers import decide, engine, request, tool_round

IMAGE = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}
MODELS = [{"name": "text-only", "capabilities": {"vision": False}},
          {"name": "seeing", "capabilities": {"vision": True}},
          "unstated"]
SESSION = {"x-claude-code-session-id": "s1"}


def config(**router: Any) -> dict[str, Any]:
    return {"Providers": [{"name": "p", "api_base_url": "http://127.0.0.1:9/v1/chat/completions", "api_key": "k",
                           "models": MODELS}], "Router": {"default": "p,text-only", **router}}


def with_image(body: dict[str, Any]) -> dict[str, Any]:
    messages = [*body["messages"][:-1], {"role": "user", "content": [*body["messages"][-1]["content"], IMAGE]}]
    return {**body, "messages": messages}


# (case, config, request, target, whether the decision notes a reroute)
CASES = [
    ("the default is blind", config(), with_image(request("what is on this screenshot?")), "p,seeing", True),
    ("the image scenario's route", config(image="p,unstated"), with_image(request("and this?")), "p,unstated", False),
    ("an explicit /model", config(), with_image(request("look", model="p,text-only")), "p,seeing", True),
    ("no image: as chosen", config(), request("hello"), "p,text-only", False),
    ("unstated capabilities: as chosen", config(default="p,unstated"), with_image(request("look")), "p,unstated",
     False),
]


@pytest.mark.parametrize(("case", "cfg", "body", "target", "noted"), CASES, ids=[c[0] for c in CASES])
def test_images_go_where_they_are_seen(case: str, cfg: dict[str, Any], body: dict[str, Any], target: str,
                                       noted: bool) -> None:
    decision, chain, _ = decide(engine(cfg), body, SESSION)
    assert decision.target == target and chain[0].target == target
    assert any(n.startswith("image: p,text-only cannot read images") for n in decision.notes) == noted


def test_a_screenshot_mid_turn_leaves_the_sticky_blind_model() -> None:
    """Claude Code reads a screenshot in a tool round of a turn that sits on a blind model."""
    eng = engine(config())
    first = request("check the login page")
    decision, chain, view = decide(eng, first, SESSION)
    eng.remember(view, decision, chain[0])
    assert decision.target == "p,text-only"
    shot = tool_round(first, "toolu_1", [IMAGE])
    decision, chain, _ = decide(eng, shot, SESSION)
    assert decision.target == "p,seeing" and chain[0].target == "p,seeing"
    assert any("cannot read images" in n for n in decision.notes)
