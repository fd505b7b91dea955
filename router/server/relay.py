"""The one relay: send a request through its provider's adapter, read the answer, and hand back a whole answer or
a stream that has started well. What differs between wire formats lives in the adapters (translate/); what is
the same for all lives here: the call, the upstream's errors, peeking at a stream before committing to a 200 (an
upstream error before any output is still an HTTP error, and a chance to fall back), the pump that sends what
arrived together in one write, and the closing of the upstream response whatever happens."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import orjson

from router.providers import upstream
from router.providers.provider import Provider
from router.translate.adapter import Partial, StreamTranslation
from router.wire.anthropic import accumulate, message_as_events
from router.wire.errors import (
    INTERNAL_MESSAGE,
    ProxyError,
    UpstreamTimeout,
    UpstreamUnavailable,
    error_event,
)
from router.wire.results import Stream, Whole

log = logging.getLogger("ccr.relay")


async def relay(provider: Provider, model: str, label: str, body: dict[str, Any], raw: bytes | None,
                client_headers: Mapping[str, str], size: int, key_index: int = 0) -> Whole | Stream:
    """`label` is what the client sees as the answering model ("provider,model"); `raw` the body as received
    (None when routing changed it), `size` its length."""
    adapter = provider.adapter
    out = adapter.outgoing(provider, model, label, body, raw, client_headers, size)
    resp = await upstream.post(provider, out.url, out.payload, {**out.headers, **provider.auth_headers(key_index)})
    if not adapter.accepts(resp.status):
        raise await upstream.error_from(resp, provider, model)
    kind = upstream.content_type(resp)
    if kind == "text/event-stream":
        translation = adapter.stream(out, provider.name)
        if out.streamed or not adapter.collects_streams:
            return await _start(resp, provider, translation, adapter.response_headers(resp.headers))
        return await _collect(resp, provider, translation)  # asked for JSON, got a stream: one message
    if kind != "application/json" and not kind.endswith("+json"):
        raise upstream.unexpected_content(provider, resp, "an event stream" if out.streamed and
                                          adapter.collects_streams else adapter.expected_content)
    whole, message = adapter.whole(await _read(resp, provider), out, provider.name, resp.status, resp.headers)
    if out.streamed and adapter.replays_whole_as_stream and message is not None:
        return Stream(_once(message_as_events(message)), usage=whole.usage)  # the upstream ignored `stream`
    return whole


async def count_tokens(provider: Provider, model: str, body: dict[str, Any], raw: bytes | None,
                       client_headers: Mapping[str, str], key_index: int = 0) -> Whole | None:
    """The upstream's own count, from an upstream that counts (None: count locally)."""
    out = provider.adapter.count_tokens(provider, model, body, raw, client_headers)
    if out is None:
        return None
    resp = await upstream.post(provider, out.url, out.payload, {**out.headers, **provider.auth_headers(key_index)})
    if not provider.adapter.accepts(resp.status):
        raise await upstream.error_from(resp, provider, model)
    return Whole(provider.adapter.token_count(await _read(resp, provider, "its token count"), provider.name),
                 resp.status)


async def _read(resp: aiohttp.ClientResponse, provider: Provider, what: str = "its answer") -> bytes:
    try:
        return await resp.read()
    except TimeoutError:  # before ClientError: aiohttp's read timeout is both
        raise UpstreamTimeout(f"provider '{provider.name}' stopped sending {what}") from None
    except aiohttp.ClientError as exc:
        raise UpstreamUnavailable(f"provider '{provider.name}' broke off {what} ({type(exc).__name__})") from None
    finally:
        resp.release()


async def _read_stream(resp: aiohttp.ClientResponse, provider: Provider) -> bytes:
    try:
        return await resp.content.readany()
    except TimeoutError:
        raise UpstreamTimeout(f"provider '{provider.name}' went silent mid-stream") from None
    except aiohttp.ClientError as exc:
        raise UpstreamUnavailable(f"provider '{provider.name}' broke off the stream before the answer was complete "
                                  f"({type(exc).__name__})") from None


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _start(resp: aiohttp.ClientResponse, provider: Provider, translation: StreamTranslation,
                 headers: dict[str, str]) -> Stream:
    """Read until the first event a client reads has been translated: before it, a failure is an HTTP error."""
    head: list[bytes] = []
    failure: ProxyError | None = None
    try:
        while not translation.started:
            data = await _read_stream(resp, provider)
            try:
                head.append(translation.feed(data) if data else translation.close())
            except Partial as part:  # the first event came, and something bad after it in the same read
                head.append(part.good)
                failure = part.failure
            if not data:
                break
    except BaseException:
        resp.close()
        raise
    return Stream(_pump(resp, provider, translation, b"".join(head), failure, ended=not data), headers,
                  translation.usage)


async def _pump(resp: aiohttp.ClientResponse, provider: Provider, translation: StreamTranslation, head: bytes,
                failure: ProxyError | None, ended: bool) -> AsyncIterator[bytes]:
    """The translated stream: what a read brought goes out before the next read, so nothing leaves later than it
    came; a stream cut short or gone bad ends with an error event."""
    try:
        if head:
            yield head
        if failure is not None:
            raise failure
        while not ended:
            data = await _read_stream(resp, provider)
            try:
                piece = translation.feed(data) if data else translation.close()
            except Partial as part:
                if part.good:
                    yield part.good
                raise part.failure from None
            if piece:  # an empty write would count as activity and hold back the keep-alive pings
                yield piece
            ended = not data
    except ProxyError as exc:
        log.warning("stream from %s failed: %s", provider.name, exc.message)
        yield error_event(exc)
    except Exception:
        log.exception("translating the stream from %s failed", provider.name)
        yield error_event(ProxyError(INTERNAL_MESSAGE))
    finally:
        resp.close()


async def _collect(resp: aiohttp.ClientResponse, provider: Provider, translation: StreamTranslation) -> Whole:
    """One message out of a stream, by replaying the translated events into a snapshot, as the SDKs do."""
    parts: list[bytes] = []
    try:
        while data := await _read_stream(resp, provider):
            parts.append(translation.feed(data))
        parts.append(translation.close())
    except Partial as part:
        raise part.failure from None
    finally:
        resp.close()
    try:
        body = orjson.dumps(accumulate(b"".join(parts)))
    except orjson.JSONEncodeError:  # tool arguments nested deeper than orjson writes
        raise UpstreamUnavailable(f"provider '{provider.name}' sent tool arguments nested too deeply to pass on") \
            from None
    return Whole(body, usage=translation.usage)
