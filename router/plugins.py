"""Plugins: Python files named in the config's `plugins` list that see, and may change, what passes through.

A plugin defines any of these (plain functions or coroutines; `ctx` says which request, which deployment, and
the plugin's own `options` from the config):

    setup(options)                    once, when the router starts
    on_request(request, ctx)          before a request goes to a deployment: the Anthropic-format body (a copy the
                                      plugin may change; not `stream`); return a dict to send that instead, or
                                      None; raise ccr's InvalidRequest / PermissionDenied to refuse it
    on_response(response, ctx)        the Anthropic-format answer: a whole message may be replaced by returning a
                                      dict; a stream is shown once it has ended (what was sent stays sent)
    on_error(error, ctx)              a request that failed: {"status", "type", "message"}

Plugins run in the order listed, on the event loop: one that blocks holds every request, so slow work belongs in
a coroutine or a thread. A plugin that fails in `on_request` fails its request (500, naming the plugin; no retry,
no fallback, no mark against a provider's health): a plugin may be there to enforce something. Failures in the
other hooks are logged and the answer goes on.
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from router.config.schema import PluginSpec
from router.wire.anthropic import accumulate
from router.wire.errors import ProxyError
from router.wire.results import Stream, Whole

log = logging.getLogger("ccr.plugins")
HOOKS = ("on_request", "on_response", "on_error")


class PluginError(Exception):
    """A plugin that cannot be loaded: the router does not start without it."""


class PluginFailed(ProxyError):
    """A plugin failed in on_request: the request fails (500) without retries, fallbacks or a mark against any
    provider's health (server/attempts.py lets ccr's own errors through)."""

    local = True


@dataclass(slots=True)
class Plugin:
    name: str
    options: dict[str, Any]
    hooks: dict[str, Callable[..., Any]]


async def _call(fn: Callable[..., Any], *args: Any) -> Any:
    result = fn(*args)
    if inspect.isawaitable(result):
        result = await result
    return result


def _load(spec: PluginSpec, index: int) -> Plugin:
    name = Path(spec.path).name
    try:
        module_spec = importlib.util.spec_from_file_location(f"ccr_plugin_{index}", spec.path)
        if module_spec is None or module_spec.loader is None:
            raise PluginError(f"plugins[{index}]: {spec.path} cannot be loaded as a Python module")
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        hooks = {h: getattr(module, h) for h in HOOKS if callable(getattr(module, h, None))}
        if not hooks:
            raise PluginError(f"plugins[{index}]: {name} defines none of {', '.join(HOOKS)}")
        setup = getattr(module, "setup", None)
        if callable(setup):
            setup(dict(spec.options))
    except PluginError:
        raise
    except Exception as exc:
        raise PluginError(f"plugins[{index}]: {name} failed to load: {type(exc).__name__}: {exc}") from exc
    return Plugin(name, dict(spec.options), hooks)


class Plugins:
    def __init__(self, specs: tuple[PluginSpec, ...]) -> None:
        self.plugins = [_load(spec, i) for i, spec in enumerate(specs)]
        self.on_request = [p for p in self.plugins if "on_request" in p.hooks]
        self.on_response = [p for p in self.plugins if "on_response" in p.hooks]
        self.on_error = [p for p in self.plugins if "on_error" in p.hooks]

    @staticmethod
    def context(plugin: Plugin, base: dict[str, Any]) -> dict[str, Any]:
        return {**base, "options": plugin.options}

    async def request(self, body: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
        # the plugins' own copy: a fallback starts again from the original
        current: dict[str, Any] = orjson.loads(orjson.dumps(body))
        for plugin in self.on_request:
            try:
                changed = await _call(plugin.hooks["on_request"], current, self.context(plugin, ctx))
            except ProxyError:
                raise  # a plugin refusing on purpose (InvalidRequest, PermissionDenied…): the client gets that
            except Exception as exc:
                log.exception("plugin %s failed in on_request", plugin.name)
                raise PluginFailed(f"plugin {plugin.name} failed in on_request: {type(exc).__name__}: {exc}. "
                                   "Fix the plugin or remove it from the config's `plugins`.") from None
            if isinstance(changed, dict):
                current = changed
        current["stream"] = body.get("stream", False)  # the answer's shape was decided with the request
        return current

    async def response(self, result: Whole | Stream, ctx: dict[str, Any]) -> Whole | Stream:
        if isinstance(result, Stream):
            result.chunks = self._watch(result.chunks, ctx)
            return result
        if result.status != 200:
            return result
        try:
            message = orjson.loads(result.body)
        except orjson.JSONDecodeError:
            return result
        for plugin in self.on_response:
            changed = await self._observe(plugin, "on_response", message, ctx)
            if isinstance(changed, dict):
                try:
                    body = orjson.dumps(changed)
                except orjson.JSONEncodeError:  # not JSON, or nested deeper than orjson writes (it reads deeper:
                    # an Anthropic upstream's answer, passed on as it came, can be)
                    log.warning("plugin %s returned an answer that cannot be written as JSON; the answer goes on "
                                "without its change", plugin.name)
                    continue
                message, result.body = changed, body
        return result

    async def _watch(self, chunks: AsyncIterator[bytes], ctx: dict[str, Any]) -> AsyncIterator[bytes]:
        sent: list[bytes] = []
        try:
            async for chunk in chunks:
                sent.append(chunk)
                yield chunk
        finally:  # the client may leave: the upstream answer is released now, not when collected
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                await aclose()
        try:
            message = accumulate(b"".join(sent))
        except Exception:  # a stream that ended in an error event: on_error is not called for it either
            log.debug("plugins: stream not shown to on_response (it did not end as a message)")
            return
        for plugin in self.on_response:
            await self._observe(plugin, "on_response", message, ctx)

    async def error(self, exc: ProxyError, ctx: dict[str, Any]) -> None:
        error = {"status": exc.status, "type": exc.error_type, "message": exc.message}
        for plugin in self.on_error:
            await self._observe(plugin, "on_error", dict(error), ctx)

    async def _observe(self, plugin: Plugin, hook: str, value: Any, ctx: dict[str, Any]) -> Any:
        try:
            return await _call(plugin.hooks[hook], value, self.context(plugin, ctx))
        except Exception:
            log.exception("plugin %s failed in %s; the request goes on", plugin.name, hook)
            return None
