"""Relay to an Anthropic-compatible upstream: body and stream pass through untranslated."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import orjson

from router.providers import upstream
from router.providers.provider import Provider
from router.server.results import Stream, Whole
from router.translate.anthropic import rewrite_body
from router.wire.errors import (
    TYPE_TO_STATUS,
    ProxyError,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
    error_event,
)
from router.wire.sse import SSEDecoder, has_event

log = logging.getLogger("ccr.relay")

_PASS_RESPONSE_HEADERS = ("request-id", "retry-after")
_ENDINGS = (b"message_stop", b"error")


def _headers(provider: Provider, client: Mapping[str, str], key_index: int = 0) -> dict[str, str]:
    headers = {"content-type": "application/json",
               "anthropic-version": client.get("anthropic-version", "2023-06-01"),
               **provider.auth_headers(key_index)}
    beta = client.get("anthropic-beta")
    # third-party Anthropic endpoints reject betas they do not know; Anthropic itself gets them all
    if beta and provider.official_anthropic:
        headers["anthropic-beta"] = beta
    return headers


def _response_headers(resp: aiohttp.ClientResponse) -> dict[str, str]:
    out = {k: resp.headers[k] for k in _PASS_RESPONSE_HEADERS if k in resp.headers}
    out.update({k: v for k, v in resp.headers.items() if k.lower().startswith("anthropic-ratelimit-")})
    return out


async def relay(provider: Provider, model: str, body: dict[str, Any], raw: bytes | None,
                client_headers: Mapping[str, str], key_index: int = 0) -> Whole | Stream:
    """`raw` is the body as received, or None when routing changed it (it is then encoded afresh)."""
    payload = rewrite_body(raw, body, model)
    resp = await upstream.post(provider, provider.url, payload, _headers(provider, client_headers, key_index))
    if resp.status >= 400:
        raise await upstream.error_from(resp, provider, model)
    kind = upstream.content_type(resp)
    if kind == "text/event-stream":
        return await _start_stream(resp, provider)
    if kind != "application/json":
        raise upstream.unexpected_content(provider, resp, "JSON or an event stream")
    try:
        data = await resp.read()
    except TimeoutError:  # before ClientError: aiohttp's read timeout is both
        raise UpstreamTimeout(f"provider '{provider.name}' stopped sending its answer") from None
    except aiohttp.ClientError:
        raise UpstreamUnavailable(f"provider '{provider.name}' broke off its answer") from None
    finally:
        resp.release()
    try:  # passed on as it came, but never as a 200 the client cannot read: garbage is the upstream's failure
        message = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise UpstreamUnavailable(
            f"provider '{provider.name}' answered with invalid JSON: {data[:200].decode('utf-8', 'replace')!r}"
        ) from None
    usage = message.get("usage") if isinstance(message, dict) else None
    return Whole(data, resp.status, _response_headers(resp), usage=_ints(usage))


async def count_tokens(provider: Provider, model: str, body: dict[str, Any], raw: bytes,
                       client_headers: Mapping[str, str], key_index: int = 0) -> Whole:
    assert provider.count_tokens_url is not None
    resp = await upstream.post(provider, provider.count_tokens_url, rewrite_body(raw, body, model),
                               _headers(provider, client_headers, key_index))
    if resp.status >= 400:
        raise await upstream.error_from(resp, provider, model)
    try:
        data = await resp.read()
    except (aiohttp.ClientError, TimeoutError):
        raise UpstreamUnavailable(f"provider '{provider.name}' broke off its token count") from None
    finally:
        resp.release()
    return Whole(data, resp.status)


class _Cutter:
    """Passes the upstream's bytes on cut at event boundaries, so that nothing ccr adds (an error event, a ping)
    can land inside an event, and notes whether the stream ended properly (message_stop or an error)."""

    __slots__ = ("ended", "tail")

    def __init__(self) -> None:
        self.tail = b""
        self.ended = False

    def feed(self, data: bytes) -> bytes:
        buf = self.tail + data if self.tail else data
        lf, crlf = buf.rfind(b"\n\n"), buf.rfind(b"\r\n\r\n")
        end = max(lf + 2 if lf >= 0 else 0, crlf + 4 if crlf >= 0 else 0)
        complete, self.tail = buf[:end], buf[end:]
        if complete and not self.ended:
            self.ended = any(has_event(complete, name) for name in _ENDINGS)
        return complete

    def close(self) -> bytes:
        """An event the upstream left without its blank line."""
        rest, self.tail = self.tail, b""
        return self.feed(rest.rstrip(b"\r\n") + b"\n\n") if rest.strip() else b""


def _opening_error(provider: Provider, segment: bytes) -> UpstreamError:
    """A stream whose first event is an error: answer with the status that error type stands for."""
    for _name, data in SSEDecoder().feed(segment):
        try:
            err = orjson.loads(data).get("error") or {}
        except (orjson.JSONDecodeError, AttributeError):
            continue
        kind = err.get("type", "api_error")
        return UpstreamError(f"provider '{provider.name}' failed: {err.get('message', '')}",
                             status=TYPE_TO_STATUS.get(kind, 502), error_type=kind)
    return UpstreamUnavailable(f"provider '{provider.name}' failed: {segment[:300].decode('utf-8', 'replace')}")


async def _start_stream(resp: aiohttp.ClientResponse, provider: Provider) -> Stream:
    """Read up to the first whole event, so that an error before any output is still an HTTP error."""
    cutter = _Cutter()
    try:
        first = b""
        while not first:
            data = await _read(resp, provider)
            first = cutter.feed(data) if data else cutter.close()
            if not data and not first:
                raise UpstreamUnavailable(f"provider '{provider.name}' ended the stream before it began")
        if first.startswith(b"event: error"):
            raise _opening_error(provider, first)
        usage: dict[str, int] = {}
        _scan(first, usage, provider)
    except BaseException:
        resp.close()
        raise
    return Stream(_pump(resp, provider, cutter, first, usage), _response_headers(resp), usage)


def _ints(usage: Any) -> dict[str, int]:
    return {k: v for k, v in usage.items() if isinstance(v, int)} if isinstance(usage, dict) else {}


def _events(segment: bytes) -> list[tuple[bytes | None, bytes]]:
    """(name, data) of whole events: the shape Anthropic sends (an event line, a data line, LF) split directly,
    anything else (CRLF, comments, multi-line data, a byte-order mark) by the general decoder."""
    out: list[tuple[bytes | None, bytes]] = []
    for block in segment.split(b"\n\n"):
        if not block:
            continue
        name, _, data = block.partition(b"\n")
        if name.startswith(b"event: ") and data.startswith(b"data: ") and b"\n" not in data and b"\r" not in block:
            out.append((name[7:], data[6:]))
        else:
            out.extend(SSEDecoder().feed(block + b"\n\n"))
    return out


def _scan(segment: bytes, usage: dict[str, int], provider: Provider) -> None:
    """Whole events, before they go out: each one a client reads (named, not a ping) must hold a JSON object,
    else the stream fails here, with an HTTP error before the first byte or an error event after it, instead
    of breaking the client's parser. Notes the token counts of message_start and message_delta (cumulative)."""
    for name, data in _events(segment):
        if name is None or name == b"ping":
            continue
        try:
            event = orjson.loads(data)
        except orjson.JSONDecodeError:
            event = None
        if not isinstance(event, dict):
            raise UpstreamUnavailable(f"provider '{provider.name}' sent a stream event that is not JSON: "
                                      f"{data[:120].decode('utf-8', 'replace')!r}")
        if name == b"message_start":
            message = event.get("message")
            usage.update(_ints(message.get("usage") if isinstance(message, dict) else None))
        elif name == b"message_delta":
            usage.update(_ints(event.get("usage")))


async def _read(resp: aiohttp.ClientResponse, provider: Provider) -> bytes:
    try:
        return await resp.content.readany()
    except TimeoutError:
        raise UpstreamTimeout(f"provider '{provider.name}' went silent mid-stream") from None
    except aiohttp.ClientError as exc:
        raise UpstreamUnavailable(f"provider '{provider.name}' broke off the stream before the answer was complete "
                                  f"({type(exc).__name__})") from None


async def _pump(resp: aiohttp.ClientResponse, provider: Provider, cutter: _Cutter,
                first: bytes, usage: dict[str, int]) -> AsyncIterator[bytes]:
    """Bytes out as they came in (whole events only); a stream cut short ends with an error event."""
    try:
        yield first
        while data := await _read(resp, provider):
            complete = cutter.feed(data)
            if complete:
                _scan(complete, usage, provider)
                yield complete
        rest = cutter.close()
        if rest:
            _scan(rest, usage, provider)
            yield rest
        if not cutter.ended:
            raise UpstreamUnavailable(f"provider '{provider.name}' ended the stream before the answer was complete")
    except ProxyError as exc:
        log.warning("stream from %s failed: %s", provider.name, exc.message)
        yield error_event(exc)
    finally:
        resp.close()
