"""The typed shape of a loaded configuration. Built once at start by `load.py`; never validated per request."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


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
