"""Anthropic requests → Gemini GenerateContentRequests: each case's output is also checked by the validating
scripted Gemini (tests/support/gemini_upstream.py), so a translation the real API would refuse fails here."""

from __future__ import annotations

from typing import Any

import pytest

from router.translate.gemini import signatures
from router.translate.gemini.options import GeminiOptions, traits
from router.translate.gemini.request import SYSTEM_NOTE, translate_request
from router.translate.gemini.schema import clean_parameters
from router.translate.reading import IMAGE_OMITTED
from router.wire.errors import InvalidRequest
from tests.support.gemini_upstream import SKIP, GeminiAPI

G3 = GeminiOptions(generation=3, family="pro")
G3_FLASH = GeminiOptions(generation=3, family="flash")
G25_PRO = GeminiOptions(generation=2, family="pro")
G25_FLASH = GeminiOptions(generation=2, family="flash")
G25_LITE = GeminiOptions(generation=2, family="flash-lite")
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


def translate(body: dict[str, Any], model: str = "gemini-3-pro-preview", opts: GeminiOptions = G3,
              signed: tuple[str, ...] = ()) -> dict[str, Any]:
    request, _ = translate_request({"max_tokens": 1000, **body}, model, opts)
    api = GeminiAPI(lambda call: None)  # type: ignore[arg-type,return-value]
    api.issued.update(signed)
    api.validate(request, model)  # what real Gemini would refuse fails the test
    return request


def user(content: Any) -> dict[str, Any]:
    return {"role": "user", "content": content}


