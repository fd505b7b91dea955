"""The typed shape of a loaded configuration. Built once at start by `load.py`; never validated per request."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from router.redact import secret_values


class WireFormat(StrEnum):
    OPENAI_CHAT = "openai_chat"
    ANTHROPIC = "anthropic"
    GEMINI = "gemini"
    OPENAI_RESPONSES = "openai_responses"


@dataclass(frozen=True, slots=True)
class Pricing:
    """USD per million tokens."""

    input: float = 0.0
    output: float = 0.0
    cache_read: float = 0.0
    cache_write: float = 0.0


@dataclass(frozen=True, slots=True)
class Capabilities:
    tools: bool = True
    vision: bool = False
    reasoning: bool = False


@dataclass(frozen=True, slots=True)
class ModelInfo:
    name: str
    pricing: Pricing | None = None
    context_window: int | None = None
    max_output_tokens: int | None = None
    capabilities: Capabilities = field(default_factory=Capabilities)
    tier: int | None = None  # quality: 1 small, 2 medium, 3 strong
    tiers: dict[str, int] = field(default_factory=dict)  # per task type, over `tier`
    from_catalog: tuple[str, ...] = ()  # fields filled from ccr's built-in catalog (data/catalog.json)
    capabilities_known: bool = False  # stated by the config or the catalog (else they are defaults, not facts)

    @property
    def blind(self) -> bool:
        """Known not to read images (a model whose capabilities nobody stated is given the benefit of doubt)."""
        return self.capabilities_known and not self.capabilities.vision

    def tier_for(self, task_type: str | None) -> int | None:
        return self.tiers.get(task_type or "", self.tier)

    @property
    def free(self) -> bool:
        return self.pricing is not None and self.pricing.input == 0 and self.pricing.output == 0


@dataclass(frozen=True, slots=True)
class TransformerUse:
    name: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    name: str
    api_base_url: str
    wire: WireFormat
    api_key: str | None
    # set when api_key named an environment variable that is not set: requests then fail naming it
    missing_key_var: str | None
    models: dict[str, ModelInfo]
    transformers: tuple[TransformerUse, ...] = ()
    # all keys when api_key is a list: each key is a deployment of its own (load balancing, failover)
    api_keys: tuple[str, ...] = ()
    model_transformers: dict[str, tuple[TransformerUse, ...]] = field(default_factory=dict)

    def transformers_for(self, model: str) -> tuple[TransformerUse, ...]:
        return self.transformers + self.model_transformers.get(model, ())


@dataclass(frozen=True, slots=True)
class RouterConfig:
    default: str | None = None
    background: str | None = None
    think: str | None = None
    long_context: str | None = None
    long_context_threshold: int = 60000
    web_search: str | None = None
    image: str | None = None


STRATEGIES = ("round_robin", "weighted", "least_latency", "priority")


@dataclass(frozen=True, slots=True)
class GroupMember:
    target: str  # "provider,model"
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class ModelGroup:
    """One name served by several deployments (providers or keys), chosen by a load-balancing strategy."""

    name: str
    strategy: str
    members: tuple[GroupMember, ...]


@dataclass(frozen=True, slots=True)
class RuleConditions:
    message_contains: tuple[str, ...] = ()
    file_types: tuple[str, ...] = ()
    token_min: int | None = None
    token_max: int | None = None
    expression: Any = None  # router.routing.expr.Expression, parsed at load
    task_type: tuple[str, ...] = ()
    complexity: tuple[str, ...] = ()
    scenario: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    priority: int
    target: str
    conditions: RuleConditions
    fallback: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    retries: int = 2  # per deployment, after the first try
    base_delay_ms: int = 250
    max_delay_ms: int = 8000
    deadline_ms: int = 120_000


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    consecutive_failures: int = 5
    error_rate: float = 0.5
    window: int = 20
    min_requests: int = 10
    cooldown_ms: int = 30_000


@dataclass(frozen=True, slots=True)
class HealthCheck:
    enabled: bool = False
    interval_ms: int = 60_000
    timeout_ms: int = 5_000


@dataclass(frozen=True, slots=True)
class DispatchRoute:
    target: str
    description: str


@dataclass(frozen=True, slots=True)
class RouterMode:
    model: str
    routes: dict[str, DispatchRoute]
    timeout_ms: int = 1500


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    rules: tuple[Rule, ...] = ()
    groups: dict[str, ModelGroup] = field(default_factory=dict)
    fallback: dict[str, tuple[str, ...]] = field(default_factory=dict)  # scenario → targets
    fallback_model: tuple[str, ...] = ()
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    breaker: BreakerPolicy = field(default_factory=BreakerPolicy)
    health_check: HealthCheck = field(default_factory=HealthCheck)
    router_mode: RouterMode | None = None
    custom_router_path: str | None = None
    custom_router_timeout_ms: int = 500


CLASSIFIER_WAIT_MS = 1000


@dataclass(frozen=True, slots=True)
class ClassifierConfig:
    enabled: bool = True
    threads: int = 1  # torch threads for inference: the event loop keeps the other core
    log_prompts: bool = True  # the latest human prompt of each turn, for `ccr train` and `ccr label`
    # how long routing waits for a turn's labels when a rule or the policy reads them; past it the turn is routed
    # without them (a burst of new turns on a shared router queues behind one worker: 110-135 ms per long prompt)
    wait_ms: int = CLASSIFIER_WAIT_MS


@dataclass(frozen=True, slots=True)
class PolicyConfig:
    """The budget-aware choice by the classifier: cheapest deployment whose tier meets what the prompt needs."""

    enabled: bool = False
    override_scenarios: bool = False  # True: also decides background/think/webSearch/image requests
    difficulty_threshold: float | None = None
    strong_share: float | None = None  # the threshold that sends this share of prompts to strong models
    expected_output_tokens: int = 1000  # until the log has learned it per task type
    candidates: tuple[str, ...] = ()  # "provider,model"; empty: every model with a price and a tier


@dataclass(frozen=True, slots=True)
class BudgetLimits:
    daily: float | None = None  # USD
    monthly: float | None = None


@dataclass(frozen=True, slots=True)
class BudgetConfig:
    total: BudgetLimits = field(default_factory=BudgetLimits)
    per_key: BudgetLimits = field(default_factory=BudgetLimits)
    keys: dict[str, BudgetLimits] = field(default_factory=dict)  # key id (as `ccr costs --by key` shows) → own caps
    soft_limit: float = 0.8  # share of a cap above which the policy downgrades
    on_exceeded: str = "block"  # block | freeOnly

    @property
    def active(self) -> bool:
        return any(lim.daily is not None or lim.monthly is not None
                   for lim in (self.total, self.per_key, *self.keys.values()))


@dataclass(frozen=True, slots=True)
class PluginSpec:
    path: str  # resolved
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Config:
    providers: dict[str, ProviderConfig]
    router: RouterConfig
    aliases: dict[str, str]
    apikey: str | None = None
    host: str = "127.0.0.1"
    port: int = 3456
    proxy_url: str | None = None
    log: bool = True
    log_level: str = "info"
    api_timeout_ms: int = 600_000
    max_body_bytes: int = 32 * 1024 * 1024
    path: str | None = None
    warnings: tuple[str, ...] = ()
    routing: RoutingConfig = field(default_factory=RoutingConfig)
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    budgets: BudgetConfig = field(default_factory=BudgetConfig)
    # browser origins and Host names allowed besides the router's own loopback ones (router/server/guard.py)
    allowed_origins: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    plugins: tuple[PluginSpec, ...] = ()

    def secrets(self) -> list[str]:
        """Every credential the config holds: kept out of logs, errors and `ccr config show`."""
        found = [self.apikey or ""]
        if self.proxy_url:
            found.append(urlsplit(self.proxy_url).password or "")
        for p in self.providers.values():
            found += [p.api_key or "", *p.api_keys]
            uses = p.transformers + tuple(u for per in p.model_transformers.values() for u in per)
            found += [v for use in uses for v in secret_values(use.options)]
        found += [v for plugin in self.plugins for v in secret_values(plugin.options)]
        return [s for s in found if s]

    def tier_of(self, target: str) -> int | None:
        """The quality tier of "provider,model" (a deployment id's "#keyN" ignored)."""
        provider, _, model = target.split("#")[0].partition(",")
        p = self.providers.get(provider)
        info = p.models.get(model) if p else None
        return info.tier if info else None
