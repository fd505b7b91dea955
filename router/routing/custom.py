"""CUSTOM_ROUTER_PATH: a Python file defining `route(request, context) -> "provider,model" | None`.

It runs first, in a worker thread with a timeout; whatever goes wrong (an exception, a timeout, an answer
that is not a configured target) is logged and the built-in pipeline decides instead.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger("ccr.routing")


class CustomRouter:
    def __init__(self, path: str, timeout_ms: int) -> None:
        self.path = path
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

    async def __call__(self, request: dict[str, Any], context: dict[str, Any]) -> tuple[str | None, str | None]:
        """(target or None, a note when it failed)."""
        try:
            answer = await asyncio.wait_for(asyncio.to_thread(self.route, request, context), self.timeout_s)
        except TimeoutError:
            note = f"custom router {Path(self.path).name} took longer than {self.timeout_s * 1000:.0f} ms; ignored"
        except Exception as exc:
            note = f"custom router {Path(self.path).name} failed: {type(exc).__name__}: {exc}"
        else:
            if answer is None or isinstance(answer, str):
                return answer, None
            note = f"custom router {Path(self.path).name} returned {type(answer).__name__}, not a string; ignored"
        log.warning("%s", note)
        return None, note
