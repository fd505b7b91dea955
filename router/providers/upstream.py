"""Calling an upstream: connection failures and error answers become `ProxyError`s a client can read."""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson

from router.providers.provider import Provider
from router.translate.values import shown
from router.wire.errors import (
    ProxyError,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
    type_for_status,
)

# statuses passed on as they are; the rest are mapped to what Claude Code handles best. A provider's 401 is a
# key in ccr's config, not the client's: as 401 Claude Code would retry it silently, as 403 it shows it at once.
_STATUS_MAP = {401: 403, 408: 504, 422: 400, 503: 529, 520: 502, 521: 502, 522: 504, 524: 504}
_MAX_ERROR_BODY = 64 * 1024


async def post(provider: Provider, url: str, body: bytes, headers: dict[str, str]) -> aiohttp.ClientResponse:
    try:
        return await provider.session().post(url, data=body, headers=headers, proxy=provider.proxy_url)
    except (TimeoutError, aiohttp.ServerTimeoutError):
        raise UpstreamTimeout(
            f"provider '{provider.name}' did not answer in time ({url}); check the provider's status or raise "
            "API_TIMEOUT_MS"
        ) from None
    except aiohttp.ClientConnectorError as exc:
        raise UpstreamUnavailable(
            f"cannot reach provider '{provider.name}' at {provider.host}:{exc.port}: {exc.strerror or exc}. "
            "Check api_base_url and your network or PROXY_URL."
        ) from None
    except aiohttp.ClientError as exc:
        raise UpstreamUnavailable(f"request to provider '{provider.name}' failed: {exc}") from None


def _upstream_message(data: Any, raw: bytes) -> str:
    """What the upstream said went wrong. Its values are quoted with `shown`, never str(): str() of one nested as
    deep as orjson reads exceeds Python's recursion limit."""
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict) and err.get("message"):
            # Google APIs name the kind of failure (RESOURCE_EXHAUSTED, PERMISSION_DENIED) beside the message
            kind = err.get("status")
            message = shown(err["message"])
            return f"{message} ({kind})" if isinstance(kind, str) and kind else message
        if isinstance(err, str):
            return err
        if data.get("message"):
            return shown(data["message"])
        if data.get("detail"):
            return shown(data["detail"])
    text = raw.decode("utf-8", "replace").strip()
    return text[:500] if text else "(empty body)"


async def error_from(resp: aiohttp.ClientResponse, provider: Provider, model: str) -> ProxyError:
    """Read an upstream error answer (bounded) and say what it was, with the status Claude Code expects."""
    raw = b""
    try:  # read() returns what is buffered; an error body may come in several pieces
        while len(raw) < _MAX_ERROR_BODY and (piece := await resp.content.read(_MAX_ERROR_BODY - len(raw))):
            raw += piece
    except (TimeoutError, aiohttp.ClientError):
        pass
    finally:
        resp.release()
    try:
        data = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        data = None
    status = _STATUS_MAP.get(resp.status, resp.status)
    if status < 400 or status >= 600:
        status = 502
    headers = {}
    if "retry-after" in resp.headers:
        headers["retry-after"] = resp.headers["retry-after"]
    upstream_type = None
    if isinstance(data, dict) and data.get("type") == "error" and isinstance(data.get("error"), dict):
        kind = data["error"].get("type")  # the client's error body holds it: a string, or the status's type
        upstream_type = kind if isinstance(kind, str) and kind else None
    message = f"provider '{provider.name}' (model {model}) answered HTTP {resp.status}: {_upstream_message(data, raw)}"
    if resp.status == 401:
        message += " — check the provider's api_key in the ccr config"
        upstream_type = None
    return UpstreamError(message, status=status, error_type=upstream_type or type_for_status(status), headers=headers)


def content_type(resp: aiohttp.ClientResponse) -> str:
    return resp.headers.get("content-type", "").split(";")[0].strip().lower()


def unexpected_content(provider: Provider, resp: aiohttp.ClientResponse, expected: str) -> UpstreamUnavailable:
    resp.release()
    got = content_type(resp) or "no content type"
    return UpstreamUnavailable(
        f"provider '{provider.name}' answered with {got} where {expected} was expected; "
        "check that api_base_url points at the API endpoint, not a web page"
    )
