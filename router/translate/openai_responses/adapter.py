"""The OpenAI Responses adapter (`/v1/responses`: OpenAI's reasoning and codex models, Azure OpenAI), translated
in both directions. claude-code-router configs name it with `transformer: {"use": ["openai-responses"]}`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import orjson

from router.tokens import estimate_from_size
from router.translate.adapter import Outgoing, WireAdapter, output_limit, per_model
from router.translate.common import is_azure
from router.translate.openai_responses.options import (
    EFFORT_RANK,
    ResponsesOptions,
    efforts_for,
    reasons_by_name,
)
from router.translate.openai_responses.request import COUNT_KEYS, translate_request
from router.translate.openai_responses.response import translate_response
from router.translate.openai_responses.stream import ResponsesStream
from router.translate.reading import ToolNames
from router.translate.values import json_answer
from router.wire.errors import UpstreamUnavailable
from router.wire.results import Whole

if TYPE_CHECKING:
    from router.providers.provider import Provider

# Azure OpenAI takes its key in `api-key` and has no /responses/input_tokens
_NAMES = ("openai-responses", "openai-response")


def options(provider: Provider, model: str) -> ResponsesOptions:
    """The provider's settings for one model, computed once."""
    return per_model(provider, "openai_responses", model, _build_options)


def _build_options(provider: Provider, model: str) -> ResponsesOptions:
    uses = {t.name: t.options for t in provider.cfg.transformers_for(model)}
    info = provider.cfg.models.get(model)
    max_out = output_limit(provider, model)
    own = next((uses[n] for n in _NAMES if n in uses), {})
    efforts = own.get("efforts")
    if not (isinstance(efforts, list) and efforts and all(e in EFFORT_RANK for e in efforts)):
        efforts = efforts_for(model)
    return ResponsesOptions(
        provider=provider.name,
        model=model,
        max_output_tokens=max_out,
        reasoning=bool(info and info.capabilities.reasoning) or reasons_by_name(model) or "reasoning" in uses,
        efforts=tuple(sorted(efforts, key=EFFORT_RANK.__getitem__)),
        extra_params=dict(uses.get("customparams", {})),
        blind=bool(info and info.blind),
    )


@dataclass(slots=True)
class _State:
    names: ToolNames
    input_estimate: int
    provider: str
    model: str


def _with_path(url: str, path: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=path))  # the query (Azure's ?api-version=) is kept


class OpenAIResponses(WireAdapter):
    def endpoint(self, url: str) -> str:
        path = urlsplit(url).path.rstrip("/")
        if not path.endswith("/responses"):
            path = path + "/responses" if path else "/v1/responses"
        return _with_path(url, path)

    def count_tokens_url(self, endpoint: str) -> str | None:
        if is_azure(urlsplit(endpoint).hostname or ""):
            return None
        return _with_path(endpoint, urlsplit(endpoint).path + "/input_tokens")

    def models_url(self, endpoint: str) -> str:
        return _with_path(endpoint, urlsplit(endpoint).path.removesuffix("/responses") + "/models")

    def auth_headers(self, key: str, host: str) -> dict[str, str]:
        return {"api-key": key} if is_azure(host) else {"authorization": f"Bearer {key}"}

    def accepts(self, status: int) -> bool:
        return status == 200

    def outgoing(self, provider: Provider, model: str, label: str, body: dict[str, Any], raw: bytes | None,
                 client_headers: Mapping[str, str], size: int) -> Outgoing:
        opts = options(provider, model)
        request, names = translate_request(body, model, opts)
        return Outgoing(provider.url, orjson.dumps(request), {"content-type": "application/json"},
                        bool(body.get("stream")), model, label,
                        _State(names, estimate_from_size(size), provider.name, model))

    def count_tokens(self, provider: Provider, model: str, body: dict[str, Any], raw: bytes | None,
                     client_headers: Mapping[str, str]) -> Outgoing | None:
        url = provider.count_tokens_url
        if url is None:
            return None
        # a count request has no max_tokens; the endpoint takes only the fields that shape the input
        max_tokens = body.get("max_tokens")
        counted = dict(body, stream=False, max_tokens=max_tokens if isinstance(max_tokens, int) and max_tokens > 0
                       else 1)
        request, _names = translate_request(counted, model, options(provider, model))
        payload = {k: request[k] for k in COUNT_KEYS if k in request}
        return Outgoing(url, orjson.dumps(payload), {"content-type": "application/json"}, False, model, model)

    def count_answer(self, data: bytes, provider: str) -> bytes:
        try:
            answer = orjson.loads(data)
        except orjson.JSONDecodeError:
            answer = None
        count = answer.get("input_tokens") if isinstance(answer, dict) else None
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise UpstreamUnavailable(f"provider '{provider}' answered the token count without input_tokens: "
                                      f"{data[:200].decode('utf-8', 'replace')!r}")
        return orjson.dumps({"input_tokens": count})

    def stream(self, out: Outgoing, provider: str) -> ResponsesStream:
        state: _State = out.state
        return ResponsesStream(out.label, state.names, state.provider, state.model, state.input_estimate)

    def whole(self, data: bytes, out: Outgoing, provider: str, status: int,
              headers: Mapping[str, str]) -> tuple[Whole, dict[str, Any] | None]:
        answer = json_answer(data, provider)
        state: _State = out.state
        message = translate_response(answer, out.label, state.names, state.provider, state.model)
        # the log keeps what the provider reported; when it reported nothing, an estimate marked as one
        usage = message["usage"] if isinstance(answer, dict) and isinstance(answer.get("usage"), dict) else {
            "input_tokens": state.input_estimate, "estimated": 1,
            "output_tokens": max(1, len(orjson.dumps(message["content"])) // 4)}
        return Whole(orjson.dumps(message), usage=usage), message


OPENAI_RESPONSES = OpenAIResponses()
