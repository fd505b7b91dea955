"""The one seam between ccr and an upstream's wire format: an adapter per format, behind this interface, and one
relay (router/server/relay.py) that drives any of them.

An adapter says where a request goes and how it is authenticated, writes the request body, turns a whole answer
and a stream into Anthropic's format (a stream translation is an object per request that owns its state), and
says how the format's endpoints for token counts and model lists are found. Routing, budgets, the log and the
server never ask which format a provider speaks; the provider asks `adapter_for` once, at load.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from router.config.schema import WireFormat
from router.wire.errors import ProxyError
from router.wire.results import Whole

if TYPE_CHECKING:
    from router.providers.provider import Provider


@dataclass(slots=True)
class Outgoing:
    """One request, ready to send: where, what, and what its answer's translation needs to know."""

    url: str
    payload: bytes
    headers: dict[str, str]
    streamed: bool  # the client asked for a stream
    model: str  # the provider's model name
    label: str  # what the client sees as the answering model ("provider,model")
    state: Any = None  # the adapter's own (tool names, the request's size)


class Partial(Exception):
    """A stream that turned bad after output began: `good` goes to the client, then `failure` as an error event."""

    def __init__(self, good: bytes, failure: ProxyError) -> None:
        super().__init__(failure.message)
        self.good = good
        self.failure = failure


class StreamTranslation(Protocol):
    """The upstream's stream bytes in, Anthropic's out; one object per request.

    `feed` takes whatever one read returned and gives back what can go to the client now. Before `started` (the
    first event a client reads has been produced) a failure is raised as a ProxyError and becomes an HTTP error;
    after it, as `Partial` with the good bytes before it. `close` is called at the upstream's end: it adds the
    closing events, or raises (the stream was cut short). `usage` is filled in by the end: the provider's
    counts, or ccr's estimate with `"estimated": 1`."""

    started: bool
    usage: dict[str, int]

    def feed(self, data: bytes) -> bytes: ...

    def close(self) -> bytes: ...


class Credentials(Protocol):
    """Auth that needs a call of its own (an OAuth token exchange, cached): the relay awaits it. A provider
    without one (most) has its headers from `WireAdapter.auth_headers`, synchronously."""

    async def headers(self) -> dict[str, str]: ...


class WireAdapter(ABC):
    #: what the upstream answers with when it is neither JSON nor an event stream (for the error message)
    expected_content = "JSON or an event stream"
    #: a JSON answer to a streamed request is replayed as events (else passed on as the JSON it is)
    replays_whole_as_stream = True
    #: an event stream answering a non-streamed request is gathered into one message (else passed on)
    collects_streams = True

    @abstractmethod
    def endpoint(self, url: str) -> str:
        """The full endpoint for a configured URL (claude-code-router configs name it; a base URL gets the path)."""

    def prepare(self, provider: Provider) -> None:
        """What a provider needs beyond its endpoint, set up once at load (Vertex AI: the regional endpoint
        from project and location, a service account's `provider.credentials`)."""
        return None

    def count_tokens_url(self, endpoint: str) -> str | None:
        """Where the upstream counts tokens, if it can (else ccr counts locally)."""
        return None

    @abstractmethod
    def models_url(self, endpoint: str) -> str:
        """The model list: a call that costs no tokens, for health checks."""

    @abstractmethod
    def auth_headers(self, key: str, host: str) -> dict[str, str]: ...

    def probe_headers(self) -> dict[str, str]:
        return {}

    def accepts(self, status: int) -> bool:
        """An answer to translate (else the relay reads it as the upstream's error)."""
        return status < 400

    @abstractmethod
    def outgoing(self, provider: Provider, model: str, label: str, body: dict[str, Any], raw: bytes | None,
                 client_headers: Mapping[str, str], size: int) -> Outgoing:
        """The request for `model`. `raw` is the body as received (None when routing changed it), `size` its
        length in bytes."""

    def count_tokens(self, provider: Provider, model: str, body: dict[str, Any], raw: bytes | None,
                     client_headers: Mapping[str, str]) -> Outgoing | None:
        """The token-count request, for an upstream that counts (see count_tokens_url)."""
        return None

    def count_answer(self, data: bytes, provider: str) -> bytes:
        """The upstream's token count as Anthropic's `{"input_tokens": n}`."""
        return data

    @abstractmethod
    def stream(self, out: Outgoing, provider: str) -> StreamTranslation:
        """A new translation for the stream answering `out` (`provider` names it in errors)."""

    @abstractmethod
    def whole(self, data: bytes, out: Outgoing, provider: str, status: int,
              headers: Mapping[str, str]) -> tuple[Whole, dict[str, Any] | None]:
        """The client's answer to a whole upstream answer, and the message it holds when the adapter built one
        (to replay as events)."""

    def response_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Upstream response headers the client gets."""
        return {}


T = TypeVar("T")


def per_model(provider: Provider, kind: str, model: str, build: Callable[[Provider, str], T]) -> T:
    """What an adapter reads from the config for one model (its options), computed once per provider."""
    key = (kind, model)
    found = provider.memo.get(key)
    if found is None:
        found = provider.memo[key] = build(provider, model)
    return cast(T, found)


def output_limit(provider: Provider, model: str) -> int | None:
    """The most a model may be asked to write: its `max_output_tokens`, capped by a `maxtoken` transformer."""
    info = provider.cfg.models.get(model)
    limit = info.max_output_tokens if info else None
    for use in provider.cfg.transformers_for(model):
        cap = use.options.get("max_tokens") if use.name == "maxtoken" else None
        if isinstance(cap, int) and not isinstance(cap, bool) and cap > 0:
            limit = min(limit, cap) if limit else cap
    return limit


# format → "module:attribute" of its adapter, imported on first use (the CLI loads configs without translation)
_ADAPTERS = {
    WireFormat.ANTHROPIC: "router.translate.anthropic.adapter:ANTHROPIC",
    WireFormat.OPENAI_CHAT: "router.translate.openai_chat.adapter:OPENAI_CHAT",
    WireFormat.GEMINI: "router.translate.gemini.adapter:GEMINI",
    WireFormat.OPENAI_RESPONSES: "router.translate.openai_responses.adapter:OPENAI_RESPONSES",
}


def adapter_for(wire: WireFormat) -> WireAdapter:
    """The adapter of a wire format."""
    module, _, name = _ADAPTERS[wire].partition(":")
    adapter = getattr(import_module(module), name)
    assert isinstance(adapter, WireAdapter)
    return adapter
