"""The OpenAI Chat Completions adapter: any OpenAI-compatible provider, translated in both directions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import orjson

from router.tokens import estimate_from_size
from router.translate.adapter import Outgoing, WireAdapter, output_limit, per_model
from router.translate.common import is_azure
from router.translate.events import JsonEvents
from router.translate.openai_chat.options import ChatOptions, ReasoningStyle
from router.translate.openai_chat.request import translate_request
from router.translate.openai_chat.response import translate_response
from router.translate.openai_chat.stream import StreamTranslator
from router.translate.reading import ToolNames
from router.translate.values import json_answer
from router.wire.results import Whole

if TYPE_CHECKING:
    from router.providers.provider import Provider


def options(provider: Provider, model: str) -> ChatOptions:
    """The provider's quirks for one model (from its transformers and host), computed once."""
    return per_model(provider, "openai_chat", model, _build_options)


def _build_options(provider: Provider, model: str) -> ChatOptions:
    uses = {t.name: t.options for t in provider.cfg.transformers_for(model)}
    info = provider.cfg.models.get(model)
    max_out = output_limit(provider, model)
    host = provider.host
    reasons = bool(info and info.capabilities.reasoning) or "reasoning" in uses
    style: ReasoningStyle = "openai"
    if "deepseek" in uses or host.endswith("deepseek.com"):
        style = "deepseek"
    elif "openrouter" in uses or host.endswith("openrouter.ai"):
        style = "openrouter"
    elif "dashscope" in uses or host.endswith("aliyuncs.com"):
        style = "dashscope"
    elif "zai" in uses or host in ("api.z.ai", "open.bigmodel.cn"):
        style = "zai"
    elif "xai" in uses or host == "api.x.ai":
        style = "none"
    drop: set[str] = set()
    if "cerebras" in uses or host == "api.cerebras.ai":
        drop.add("parallel_tool_calls")
    mistral = "mistral" in uses or host == "api.mistral.ai"
    if mistral:  # Mistral refuses fields it does not know (422 extra_forbidden); it sends stream usage unasked
        drop.update(("stream_options", "user"))
    if reasons and ("xai" in uses or host == "api.x.ai"):
        drop.add("stop")
    openai = "openai" in uses or host == "api.openai.com"
    if reasons and openai:
        drop.update(("temperature", "top_p"))
    azure = "azure" in uses or is_azure(host)
    replays = style == "deepseek" or "reasoning" in uses or (reasons and ("moonshot" in uses or
                                                                          host.endswith("moonshot.ai")))
    return ChatOptions(
        max_output_tokens=max_out,
        max_tokens_field="max_completion_tokens" if "maxcompletiontokens" in uses or openai or azure
        else "max_tokens",
        reasoning_style=style,
        reasoning_capable=reasons,
        replay_field="reasoning_content" if replays else None,
        user_limit=128 if style == "openrouter" else 64,
        strip_schema_keys=("$schema",) if "groq" in uses or host.endswith("groq.com") else (),
        extra_params=dict(uses.get("customparams", {})),
        drop_params=frozenset(drop),
        tool_ids="mistral" if mistral else "any",
        whole_max_tokens=4096 if "fireworks" in uses or host == "api.fireworks.ai" else None,
        stream_usage=uses.get("streamoptions", {}).get("include_usage") is not False,
        repair_tools="enhancetool" in uses,
        exit_tool="tooluse" in uses,
        sampling=dict(uses["sampling"]) if "sampling" in uses else None,
        blind=bool(info and info.blind),
    )


@dataclass(slots=True)
class _State:
    names: ToolNames
    input_estimate: int
    options: ChatOptions


def stream_for(label: str, state: _State, provider: str) -> JsonEvents:
    translator = StreamTranslator(label, state.names, state.input_estimate, repair_tools=state.options.repair_tools,
                                  exit_tool=state.options.exit_tool)
    return JsonEvents(translator, provider)


class OpenAIChat(WireAdapter):
    expected_content = "JSON"

    def endpoint(self, url: str) -> str:
        parts = urlsplit(url)  # a query is kept (Azure's ?api-version=)
        path = parts.path.rstrip("/")
        return urlunsplit(parts._replace(path=path if path.endswith("/chat/completions") else path + "/chat/completions"))

    def models_url(self, endpoint: str) -> str:
        parts = urlsplit(endpoint)
        return urlunsplit(parts._replace(path=parts.path.removesuffix("/chat/completions") + "/models"))

    def auth_headers(self, key: str, host: str) -> dict[str, str]:
        if is_azure(host):  # Azure OpenAI's keys go in their own header
            return {"api-key": key}
        return {"authorization": f"Bearer {key}"}

    def accepts(self, status: int) -> bool:
        return status == 200

    def outgoing(self, provider: Provider, model: str, label: str, body: dict[str, Any], raw: bytes | None,
                 client_headers: Mapping[str, str], size: int) -> Outgoing:
        opts = options(provider, model)
        request, names = translate_request(body, model, opts)
        return Outgoing(provider.url, orjson.dumps(request), {"content-type": "application/json"},
                        bool(body.get("stream")), model, label, _State(names, estimate_from_size(size), opts))

    def stream(self, out: Outgoing, provider: str) -> JsonEvents:
        return stream_for(out.label, out.state, provider)

    def whole(self, data: bytes, out: Outgoing, provider: str, status: int,
              headers: Mapping[str, str]) -> tuple[Whole, dict[str, Any] | None]:
        answer = json_answer(data, provider)
        opts = out.state.options
        message = translate_response(answer, out.label, out.state.names, repair_tools=opts.repair_tools,
                                     exit_tool=opts.exit_tool)
        # the log keeps what the provider reported; when it reported nothing, an estimate marked as one, so that
        # budgets still count the request
        usage = message["usage"] if isinstance(answer, dict) and answer.get("usage") else {
            "input_tokens": out.state.input_estimate, "estimated": 1,
            "output_tokens": max(1, len(orjson.dumps(message["content"])) // 4)}
        return Whole(orjson.dumps(message), usage=usage), message


OPENAI_CHAT = OpenAIChat()
