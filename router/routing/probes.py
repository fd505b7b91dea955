"""Active health checks (`healthCheck {enabled, interval, timeout}`): every interval each provider key is asked
for its model list, a call that costs no tokens. A failure counts against every deployment of that key; an
answer closes their circuits again."""

from __future__ import annotations

import asyncio
import logging

import aiohttp

from router.config.schema import HealthCheck
from router.providers.provider import Provider, Providers
from router.routing.deployments import Deployments

log = logging.getLogger("ccr.health")


async def probe(provider: Provider, key_index: int, timeout_s: float) -> bool:
    try:
        auth = provider.auth_headers(key_index) if provider.credentials is None else await provider.credentials.headers()
        headers = {**provider.adapter.probe_headers(), **auth}
        async with provider.session().get(provider.adapter.models_url(provider.url), headers=headers, proxy=provider.proxy_url,
                                          timeout=aiohttp.ClientTimeout(total=timeout_s)) as resp:
            return resp.status < 500 and resp.status not in (401, 403)
    except (aiohttp.ClientError, TimeoutError):
        return False
    except Exception:  # a credential that is missing, or anything else: unhealthy, never a crash
        return False


async def check_once(providers: Providers, deployments: Deployments, policy: HealthCheck) -> dict[str, bool]:
    results: dict[str, bool] = {}
    jobs = []
    for provider in providers.by_name.values():
        for key_index in range(max(1, len(provider.cfg.api_keys))):
            jobs.append((provider, key_index, probe(provider, key_index, policy.timeout_ms / 1000)))
    outcomes = await asyncio.gather(*(job for _, _, job in jobs))
    for (provider, key_index, _), ok in zip(jobs, outcomes, strict=True):
        results[f"{provider.name}#{key_index}"] = ok
        for dep in deployments.all():
            if dep.provider is provider and dep.key_index == key_index:
                (dep.breaker.success if ok else dep.breaker.failure)()
        if not ok:
            log.warning("health check failed for provider %s (key %d)", provider.name, key_index + 1)
    return results


async def run_checks(providers: Providers, deployments: Deployments, policy: HealthCheck) -> None:
    while True:
        await check_once(providers, deployments, policy)
        await asyncio.sleep(policy.interval_ms / 1000)
