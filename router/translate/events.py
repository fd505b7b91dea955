"""The stream shape OpenAI Chat and Gemini share: SSE events, each one JSON object, handed one by one to the
format's translator. Events that arrived in one read leave in one write, never later than they came."""

from __future__ import annotations

from typing import Any, Protocol

import orjson

from router.translate.adapter import Partial
from router.wire.errors import ProxyError, UpstreamUnavailable
from router.wire.sse import DONE, SSEDecoder


class ChunkTranslator(Protocol):
    """A format's translator for one stream: JSON chunks in, Anthropic event bytes out."""

    final_usage: dict[str, int]

    @property
    def complete(self) -> bool:
        """The upstream said how the answer ended."""

    def start(self, first: Any) -> bytes:
        """message_start, given the first chunk."""

    def feed(self, chunk: Any) -> bytes: ...

    def finish(self) -> bytes:
        """The closing events."""


class JsonEvents:
    """A StreamTranslation (translate/adapter.py) over a ChunkTranslator. `[DONE]` ends the stream; where the format
    has it (OpenAI, `done_completes`) it also says the answer is complete, elsewhere (Gemini, which never sends it)
    only the translator can say so. `unfinished` says, in the error for a stream cut short, what was missing."""

    def __init__(self, translator: ChunkTranslator, provider: str, unfinished: str = "",
                 done_completes: bool = True) -> None:
        self.translator = translator
        self.decoder = SSEDecoder()
        self.provider = provider
        self.unfinished = unfinished
        self.done_completes = done_completes
        self.started = False
        self.done = False  # [DONE] seen: what follows is ignored
        self.usage: dict[str, int] = {}

    def feed(self, data: bytes) -> bytes:
        return self._events(self.decoder.feed(data))

    def close(self) -> bytes:
        out = self._events(self.decoder.close())
        truncated = UpstreamUnavailable(f"provider '{self.provider}' ended the stream before the answer was "
                                        f"complete{self.unfinished}")
        if not self.started:
            raise truncated
        if not ((self.done and self.done_completes) or self.translator.complete):
            raise Partial(out, truncated)
        out += self.translator.finish()
        self.usage.update(self.translator.final_usage)
        return out

    def _events(self, events: list[tuple[bytes | None, bytes]]) -> bytes:
        out: list[bytes] = []
        try:
            for _name, data in events:
                if self.done:
                    break
                if data == DONE:
                    self.done = True
                    break
                try:
                    chunk = orjson.loads(data)
                except orjson.JSONDecodeError:
                    raise UpstreamUnavailable(f"provider '{self.provider}' sent a stream event that is not JSON: "
                                              f"{data[:120].decode('utf-8', 'replace')!r}") from None
                head = b"" if self.started else self.translator.start(chunk)
                piece = self.translator.feed(chunk)  # an error first is still an HTTP error
                self.started = True
                if head or piece:  # an empty write would count as activity and hold back the keep-alive pings
                    out.append(head + piece)
        except ProxyError as exc:
            if self.started:
                raise Partial(b"".join(out), exc) from None
            raise
        return b"".join(out)