def assistant(content: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": content}


def call(call_id: str, name: str = "Bash", **args: Any) -> dict[str, Any]:
    return {"type": "tool_use", "id": call_id, "name": name, "input": args}


def result(call_id: str, content: Any = "ok", **extra: Any) -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": call_id, "content": content, **extra}


# ---- system, roles, merging ----------------------------------------------------------------------------------

def test_system_becomes_system_instruction_without_the_billing_block() -> None:
    out = translate({"system": [{"type": "text", "text": "x-anthropic-billing-header: cc_version=2"},
                                {"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}},
                                {"type": "text", "text": "Be brief."}],
                     "messages": [user("hi")]})
    assert out["systemInstruction"] == {"parts": [{"text": "You are Claude Code.\n\nBe brief."}]}
    assert out["contents"] == [{"role": "user", "parts": [{"text": "hi"}]}]


def test_mid_conversation_system_message_stays_in_place_as_marked_user_text() -> None:
    out = translate({"system": "S", "messages": [user("one"), assistant("two"), {"role": "system", "content": "note"},
                                                 user("three")]})
    assert out["systemInstruction"] == {"parts": [{"text": "S"}]}
    assert out["contents"] == [
        {"role": "user", "parts": [{"text": "one"}]}, {"role": "model", "parts": [{"text": "two"}]},
        {"role": "user", "parts": [{"text": SYSTEM_NOTE + "note"}, {"text": "three"}]}]


def test_consecutive_turns_of_one_role_are_merged() -> None:
    out = translate({"messages": [user("a"), user([{"type": "text", "text": "b"}]), assistant("c"), assistant("d"),
                                  user("e")]})
    assert [c["role"] for c in out["contents"]] == ["user", "model", "user"]
    assert out["contents"][0]["parts"] == [{"text": "a"}, {"text": "b"}]
    assert out["contents"][1]["parts"] == [{"text": "c"}, {"text": "d"}]


def test_system_note_between_call_and_results_keeps_the_responses_first() -> None:
    out = translate({"messages": [user("go"), assistant([call("t1", command="ls")]),
                                  {"role": "system", "content": "reminder"}, user([result("t1")])]})
    assert list(out["contents"][2]["parts"][0]) == ["functionResponse"]
    assert out["contents"][2]["parts"][1] == {"text": SYSTEM_NOTE + "reminder"}


def test_empty_messages_are_refused() -> None:
    with pytest.raises(InvalidRequest):
        translate({"messages": [user("")]})


# ---- images and documents -----------------------------------------------------------------------------------

MEDIA = [
    ({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
     {"inlineData": {"mimeType": "image/png", "data": PNG}}),
    ({"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
     {"fileData": {"fileUri": "https://example.com/cat.jpg", "mimeType": "image/jpeg"}}),
    ({"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0xLjQK"}},
     {"inlineData": {"mimeType": "application/pdf", "data": "JVBERi0xLjQK"}}),
    ({"type": "document", "title": "notes", "source": {"type": "text", "media_type": "text/plain", "data": "hello"}},
     {"text": "<document title='notes'>\nhello\n</document>"}),
    ({"type": "document", "source": {"type": "url", "url": "https://example.com/a.pdf"}},
     {"fileData": {"fileUri": "https://example.com/a.pdf", "mimeType": "application/pdf"}}),
]


@pytest.mark.parametrize(("block", "part"), MEDIA, ids=["image-base64", "image-url", "pdf", "text-doc", "pdf-url"])
def test_images_and_documents(block: dict[str, Any], part: dict[str, Any]) -> None:
    out = translate({"messages": [user([block, {"type": "text", "text": "what is it?"}])]})
    assert out["contents"][0]["parts"] == [part, {"text": "what is it?"}]


def test_images_to_a_text_only_model_become_a_note() -> None:
    blind = GeminiOptions(generation=3, family="pro", blind=True)
    out = translate({"messages": [user([MEDIA[0][0], {"type": "text", "text": "see"}])]}, opts=blind)
    assert out["contents"][0]["parts"] == [{"text": IMAGE_OMITTED}, {"text": "see"}]


# ---- tools --------------------------------------------------------------------------------------------------

def test_tool_use_and_results_pair_by_id_and_name_in_call_order() -> None:
    out = translate({"messages": [
        user("go"),
        assistant([{"type": "text", "text": "Running both."}, call("t1", command="ls"), call("t2", "Read", file_path="/a")]),
        user([result("t2", [{"type": "text", "text": "file"}]), result("t1", "boom", is_error=True),
              {"type": "text", "text": "continue"}])]})
    model, answers = out["contents"][1], out["contents"][2]
    assert model["parts"][1:] == [
        {"functionCall": {"id": "t1", "name": "Bash", "args": {"command": "ls"}}, "thoughtSignature": SKIP},
        {"functionCall": {"id": "t2", "name": "Read", "args": {"file_path": "/a"}}}]
    # in call order, each call's name found by its id, errors under "error"
    assert answers["parts"] == [
        {"functionResponse": {"id": "t1", "name": "Bash", "response": {"error": "boom"}}},
        {"functionResponse": {"id": "t2", "name": "Read", "response": {"output": "file"}}},
        {"text": "continue"}]


def test_images_in_tool_results_follow_the_function_responses() -> None:
    out = translate({"messages": [user("look"), assistant([call("t1", "Read", file_path="/dot.png")]),
                                  user([result("t1", [MEDIA[0][0]])])]})
    assert out["contents"][2]["parts"] == [
        {"functionResponse": {"id": "t1", "name": "Read", "response": {"output": "(the attachment follows)"}}},
        {"text": "Attachments returned by tool call t1:"},
        {"inlineData": {"mimeType": "image/png", "data": PNG}}]


def test_unanswered_calls_and_orphan_results_are_repaired() -> None:
    out = translate({"messages": [user("go"), assistant([call("t1")]), user("never mind"), assistant("ok"),
                                  user([result("zz", "stray")])]})
    assert out["contents"][2]["parts"][0]["functionResponse"]["response"]["error"].startswith("(no result")
    assert out["contents"][4]["parts"] == [{"text": "[tool result for call zz]\nstray"}]


def test_tools_become_function_declarations() -> None:
    long_name = "mcp__some_really_long_server_name__with_a_tool_whose_name_is_long_too"
    out = translate({"messages": [user("hi")], "tools": [
        {"name": "Bash", "description": "Run", "input_schema": {"type": "object", "properties": {
            "command": {"type": "string"}}, "required": ["command"], "additionalProperties": False,
            "$schema": "http://json-schema.org/draft-07/schema#"}},
        {"name": "ExitPlanMode", "input_schema": {"type": "object", "properties": {}}},
        {"name": long_name, "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}}},
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 5},
        {"name": "Deferred", "defer_loading": True, "input_schema": {"type": "object"}}]})
    decls = out["tools"][0]["functionDeclarations"]
    assert out["tools"] == [{"functionDeclarations": decls}]  # web search left out beside functions
    assert decls[0] == {"name": "Bash", "description": "Run", "parameters": {
        "type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}}
    assert decls[1] == {"name": "ExitPlanMode"}  # no parameters: Gemini refuses empty object properties
    assert len(decls[2]["name"]) <= 64 and decls[2]["name"] != long_name
    assert len(decls) == 3


def test_web_search_alone_becomes_google_search() -> None:
    out = translate({"messages": [user("search")], "tools": [{"type": "web_search_20250305", "name": "web_search"}]})
    assert out["tools"] == [{"googleSearch": {}}] and "toolConfig" not in out


@pytest.mark.parametrize(("choice", "config"), [
    ({"type": "auto"}, {"mode": "AUTO"}),
    ({"type": "any"}, {"mode": "ANY"}),
    ({"type": "none"}, {"mode": "NONE"}),
    ({"type": "tool", "name": "Bash"}, {"mode": "ANY", "allowedFunctionNames": ["Bash"]}),
    ({"type": "auto", "disable_parallel_tool_use": True}, {"mode": "AUTO"}),
])
def test_tool_choice(choice: dict[str, Any], config: dict[str, Any]) -> None:
    tool = {"name": "Bash", "input_schema": {"type": "object", "properties": {"c": {"type": "string"}}}}
    out = translate({"messages": [user("hi")], "tools": [tool], "tool_choice": choice})
    assert out["toolConfig"] == {"functionCallingConfig": config}


# ---- schema cleaning ----------------------------------------------------------------------------------------

SCHEMAS = [
    ("const string", {"const": "a"}, {"type": "string", "enum": ["a"]}),
    ("const number", {"type": "integer", "const": 3}, {"type": "integer", "description": "(must be 3)"}),
    ("nullable array", {"type": ["string", "null"]}, {"type": "string", "nullable": True}),
    ("type union", {"type": ["string", "number"], "description": "d"},
     {"anyOf": [{"type": "string"}, {"type": "number"}], "description": "d"}),
    ("anyOf null", {"anyOf": [{"type": "string"}, {"type": "null"}]}, {"type": "string", "nullable": True}),
    ("oneOf", {"oneOf": [{"type": "string"}, {"type": "integer"}]}, {"anyOf": [{"type": "string"}, {"type": "integer"}]}),
    ("exclusive int", {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10},
     {"type": "integer", "minimum": 1, "maximum": 9}),
    ("exclusive number", {"type": "number", "exclusiveMinimum": 0},
     {"type": "number", "minimum": 0, "description": "(greater than 0, not equal)"}),
    ("format kept", {"type": "string", "format": "date-time"}, {"type": "string", "format": "date-time"}),
    ("format described", {"type": "string", "format": "uri"}, {"type": "string", "description": "(format: uri)"}),
    ("number enum", {"type": "integer", "enum": [1, 2]}, {"type": "integer", "description": "(one of: 1, 2)"}),
    ("default and examples", {"type": "string", "description": "x", "default": "a", "examples": ["b"]},
     {"type": "string", "description": 'x (default: "a") (examples: ["b"])'}),
    ("dropped keys", {"type": "object", "properties": {"a": {"type": "string"}}, "propertyNames": {"pattern": "x"},
                      "additionalProperties": {"type": "string"}, "$comment": "c", "patternProperties": {}},
     {"type": "object", "properties": {"a": {"type": "string"}}}),
    ("free-form map", {"type": "object", "additionalProperties": {"type": "string"}},
     {"type": "object", "description": "(an object of any keys)"}),
    ("required filtered", {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a", "ghost"]},
     {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}),
    ("allOf", {"allOf": [{"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
                         {"properties": {"b": {"type": "number"}}}]},
     {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "number"}}, "required": ["a"]}),
]


@pytest.mark.parametrize(("case", "schema", "expected"), SCHEMAS, ids=[c for c, _, _ in SCHEMAS])
def test_schema_cleaning(case: str, schema: dict[str, Any], expected: dict[str, Any]) -> None:
    wrapped = clean_parameters({"type": "object", "properties": {"x": schema}})
    assert wrapped is not None
    assert wrapped["properties"]["x"] == expected
    GeminiAPI(lambda c: None)._schema(wrapped, "parameters")  # type: ignore[arg-type,return-value]


def test_refs_are_inlined_with_cycles_cut() -> None:
    schema = {"type": "object", "$defs": {
        "Node": {"type": "object", "properties": {"name": {"type": "string"}, "child": {"$ref": "#/$defs/Node"}}},
        "Leaf": {"type": "string", "enum": ["a", "b"]}},
        "properties": {"root": {"$ref": "#/$defs/Node"}, "leaf": {"$ref": "#/definitions/Missing"},
                       "kind": {"$ref": "#/$defs/Leaf", "description": "which"}}}
    out = clean_parameters(schema)
    assert out is not None
    root = out["properties"]["root"]
    assert root["properties"]["name"] == {"type": "string"}
    assert root["properties"]["child"] == {"type": "object",
                                          "description": "(recursive reference to Node, described above)"}
    assert out["properties"]["kind"] == {"type": "string", "enum": ["a", "b"], "description": "which"}
    assert "unresolved" in out["properties"]["leaf"]["description"]
    GeminiAPI(lambda c: None)._schema(out, "parameters")  # type: ignore[arg-type,return-value]


# ---- thinking and effort ------------------------------------------------------------------------------------

THINKING = [
    ("adaptive high g3", {"thinking": {"type": "adaptive"}, "output_config": {"effort": "high"}}, G3,
     {"thinkingLevel": "high", "includeThoughts": True}),
    ("effort low g3", {"output_config": {"effort": "low"}}, G3, {"thinkingLevel": "low", "includeThoughts": True}),
    ("medium g3 pro", {"thinking": {"type": "adaptive"}, "output_config": {"effort": "medium"}}, G3,
     {"thinkingLevel": "high", "includeThoughts": True}),
    ("medium g3 flash", {"output_config": {"effort": "medium"}}, G3_FLASH,
     {"thinkingLevel": "medium", "includeThoughts": True}),
    ("max g3", {"output_config": {"effort": "max"}}, G3, {"thinkingLevel": "high", "includeThoughts": True}),
    ("budget g3", {"thinking": {"type": "enabled", "budget_tokens": 2000}}, G3,
     {"thinkingLevel": "low", "includeThoughts": True}),
    ("disabled g3 pro", {"thinking": {"type": "disabled"}}, G3, {"thinkingLevel": "low"}),
    ("disabled g3 flash", {"thinking": {"type": "disabled"}}, G3_FLASH, {"thinkingLevel": "minimal"}),
    ("adaptive 2.5", {"thinking": {"type": "adaptive"}}, G25_PRO, {"thinkingBudget": -1, "includeThoughts": True}),
    ("budget 2.5", {"thinking": {"type": "enabled", "budget_tokens": 5000}}, G25_PRO,
     {"thinkingBudget": 5000, "includeThoughts": True}),
    ("budget 2.5 clamped", {"thinking": {"type": "enabled", "budget_tokens": 60000}}, G25_FLASH,
     {"thinkingBudget": 24576, "includeThoughts": True}),
    ("budget 2.5 pro floor", {"thinking": {"type": "enabled", "budget_tokens": 10}}, G25_PRO,
     {"thinkingBudget": 128, "includeThoughts": True}),
    ("budget 2.5 flash-lite floor", {"thinking": {"type": "enabled", "budget_tokens": 100}}, G25_LITE,
     {"thinkingBudget": 512, "includeThoughts": True}),
    ("effort low 2.5", {"thinking": {"type": "adaptive"}, "output_config": {"effort": "low"}}, G25_FLASH,
     {"thinkingBudget": 1024, "includeThoughts": True}),
    ("xhigh 2.5", {"output_config": {"effort": "xhigh"}}, G25_PRO, {"thinkingBudget": 24576, "includeThoughts": True}),
    ("disabled 2.5 flash", {"thinking": {"type": "disabled"}}, G25_FLASH, {"thinkingBudget": 0}),
    ("disabled 2.5 pro", {"thinking": {"type": "disabled"}}, G25_PRO, None),
    ("absent", {}, G3, None),
]


@pytest.mark.parametrize(("case", "fields", "opts", "config"), THINKING, ids=[c for c, *_ in THINKING])
def test_thinking_and_effort(case: str, fields: dict[str, Any], opts: GeminiOptions,
                             config: dict[str, Any] | None) -> None:
    model = {G3: "gemini-3-pro-preview", G3_FLASH: "gemini-3-flash-preview", G25_PRO: "gemini-2.5-pro",
             G25_FLASH: "gemini-2.5-flash", G25_LITE: "gemini-2.5-flash-lite"}[opts]
    out = translate({"messages": [user("hi")], **fields}, model, opts)
    assert out["generationConfig"].get("thinkingConfig") == config


def test_generation_config_and_max_output_clamp() -> None:
    opts = GeminiOptions(max_output_tokens=8192, generation=3, family="pro")
    out = translate({"messages": [user("hi")], "max_tokens": 64000, "temperature": 0.5, "top_p": 0.9, "top_k": 40,
                     "stop_sequences": ["END"], "metadata": {"user_id": "u"}}, opts=opts)
    assert out["generationConfig"] == {"maxOutputTokens": 8192, "temperature": 0.5, "topP": 0.9, "topK": 40,
                                       "stopSequences": ["END"]}


@pytest.mark.parametrize(("model", "expected"), [
    ("gemini-2.5-pro", (2, "pro")), ("gemini-2.5-flash-lite", (2, "flash-lite")),
    ("gemini-3-pro-preview", (3, "pro")), ("gemini-3.1-flash", (3, "flash")),
    ("models/gemini-flash-latest", (None, "flash")),
])
def test_model_traits(model: str, expected: tuple[int | None, str]) -> None:
    assert traits(model) == expected


# ---- signatures on replay -----------------------------------------------------------------------------------

def test_gemini_signatures_are_replayed_where_they_came_from() -> None:
    thought = {"type": "thinking", "thinking": "plan", "signature": signatures.pack({"t": "VA==", "n": "Tg=="})}
    out = translate({"messages": [user("go"), assistant([thought, call("t1", command="ls"), call("t2", command="pwd")]),
                                  user([result("t1"), result("t2")])]}, signed=("VA==", "Tg=="))
    assert out["contents"][1]["parts"] == [
        {"text": "plan", "thought": True, "thoughtSignature": "VA=="},
        {"functionCall": {"id": "t1", "name": "Bash", "args": {"command": "ls"}}, "thoughtSignature": "Tg=="},
        {"functionCall": {"id": "t2", "name": "Bash", "args": {"command": "pwd"}}}]


def test_each_step_of_the_current_turn_gets_a_signature() -> None:
    """Two model steps from another provider (no Gemini signatures): Gemini 3 would refuse both steps' first
    calls without one, so each gets the documented skip value; Gemini 2.5 gets none."""
    body = {"messages": [user("go"), assistant([call("t1")]), user([result("t1")]), assistant([call("t2")]),
                         user([result("t2")])]}
    out = translate(body)
    assert [c["parts"][0].get("thoughtSignature") for c in out["contents"] if c["role"] == "model"] == [SKIP, SKIP]
    old = translate(body, "gemini-2.5-pro", G25_PRO)
    assert all("thoughtSignature" not in p for c in old["contents"] for p in c["parts"])


@pytest.mark.parametrize("signature", [
    "ErUBCkYIBxgCKkA-an-anthropic-signature", "ccr1.reasoning_content", "ccr1.reasoning_details.W3sidHlwZSI6MX1d", None])
def test_thinking_from_other_providers_is_never_sent_as_a_gemini_signature(signature: str | None) -> None:
    thought: dict[str, Any] = {"type": "thinking", "thinking": "other model's thoughts"}
    if signature is not None:
        thought["signature"] = signature
    out = translate({"messages": [user("go"), assistant([thought, {"type": "redacted_thinking", "data": "xx"},
                                                        {"type": "text", "text": "Answer."}]), user("more")]})
    assert out["contents"][1]["parts"] == [{"text": "Answer."}]
