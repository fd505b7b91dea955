"""Active health checks: each provider key's model list is asked for; failures open circuits, answers close them."""

from __future__ import annotations

import asyncio
from typing import Any

from router.config import parse_config
from router.providers.provider import Providers
from router.routing.deployments import Deployments
from router.routing.probes import check_once
from tests.support.upstream import Reply, ScriptedUpstream


def setup(url: str) -> tuple[Providers, Deployments, Any]:
    config = parse_config({
        "Providers": [
            {"name": "o", "api_base_url": f"{url}/v1/chat/completions", "api_key": ["k1", "k2"], "models": ["m"]},
            {"name": "a", "api_base_url": f"{url}/anthropic", "api_key": "k3", "models": ["m"],
             "transformer": {"use": ["anthropic"]}}],
        "Router": {"default": "o,m"},
        "healthCheck": {"enabled": True, "interval": 1000, "timeout": 500},
        "circuitBreaker": {"consecutiveFailures": 2}})
    providers = Providers(config)
    deployments = Deployments(config, providers)
    return providers, deployments, config.routing.health_check


def test_models_urls(upstream: ScriptedUpstream) -> None:
    providers, _, _ = setup(upstream.url)
    for name, url in (("o", f"{upstream.url}/v1/models"), ("a", f"{upstream.url}/anthropic/v1/models")):
        provider = providers.by_name[name]
        assert provider.adapter.models_url(provider.url) == url


def test_failures_open_and_answers_close(upstream: ScriptedUpstream) -> None:
    providers, deployments, policy = setup(upstream.url)
    deps = deployments.order("o,m")  # two keys: two deployments
    upstream.script = lambda r: Reply(status=401 if r.headers["Authorization"] == "Bearer k2" else 200,
                                      body={"data": []})

    async def run(times: int) -> dict[str, bool]:
        result: dict[str, bool] = {}
        for _ in range(times):
            result = await check_once(providers, deployments, policy)
        await providers.close()
        return result

    results = asyncio.run(run(2))
    assert results == {"o#0": True, "o#1": False, "a#0": True}
    assert {d.id: d.breaker.state for d in deps} == {"o,m#key1": "closed", "o,m#key2": "open"}
    assert {r.path for r in upstream.requests} == {"/v1/models", "/anthropic/v1/models"}
    upstream.script = lambda r: Reply(body={"data": []})
    asyncio.run(run(1))
    assert all(d.breaker.state == "closed" for d in deps)
