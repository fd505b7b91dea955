"""Gemini streams (tests/fixtures/gemini: quirks of real Gemini streams, written for these tests) → Anthropic
events. Every fixture is checked whole, split in two at every byte, one byte at a time, and with LF instead of
Gemini's CRLF separators: the translated stream must be identical in every case."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from router.translate.gemini import signatures
from router.translate.gemini.options import GeminiOptions
from router.translate.gemini.request import ToolNames, translate_request
from router.wire.errors import ProxyError
from tests.support.gemini_upstream import response, sse_events, usage
from tests.translate.gemini_helpers import fails, message, translate
from tests.translate.stream_helpers import check_anthropic_stream

FIXTURES = Path(__file__).parent.parent / "fixtures" / "gemini"
STREAMS = sorted(FIXTURES.glob("*.sse"))


@pytest.mark.parametrize("path", STREAMS, ids=[p.stem for p in STREAMS])
def test_fixture_translates_to_expected_message(path: Path) -> None:
    stream = translate([path.read_bytes()])
    check_anthropic_stream(stream)
    assert message([path.read_bytes()]) == json.loads(path.with_suffix(".expected.json").read_text())


@pytest.mark.parametrize("path", STREAMS, ids=[p.stem for p in STREAMS])
def test_fixture_split_at_every_byte_gives_the_same_stream(path: Path) -> None:
    raw = path.read_bytes()
    whole = translate([raw])
    for cut in range(1, len(raw)):
        assert translate([raw[:cut], raw[cut:]]) == whole, f"differs when split at byte {cut}"
    assert translate([raw[i:i + 1] for i in range(len(raw))]) == whole
    lf = raw.replace(b"\r\n", b"\n")
    assert translate([lf]) == whole
    assert translate([lf[i:i + 5] for i in range(0, len(lf), 5)]) == whole


def _events(*events: dict[str, Any]) -> list[bytes]:
    return [b"".join(sse_events(*events))]


FINISHES = [
    ("STOP", [{"text": "hi"}], "end_turn"),
    ("STOP", [{"functionCall": {"name": "Bash", "args": {}}}], "tool_use"),
    ("MAX_TOKENS", [{"text": "hi"}], "max_tokens"),
    ("OTHER", [{"text": "hi"}], "end_turn"),
    *[(reason, [{"text": "hi"}], "refusal") for reason in
      ("SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY")],
]


@pytest.mark.parametrize(("finish", "parts", "stop"), FINISHES, ids=[f"{f}-{s}" for f, _, s in FINISHES])
def test_finish_reasons(finish: str, parts: list[dict[str, Any]], stop: str) -> None:
    assert message(_events(response(parts, finish, usage())))["stop_reason"] == stop


def test_usage_is_cumulative_with_cache_and_thoughts_apart() -> None:
    msg = message(_events(response([{"text": "a"}], None, usage(500, 3, 0)),
                          response([{"text": "b"}], "STOP", usage(5000, 30, 4000, thoughts=70))))
    assert msg["usage"] == {"input_tokens": 1000, "output_tokens": 100, "cache_creation_input_tokens": 0,
                            "cache_read_input_tokens": 4000}


def test_malformed_function_call_before_output_is_a_502() -> None:
    exc = fails(_events({"candidates": [{"finishReason": "MALFORMED_FUNCTION_CALL", "finishMessage": "bad call"}]}))
    assert exc.status == 502 and "MALFORMED_FUNCTION_CALL" in exc.message and "bad call" in exc.message


def test_malformed_function_call_after_output_is_an_error_event() -> None:
    stream = translate(_events(response([{"text": "Let me"}]),
                               {"candidates": [{"finishReason": "MALFORMED_FUNCTION_CALL"}]}))
    assert stream.rstrip().endswith(b"}") and b"event: error" in stream and b"MALFORMED_FUNCTION_CALL" in stream
    assert b"message_stop" not in stream


def test_blocked_prompt_is_a_400_saying_why() -> None:
    exc = fails(_events({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "usageMetadata": usage()}))
    assert exc.status == 400 and exc.error_type == "invalid_request_error"
    assert exc.message.startswith("the prompt was blocked by Gemini's safety filter: PROHIBITED_CONTENT")


@pytest.mark.parametrize(("code", "status", "kind", "expected"), [
    (429, "RESOURCE_EXHAUSTED", "rate_limit_error", 429),
    (503, "UNAVAILABLE", "overloaded_error", 529),
    (500, "INTERNAL", "api_error", 500),
    (400, "INVALID_ARGUMENT", "invalid_request_error", 400),
])
def test_error_event_first_is_an_http_error(code: int, status: str, kind: str, expected: int) -> None:
    exc = fails(_events({"error": {"code": code, "message": "boom", "status": status}}))
    assert (exc.status, exc.error_type) == (expected, kind) and status in exc.message


def test_error_event_after_output_ends_the_stream_with_an_error_event() -> None:
    stream = translate(_events(response([{"text": "partial"}]),
                               {"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}))
    assert b'"type":"overloaded_error"' in stream and b"message_stop" not in stream


def test_stream_without_finish_reason_is_truncated() -> None:
    assert fails([]).status == 502
    stream = translate(_events(response([{"text": "partial"}])))
    assert b"event: error" in stream and b"no finishReason" in stream


def test_event_that_is_not_json() -> None:
    assert fails([b"data: {not json\r\n\r\n"]).status == 502


def test_signatures_round_trip_into_the_next_request() -> None:
    """What Gemini signed comes back on the same parts: the thought's own, the call's, the text's."""
    parts = [{"text": "Thinking.", "thought": True, "thoughtSignature": "VGhvdWdodA=="},
             {"text": "I will run it."},
             {"text": "", "thoughtSignature": "VGV4dA=="},
             {"functionCall": {"id": "c1", "name": "Bash", "args": {"command": "ls"}}, "thoughtSignature": "Q2FsbA=="},
             {"functionCall": {"id": "c2", "name": "Bash", "args": {"command": "pwd"}}}]
    msg = message(_events(response(parts, "STOP", usage())))
    body = {"max_tokens": 100, "messages": [
        {"role": "user", "content": "go"}, {"role": "assistant", "content": msg["content"]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "c1", "content": "a"},
                                     {"type": "tool_result", "tool_use_id": "c2", "content": "b"}]}]}
    request, _ = translate_request(body, "gemini-3-pro-preview", GeminiOptions(generation=3, family="pro"))
    assert request["contents"][1]["parts"] == [
        {"text": "Thinking.", "thought": True, "thoughtSignature": "VGhvdWdodA=="},
        {"text": "I will run it.", "thoughtSignature": "VGV4dA=="},
        {"functionCall": {"id": "c1", "name": "Bash", "args": {"command": "ls"}}, "thoughtSignature": "Q2FsbA=="},
        {"functionCall": {"id": "c2", "name": "Bash", "args": {"command": "pwd"}}}]


