"""Provider presets: each fills in what its provider needs, and each quirk changes the request it says it does.

Requests are built by the real adapter of a provider loaded from a config naming the preset."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from router.config import ConfigError, parse_config
from router.config.presets import ALIASES, PRESETS
from router.config.schema import WireFormat
from router.providers.provider import Providers

TOOLS = [{"name": "Bash", "description": "run", "input_schema": {
    "$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
    "properties": {"command": {"type": "string"}}}}]


def provider(preset: str, model: str = "m", reasoning: bool = False, **extra: Any) -> Any:
    entry: dict[str, Any] = {"name": "p", "preset": preset, "api_key": "k-123456",
                             "models": [{"name": model, "capabilities": {"reasoning": reasoning}}], **extra}
    config = parse_config({"Providers": [entry], "Router": {"default": f"p,{model}"}}, "<test>")
    return Providers(config).get("p")


def request(preset: str, body: dict[str, Any] | None = None, reasoning: bool = False, **extra: Any
            ) -> tuple[dict[str, Any], dict[str, str], str]:
    """(upstream body, auth headers, url) for a request through the preset's provider."""
    p = provider(preset, reasoning=reasoning, **extra)
    body = {"model": "x", "max_tokens": 32000, "messages": [{"role": "user", "content": "hi"}], **(body or {})}
    out = p.adapter.outgoing(p, "m", "p,m", body, None, {}, 100)
    return orjson.loads(out.payload), p.auth_headers(), out.url


HISTORY = [
    {"role": "user", "content": "hi"},
    {"role": "assistant", "content": [
        {"type": "thinking", "thinking": "let me look", "signature": "ccr1.reasoning_content"},
        {"type": "tool_use", "id": "toolu_01ABCDEFGHIJ", "name": "Bash", "input": {"command": "ls"}}]},
    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01ABCDEFGHIJ", "content": "a.txt"}]},
]


@pytest.mark.parametrize(("preset", "wire", "url"), [
    ("openai", WireFormat.OPENAI_CHAT, "https://api.openai.com/v1/chat/completions"),
    ("deepseek", WireFormat.OPENAI_CHAT, "https://api.deepseek.com/chat/completions"),
    ("openrouter", WireFormat.OPENAI_CHAT, "https://openrouter.ai/api/v1/chat/completions"),
    ("groq", WireFormat.OPENAI_CHAT, "https://api.groq.com/openai/v1/chat/completions"),
    ("kimi", WireFormat.OPENAI_CHAT, "https://api.moonshot.ai/v1/chat/completions"),
    ("qwen", WireFormat.OPENAI_CHAT, "https://dashscope-intl.aliyuncs.com/compatible-mode/v1/chat/completions"),
    ("glm", WireFormat.OPENAI_CHAT, "https://api.z.ai/api/paas/v4/chat/completions"),
    ("ollama", WireFormat.OPENAI_CHAT, "http://127.0.0.1:11434/v1/chat/completions"),
    ("llama.cpp", WireFormat.OPENAI_CHAT, "http://127.0.0.1:8080/v1/chat/completions"),
    ("anthropic", WireFormat.ANTHROPIC, "https://api.anthropic.com/v1/messages"),
])
def test_a_preset_supplies_the_endpoint_and_the_wire_format(preset: str, wire: WireFormat, url: str) -> None:
    p = provider(preset)
    assert (p.cfg.wire, p.url) == (wire, url)


def test_every_preset_loads() -> None:
    for name in [*PRESETS, *ALIASES]:
        extra = {"api_base_url": "https://res.openai.azure.com/openai/v1"} if PRESETS.get(
            ALIASES.get(name, name)) and PRESETS[ALIASES.get(name, name)].base_url is None else {}
        assert provider(name, **extra).adapter is not None


def test_the_config_wins_over_the_preset() -> None:
    p = provider("deepseek", api_base_url="https://proxy.example.com/v1/chat/completions")
    assert p.url == "https://proxy.example.com/v1/chat/completions"
    body, _, _ = request("deepseek", {"thinking": {"type": "adaptive"}}, api_base_url="https://proxy.example.com/v1")
    assert body["thinking"] == {"type": "enabled"}  # the quirk stays with the preset, whatever the URL


