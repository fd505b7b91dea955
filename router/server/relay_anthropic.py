"""Relay to an Anthropic-compatible upstream: body and stream pass through untranslated."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp

from router.providers import upstream
from router.providers.provider import Provider
from router.server.results import Stream, Whole
from router.translate.anthropic import rewrite_body
from router.wire.errors import ProxyError, UpstreamTimeout, UpstreamUnavailable, error_event

log = logging.getLogger("ccr.relay")

_PASS_RESPONSE_HEADERS = ("request-id", "retry-after")
_STOP = b"message_stop"


def _headers(provider: Provider, client: Mapping[str, str]) -> dict[str, str]:
    headers = {"content-type": "application/json",
               "anthropic-version": client.get("anthropic-version", "2023-06-01"),
               **provider.auth_headers()}
    beta = client.get("anthropic-beta")
    # third-party Anthropic endpoints reject betas they do not know; Anthropic itself gets them all
    if beta and provider.official_anthropic:
        headers["anthropic-beta"] = beta
    return headers


def _response_headers(resp: aiohttp.ClientResponse) -> dict[str, str]:
    out = {k: resp.headers[k] for k in _PASS_RESPONSE_HEADERS if k in resp.headers}
    out.update({k: v for k, v in resp.headers.items() if k.lower().startswith("anthropic-ratelimit-")})
    return out


async def relay(provider: Provider, model: str, body: dict[str, Any], raw: bytes,
                client_headers: Mapping[str, str]) -> Whole | Stream:
    payload = rewrite_body(raw, body, model)
    resp = await upstream.post(provider, provider.url, payload, _headers(provider, client_headers))
    if resp.status >= 400:
        raise await upstream.error_from(resp, provider, model)
    kind = upstream.content_type(resp)
    if kind == "text/event-stream":
        return await _start_stream(resp, provider)
    if kind != "application/json":
        raise upstream.unexpected_content(provider, resp, "JSON or an event stream")
    try:
        data = await resp.read()
    except (TimeoutError, aiohttp.ClientError):
        raise UpstreamUnavailable(f"provider '{provider.name}' broke off its answer") from None
    finally:
        resp.release()
    return Whole(data, resp.status, _response_headers(resp))


async def count_tokens(provider: Provider, model: str, body: dict[str, Any], raw: bytes,
                       client_headers: Mapping[str, str]) -> Whole:
    assert provider.count_tokens_url is not None
    resp = await upstream.post(provider, provider.count_tokens_url, rewrite_body(raw, body, model),
                               _headers(provider, client_headers))
    if resp.status >= 400:
        raise await upstream.error_from(resp, provider, model)
    try:
        data = await resp.read()
    finally:
        resp.release()
    return Whole(data, resp.status)


async def _start_stream(resp: aiohttp.ClientResponse, provider: Provider) -> Stream:
    try:
        first = await _read(resp, provider)
    except BaseException:
        resp.close()
        raise
    if not first:
        resp.close()
        raise UpstreamUnavailable(f"provider '{provider.name}' ended the stream before it began")
    if first.startswith(b"event: error"):
        resp.close()
        raise UpstreamUnavailable(f"provider '{provider.name}' failed: {first[:300].decode('utf-8', 'replace')}")
    return Stream(_pump(resp, provider, first), _response_headers(resp))


async def _read(resp: aiohttp.ClientResponse, provider: Provider) -> bytes:
    try:
        return await resp.content.readany()
    except TimeoutError:
        raise UpstreamTimeout(f"provider '{provider.name}' went silent mid-stream") from None
    except aiohttp.ClientError as exc:
        raise UpstreamUnavailable(f"provider '{provider.name}' broke off the stream before the answer was complete "
                                  f"({type(exc).__name__})") from None


async def _pump(resp: aiohttp.ClientResponse, provider: Provider, first: bytes) -> AsyncIterator[bytes]:
    """Bytes out as they came in; only the end is watched, so a cut stream ends with an error event."""
    tail = first[-64:]
    try:
        yield first
        while chunk := await _read(resp, provider):
            tail = (tail + chunk)[-64:]
            yield chunk
        if _STOP not in tail and b"event: error" not in tail:
            raise UpstreamUnavailable(f"provider '{provider.name}' ended the stream before the answer was complete")
    except ProxyError as exc:
        log.warning("stream from %s failed: %s", provider.name, exc.message)
        yield error_event(exc)
    finally:
        resp.close()