def test_thinking_signatures_are_ccr_signatures_the_other_adapters_ignore() -> None:
    from router.translate.common import parse_reasoning_signature

    msg = message([(FIXTURES / "thoughts_parallel_calls.sse").read_bytes()])
    signature = msg["content"][0]["signature"]
    assert signature.startswith("ccr1.gemini.")
    assert parse_reasoning_signature(signature) == ("gemini", None)  # no reasoning details to replay elsewhere
    assert signatures.unpack(signature) == {"n": "Q2lRQjB4YWJjZGVm"}


def test_long_tool_names_are_restored() -> None:
    long_name = "mcp__a_very_long_server_name_for_testing__and_an_even_longer_tool_name_here"
    names = ToolNames()
    short = names.short(long_name)
    assert short != long_name and len(short) <= 64
    msg = message(_events(response([{"functionCall": {"name": short, "args": {}}}], "STOP")), names)
    assert msg["content"][0]["name"] == long_name


def test_whole_answer_matches_the_stream() -> None:
    from router.translate.gemini.response import translate_response

    parts = [{"text": "Hm.", "thought": True}, {"functionCall": {"id": "x1", "name": "Bash", "args": {"a": 1}},
                                                 "thoughtSignature": "U2ln"}]
    answer = response(parts, "STOP", usage(100, 5, 0, thoughts=3))
    whole, logged = translate_response(answer, "up,gemini-test", ToolNames(), "up")
    streamed = message(_events(answer))
    whole.pop("id")
    assert whole == streamed and logged == streamed["usage"]


def test_whole_answer_blocked_or_erroring() -> None:
    from router.translate.gemini.response import translate_response

    with pytest.raises(ProxyError) as info:
        translate_response({"promptFeedback": {"blockReason": "SAFETY"}}, "m", ToolNames(), "up")
    assert info.value.status == 400
    with pytest.raises(ProxyError) as info:
        translate_response({"hello": 1}, "m", ToolNames(), "up")
    assert info.value.status == 502 and "api_base_url" in info.value.message


def test_fields_of_the_wrong_type_read_as_absent() -> None:
    """An upstream's answer is not trusted to have the shape it should: nothing in it becomes an internal error
    or an invalid Anthropic stream."""
    stream = translate(_events(
        {"candidates": "x"}, {"candidates": [None, 1]}, {"candidates": [{"content": {"parts": "x"}}]},
        {"candidates": [{"content": {"parts": [{"functionCall": "x"}, {"text": 5}, {"thought": True, "text": None},
                                               {"functionCall": {"name": None, "args": [1], "id": 7}},
                                               {"thoughtSignature": 12}, 3]}, "finishReason": 7}]},
        {"usageMetadata": {"promptTokenCount": "12", "candidatesTokenCount": -4}, "promptFeedback": "x"},
        {"candidates": [{"content": None, "groundingMetadata": {"groundingChunks": [None, {"web": "x"}]},
                         "finishReason": "STOP"}]}))
    check_anthropic_stream(stream)
    msg = message(_events({"candidates": [{"content": {"parts": [{"functionCall": {"name": None, "args": [1]}}]},
                                           "finishReason": "STOP"}]}))
    assert msg["content"][0]["input"] == {} and msg["stop_reason"] == "tool_use"
