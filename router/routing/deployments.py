"""Deployments (a provider + model + key that can serve) and the load-balancing strategies over them.

A target is "provider,model" (one deployment per key of that provider) or a model group (its members, each
expanded per key). `order()` gives the deployments to try, best first: the strategy's pick among the
healthy, then the other healthy ones, then those whose circuit is open (tried only if all else failed).
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field

from router.config.schema import Config, ModelInfo
from router.providers.provider import Provider, Providers
from router.routing.health import CircuitBreaker

EWMA_ALPHA = 0.3


@dataclass(eq=False)
class Deployment:
    provider: Provider
    model: str
    key_index: int
    weight: float
    breaker: CircuitBreaker
    ttft_ms: float | None = None  # EWMA of time to first byte
    id: str = field(init=False)

    def __post_init__(self) -> None:
        keys = len(self.provider.cfg.api_keys)
        self.id = f"{self.provider.name},{self.model}" + (f"#key{self.key_index + 1}" if keys > 1 else "")

    @property
    def target(self) -> str:
        return f"{self.provider.name},{self.model}"

    @property
    def info(self) -> ModelInfo | None:
        return self.provider.cfg.models.get(self.model)

    def observe_ttft(self, ms: float) -> None:
        self.ttft_ms = ms if self.ttft_ms is None else EWMA_ALPHA * ms + (1 - EWMA_ALPHA) * self.ttft_ms


class Deployments:
    def __init__(self, config: Config, providers: Providers, rng: random.Random | None = None) -> None:
        self.config = config
        self.providers = providers
        self.rng = rng or random.Random()
        self._by_key: dict[tuple[str, str, int], Deployment] = {}
        self._targets: dict[str, tuple[str, list[Deployment]]] = {}
        self._turns: dict[str, itertools.count[int]] = {}

    def _deployment(self, provider: Provider, model: str, key_index: int, weight: float) -> Deployment:
        key = (provider.name, model, key_index)
        dep = self._by_key.get(key)
        if dep is None:  # one per provider, model and key, shared by every group it is in: one health state
            dep = self._by_key[key] = Deployment(provider, model, key_index, weight,
                                                 CircuitBreaker(self.config.routing.breaker))
        return dep

    def _expand(self, target: str, weight: float) -> list[Deployment]:
        name, _, model = target.partition(",")
        provider = self.providers.get(name)
        if provider is None:
            return []
        keys = max(1, len(provider.cfg.api_keys))
        return [self._deployment(provider, model, k, weight / keys) for k in range(keys)]

    def members(self, target: str) -> tuple[str, list[Deployment]]:
        """(strategy, deployments) of a target, built once."""
        found = self._targets.get(target)
        if found is None:
            group = self.config.routing.groups.get(target)
            if group is not None:
                deps = [d for m in group.members for d in self._expand(m.target, m.weight)]
                found = (group.strategy, deps)
            else:
                found = ("round_robin", self._expand(target, 1.0))
            self._targets[target] = found
        return found

    def order(self, target: str) -> list[Deployment]:
        strategy, deps = self.members(target)
        if len(deps) <= 1:
            return list(deps)
        healthy = [d for d in deps if d.breaker.healthy]
        pool = healthy or deps
        first = self._pick(target, strategy, pool)
        rest_healthy = [d for d in healthy if d is not first]
        return [first, *rest_healthy, *[d for d in deps if d is not first and d not in healthy]]

    def _pick(self, target: str, strategy: str, pool: list[Deployment]) -> Deployment:
        if strategy == "priority":
            return pool[0]
        if strategy == "weighted":
            return self.rng.choices(pool, weights=[d.weight for d in pool])[0]
        if strategy == "least_latency":
            # unmeasured deployments first, so every one gets measured
            return min(pool, key=lambda d: -1.0 if d.ttft_ms is None else d.ttft_ms)
        turn = self._turns.setdefault(target, itertools.count())
        return pool[next(turn) % len(pool)]

    def all(self) -> list[Deployment]:
        return list(self._by_key.values())
