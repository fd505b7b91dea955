"""Relay to an Anthropic-compatible upstream: body and stream pass through untranslated."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator, Mapping
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
        if not rest.strip(b"\r\n"):  # line ends only, as they came: which of them are left over depends on the reads
            return rest
        return self.feed(rest.rstrip(b"\r\n") + b"\n\n") if rest.strip() else b""


def _opening_error(provider: Provider, segment: bytes) -> UpstreamError:
    """A stream whose first event is an error: answer with the status that error type stands for. Only that
    event is read: what else arrived in the same read depends on how the upstream's bytes were cut."""
    block = segment.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n\n", 1)[0]
    events = SSEDecoder().feed(block + b"\n\n")
    try:
        payload = orjson.loads(events[0][1]) if events else None
    except orjson.JSONDecodeError:
        payload = None
    err = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(err, dict):
        kind = err.get("type")
        kind = kind if isinstance(kind, str) and kind else "api_error"
        return UpstreamError(f"provider '{provider.name}' failed: {err.get('message', '')}",
                             status=TYPE_TO_STATUS.get(kind, 502), error_type=kind)
    return UpstreamUnavailable(f"provider '{provider.name}' failed: {block[:300].decode('utf-8', 'replace')}")


async def _start_stream(resp: aiohttp.ClientResponse, provider: Provider) -> Stream:
    """Read up to the first event a client reads (comments and pings may come before it), so that an error or
    garbage before any output is still an HTTP error. What follows it in the same read goes out as if it had
    come later: the outcome never depends on how the upstream's bytes were cut."""
    cutter = _Cutter()
    usage: dict[str, int] = {}
    first = b""
    try:
        while True:
            data = await _read(resp, provider)
            complete = cutter.feed(data) if data else cutter.close()
            first += complete
            opening = _first_event(first)
            if opening is not None:
                break
            if not data:
                raise UpstreamUnavailable(f"provider '{provider.name}' ended the stream before it began")
        name, offset = opening
        if name == b"error":
            raise _opening_error(provider, first[offset:])
        good, failure = _scan(first, usage, provider)
        if good <= offset:  # the first event itself is garbage
            assert failure is not None
            raise failure
    except BaseException:
        resp.close()
        raise
    return Stream(_pump(resp, provider, cutter, first[:good], failure, usage), _response_headers(resp), usage)


def _ints(usage: Any) -> dict[str, int]:
    return {k: v for k, v in usage.items() if isinstance(v, int)} if isinstance(usage, dict) else {}


_BOUNDARY = re.compile(rb"\r\n\r\n|\n\n")  # where _Cutter cuts


def _blocks(segment: bytes) -> Iterator[tuple[int, list[tuple[bytes | None, bytes]]]]:
    """Each whole event of a segment cut by _Cutter, as (the offset where it ends, its (name, data) pairs):
    the shape Anthropic sends (an event line, a data line, LF) split directly, anything else (CRLF, comments,
    multi-line data, a byte-order mark) read by the general decoder."""
    start = 0
    for boundary in _BOUNDARY.finditer(segment):
        block, start, end = segment[start:boundary.start()], boundary.end(), boundary.end()
        if not block:
            continue
        name, _, data = block.partition(b"\n")
        if name.startswith(b"event: ") and data.startswith(b"data: ") and b"\n" not in data and b"\r" not in block:
            yield end, [(name[7:], data[6:])]
        else:
            yield end, SSEDecoder().feed(block + b"\n\n")


def _first_event(segment: bytes) -> tuple[bytes, int] | None:
    """The name of the first event a client reads (not a comment, not a ping) and the offset where it starts."""
    start = 0
    for end, events in _blocks(segment):
        for name, _data in events:
            if name is not None and name != b"ping":
                return name, start
        start = end
    return None


def _scan(segment: bytes, usage: dict[str, int], provider: Provider) -> tuple[int, ProxyError | None]:
    """Whole events, before they go out: each one a client reads (named, not a ping) must hold a JSON object,
    else the stream fails there, with an HTTP error before the first byte or an error event after it, instead
    of breaking the client's parser. Notes the token counts of message_start and message_delta (cumulative).
    Returns how many bytes are good, and the failure that follows them, if any."""
    good = 0
    for end, events in _blocks(segment):
        for name, data in events:
            if name is None or name == b"ping":
                continue
            try:
                event = orjson.loads(data)
            except orjson.JSONDecodeError:
                event = None
            if not isinstance(event, dict):
                return good, UpstreamUnavailable(f"provider '{provider.name}' sent a stream event that is not "
                                                 f"JSON: {data[:120].decode('utf-8', 'replace')!r}")
            if name == b"message_start":
                message = event.get("message")
                usage.update(_ints(message.get("usage") if isinstance(message, dict) else None))
            elif name == b"message_delta":
                usage.update(_ints(event.get("usage")))
        good = end
    return len(segment), None


async def _read(resp: aiohttp.ClientResponse, provider: Provider) -> bytes:
    try:
        return await resp.content.readany()
    except TimeoutError:
        raise UpstreamTimeout(f"provider '{provider.name}' went silent mid-stream") from None
    except aiohttp.ClientError as exc:
        raise UpstreamUnavailable(f"provider '{provider.name}' broke off the stream before the answer was complete "
                                  f"({type(exc).__name__})") from None


async def _pump(resp: aiohttp.ClientResponse, provider: Provider, cutter: _Cutter, first: bytes,
                failure: ProxyError | None, usage: dict[str, int]) -> AsyncIterator[bytes]:
    """Bytes out as they came in (whole events only), up to an event that is not JSON; a stream cut short ends
    with an error event."""
    try:
        if first:
            yield first
        if failure is not None:
            raise failure
        while data := await _read(resp, provider):
            if complete := cutter.feed(data):
                yield _checked(complete, usage, provider)
        if rest := cutter.close():
            yield _checked(rest, usage, provider)
        if not cutter.ended:
            raise UpstreamUnavailable(f"provider '{provider.name}' ended the stream before the answer was complete")
    except _Partial as part:
        if part.good:
            yield part.good
        log.warning("stream from %s failed: %s", provider.name, part.failure.message)
        yield error_event(part.failure)
    except ProxyError as exc:
        log.warning("stream from %s failed: %s", provider.name, exc.message)
        yield error_event(exc)
    finally:
        resp.close()


class _Partial(Exception):
    """A segment whose events turned bad part way: what went before goes out, then the error."""

    def __init__(self, good: bytes, failure: ProxyError) -> None:
        self.good = good
        self.failure = failure


def _checked(segment: bytes, usage: dict[str, int], provider: Provider) -> bytes:
    good, failure = _scan(segment, usage, provider)
    if failure is not None:
        raise _Partial(segment[:good], failure)
    return segment
