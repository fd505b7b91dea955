"""Router mode: a small, cheap model picks the route.

It is shown a compact summary of the request (the latest prompt, the tool names, the token count) and the
route names with their descriptions, and answers with one name. A short timeout bounds it; any failure (or an
answer that names no route) leaves the decision to the rule pipeline. Its own tokens and cost are recorded.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from router.config.schema import RouterMode
from router.routing.deployments import Deployment, Deployments
from router.routing.features import RequestView

CallModel = Callable[[Deployment, dict[str, Any]], Awaitable[dict[str, Any]]]
PROMPT_CHARS = 2000


def _instructions(mode: RouterMode) -> str:
    routes = "\n".join(f"- {name}: {r.description}" for name, r in mode.routes.items())
    return ("You route the requests of a coding assistant to the model best suited to them. The routes:\n"
            f"{routes}\n\nAnswer with exactly one route name and nothing else.")


def _summary(view: RequestView) -> str:
    tools = [t.get("name", "") for t in view.body.get("tools") or () if isinstance(t, dict)]
    prompt = view.prompt[:PROMPT_CHARS] + ("…" if len(view.prompt) > PROMPT_CHARS else "")
    return (f"Latest request from the user:\n{prompt}\n\nTools available: {', '.join(tools) or 'none'}\n"
            f"Conversation size: about {view.token_count} tokens, {view.tool_rounds} tool rounds in this turn")


class Dispatcher:
    def __init__(self, mode: RouterMode, deployments: Deployments, call: CallModel) -> None:
        self.mode = mode
        self.deployments = deployments
        self.call = call
        self.system = _instructions(mode)

    def _route_named(self, answer: str) -> str | None:
        word = answer.strip().strip("`'\".").lower()
        by_name = {name.lower(): name for name in self.mode.routes}
        if word in by_name:
            return by_name[word]
        found = [name for low, name in by_name.items() if low in answer.lower()]
        return found[0] if len(found) == 1 else None

    async def choose(self, view: RequestView) -> tuple[str | None, dict[str, Any]]:
        """(target of the chosen route or None, what to record)."""
        info: dict[str, Any] = {"model": self.mode.model}
        started = time.perf_counter()
        deps = self.deployments.order(self.mode.model)
        if not deps:
            info["error"] = "no deployment for the Router mode model"
            return None, info
        dep = deps[0]
        body = {"model": dep.model, "max_tokens": 16, "temperature": 0, "system": self.system,
                "messages": [{"role": "user", "content": _summary(view)}]}
        try:
            message = await asyncio.wait_for(self.call(dep, body), self.mode.timeout_ms / 1000)
        except TimeoutError:
            info["error"] = f"no answer within {self.mode.timeout_ms} ms"
            message = None
        except Exception as exc:  # whatever went wrong, the rule pipeline decides instead
            info["error"] = f"{type(exc).__name__}: {exc}"
            message = None
        info["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
        if message is None:
            return None, info
        usage = message.get("usage") or {}
        info["input_tokens"] = usage.get("input_tokens", 0) + usage.get("cache_read_input_tokens", 0)
        info["output_tokens"] = usage.get("output_tokens", 0)
        info["cost_usd"] = _cost(dep, info["input_tokens"], info["output_tokens"])
        answer = "".join(b.get("text", "") for b in message.get("content", []) if b.get("type") == "text")
        name = self._route_named(answer)
        info["answer"] = answer[:80]
        if name is None:
            info["error"] = "the answer names no route"
            return None, info
        info["route"] = name
        return self.mode.routes[name].target, info


def _cost(dep: Deployment, input_tokens: int, output_tokens: int) -> float | None:
    info = dep.provider.cfg.models.get(dep.model)
    if info is None or info.pricing is None:
        return None
    return (input_tokens * info.pricing.input + output_tokens * info.pricing.output) / 1_000_000
