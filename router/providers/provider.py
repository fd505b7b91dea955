"""A configured provider at run time. Knows its URL, auth and quirks; knows nothing of wire translation."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from router.config.schema import Config, ProviderConfig, WireFormat
from router.translate.openai_chat.options import ChatOptions, ReasoningStyle
from router.wire.errors import MissingCredential

if TYPE_CHECKING:
    import aiohttp

ANTHROPIC_HOSTS = ("api.anthropic.com",)


def _endpoint(url: str, wire: WireFormat) -> str:
    """The full endpoint: claude-code-router configs name it; a base URL gets the path appended (query kept,
    e.g. Azure's ?api-version=)."""
    parts = urlsplit(url)
    base = parts.path.rstrip("/")
    if wire is WireFormat.ANTHROPIC:
        if not base.endswith("/v1/messages"):
            base += "/messages" if base.endswith("/v1") else "/v1/messages"
    elif not base.endswith("/chat/completions"):
        base += "/chat/completions"
    return urlunsplit(parts._replace(path=base))


def _env_proxy(url: str) -> str | None:
    from urllib.request import getproxies, proxy_bypass

    parts = urlsplit(url)
    proxy = getproxies().get(parts.scheme)
    if not proxy or proxy_bypass(parts.hostname or ""):
        return None
    return proxy


class Provider:
    def __init__(self, cfg: ProviderConfig, config: Config) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.wire = cfg.wire
        self.url = _endpoint(cfg.api_base_url, cfg.wire)
        self.count_tokens_url = None
        if cfg.wire is WireFormat.ANTHROPIC:
            parts = urlsplit(self.url)
            self.count_tokens_url = urlunsplit(parts._replace(path=parts.path + "/count_tokens"))
        self.host = urlsplit(self.url).hostname or ""
        self.official_anthropic = self.host in ANTHROPIC_HOSTS
        # PROXY_URL, else HTTP(S)_PROXY / NO_PROXY for this provider's host, decided once: aiohttp's trust_env
        # would read the environment and ~/.netrc again on every request
        self.proxy_url = config.proxy_url or _env_proxy(self.url)
        self.timeout_s = config.api_timeout_ms / 1000
        self._options: dict[str, ChatOptions] = {}
        self._session: aiohttp.ClientSession | None = None

    def auth_headers(self, key_index: int = 0) -> dict[str, str]:
        keys = self.cfg.api_keys
        key = keys[key_index % len(keys)] if keys else self.cfg.api_key
        if key is None:
            if self.cfg.missing_key_var:
                raise MissingCredential(
                    f"ccr: provider '{self.name}' has no API key because the environment variable "
                    f"{self.cfg.missing_key_var} is not set. Export it and run `ccr restart`, or write the key "
                    "into the config file."
                )
            return {}
        if self.wire is WireFormat.ANTHROPIC:
            if self.official_anthropic:
                return {"x-api-key": key}
            # third-party Anthropic endpoints take one or the other; both is accepted everywhere seen
            return {"x-api-key": key, "authorization": f"Bearer {key}"}
        return {"authorization": f"Bearer {key}"}

    def chat_options(self, model: str) -> ChatOptions:
        """Quirks of this provider for one model, computed once."""
        opts = self._options.get(model)
        if opts is None:
            opts = self._options[model] = self._build_options(model)
        return opts

    def _build_options(self, model: str) -> ChatOptions:
        uses = {t.name: t.options for t in self.cfg.transformers_for(model)}
        info = self.cfg.models.get(model)
        max_out = info.max_output_tokens if info else None
        if "maxtoken" in uses and isinstance(uses["maxtoken"].get("max_tokens"), int):
            limit = uses["maxtoken"]["max_tokens"]
            max_out = min(max_out, limit) if max_out else limit
        style: ReasoningStyle = "openai"
        if "deepseek" in uses or self.host.endswith("deepseek.com"):
            style = "deepseek"
        elif "openrouter" in uses or self.host.endswith("openrouter.ai"):
            style = "openrouter"
        reasoning = bool(info and info.capabilities.reasoning) or "reasoning" in uses
        extra = dict(uses.get("customparams", {}))
        return ChatOptions(
            max_output_tokens=max_out,
            max_tokens_field="max_completion_tokens"
            if "maxcompletiontokens" in uses or self.host == "api.openai.com" else "max_tokens",
            reasoning_style=style,
            reasoning_capable=reasoning,
            replay_field="reasoning_content" if style == "deepseek" or "reasoning" in uses else None,
            user_limit=128 if style == "openrouter" else 64,
            strip_schema_keys=("$schema",) if "groq" in uses or self.host.endswith("groq.com") else (),
            extra_params=extra,
        )

    def session(self) -> aiohttp.ClientSession:
        """One pooled client per provider, made on first use inside the running loop."""
        if self._session is None or self._session.closed:
            import aiohttp

            self._session = aiohttp.ClientSession(
                # no cap on connections: each is a client's request in flight, and a team's long streams to one
                # provider would otherwise queue behind the first few hundred
                connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=300, keepalive_timeout=60),
                timeout=aiohttp.ClientTimeout(total=None, connect=15, sock_connect=15, sock_read=self.timeout_s),
                skip_auto_headers=("User-Agent",),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


class Providers:
    """All providers of a config, by name."""

    def __init__(self, config: Config) -> None:
        self.by_name = {name: Provider(p, config) for name, p in config.providers.items()}

    def get(self, name: str) -> Provider | None:
        return self.by_name.get(name)

    async def close(self) -> None:
        for p in self.by_name.values():
            await p.close()
