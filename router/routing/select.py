"""Model selection for the proxy core: explicit "provider,model", then aliases and configured names, then
Router.default. A small, replaceable step: the routing engine takes its place later.
"""

from __future__ import annotations

from dataclasses import dataclass

from router.config.schema import Config
from router.wire.errors import NotFound

_FAMILIES = ("opus", "sonnet", "haiku")


@dataclass(frozen=True, slots=True)
class Route:
    provider: str
    model: str
    reason: str  # explicit | alias | model | default

    @property
    def target(self) -> str:
        return f"{self.provider},{self.model}"


class RouteSelector:
    """Resolves a request's `model` field. Results are cached per model string: there are only a few."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._cache: dict[str, Route] = {}
        self._by_model: dict[str, str] = {}
        for name, p in config.providers.items():
            for model in p.models:
                self._by_model.setdefault(model, name)

    def select(self, model: str) -> Route:
        route = self._cache.get(model)
        if route is None:
            route = self._resolve(model)
            if len(self._cache) < 4096:
                self._cache[model] = route
        return route

    def _configured(self) -> str:
        return ", ".join(f"{n},{m}" for n, p in self.config.providers.items() for m in p.models) or "none"

    def _split(self, target: str, reason: str) -> Route:
        provider, _, model = target.partition(",")
        return Route(provider, model, reason)

    def _resolve(self, model: str) -> Route:
        providers = self.config.providers
        if "," in model:
            provider, _, name = model.partition(",")
            if provider not in providers:
                raise NotFound(f"provider '{provider}' is not configured; configured providers: "
                               f"{', '.join(providers) or 'none'}")
            if name not in providers[provider].models:
                raise NotFound(f"model '{name}' is not configured for provider '{provider}'; its models: "
                               f"{', '.join(providers[provider].models)}. Add it to Providers[].models.")
            return Route(provider, name, "explicit")
        aliases = self.config.aliases
        if model in aliases:
            return self._split(aliases[model], "alias")
        lowered = model.lower()
        for family in _FAMILIES:
            if family in lowered and family in aliases:
                return self._split(aliases[family], "alias")
        if model in self._by_model:
            return Route(self._by_model[model], model, "model")
        if self.config.router.default:
            return self._split(self.config.router.default, "default")
        raise NotFound(f"model '{model}' is not configured and Router.default is not set; configured models: "
                       f"{self._configured()}")
