"""A configured provider at run time: its endpoint, keys, outgoing proxy and pooled HTTP client. What its wire
format needs (URLs, auth headers, translation) its adapter says (router/translate/adapter.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from router.config.schema import Config, ProviderConfig
from router.translate.adapter import Credentials, WireAdapter, adapter_for
from router.wire.errors import MissingCredential

if TYPE_CHECKING:
    import aiohttp


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
        self.adapter: WireAdapter = adapter_for(cfg.wire)
        self.url = self.adapter.endpoint(cfg.api_base_url)
        self.memo: dict[object, object] = {}  # what an adapter computes once per provider (per-model options)
        # auth the relay awaits (a service account's token); None: `auth_headers` says all
        self.credentials: Credentials | None = None
        self.adapter.prepare(self)
        self.count_tokens_url = self.adapter.count_tokens_url(self.url)
        self.host = urlsplit(self.url).hostname or ""
        # PROXY_URL, else HTTP(S)_PROXY / NO_PROXY for this provider's host, decided once: aiohttp's trust_env
        # would read the environment and ~/.netrc again on every request
        self.proxy_url = config.proxy_url or _env_proxy(self.url)
        self.timeout_s = config.api_timeout_ms / 1000
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
        return self.adapter.auth_headers(key, self.host)

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
