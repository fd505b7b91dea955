"""Relay a Messages request to an OpenAI Chat Completions upstream and translate the answer back."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson

from router.providers import upstream
from router.providers.provider import Provider
from router.server.results import Stream, Whole
from router.tokens import estimate_from_size
from router.translate.openai_chat import StreamTranslator, translate_request, translate_response
from router.translate.openai_chat.response import parse_arguments
from router.wire.anthropic import message_as_events
from router.wire.errors import (
    INTERNAL_MESSAGE,
    ProxyError,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
    error_event,
)
from router.wire.sse import DONE, SSEDecoder

log = logging.getLogger("ccr.relay")


async def relay(provider: Provider, model: str, label: str, body: dict[str, Any], raw_size: int,
                key_index: int = 0) -> Whole | Stream:
    """`label` is what the client sees as the answering model ("provider,model")."""
    headers = {"content-type": "application/json", **provider.auth_headers(key_index)}
    request, names = translate_request(body, model, provider.chat_options(model))
    payload = orjson.dumps(request)
    streamed = bool(body.get("stream"))
    resp = await upstream.post(provider, provider.url, payload, headers)
    if resp.status != 200:
        raise await upstream.error_from(resp, provider, model)
    kind = upstream.content_type(resp)
    if kind == "text/event-stream" and streamed:
        return await _start_stream(resp, provider, StreamTranslator(label, names, estimate_from_size(raw_size)))
    if kind not in ("application/json", "text/event-stream") and not kind.endswith("+json"):
        raise upstream.unexpected_content(provider, resp, "JSON" if not streamed else "an event stream")
    if kind == "text/event-stream":  # asked for JSON, got a stream: gather it into one message
        message = await _collect(resp, provider, StreamTranslator(label, names, estimate_from_size(raw_size)))
        return Whole(orjson.dumps(message), usage=message["usage"])
    data = await _read_json(resp, provider)
    message = translate_response(data, label, names)
    # the log keeps what the provider reported; when it reported nothing, an estimate marked as one, so that
    # budgets still count the request
    usage = message["usage"] if isinstance(data, dict) and data.get("usage") else {
        "input_tokens": estimate_from_size(raw_size), "estimated": 1,
        "output_tokens": max(1, len(orjson.dumps(message["content"])) // 4)}
    if streamed:  # the upstream ignored `stream`: replay its answer as events
        return Stream(_once(message_as_events(message)), usage=usage)
    return Whole(orjson.dumps(message), usage=usage)


async def _read_json(resp: aiohttp.ClientResponse, provider: Provider) -> Any:
    try:
        raw = await resp.read()
    except TimeoutError:
        raise UpstreamTimeout(f"provider '{provider.name}' stopped sending its answer") from None
    except aiohttp.ClientError as exc:
        raise UpstreamUnavailable(f"provider '{provider.name}' broke off its answer ({type(exc).__name__})") from None
    finally:
        resp.release()
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise UpstreamUnavailable(
            f"provider '{provider.name}' answered with invalid JSON: {raw[:200].decode('utf-8', 'replace')!r}"
        ) from None


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


class _Events:
    """Upstream SSE data payloads, in order, decoded from JSON; `done` once [DONE] was seen."""

    def __init__(self, resp: aiohttp.ClientResponse, provider: Provider) -> None:
        self.resp = resp
        self.provider = provider
        self.decoder = SSEDecoder()
        self.pending: list[tuple[bytes | None, bytes]] = []
        self.done = False
        self.eof = False

    async def next(self) -> Any | None:
        """The next chunk, or None at the end of the stream."""
        while not self.pending:
            if self.done or self.eof:
                return None
            try:
                data = await self.resp.content.readany()
            except TimeoutError:
                raise UpstreamTimeout(f"provider '{self.provider.name}' went silent mid-stream") from None
            except aiohttp.ClientError as exc:
                raise UpstreamUnavailable(f"provider '{self.provider.name}' broke off the stream before the answer "
                                          f"was complete ({type(exc).__name__})") from None
            if not data:
                self.eof = True
                self.pending = self.decoder.close()
            else:
                self.pending = self.decoder.feed(data)
            self.pending.reverse()
        _name, data = self.pending.pop()
        if data == DONE:
            self.done = True
            self.pending.clear()
            return None
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            raise UpstreamUnavailable(
                f"provider '{self.provider.name}' sent a stream event that is not JSON: "
                f"{data[:120].decode('utf-8', 'replace')!r}"
            ) from None


def _truncated(provider: Provider) -> UpstreamUnavailable:
    return UpstreamUnavailable(f"provider '{provider.name}' ended the stream before the answer was complete")


async def _start_stream(resp: aiohttp.ClientResponse, provider: Provider, tr: StreamTranslator) -> Stream:
    """Read until the first chunk so that an upstream error before any output is still an HTTP error."""
    events = _Events(resp, provider)
    try:
        first = await events.next()
        if first is None:
            raise _truncated(provider)
        head = tr.start() + tr.feed(first)
    except BaseException:
        resp.close()
        raise
    usage: dict[str, int] = {}
    return Stream(_pump(events, tr, head, usage), usage=usage)


async def _pump(events: _Events, tr: StreamTranslator, head: bytes, usage: dict[str, int]) -> AsyncIterator[bytes]:
    """The translated stream. What is translated is sent before the next read from the upstream, so nothing
    leaves later than it came; events that arrived in one read leave in one write."""
    out = [head]
    try:
        while True:
            if out and not events.pending:  # the next event needs a read from the upstream
                yield b"".join(out)
                out.clear()
            chunk = await events.next()
            if chunk is None:
                break
            piece = tr.feed(chunk)
            if piece:  # an empty write would count as activity and hold back the keep-alive pings
                out.append(piece)
        if not (events.done or tr.complete):
            raise _truncated(events.provider)
        out.append(tr.finish())
        usage.update(tr.final_usage)
        yield b"".join(out)
    except ProxyError as exc:
        log.warning("stream from %s failed: %s", events.provider.name, exc.message)
        yield b"".join(out) + error_event(exc)
    except Exception:
        log.exception("translating the stream from %s failed", events.provider.name)
        yield b"".join(out) + error_event(ProxyError(INTERNAL_MESSAGE))
    finally:
        events.resp.close()


async def _collect(resp: aiohttp.ClientResponse, provider: Provider, tr: StreamTranslator) -> dict[str, Any]:
    """A whole message out of a stream, by replaying the translated events into a snapshot."""
    events = _Events(resp, provider)
    parts = [tr.start()]
    try:
        while (chunk := await events.next()) is not None:
            parts.append(tr.feed(chunk))
    finally:
        resp.close()
    if not (events.done or tr.complete):
        raise _truncated(provider)
    parts.append(tr.finish())
    return accumulate(b"".join(parts))


def accumulate(stream: bytes) -> dict[str, Any]:
    """Rebuild a message from Anthropic stream bytes, as the SDKs do."""
    message: dict[str, Any] = {}
    partial: dict[int, list[str]] = {}
    for _name, data in SSEDecoder().feed(stream):
        ev = orjson.loads(data)
        kind = ev.get("type")
        if kind == "message_start":
            message = ev["message"]
        elif kind == "content_block_start":
            message["content"].append(dict(ev["content_block"]))
        elif kind == "content_block_delta":
            block, delta = message["content"][ev["index"]], ev["delta"]
            if delta["type"] == "text_delta":
                block["text"] += delta["text"]
            elif delta["type"] == "thinking_delta":
                block["thinking"] += delta["thinking"]
            elif delta["type"] == "signature_delta":
                block["signature"] = delta["signature"]
            elif delta["type"] == "input_json_delta":
                partial.setdefault(ev["index"], []).append(delta["partial_json"])
        elif kind == "content_block_stop" and ev["index"] in partial:
            message["content"][ev["index"]]["input"] = parse_arguments("".join(partial.pop(ev["index"])))
        elif kind == "message_delta":
            message.update(ev["delta"])
            message["usage"] = {**message.get("usage", {}), **ev["usage"]}
        elif kind == "error":
            err = ev["error"]
            raise UpstreamError(err["message"], status=502, error_type=err["type"])
    return message