def test_the_key_comes_from_the_presets_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEEPSEEK_API_KEY", "sk-from-env-1")
    config = parse_config({"Providers": [{"name": "ds", "preset": "deepseek", "models": ["deepseek-chat"]}]}, "<t>")
    assert config.providers["ds"].api_key == "sk-from-env-1"
    monkeypatch.delenv("DEEPSEEK_API_KEY")
    config = parse_config({"Providers": [{"name": "ds", "preset": "deepseek", "models": ["deepseek-chat"]}]}, "<t>")
    assert config.providers["ds"].missing_key_var == "DEEPSEEK_API_KEY"
    assert any("DEEPSEEK_API_KEY" in w for w in config.warnings)


@pytest.mark.parametrize(("entry", "message"), [
    ({"preset": "nope"}, "unknown preset 'nope'; ccr has: openai"),
    ({"preset": "azure-openai"}, "api_base_url: required with preset 'azure-openai'"),
])
def test_preset_mistakes_are_named(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"Providers": [{"name": "p", "models": ["m"], **entry}]}, "<t>")
    assert message in str(info.value)


def test_local_presets_need_no_key_and_cost_nothing() -> None:
    config = parse_config({"Providers": [{"name": "o", "preset": "ollama", "models": ["qwen3:8b"]}]}, "<t>")
    assert config.providers["o"].api_key is None and config.providers["o"].missing_key_var is None
    assert config.providers["o"].models["qwen3:8b"].free


# each quirk: (preset, request body additions, model reasons?, what the upstream body must show)
def _no(*keys: str) -> Any:
    return lambda b: all(k not in b for k in keys)


QUIRKS: list[tuple[str, dict[str, Any], bool, Any]] = [
    ("openai", {}, False, lambda b: b["max_completion_tokens"] == 32000 and "max_tokens" not in b),
    ("openai", {"temperature": 0.3, "top_p": 0.9}, True, _no("temperature", "top_p")),
    ("openai", {"temperature": 0.3}, False, lambda b: b["temperature"] == 0.3),
    ("deepseek", {"thinking": {"type": "adaptive"}, "output_config": {"effort": "max"}}, False,
     lambda b: b["thinking"] == {"type": "enabled"} and b["reasoning_effort"] == "max"),
    ("deepseek", {"messages": HISTORY}, False, lambda b: b["messages"][1]["reasoning_content"] == "let me look"),
    ("openrouter", {"thinking": {"type": "enabled", "budget_tokens": 5000}}, False,
     lambda b: b["reasoning"] == {"max_tokens": 5000}),
    ("groq", {"tools": TOOLS}, False, lambda b: "$schema" not in b["tools"][0]["function"]["parameters"]),
    ("cerebras", {"tools": TOOLS, "tool_choice": {"type": "auto", "disable_parallel_tool_use": True}}, False,
     _no("parallel_tool_calls")),
    ("mistral", {"messages": HISTORY}, False,
     lambda b: b["messages"][1]["tool_calls"][0]["id"] == b["messages"][2]["tool_call_id"]
     and len(b["messages"][2]["tool_call_id"]) == 9 and b["messages"][2]["tool_call_id"].isalnum()),
    ("mistral", {"stream": True, "metadata": {"user_id": "u1"}}, False, _no("stream_options", "user")),
    ("xai", {"thinking": {"type": "adaptive"}, "stop_sequences": ["END"]}, True, _no("reasoning_effort", "stop")),
    ("xai", {"stop_sequences": ["END"]}, False, lambda b: b["stop"] == ["END"]),
    ("fireworks", {}, False, lambda b: b["max_tokens"] == 4096),
    ("fireworks", {"stream": True}, False, lambda b: b["max_tokens"] == 32000),
    ("moonshot", {"messages": HISTORY}, True, lambda b: b["messages"][1]["reasoning_content"] == "let me look"),
    ("moonshot", {"messages": HISTORY}, False, lambda b: "reasoning_content" not in b["messages"][1]),
    ("dashscope", {"thinking": {"type": "adaptive"}}, True, lambda b: b["enable_thinking"] is False),
    ("dashscope", {"thinking": {"type": "enabled", "budget_tokens": 2048}, "stream": True}, True,
     lambda b: b["enable_thinking"] is True and b["thinking_budget"] == 2048),
    ("dashscope", {"stream": True}, True, lambda b: b["enable_thinking"] is False),
    ("zai", {"thinking": {"type": "adaptive"}}, False, lambda b: b["thinking"] == {"type": "enabled"}),
    ("zai", {}, False, lambda b: b["thinking"] == {"type": "disabled"}),
    ("vllm", {"thinking": {"type": "adaptive"}}, False, _no("reasoning_effort", "thinking")),
]


