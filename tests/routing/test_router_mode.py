"""Router mode: a small model reads a summary of the request and names the route; failures leave the
decision to the rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.e2e.agent import whole_step
from tests.support.router import RouterServer
from tests.support.upstream import Reply, ScriptedUpstream

MakeRouter = Callable[[dict[str, Any]], RouterServer]


def config(url: str, timeout_ms: int = 2000) -> dict[str, Any]:
    return {
        "Providers": [{"name": "p", "api_base_url": f"{url}/v1/chat/completions", "api_key": "k", "models": [
            "main", "cheap", {"name": "dispatch", "pricing": {"input": 1.0, "output": 2.0}}]}],
        "Router": {"default": "p,main"},
        "RouterMode": {"model": "p,dispatch", "timeoutMs": timeout_ms, "routes": {
            "quick": {"model": "p,cheap", "description": "small edits, questions, renames"},
            "deep": {"model": "p,main", "description": "multi-file features, hard bugs, design"}}},
    }


def script(dispatcher: Reply) -> Callable[[Any], Reply]:
    def answer(r: Any) -> Reply:
        if r.body["model"] == "dispatch":
            return dispatcher
        return Reply(body=whole_step({"text": f"answered by {r.body['model']}"}))
    return answer


def ask(router: RouterServer) -> httpx.Response:
    return httpx.post(router.url + "/v1/messages", timeout=10, json={
        "model": "claude-sonnet-4-6", "max_tokens": 50, "tools": [{"name": "Edit", "input_schema": {"type": "object"}}],
        "messages": [{"role": "user", "content": "rename the variable x to count in utils.py"}]})


def test_the_dispatcher_picks_the_route_and_its_cost_is_recorded(upstream: ScriptedUpstream,
                                                                 make_router: MakeRouter) -> None:
    upstream.script = script(Reply(body=whole_step({"text": "quick", "usage": {
        "prompt_tokens": 1000, "completion_tokens": 1}})))
    router = make_router(config(upstream.url))
    resp = ask(router)
    assert resp.json()["content"][0]["text"] == "answered by cheap"
    decision = router.decisions[-1]
    assert decision.signal == "router_mode:quick" and decision.target == "p,cheap"
    assert decision.dispatcher is not None
    assert decision.dispatcher["route"] == "quick" and decision.dispatcher["cost_usd"] == 1000 / 1e6 + 2 / 1e6
    sent = upstream.requests[0].body
    summary = sent["messages"][-1]["content"]
    assert "rename the variable" in summary and "Edit" in summary and "quick: small edits" in sent["messages"][0]["content"]
    assert sent["max_tokens"] == 16


def test_a_slow_or_confused_dispatcher_leaves_it_to_the_rules(upstream: ScriptedUpstream,
                                                              make_router: MakeRouter) -> None:
    upstream.script = script(Reply(body=whole_step({"text": "quick"}), pause_before_s=1.0))
    router = make_router(config(upstream.url, timeout_ms=200))
    assert ask(router).json()["content"][0]["text"] == "answered by main"
    decision = router.decisions[-1]
    assert decision.signal == "default" and "no answer within 200 ms" in decision.notes[0]
    upstream.script = script(Reply(body=whole_step({"text": "I think both could work"})))
    assert ask(router).json()["content"][0]["text"] == "answered by main"
    assert "names no route" in router.decisions[-1].notes[0]
