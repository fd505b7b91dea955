"""Building a routing engine from a config dict, and requests shaped like Claude Code's."""

from __future__ import annotations

import asyncio
from typing import Any

from router.config import parse_config
from router.providers.provider import Providers
from router.routing.decision import RoutingDecision
from router.routing.deployments import Deployment
from router.routing.features import RequestView
from router.routing.pipeline import RoutingEngine


def provider(name: str, models: list[str], url: str = "http://127.0.0.1:9", **extra: Any) -> dict[str, Any]:
    return {"name": name, "api_base_url": f"{url}/v1/chat/completions", "api_key": "k", "models": models, **extra}


def engine(config: dict[str, Any]) -> RoutingEngine:
    parsed = parse_config(config)
    return RoutingEngine(parsed, Providers(parsed))


def decide(eng: RoutingEngine, body: dict[str, Any], headers: dict[str, str] | None = None
           ) -> tuple[RoutingDecision, list[Deployment], RequestView]:
    view = RequestView(body, headers or {})
    decision, chain = asyncio.run(eng.decide(view))
    return decision, chain, view


def request(prompt: str = "hello", model: str = "claude-sonnet-4-6", **extra: Any) -> dict[str, Any]:
    return {"model": model, "max_tokens": 1000, "messages": [
        {"role": "user", "content": [{"type": "text", "text": "<system-reminder>be nice</system-reminder>"},
                                     {"type": "text", "text": prompt}]}], **extra}


def tool_round(body: dict[str, Any], tool_id: str, result: Any = "ok") -> dict[str, Any]:
    """The next request of the same turn: the assistant called a tool, here is its result."""
    messages = [*body["messages"],
                {"role": "assistant", "content": [{"type": "tool_use", "id": tool_id, "name": "Bash", "input": {}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_id, "content": result}]}]
    return {**body, "messages": messages}