@pytest.mark.parametrize(("preset", "body", "reasoning", "check"), QUIRKS,
                         ids=[f"{q[0]}-{i}" for i, q in enumerate(QUIRKS)])
def test_each_quirk_changes_what_it_says(preset: str, body: dict[str, Any], reasoning: bool, check: Any) -> None:
    sent, _, _ = request(preset, body, reasoning)
    assert check(sent), sent


def test_azure_keys_go_in_their_own_header() -> None:
    sent, headers, url = request("azure-openai", api_base_url="https://res.openai.azure.com/openai/v1")
    assert headers == {"api-key": "k-123456"}
    assert url == "https://res.openai.azure.com/openai/v1/chat/completions"
    assert "max_completion_tokens" in sent
    _, headers, url = request("openai", api_base_url=(
        "https://res.openai.azure.com/openai/deployments/gpt/chat/completions?api-version=2024-10-21"))
    assert headers == {"api-key": "k-123456"} and url.endswith("?api-version=2024-10-21")


def test_mistral_ids_stay_apart() -> None:
    """Ids that differ only after a shared prefix (toolu_01…) must not collide once shortened."""
    ids = [f"toolu_01{n:06d}" for n in range(2000)]
    history: list[Any] = [{"role": "user", "content": "go"}]
    for i in ids:
        history += [{"role": "assistant", "content": [{"type": "tool_use", "id": i, "name": "Bash", "input": {}}]},
                    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": i, "content": "ok"}]}]
    sent, _, _ = request("mistral", {"messages": history})
    short = [m["tool_call_id"] for m in sent["messages"] if m["role"] == "tool"]
    assert len(set(short)) == len(ids)


def test_a_history_from_another_provider_reaches_deepseek_thinking_mode_in_a_shape_it_takes() -> None:
    """DeepSeek's thinking mode refuses an assistant tool call without its reasoning_content; a conversation
    that began elsewhere has none."""
    call = {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {}}]}
    result = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}]}
    # the turn in progress has a call made elsewhere: this request goes without thinking
    sent, _, _ = request("deepseek", {"thinking": {"type": "adaptive"}, "messages": [
        {"role": "user", "content": "go"}, call, result]})
    assert sent["thinking"] == {"type": "disabled"} and "reasoning_effort" not in sent
    assert sent["messages"][1]["reasoning_content"] == ""
    # an earlier turn's call made elsewhere, the turn in progress DeepSeek's own: thinking stays on
    own = {"role": "assistant", "content": [
        {"type": "thinking", "thinking": "check", "signature": "ccr1.reasoning_content"},
        {"type": "tool_use", "id": "t2", "name": "Bash", "input": {}}]}
    sent, _, _ = request("deepseek", {"thinking": {"type": "adaptive"}, "messages": [
        {"role": "user", "content": "go"}, call, result, {"role": "assistant", "content": "done"},
        {"role": "user", "content": "next"}, own,
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t2", "content": "ok"}]}]})
    assert sent["thinking"] == {"type": "enabled"}
    calls = [m for m in sent["messages"] if m.get("tool_calls")]
    assert [m["reasoning_content"] for m in calls] == ["", "check"]
