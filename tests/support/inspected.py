"""A router that can be looked into while it runs: its loop's tasks and its upstream connection pools."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from typing import Any, Self

from tests.support.router import RouterServer


@dataclass(frozen=True)
class Snapshot:
    tasks: list[str]  # the router loop's tasks, but the one taking the snapshot
    acquired: dict[str, int]  # per provider: connections lent to a request and not given back
    idle: dict[str, int]  # per provider: live connections resting in the pool for reuse


class InspectedRouter(RouterServer):
    """RouterServer that notes the loop uvicorn runs it on, to count what lives there."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.loop: asyncio.AbstractEventLoop | None = None
        serve = self.server.serve

        async def noted(*args: Any, **kwargs: Any) -> None:
            self.loop = asyncio.get_running_loop()
            await serve(*args, **kwargs)

        self.server.serve = noted  # type: ignore[method-assign]

    def start(self) -> Self:
        super().start()
        return self

    def snapshot(self) -> Snapshot:
        """Taken on the router's own loop, so that nothing moves while it is counted."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(self._snapshot(), self.loop).result(5)

    async def _snapshot(self) -> Snapshot:
        me = asyncio.current_task()
        tasks = sorted(repr(t.get_coro()) for t in asyncio.all_tasks() if t is not me)
        acquired: dict[str, int] = {}
        idle: dict[str, int] = {}
        for name, provider in self.app.state.ccr.providers.by_name.items():
            session = provider._session
            if session is None or session.closed:
                acquired[name] = idle[name] = 0
                continue
            connector = session.connector
            # aiohttp keeps no public count of these; the attributes are stable across 3.x
            acquired[name] = len(connector._acquired)
            idle[name] = sum(1 for conns in connector._conns.values() for proto, _ in conns if proto.is_connected())
        return Snapshot(tasks, acquired, idle)


def open_sockets() -> int:
    """Sockets this process holds (router, upstreams, proxies and clients all live in it)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except OSError:
            continue  # closed while listed
    return count
