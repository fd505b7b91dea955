"""The outgoing proxy is decided once per provider: PROXY_URL, else HTTP(S)_PROXY unless NO_PROXY names the host."""

from __future__ import annotations

import pytest

from router.config import parse_config
from router.providers.provider import Providers


@pytest.mark.parametrize(("env", "proxy_url", "url", "expected"), [
    ({}, None, "https://api.deepseek.com/chat/completions", None),
    ({"HTTPS_PROXY": "http://proxy:3128"}, None, "https://api.deepseek.com/chat/completions", "http://proxy:3128"),
    ({"HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": "api.deepseek.com"}, None,
     "https://api.deepseek.com/chat/completions", None),
    ({"HTTP_PROXY": "http://proxy:3128"}, None, "https://api.deepseek.com/chat/completions", None),
    ({"HTTPS_PROXY": "http://proxy:3128"}, "http://mine:8080", "https://api.deepseek.com/chat/completions",
     "http://mine:8080"),
])
def test_the_proxy_is_decided_once_per_provider(monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                                                proxy_url: str | None, url: str, expected: str | None) -> None:
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY",
                "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    config = parse_config({"Providers": [{"name": "p", "api_base_url": url, "api_key": "k", "models": ["m"]}],
                           "Router": {"default": "p,m"}, **({"PROXY_URL": proxy_url} if proxy_url else {})})
    provider = Providers(config).get("p")
    assert provider is not None and provider.proxy_url == expected
