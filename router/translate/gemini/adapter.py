"""The Gemini adapter: Google AI Studio (`transformer.use: ["gemini"]`) and Vertex AI (`["vertex-gemini"]`),
translated in both directions. The URL is per request ({base}{model}:generateContent, or
:streamGenerateContent?alt=sse when the client streams)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import orjson

from router.tokens import estimate_from_size
from router.translate.adapter import Outgoing, WireAdapter, output_limit, per_model
from router.translate.events import JsonEvents
from router.translate.gemini import count
from router.translate.gemini.options import GeminiOptions, traits
from router.translate.gemini.request import ToolNames, translate_request
from router.translate.gemini.response import translate_response
from router.translate.gemini.stream import StreamTranslator
from router.translate.gemini.vertex import ServiceAccountToken, VertexSettings, vertex_settings
from router.translate.values import json_answer
from router.wire.errors import MissingCredential
from router.wire.results import Whole

if TYPE_CHECKING:
    from router.providers.provider import Provider

_VERSIONS = ("/v1beta", "/v1", "/v1alpha", "/v1beta1")
_VERTEX = "vertex"  # memo key of a provider's VertexSettings


def options(provider: Provider, model: str) -> GeminiOptions:
    """The model's options on this provider, computed once."""
    return per_model(provider, "gemini", model, _build_options)


def _build_options(provider: Provider, model: str) -> GeminiOptions:
    generation, family = traits(model)
    info = provider.cfg.models.get(model)
    return GeminiOptions(max_output_tokens=output_limit(provider, model), generation=generation, family=family,
                         blind=bool(info and info.blind), vertex=_VERTEX in provider.memo)


def _base(provider: Provider) -> str:
    settings = provider.memo.get(_VERTEX)
    if isinstance(settings, VertexSettings) and settings.problem:
        raise MissingCredential(f"ccr: {settings.problem}")
    return provider.url


def _model_path(model: str) -> str:
    return model.removeprefix("models/")


@dataclass(slots=True)
class _State:
    names: ToolNames
    input_estimate: int


def stream_for(label: str, state: _State, provider: str) -> JsonEvents:
    translator = StreamTranslator(label, state.names, provider, state.input_estimate)
    return JsonEvents(translator, provider, " (no finishReason)", done_completes=False)


class Gemini(WireAdapter):
    expected_content = "JSON"

    def endpoint(self, url: str) -> str:
        """AI Studio's models collection, as claude-code-router configs name it
        (https://generativelanguage.googleapis.com/v1beta/models/); a shorter or a longer URL is brought to it."""
        parts = urlsplit(url)
        path = parts.path.rstrip("/")
        last = path.rsplit("/", 1)[-1]
        if ":" in last:  # a full method URL (…/models/gemini-2.5-pro:generateContent): its collection
            path = path.rsplit("/", 1)[0].rstrip("/")
        if not path:
            path = "/v1beta/models"
        elif path.endswith(_VERSIONS):
            path += "/models"
        return urlunsplit(parts._replace(path=path + "/", query="", fragment=""))

    def prepare(self, provider: Provider) -> None:
        if not any(t.name == "vertex-gemini" for t in provider.cfg.transformers):
            return
        settings = vertex_settings(provider.cfg)
        provider.memo[_VERTEX] = settings
        if settings.base:
            provider.url = settings.base
        if settings.credentials:
            provider.credentials = ServiceAccountToken(settings.credentials, provider)

    def count_tokens_url(self, endpoint: str) -> str | None:
        return endpoint  # per model ({endpoint}{model}:countTokens)

    def models_url(self, endpoint: str) -> str:
        return endpoint.rstrip("/")

    def auth_headers(self, key: str, host: str) -> dict[str, str]:
        return {"x-goog-api-key": key}

    def accepts(self, status: int) -> bool:
        return status == 200

    def outgoing(self, provider: Provider, model: str, label: str, body: dict[str, Any], raw: bytes | None,
                 client_headers: Mapping[str, str], size: int) -> Outgoing:
        base = _base(provider)
        request, names = translate_request(body, model, options(provider, model))
        streamed = bool(body.get("stream"))
        method = ":streamGenerateContent?alt=sse" if streamed else ":generateContent"
        return Outgoing(base + _model_path(model) + method, orjson.dumps(request),
                        {"content-type": "application/json"}, streamed, model, label,
                        _State(names, estimate_from_size(size)))

    def count_tokens(self, provider: Provider, model: str, body: dict[str, Any], raw: bytes | None,
                     client_headers: Mapping[str, str]) -> Outgoing | None:
        base = _base(provider)
        opts = options(provider, model)
        # count_tokens bodies carry no max_tokens: any value serves, it is not part of what is counted
        request, names = translate_request({"max_tokens": 1, **body}, model, opts)
        payload = count.count_request(request, _model_path(model), opts.vertex)
        return Outgoing(base + _model_path(model) + ":countTokens", orjson.dumps(payload),
                        {"content-type": "application/json"}, False, model, model, _State(names, 0))

    def count_answer(self, data: bytes, provider: str) -> bytes:
        return count.count_answer(data, provider)

    def stream(self, out: Outgoing, provider: str) -> JsonEvents:
        return stream_for(out.label, out.state, provider)

    def whole(self, data: bytes, out: Outgoing, provider: str, status: int,
              headers: Mapping[str, str]) -> tuple[Whole, dict[str, Any] | None]:
        answer = json_answer(data, provider)
        message, usage = translate_response(answer, out.label, out.state.names, provider, out.state.input_estimate)
        return Whole(orjson.dumps(message), usage=usage), message


GEMINI = Gemini()
