"""Anthropic Messages request → OpenAI Chat Completions request, one feature per case."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from router.translate.common import reasoning_signature, short_tool_name, to_anthropic_id
from router.translate.openai_chat import ChatOptions, translate_request
from router.wire.errors import InvalidRequest

FIXTURES = Path(__file__).parent.parent / "fixtures"
IMG = {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}


def tr(body: dict[str, Any], **opts: Any) -> dict[str, Any]:
    body = {"model": "m", "max_tokens": 1000, **body}
    return translate_request(body, "up-model", ChatOptions(**opts))[0]


def user(*blocks: Any) -> dict[str, Any]:
    return {"role": "user", "content": list(blocks)}


def test_real_claude_code_request() -> None:
    body = json.loads((FIXTURES / "claude_code" / "request_hi.json").read_text())
    out = translate_request(body, "up-model", ChatOptions())[0]
    roles = [m["role"] for m in out["messages"]]
    assert roles == ["system", "user", "system"]  # the mid-conversation system message stays in place
    assert not out["messages"][0]["content"].startswith("x-anthropic-billing-header")
    assert out["messages"][1]["content"].endswith("hi")
    names = [t["function"]["name"] for t in out["tools"]]
    assert "Bash" in names and "DeferredToolPlaceholder" not in names  # deferred, never referenced
    assert "cache_control" not in json.dumps(out) and "context_management" not in out
    assert out["max_tokens"] == 32000 and len(out["user"]) <= 64
    assert out["stream"] is True and out["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize(("system", "expected"), [
    ("Be brief.", "Be brief."),
    ([{"type": "text", "text": "One."}, {"type": "text", "text": "Two.", "cache_control": {"type": "ephemeral"}}],
     "One.\n\nTwo."),
])
def test_system_string_or_blocks(system: Any, expected: str) -> None:
    out = tr({"system": system, "messages": [user({"type": "text", "text": "hi"})]})
    assert out["messages"][0] == {"role": "system", "content": expected}


def test_images_base64_and_url_and_documents() -> None:
    out = tr({"messages": [user(
        {"type": "text", "text": "look"},
        {"type": "image", "source": IMG},
        {"type": "image", "source": {"type": "url", "url": "https://x.test/a.png"}},
        {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="},
         "title": "spec"},
        {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "plain words"}},
    )]})
    parts = out["messages"][0]["content"]
    assert parts[0] == {"type": "text", "text": "look"}
    assert parts[1] == {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    assert parts[2] == {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}}
    assert parts[3] == {"type": "file", "file": {"filename": "spec.pdf", "file_data": "data:application/pdf;base64,JVBERi0="}}
    assert "plain words" in parts[4]["text"]


def test_tool_round_trip_order_ids_errors_and_images() -> None:
    out = tr({"messages": [
        user({"type": "text", "text": "go"}),
        {"role": "assistant", "content": [
            {"type": "text", "text": "Running."},
            {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls"}},
            {"type": "tool_use", "id": to_anthropic_id("functions.Read:1"), "name": "Read", "input": {"file_path": "/a.png"}},
        ]},
        user(
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "boom", "is_error": True},
            {"type": "tool_result", "tool_use_id": to_anthropic_id("functions.Read:1"),
             "content": [{"type": "image", "source": IMG}]},
            {"type": "text", "text": "and then?"},
        ),
    ]})
    msgs = out["messages"]
    assert [m["role"] for m in msgs] == ["user", "assistant", "tool", "tool", "user"]
    calls = msgs[1]["tool_calls"]
    assert msgs[1]["content"] == "Running."
    assert calls[0] == {"id": "toolu_1", "type": "function", "function": {"name": "Bash", "arguments": '{"command":"ls"}'}}
    assert calls[1]["id"] == "functions.Read:1"  # the provider gets back the id it made
    assert msgs[2] == {"role": "tool", "tool_call_id": "toolu_1", "content": "[tool error] boom"}
    assert msgs[3]["tool_call_id"] == "functions.Read:1" and "attachment" in msgs[3]["content"]
    tail = msgs[4]["content"]
    assert tail[1] == {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    assert tail[-1] == {"type": "text", "text": "and then?"}


def test_tool_definitions_and_long_names() -> None:
    long_name = "mcp__" + "x" * 80
    out = tr({"messages": [user({"type": "text", "text": "hi"})], "tools": [
        {"name": long_name, "description": "d", "input_schema": {"type": "object", "properties": {}}},
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 5},
        {"name": "Lazy", "input_schema": {"type": "object"}, "defer_loading": True},
    ], "tool_choice": {"type": "tool", "name": long_name}})
    assert [t["function"]["name"] for t in out["tools"]] == [short_tool_name(long_name)]
    assert len(out["tools"][0]["function"]["name"]) <= 64
    assert out["tool_choice"] == {"type": "function", "function": {"name": short_tool_name(long_name)}}


def test_deferred_tool_is_sent_once_referenced() -> None:
    out = tr({"messages": [
        user({"type": "text", "text": "hi"}),
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "ToolSearch", "input": {}}]},
        user({"type": "tool_result", "tool_use_id": "t1",
              "content": [{"type": "tool_reference", "tool_name": "Lazy"}]}),
    ], "tools": [{"name": "Lazy", "input_schema": {"type": "object"}, "defer_loading": True}]})
    assert [t["function"]["name"] for t in out["tools"]] == ["Lazy"]
    assert out["messages"][2]["content"] == "Tool loaded: Lazy"


@pytest.mark.parametrize(("choice", "expected", "parallel"), [
    ({"type": "auto"}, "auto", None),
    ({"type": "any"}, "required", None),
    ({"type": "none"}, "none", None),
    ({"type": "tool", "name": "Bash"}, {"type": "function", "function": {"name": "Bash"}}, None),
    ({"type": "auto", "disable_parallel_tool_use": True}, "auto", False),
])
def test_tool_choice(choice: dict[str, Any], expected: Any, parallel: bool | None) -> None:
    out = tr({"messages": [user({"type": "text", "text": "hi"})], "tool_choice": choice,
              "tools": [{"name": "Bash", "input_schema": {"type": "object"}}]})
    assert out["tool_choice"] == expected
    assert out.get("parallel_tool_calls") == parallel


THINK = {"messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize(("extra", "opts", "expected"), [
    ({"thinking": {"type": "adaptive"}, "output_config": {"effort": "medium"}}, {"reasoning_capable": True},
     {"reasoning_effort": "medium"}),
    ({"thinking": {"type": "adaptive"}}, {"reasoning_capable": True}, {"reasoning_effort": "high"}),
    ({"thinking": {"type": "enabled", "budget_tokens": 2000}}, {"reasoning_capable": True}, {"reasoning_effort": "low"}),
    ({"thinking": {"type": "enabled", "budget_tokens": 32000}}, {"reasoning_capable": True},
     {"reasoning_effort": "high"}),
    ({"thinking": {"type": "adaptive"}}, {}, {}),  # a model not known to reason gets no reasoning parameter
    ({"thinking": {"type": "disabled"}}, {"reasoning_capable": True}, {}),
    ({"output_config": {"effort": "xhigh"}}, {"reasoning_capable": True}, {"reasoning_effort": "high"}),
    ({"thinking": {"type": "adaptive"}, "output_config": {"effort": "max"}}, {"reasoning_style": "deepseek"},
     {"thinking": {"type": "enabled"}, "reasoning_effort": "max"}),
    ({}, {"reasoning_style": "deepseek"}, {"thinking": {"type": "disabled"}}),
    ({"output_config": {"effort": "xhigh"}}, {"reasoning_style": "deepseek"},
     {"thinking": {"type": "enabled"}, "reasoning_effort": "high"}),
    ({"thinking": {"type": "enabled", "budget_tokens": 8000}}, {"reasoning_style": "deepseek"},
     {"thinking": {"type": "enabled"}, "reasoning_effort": "high"}),  # medium, by its budget
    ({"output_config": {"effort": "low"}}, {"reasoning_style": "deepseek"},
     {"thinking": {"type": "enabled"}, "reasoning_effort": "low"}),
    ({"thinking": {"type": "enabled", "budget_tokens": 5000}}, {"reasoning_style": "openrouter"},
     {"reasoning": {"max_tokens": 5000}}),
    ({"thinking": {"type": "adaptive"}, "output_config": {"effort": "low"}}, {"reasoning_style": "openrouter"},
     {"reasoning": {"effort": "low"}}),
])
def test_thinking_and_effort(extra: dict[str, Any], opts: dict[str, Any], expected: dict[str, Any]) -> None:
    out = tr({**THINK, **extra}, **opts)
    got = {k: out[k] for k in ("reasoning_effort", "thinking", "reasoning") if k in out}
    assert got == expected


HISTORY_FROM_REASONERS = [
    user({"type": "text", "text": "q"}),
    {"role": "assistant", "content": [
        {"type": "thinking", "thinking": "deep thought", "signature": reasoning_signature("reasoning_content")},
        {"type": "tool_use", "id": "t1", "name": "Bash", "input": {}}]},
    user({"type": "tool_result", "tool_use_id": "t1", "content": "ok"}),
    {"role": "assistant", "content": [
        {"type": "thinking", "thinking": "hmm", "signature": reasoning_signature(
            "reasoning_details", [{"type": "reasoning.text", "text": "hmm", "signature": "sig", "index": 0}])},
        {"type": "text", "text": "done"}]},
]


@pytest.mark.parametrize("opts", [{}, {"max_tokens_field": "max_completion_tokens"}])
def test_strict_providers_get_no_reasoning_back(opts: dict[str, Any]) -> None:
    """A conversation that began on DeepSeek and OpenRouter reasoning models continues on a strict provider
    (OpenAI, Groq, Mistral reject reasoning_content and reasoning_details with a 400)."""
    msgs = tr({"messages": HISTORY_FROM_REASONERS}, **opts)["messages"]
    assert not any(set(m) & {"reasoning_content", "reasoning", "reasoning_details"} for m in msgs)
    assert msgs[1]["tool_calls"][0]["function"]["name"] == "Bash" and msgs[3]["content"] == "done"


def test_reasoning_is_replayed_in_the_field_the_provider_reads() -> None:
    details = [{"type": "reasoning.text", "text": "hmm", "signature": "sig", "index": 0}]
    deepseek = tr({"messages": HISTORY_FROM_REASONERS}, reasoning_style="deepseek",
                  replay_field="reasoning_content")["messages"]
    assert deepseek[1]["reasoning_content"] == "deep thought" and deepseek[3]["reasoning_content"] == "hmm"
    assert "reasoning_details" not in deepseek[3]  # OpenRouter's signed details mean nothing to DeepSeek
    claude = {"role": "assistant", "content": [{"type": "thinking", "thinking": "claude's own", "signature": "EqQBCkgIAR"},
                                              {"type": "text", "text": "x"}]}
    out = tr({"messages": [*HISTORY_FROM_REASONERS, claude]}, reasoning_style="openrouter")
    msgs = out["messages"]
    assert msgs[1]["reasoning"] == "deep thought" and "reasoning_content" not in msgs[1]
    assert msgs[3]["reasoning_details"] == details and msgs[3]["reasoning"] == "hmm"
    assert not set(msgs[4]) & {"reasoning_content", "reasoning", "reasoning_details"}  # Anthropic's own, signed


def test_anthropic_thinking_replayed_to_deepseek_as_reasoning_content() -> None:
    out = tr({"messages": [user({"type": "text", "text": "q"}), {"role": "assistant", "content": [
        {"type": "thinking", "thinking": "t", "signature": "EqQB"}, {"type": "text", "text": "a"}]}]},
        reasoning_style="deepseek", replay_field="reasoning_content")
    assert out["messages"][1]["reasoning_content"] == "t"


@pytest.mark.parametrize(("body", "opts", "expected"), [
    ({"max_tokens": 64000}, {"max_output_tokens": 8192}, {"max_tokens": 8192}),
    ({"max_tokens": 100}, {"max_output_tokens": 8192}, {"max_tokens": 100}),
    ({"max_tokens": 100}, {"max_tokens_field": "max_completion_tokens"}, {"max_completion_tokens": 100}),
    ({"stop_sequences": ["END"], "temperature": 0.2, "top_p": 0.9, "top_k": 5}, {},
     {"stop": ["END"], "temperature": 0.2, "top_p": 0.9}),
    ({"metadata": {"user_id": "short-id"}}, {}, {"user": "short-id"}),
])
def test_sampling_limits_and_user(body: dict[str, Any], opts: dict[str, Any], expected: dict[str, Any]) -> None:
    out = tr({**THINK, **body}, **opts)
    assert {k: out[k] for k in expected} == expected
    assert "top_k" not in out


def test_user_id_fits_provider_limit() -> None:
    long_id = json.dumps({"device_id": "d" * 64, "session_id": "s" * 36})
    assert len(tr({**THINK, "metadata": {"user_id": long_id}})["user"]) == 64
    assert len(tr({**THINK, "metadata": {"user_id": long_id}}, user_limit=128)["user"]) <= 128


def test_custom_params_and_schema_stripping() -> None:
    out = tr({**THINK, "tools": [{"name": "T", "input_schema": {
        "$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}}]},
        extra_params={"provider": {"sort": "throughput"}}, strip_schema_keys=("$schema",))
    assert out["provider"] == {"sort": "throughput"}
    assert out["tools"][0]["function"]["parameters"] == {"type": "object"}


@pytest.mark.parametrize(("messages", "message"), [
    ([{"role": "robot", "content": "hi"}], "messages.0.role"),
    ([{"role": "user"}], "messages.0.content: required"),
    ([{"role": "user", "content": 5}], "messages.0.content"),
    ([{"role": "user", "content": [{"type": "image", "source": {"type": "file"}}]}], "messages.0.content.0.source.type"),
    ([{"role": "user", "content": [{"type": "tool_result"}]}], "messages.0.content.0.tool_use_id"),
    ([{"role": "user", "content": [{"type": "text", "text": None}]}], "messages.0.content.0.text: must be a string"),
    ([{"role": "system", "content": [{"type": "text", "text": 5}]}], "messages.0.content.0.text: must be a string"),
    ([{"role": "assistant", "content": [{"type": "tool_use", "input": {}}]}], "messages.0.content.0"),
])
def test_malformed_messages_name_the_field(messages: list[Any], message: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        tr({"messages": messages})
    assert message in info.value.message


def test_parallel_results_are_put_in_call_order() -> None:
    calls = [{"type": "tool_use", "id": f"t{i}", "name": "Bash", "input": {}} for i in range(3)]
    out = tr({"messages": [user({"type": "text", "text": "go"}), {"role": "assistant", "content": calls}, user(
        *[{"type": "tool_result", "tool_use_id": f"t{i}", "content": str(i)} for i in (2, 0, 1)])]})
    assert [m["tool_call_id"] for m in out["messages"][2:]] == ["t0", "t1", "t2"]
