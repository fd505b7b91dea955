"""Anthropic Messages request → OpenAI Responses request, one feature per case. Every translated request is also
put to the validating upstream (tests/support/responses_upstream.py): what ccr sends, the real API must take."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from router.translate.common import (
    parse_reasoning_signature,
    reasoning_signature,
    short_tool_name,
    to_anthropic_id,
)
from router.translate.history import INTERRUPTED
from router.translate.openai_responses import ResponsesOptions, translate_request
from router.translate.openai_responses.options import efforts_for, reasons_by_name
from router.translate.openai_responses.request import COUNT_KEYS, call_id
from router.translate.openai_responses.response import signature_for
from router.translate.reading import IMAGE_OMITTED
from router.wire.errors import InvalidRequest
from tests.support.responses_upstream import ResponsesAPI, Step

FIXTURES = Path(__file__).parent.parent / "fixtures"
IMG = {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}
REASONER = ResponsesOptions(provider="oai", model="gpt-5.1-codex", reasoning=True,
                            efforts=efforts_for("gpt-5.1-codex"))
PLAIN = ResponsesOptions(provider="oai", model="gpt-4.1")


def tr(body: dict[str, Any], opts: ResponsesOptions = REASONER, api: ResponsesAPI | None = None) -> dict[str, Any]:
    body = {"model": "m", "max_tokens": 1000, **body}
    out = translate_request(body, opts.model, opts)[0]
    (api or ResponsesAPI()).check(out)  # raises as the real API would refuse
    return out


def user(*blocks: Any) -> dict[str, Any]:
    return {"role": "user", "content": list(blocks)}


def assistant(*blocks: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": list(blocks)}


def text(t: str) -> dict[str, Any]:
    return {"type": "text", "text": t}


def test_real_claude_code_request() -> None:
    body = json.loads((FIXTURES / "claude_code" / "request_hi.json").read_text())
    out = tr(body)
    assert [(i["type"], i["role"]) for i in out["input"]] == [("message", "user"), ("message", "developer")]
    assert out["instructions"] and not out["instructions"].startswith("x-anthropic-billing-header")
    assert out["input"][0]["content"][-1]["text"].endswith("hi")
    names = [t["name"] for t in out["tools"]]
    assert "Bash" in names and "DeferredToolPlaceholder" not in names
    assert all(t["type"] == "function" and t["strict"] is False and "parameters" in t for t in out["tools"])
    assert "cache_control" not in json.dumps(out) and "context_management" not in out
    assert out["max_output_tokens"] == 32000 and out["store"] is False and out["stream"] is True
    # Claude Code's adaptive thinking at effort high, displayed "omitted": no summary asked for
    assert out["reasoning"] == {"effort": "high"} and out["include"] == ["reasoning.encrypted_content"]
    assert len(out["safety_identifier"]) == 64 and out["prompt_cache_key"] == out["safety_identifier"]
    assert "metadata" not in out and "user" not in out


def test_unknown_anthropic_fields_never_reach_the_upstream() -> None:
    out = tr({"messages": [user(text("hi"))], "top_k": 5, "stop_sequences": ["END"], "service_tier": "auto",
              "context_management": {"edits": []}, "container": "c", "mcp_servers": [], "temperature": 0.3,
              "betas": ["x"], "output_config": {"effort": "low", "format": {"type": "json_schema"}}})
    assert set(out) <= {"model", "input", "max_output_tokens", "store", "reasoning", "include"}


@pytest.mark.parametrize(("system", "expected"), [
    ("Be brief.", "Be brief."),
    ([text("One."), {"type": "text", "text": "Two.", "cache_control": {"type": "ephemeral"}}], "One.\n\nTwo."),
    ([{"type": "text", "text": "x-anthropic-billing-header: cc_version=2"}, text("Real.")], "Real."),
])
def test_system_becomes_instructions(system: Any, expected: str) -> None:
    assert tr({"system": system, "messages": [user(text("hi"))]})["instructions"] == expected


def test_mid_conversation_system_messages_stay_in_place_as_developer_messages() -> None:
    out = tr({"messages": [user(text("a")), assistant(text("b")), {"role": "system", "content": "Note: c"},
                           user(text("d"))]})
    assert [(i["role"], i["content"][0]["text"]) for i in out["input"]] == [
        ("user", "a"), ("assistant", "b"), ("developer", "Note: c"), ("user", "d")]
    assert out["input"][1]["content"][0]["type"] == "output_text"


def test_images_and_documents() -> None:
    out = tr({"messages": [user(
        text("look"),
        {"type": "image", "source": IMG},
        {"type": "image", "source": {"type": "url", "url": "https://x.test/a.png"}},
        {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="},
         "title": "spec"},
        {"type": "document", "source": {"type": "url", "url": "https://x.test/a.pdf"}},
        {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "plain words"}},
    )]})
    parts = out["input"][0]["content"]
    assert parts[0] == {"type": "input_text", "text": "look"}
    assert parts[1] == {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo=", "detail": "auto"}
    assert parts[2] == {"type": "input_image", "image_url": "https://x.test/a.png", "detail": "auto"}
    assert parts[3] == {"type": "input_file", "filename": "spec.pdf",
                        "file_data": "data:application/pdf;base64,JVBERi0="}
    assert parts[4] == {"type": "input_file", "file_url": "https://x.test/a.pdf"}
    assert parts[5]["type"] == "input_text" and "plain words" in parts[5]["text"]


def test_images_reach_a_model_known_not_to_read_them_as_a_note() -> None:
    blind = ResponsesOptions(provider="oai", model="gpt-5.1-codex", reasoning=True, blind=True)
    out = tr({"messages": [user(text("look"), {"type": "image", "source": IMG}),
                           assistant({"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {}}),
                           user({"type": "tool_result", "tool_use_id": "toolu_1",
                                 "content": [{"type": "image", "source": IMG}]})]}, blind)
    assert out["input"][0]["content"][1] == {"type": "input_text", "text": IMAGE_OMITTED}
    assert out["input"][2]["output"] == IMAGE_OMITTED
    assert "input_image" not in json.dumps(out)


def test_tool_calls_and_results_are_linked_items_in_call_order() -> None:
    out = tr({"messages": [
        user(text("go")),
        assistant(text("Running."),
                  {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls"}},
                  {"type": "tool_use", "id": to_anthropic_id("functions.Read:1"), "name": "Read",
                   "input": {"file_path": "/a.png"}}),
        user(  # results as they finished, not in call order; the image stays an image
            {"type": "tool_result", "tool_use_id": to_anthropic_id("functions.Read:1"),
             "content": [text("the picture:"), {"type": "image", "source": IMG}]},
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "boom", "is_error": True},
            text("and then?")),
    ]})
    items = out["input"]
    assert [i["type"] for i in items] == ["message", "message", "function_call", "function_call",
                                          "function_call_output", "function_call_output", "message"]
    assert items[1] == {"type": "message", "role": "assistant", "phase": "commentary",
                        "content": [{"type": "output_text", "text": "Running."}]}
    assert items[2] == {"type": "function_call", "call_id": "toolu_1", "name": "Bash",
                        "arguments": '{"command":"ls"}'}
    assert items[3]["call_id"] == "functions.Read:1"  # the provider gets back the id it made
    assert items[4] == {"type": "function_call_output", "call_id": "toolu_1", "output": "[tool error] boom"}
    assert items[5] == {"type": "function_call_output", "call_id": "functions.Read:1", "output": [
        {"type": "input_text", "text": "the picture:"},
        {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo=", "detail": "auto"}]}
    assert items[6] == {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "and then?"}]}


@pytest.mark.parametrize(("anthropic_id", "expected"), [
    ("toolu_01ABC", "toolu_01ABC"),
    ("call_" + "x" * 59, "call_" + "x" * 59),  # 64: fits
])
def test_call_ids_that_fit_are_kept(anthropic_id: str, expected: str) -> None:
    assert call_id(anthropic_id) == expected


def test_long_or_odd_call_ids_are_mapped_the_same_way_on_both_sides() -> None:
    long_id = "toolu_" + "y" * 90
    out = tr({"messages": [user(text("go")),
                           assistant({"type": "tool_use", "id": long_id, "name": "Bash", "input": {}}),
                           user({"type": "tool_result", "tool_use_id": long_id, "content": "ok"})]})
    call, result = out["input"][1], out["input"][2]
    assert call["call_id"] == result["call_id"] and len(call["call_id"]) <= 64
    assert call_id(long_id) == call["call_id"] and call_id("has space!") != "has space!"


def test_unanswered_calls_and_orphan_results_are_repaired_before_translation() -> None:
    out = tr({"messages": [user(text("go")),
                           assistant({"type": "tool_use", "id": "toolu_lost", "name": "Bash", "input": {}}),
                           user(text("never mind")),
                           assistant(text("ok")),
                           user({"type": "tool_result", "tool_use_id": "toolu_ghost", "content": "late"})]})
    outputs = [i for i in out["input"] if i["type"] == "function_call_output"]
    assert outputs == [{"type": "function_call_output", "call_id": "toolu_lost", "output": f"[tool error] {INTERRUPTED}"}]
    assert "toolu_ghost" in out["input"][-1]["content"][0]["text"]


def test_tool_definitions_long_names_server_tools_and_deferred_ones() -> None:
    long_name = "mcp__" + "x" * 80
    out = tr({"messages": [user(text("hi"))], "tools": [
        {"name": long_name, "description": "d", "input_schema": {"type": "object", "properties": {}}},
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 5},
        {"name": "Lazy", "input_schema": {"type": "object"}, "defer_loading": True},
    ], "tool_choice": {"type": "tool", "name": long_name}})
    assert out["tools"] == [{"type": "function", "name": short_tool_name(long_name), "description": "d",
                             "parameters": {"type": "object", "properties": {}}, "strict": False}]
    assert out["tool_choice"] == {"type": "function", "name": short_tool_name(long_name)}


def test_deferred_tool_is_sent_once_referenced() -> None:
    out = tr({"messages": [
        user(text("hi")),
        assistant({"type": "tool_use", "id": "t1", "name": "ToolSearch", "input": {}}),
        user({"type": "tool_result", "tool_use_id": "t1", "content": [{"type": "tool_reference", "tool_name": "Lazy"}]}),
    ], "tools": [{"name": "Lazy", "input_schema": {"type": "object"}, "defer_loading": True},
                 {"name": "ToolSearch", "input_schema": {"type": "object"}}]})
    assert [t["name"] for t in out["tools"]] == ["Lazy", "ToolSearch"]
    assert out["input"][2]["output"] == "Tool loaded: Lazy"


@pytest.mark.parametrize(("choice", "expected", "parallel"), [
    ({"type": "auto"}, "auto", None),
    ({"type": "any"}, "required", None),
    ({"type": "none"}, "none", None),
    ({"type": "tool", "name": "Bash"}, {"type": "function", "name": "Bash"}, None),
    ({"type": "auto", "disable_parallel_tool_use": True}, "auto", False),
    ({"type": "any", "disable_parallel_tool_use": True}, "required", False),
])
def test_tool_choice(choice: dict[str, Any], expected: Any, parallel: bool | None) -> None:
    out = tr({"messages": [user(text("hi"))], "tool_choice": choice,
              "tools": [{"name": "Bash", "input_schema": {"type": "object"}}]})
    assert out["tool_choice"] == expected
    assert out.get("parallel_tool_calls") == parallel


ADAPTIVE = {"type": "adaptive"}


@pytest.mark.parametrize(("model", "extra", "effort"), [
    ("gpt-5.1-codex", {"thinking": ADAPTIVE, "output_config": {"effort": "medium"}}, "medium"),
    ("gpt-5.1-codex", {"thinking": ADAPTIVE}, "high"),
    ("gpt-5.1-codex", {"thinking": ADAPTIVE, "output_config": {"effort": "max"}}, "high"),
    ("gpt-5.1-codex-max", {"thinking": ADAPTIVE, "output_config": {"effort": "xhigh"}}, "xhigh"),
    ("gpt-5.2", {"thinking": ADAPTIVE, "output_config": {"effort": "max"}}, "xhigh"),
    ("gpt-5.2", {}, "none"),  # no thinking asked for (Claude Code's background calls): the lowest
    ("gpt-5.1", {"thinking": {"type": "disabled"}}, "none"),
    ("gpt-5", {"thinking": {"type": "disabled"}}, "minimal"),
    ("gpt-5-mini", {"thinking": {"type": "enabled", "budget_tokens": 2048}}, "low"),
    ("gpt-5", {"thinking": {"type": "enabled", "budget_tokens": 10000}}, "medium"),
    ("o3", {}, "low"),
    ("o4-mini", {"thinking": ADAPTIVE, "output_config": {"effort": "xhigh"}}, "high"),
])
def test_reasoning_effort_fits_the_model(model: str, extra: dict[str, Any], effort: str) -> None:
    opts = ResponsesOptions(provider="oai", model=model, reasoning=True, efforts=efforts_for(model))
    out = tr({"messages": [user(text("hi"))], **extra}, opts)
    assert out["reasoning"]["effort"] == effort
    assert ("summary" in out["reasoning"]) == (effort != "none")


@pytest.mark.parametrize(("model", "reasons"), [
    ("gpt-5.1-codex", True), ("o3", True), ("openai/o4-mini", True), ("gpt-5", True), ("gpt-4.1", False),
    ("gpt-4o", False), ("gpt-5-chat-latest", False),
])
def test_which_models_reason_by_name(model: str, reasons: bool) -> None:
    assert reasons_by_name(model) is reasons


def test_sampling_parameters_go_to_plain_models_only() -> None:
    body = {"messages": [user(text("hi"))], "temperature": 0.2, "top_p": 0.9, "thinking": ADAPTIVE}
    plain = tr(body, PLAIN)
    assert (plain["temperature"], plain["top_p"]) == (0.2, 0.9)
    assert "reasoning" not in plain and "include" not in plain
    reasoned = tr(body)
    assert "temperature" not in reasoned and "top_p" not in reasoned


@pytest.mark.parametrize(("asked", "limit", "sent"), [(64000, 8192, 8192), (1, None, 16), (500, None, 500)])
def test_max_output_tokens_is_clamped(asked: int, limit: int | None, sent: int) -> None:
    opts = ResponsesOptions(provider="oai", model="gpt-5.1", reasoning=True, max_output_tokens=limit)
    assert tr({"messages": [user(text("hi"))], "max_tokens": asked}, opts)["max_output_tokens"] == sent


def test_custom_params_are_added() -> None:
    opts = ResponsesOptions(provider="oai", model="gpt-4.1", extra_params={"truncation": "auto"})
    assert tr({"messages": [user(text("hi"))]}, opts)["truncation"] == "auto"


# ---- reasoning round trip ----------------------------------------------------------------------------------

def issued_thinking(api: ResponsesAPI, summary: str | None = "Plan.", provider: str = "oai",
                    model: str = "gpt-5.1-codex") -> dict[str, Any]:
    """A thinking block as ccr hands it to Claude Code for a reasoning item the upstream issued."""
    item = api.output(Step(reasoning=summary))[0]
    return {"type": "thinking", "thinking": summary or "", "signature": signature_for(item, provider, model)}


def test_reasoning_items_are_replayed_in_place() -> None:
    api = ResponsesAPI()
    first, second = issued_thinking(api), issued_thinking(api, summary="")
    out = tr({"messages": [
        user(text("go")),
        assistant(first, text("Checking."), {"type": "tool_use", "id": "toolu_a", "name": "Bash", "input": {}}),
        user({"type": "tool_result", "tool_use_id": "toolu_a", "content": "ok"}),
        assistant(second, text("All good.")),
        user(text("thanks")),
    ]}, api=api)
    kinds = [(i["type"], i.get("role")) for i in out["input"]]
    assert kinds == [("message", "user"), ("reasoning", None), ("message", "assistant"), ("function_call", None),
                     ("function_call_output", None), ("reasoning", None), ("message", "assistant"),
                     ("message", "user")]
    rs = out["input"][1]
    assert rs["encrypted_content"] in api.issued and api.issued[rs["encrypted_content"]] == rs["id"]
    assert rs["summary"] == [{"type": "summary_text", "text": "Plan."}] and out["input"][5]["summary"] == []
    assert [out["input"][2]["phase"], out["input"][6]["phase"]] == ["commentary", "final_answer"]


@pytest.mark.parametrize("block", [
    {"type": "thinking", "thinking": "Anthropic's own", "signature": "EqQBCkYIBxgCKkDrealAnthropicSignature"},
    {"type": "thinking", "thinking": "DeepSeek's", "signature": reasoning_signature("reasoning_content")},
    {"type": "thinking", "thinking": "OpenRouter's", "signature": reasoning_signature(
        "reasoning_details", [{"type": "reasoning.encrypted", "data": "X"}])},
    {"type": "thinking", "thinking": "no encrypted content", "signature": reasoning_signature("responses")},
    {"type": "thinking", "thinking": "unsigned"},
    {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4a"},
], ids=["anthropic", "deepseek", "openrouter", "responses-without-content", "unsigned", "redacted"])
def test_thinking_from_elsewhere_is_never_sent_as_reasoning(block: dict[str, Any]) -> None:
    out = tr({"messages": [user(text("go")), assistant(block, text("Answer.")), user(text("more"))]})
    assert [i["type"] for i in out["input"]] == ["message", "message", "message"]


@pytest.mark.parametrize(("provider", "model"), [("other", "gpt-5.1-codex"), ("oai", "gpt-5-mini")])
def test_reasoning_of_another_provider_or_model_is_not_replayed(provider: str, model: str) -> None:
    api = ResponsesAPI()
    block = issued_thinking(api, provider=provider, model=model)
    out = tr({"messages": [user(text("go")), assistant(block, text("Answer.")), user(text("more"))]}, api=api)
    assert "reasoning" not in [i["type"] for i in out["input"]]


def test_reasoning_without_the_item_it_led_to_is_left_out() -> None:
    api = ResponsesAPI()
    cut, kept = issued_thinking(api), issued_thinking(api)
    out = tr({"messages": [user(text("go")), assistant(cut), user(text("again")),
                           assistant(kept, text("Done.")), user(text("bye"))]}, api=api)
    reasoning = [i for i in out["input"] if i["type"] == "reasoning"]
    details = parse_reasoning_signature(kept["signature"])[1]
    assert details is not None
    assert [r["encrypted_content"] for r in reasoning] == [details[0]["encrypted_content"]]


def test_the_validating_upstream_refuses_what_the_real_api_refuses() -> None:
    """The checks the other tests rely on do fire."""
    api = ResponsesAPI()
    good = tr({"messages": [user(text("go"))], "tools": [{"name": "Bash", "input_schema": {"type": "object"}}]})
    fc = {"type": "function_call", "call_id": "call_1", "name": "Bash", "arguments": "{}"}
    out = {"type": "function_call_output", "call_id": "call_1", "output": "ok"}
    bad = [
        ({**good, "stop": ["x"]}, "Unknown parameter: 'stop'."),
        ({**good, "temperature": 0.5}, "'temperature' is not supported with this model"),
        ({**good, "max_output_tokens": 1}, "Expected a value >= 16"),
        ({**good, "input": [fc]}, "No tool output found for function call call_1."),
        ({**good, "input": [out]}, "No tool call found for function call output with call_id call_1."),
        ({**good, "input": [{**fc, "call_id": "c" * 65}, {**out, "call_id": "c" * 65}]}, "string too long"),
        ({**good, "tools": [{"type": "function", "name": "a.b", "parameters": {}, "strict": False}]},
         "does not match pattern"),
        ({**good, "input": [{"type": "reasoning", "id": "rs_1", "encrypted_content": "forged", "summary": []}, fc, out]},
         "could not be verified"),
        ({**good, "input": [{"type": "message", "role": "assistant", "content": [
            {"type": "input_text", "text": "x"}]}]}, "Invalid value: 'input_text'"),
    ]
    item = api.output(Step(reasoning="r"))[0]
    bad.append(({**good, "input": [item, {"type": "message", "role": "user", "content": "x"}]},
                "without its required following item"))
    for body, message in bad:
        with pytest.raises(Exception) as info:
            api.check(body)
        assert message in str(info.value), (message, info.value)
    api.check({**good, "input": [item, fc, out]})


def test_count_request_keeps_only_what_the_count_endpoint_takes() -> None:
    out = tr({"messages": [user(text("hi"))], "metadata": {"user_id": "u"}, "stream": True})
    counted = {k: out[k] for k in COUNT_KEYS if k in out}
    ResponsesAPI().check(counted, count=True)
    with pytest.raises(Exception, match="Unknown parameter"):
        ResponsesAPI().check(out, count=True)


@pytest.mark.parametrize(("messages", "message"), [
    ([{"role": "user", "content": 5}], "messages.0.content: must be a string or a list"),
    ([user({"type": "image", "source": {"type": "file"}})], "messages.0.content.0.source.type"),
    ([user({"type": "tool_result"})], "tool_use_id: required"),
    ([{"role": "tool", "content": "x"}], "messages.0.role"),
    ([assistant({"type": "tool_use", "id": 3, "name": "Bash"})], "needs string 'id' and 'name'"),
])
def test_malformed_requests_name_the_field(messages: list[Any], message: str) -> None:
    with pytest.raises(InvalidRequest, match=message.replace(".", r"\.")):
        translate_request({"model": "m", "max_tokens": 10, "messages": messages}, "gpt-5", REASONER)
