"""Resolving a requested model name: an explicit "provider,model" (or model group), an alias, a configured
model name, or Router.default. The routing pipeline uses these steps around its scenarios and rules;
count_tokens uses `select` as a whole."""

from __future__ import annotations

from dataclasses import dataclass

from router.config.schema import Config
from router.wire.errors import NotFound

_FAMILIES = ("opus", "sonnet", "haiku")


@dataclass(frozen=True, slots=True)
class Route:
    target: str  # "provider,model" or a model group
    reason: str  # explicit | alias | model | default


class RouteSelector:
    """Results are cached per model string: there are only a few."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._by_model: dict[str, str] = {}
        for name, p in config.providers.items():
            for model in p.models:
                self._by_model.setdefault(model, name)
        self._explicit: dict[str, Route | None] = {}
        self._named: dict[str, Route | None] = {}

    def explicit(self, model: str) -> Route | None:
        """`/model provider,model` (or a model group's name); 404 for an unknown provider or model."""
        if model in self._explicit:
            return self._explicit[model]
        route = None
        providers = self.config.providers
        if model in self.config.routing.groups:
            route = Route(model, "explicit")
        elif "," in model:
            provider, _, name = model.partition(",")
            if provider not in providers:
                raise NotFound(f"provider '{provider}' is not configured; configured providers: "
                               f"{', '.join(providers) or 'none'}")
            if name not in providers[provider].models:
                raise NotFound(f"model '{name}' is not configured for provider '{provider}'; its models: "
                               f"{', '.join(providers[provider].models)}. Add it to Providers[].models.")
            route = Route(model, "explicit")
        if len(self._explicit) < 4096:
            self._explicit[model] = route
        return route

    def named(self, model: str) -> Route | None:
        """An alias (by name, or by family: claude-opus-4-8 → opus), or a model some provider lists."""
        if model in self._named:
            return self._named[model]
        aliases = self.config.aliases
        route = None
        if model in aliases:
            route = Route(aliases[model], "alias")
        else:
            lowered = model.lower()
            family = next((f for f in _FAMILIES if f in lowered and f in aliases), None)
            if family is not None:
                route = Route(aliases[family], "alias")
            elif model in self._by_model:
                route = Route(f"{self._by_model[model]},{model}", "model")
        if len(self._named) < 4096:
            self._named[model] = route
        return route

    def default(self, model: str) -> Route:
        if self.config.router.default:
            return Route(self.config.router.default, "default")
        configured = ", ".join(f"{n},{m}" for n, p in self.config.providers.items() for m in p.models) or "none"
        raise NotFound(f"model '{model}' is not configured and Router.default is not set; configured models: "
                       f"{configured}")

    def select(self, model: str) -> Route:
        return self.explicit(model) or self.named(model) or self.default(model)
