"""CUSTOM_ROUTER_PATH: a Python file defining `route(request, context) -> "provider,model" | None`.

It runs first, in a worker thread with a timeout; whatever goes wrong (an exception, a timeout, an answer
that is not a configured target) is logged and the built-in pipeline decides instead.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson

log = logging.getLogger("ccr.routing")


MAX_IN_FLIGHT = 4


class CustomRouter:
    def __init__(self, path: str, timeout_ms: int) -> None:
        self.path = path
        self.name = Path(path).name
        self.timeout_s = timeout_ms / 1000
        spec = importlib.util.spec_from_file_location("ccr_custom_router", path)
        if spec is None or spec.loader is None:
            raise ValueError(f"{path}: cannot be loaded as a Python module")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        route = getattr(module, "route", None)
        if not callable(route):
            raise ValueError(f"{path}: defines no route(request, context) function")
        self.route: Callable[[dict[str, Any], dict[str, Any]], Any] = route
        # its own threads: a hook that hangs must not starve the default pool (aiohttp resolves DNS there)
        self.pool = ThreadPoolExecutor(MAX_IN_FLIGHT, thread_name_prefix="ccr-custom-router")
        self.in_flight = 0

    def _call(self, request: bytes, context: Callable[[], dict[str, Any]]) -> Any:
        # a copy: the hook may keep or change what it is given while the real request goes on
        return self.route(orjson.loads(request), context())

    async def __call__(self, request: dict[str, Any], context: Callable[[], dict[str, Any]]
                       ) -> tuple[str | None, str | None]:
        """(target or None, a note when it failed). `context` is built in the worker thread (it may count
        tokens)."""
        if self.in_flight >= MAX_IN_FLIGHT:
            return None, f"custom router {self.name} is busy ({MAX_IN_FLIGHT} calls still running); skipped"
        self.in_flight += 1
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self.pool, self._call, orjson.dumps(request), context)
        future.add_done_callback(lambda _: self._done())
        try:
            answer = await asyncio.wait_for(asyncio.shield(future), self.timeout_s)
        except TimeoutError:
            note = f"custom router {self.name} took longer than {self.timeout_s * 1000:.0f} ms; ignored"
        except Exception as exc:
            note = f"custom router {self.name} failed: {type(exc).__name__}: {exc}"
        else:
            if answer is None or isinstance(answer, str):
                return answer, None
            note = f"custom router {self.name} returned {type(answer).__name__}, not a string; ignored"
        log.warning("%s", note)
        return None, note

    def _done(self) -> None:
        self.in_flight -= 1
