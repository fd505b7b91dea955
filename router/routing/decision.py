"""What was decided for a request and why, and what happened on the way (every hop)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from router.ids import unique


@dataclass(slots=True)
class Hop:
    deployment: str
    attempt: int
    outcome: str  # ok | error | skipped
    latency_ms: float
    status: int | None = None
    error: str | None = None


@dataclass(slots=True)
class RoutingDecision:
    target: str  # what the pipeline chose: "provider,model" or a model group
    signal: str  # the step that decided: explicit, sticky, custom, longContext, subagent, rule:NAME, …
    candidates: list[str]  # deployments in the order they would be tried
    features: dict[str, Any]
    elapsed_ms: float
    session: str | None = None
    turn: str | None = None
    fallback: tuple[str, ...] = ()  # the deciding rule's own fallback targets
    request_id: str = field(default_factory=lambda: unique("req_"))
    time: float = field(default_factory=time.time)
    deployment: str | None = None  # the one that answered
    hops: list[Hop] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # rules skipped and why, hook failures, …
    dispatcher: dict[str, Any] | None = None  # Router mode: its choice, latency and cost
    ml: dict[str, Any] | None = None  # the classifier's prediction (task_type, complexity, difficulty, probabilities)
    expected_cost: float | None = None  # USD, for the first deployment of the chain
    blocked: str | None = None  # a hard budget limit refused the request: the message the client gets
    reserved: float = 0.0  # USD counted against the budgets when decided; settled with the actual cost
    prompt_id: str | None = None
    labels: Any = None  # the classifier's prediction still running (an asyncio.Future); `ml` once it is done

    def header(self) -> str:
        """The `x-ccr-route` debug header."""
        tried = len({h.deployment for h in self.hops})
        return f"{self.deployment or self.target}; signal={self.signal}; hops={tried}"
