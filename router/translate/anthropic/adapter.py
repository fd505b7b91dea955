"""The Anthropic-compatible adapter: the body goes through as it came (see the package), the stream byte for byte,
cut only at event boundaries so that nothing ccr adds (an error event) lands inside an event, and checked so
that nothing a client cannot parse reaches it."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import orjson

from router.translate.adapter import Outgoing, Partial, WireAdapter, per_model
from router.translate.anthropic import rewrite_body
from router.translate.anthropic.signatures import SIGNERS
from router.translate.values import json_answer, shown
from router.wire.errors import TYPE_TO_STATUS, ProxyError, UpstreamError, UpstreamUnavailable
from router.wire.results import Whole
from router.wire.sse import SSEDecoder, has_event

if TYPE_CHECKING:
    from router.providers.provider import Provider

ANTHROPIC_HOSTS = ("api.anthropic.com",)
_PASS_RESPONSE_HEADERS = ("request-id", "retry-after")
_ENDINGS = (b"message_stop", b"error")


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


def _opening_error(provider: str, segment: bytes) -> UpstreamError:
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
        return UpstreamError(f"provider '{provider}' failed: {shown(err.get('message', ''))}",
                             status=TYPE_TO_STATUS.get(kind, 502), error_type=kind)
    return UpstreamUnavailable(f"provider '{provider}' failed: {block[:300].decode('utf-8', 'replace')}")


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


def _signed(name: bytes, data: bytes, event: dict[str, Any], signer: str) -> None:
    """Note who signed a thinking block (a signature delta, or a redacted block's data)."""
    if name == b"content_block_delta" and b'"signature_delta"' in data:
        delta = event.get("delta")
        if isinstance(delta, dict):
            SIGNERS.note(delta.get("signature"), signer)
    elif name == b"content_block_start" and b'"redacted_thinking"' in data:
        block = event.get("content_block")
        if isinstance(block, dict):
            SIGNERS.note(block.get("data"), signer)


def _scan(segment: bytes, usage: dict[str, int], provider: str, signer: str) -> tuple[int, ProxyError | None]:
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
                return good, UpstreamUnavailable(f"provider '{provider}' sent a stream event that is not "
                                                 f"JSON: {data[:120].decode('utf-8', 'replace')!r}")
            if name == b"message_start":
                message = event.get("message")
                usage.update(_ints(message.get("usage") if isinstance(message, dict) else None))
            elif name == b"message_delta":
                usage.update(_ints(event.get("usage")))
            elif name in (b"content_block_delta", b"content_block_start"):
                _signed(name, data, event, signer)
        good = end
    return len(segment), None


class PassStream:
    """The upstream's events as they came: held back until the first event a client reads (comments and pings
    may come before it), so that an error or garbage there is still an HTTP error; what follows goes out as it
    came, up to an event that is not JSON. The outcome never depends on how the upstream's bytes were cut."""

    def __init__(self, provider: str, signer: str = "") -> None:
        self.provider = provider
        self.signer = signer  # who signs the thinking this stream carries: the upstream's URL
        self.cutter = _Cutter()
        self.started = False
        self.pending = b""
        self.usage: dict[str, int] = {}

    def feed(self, data: bytes) -> bytes:
        return self._take(self.cutter.feed(data))

    def close(self) -> bytes:
        out = self._take(self.cutter.close())
        if not self.started:
            raise UpstreamUnavailable(f"provider '{self.provider}' ended the stream before it began")
        if not self.cutter.ended:
            raise Partial(out, UpstreamUnavailable(
                f"provider '{self.provider}' ended the stream before the answer was complete"))
        return out

    def _take(self, complete: bytes) -> bytes:
        if not self.started:
            self.pending += complete
            opening = _first_event(self.pending)
            if opening is None:
                return b""
            name, offset = opening
            segment, self.pending = self.pending, b""
            if name == b"error":
                raise _opening_error(self.provider, segment[offset:])
            good, failure = _scan(segment, self.usage, self.provider, self.signer)
            if failure is not None and good <= offset:  # the first event itself is garbage
                raise failure
            self.started = True
        else:
            segment = complete
            good, failure = _scan(segment, self.usage, self.provider, self.signer)
        if failure is not None:
            raise Partial(segment[:good], failure)
        return segment


def _cleans_cache(provider: Provider, model: str) -> bool:
    return per_model(provider, "anthropic.cleancache", model,
                     lambda p, m: any(t.name == "cleancache" for t in p.cfg.transformers_for(m)))


class AnthropicPassthrough(WireAdapter):
    replays_whole_as_stream = False  # the JSON an Anthropic upstream answers is passed on as it is
    collects_streams = False

    def endpoint(self, url: str) -> str:
        parts = urlsplit(url)
        path = parts.path.rstrip("/")
        if not path.endswith("/v1/messages"):
            path += "/messages" if path.endswith("/v1") else "/v1/messages"
        return urlunsplit(parts._replace(path=path))

    def count_tokens_url(self, endpoint: str) -> str | None:
        parts = urlsplit(endpoint)
        return urlunsplit(parts._replace(path=parts.path + "/count_tokens"))

    def models_url(self, endpoint: str) -> str:
        parts = urlsplit(endpoint)
        return urlunsplit(parts._replace(path=parts.path.removesuffix("/messages") + "/models"))

    def auth_headers(self, key: str, host: str) -> dict[str, str]:
        if host in ANTHROPIC_HOSTS:
            return {"x-api-key": key}
        # third-party Anthropic endpoints take one or the other; both is accepted everywhere seen
        return {"x-api-key": key, "authorization": f"Bearer {key}"}

    def probe_headers(self) -> dict[str, str]:
        return {"anthropic-version": "2023-06-01"}

    @staticmethod
    def _headers(provider: Provider, client: Mapping[str, str]) -> dict[str, str]:
        headers = {"content-type": "application/json", "anthropic-version": client.get("anthropic-version",
                                                                                      "2023-06-01")}
        beta = client.get("anthropic-beta")
        # third-party Anthropic endpoints reject betas they do not know; Anthropic itself gets them all
        if beta and provider.host in ANTHROPIC_HOSTS:
            headers["anthropic-beta"] = beta
        return headers

    def outgoing(self, provider: Provider, model: str, label: str, body: dict[str, Any], raw: bytes | None,
                 client_headers: Mapping[str, str], size: int) -> Outgoing:
        return Outgoing(provider.url, rewrite_body(raw, body, model, _cleans_cache(provider, model), provider.url),
                        self._headers(provider, client_headers), bool(body.get("stream")), model, label,
                        provider.url)

    def count_tokens(self, provider: Provider, model: str, body: dict[str, Any], raw: bytes | None,
                     client_headers: Mapping[str, str]) -> Outgoing | None:
        url = self.count_tokens_url(provider.url)
        return Outgoing(url, rewrite_body(raw, body, model, _cleans_cache(provider, model), provider.url),
                        self._headers(provider, client_headers), False, model, model) if url else None

    def stream(self, out: Outgoing, provider: str) -> PassStream:
        return PassStream(provider, out.state or "")

    def whole(self, data: bytes, out: Outgoing, provider: str, status: int,
              headers: Mapping[str, str]) -> tuple[Whole, dict[str, Any] | None]:
        message = json_answer(data, provider)
        usage = message.get("usage") if isinstance(message, dict) else None
        content = message.get("content") if isinstance(message, dict) else None
        for block in content if isinstance(content, list) else ():
            if isinstance(block, dict) and block.get("type") in ("thinking", "redacted_thinking"):
                SIGNERS.note(block.get("signature") or block.get("data"), out.state or "")
        return Whole(data, status, self.response_headers(headers), usage=_ints(usage)), None

    def response_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        out = {k: headers[k] for k in _PASS_RESPONSE_HEADERS if k in headers}
        out.update({k: v for k, v in headers.items() if k.lower().startswith("anthropic-ratelimit-")})
        return out


ANTHROPIC = AnthropicPassthrough()
