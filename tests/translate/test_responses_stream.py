"""OpenAI Responses event streams (quirks reproduced under tests/fixtures/openai_responses) → Anthropic events,
and whole Responses answers → one Anthropic message.

Every fixture is checked whole, split in two at every byte boundary, fed one byte at a time, and with CRLF line
ends: the translated stream must be identical in every case, and well-formed for the Anthropic SDKs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from router.translate.adapter import Partial
from router.translate.common import parse_reasoning_signature, reasoning_signature
from router.translate.openai_chat import ToolNames
from router.translate.openai_responses import translate_response
from router.wire.anthropic import accumulate
from router.wire.errors import ProxyError, UpstreamError
from router.wire.sse import SSEDecoder
from tests.support.responses_upstream import ResponsesAPI, Step, sse_event, stream_events
from tests.translate.responses_helpers import MODEL, PROVIDER, new_stream, translate_bytes
from tests.translate.stream_helpers import check_anthropic_stream, message_of

FIXTURES = Path(__file__).parent.parent / "fixtures" / "openai_responses"
STREAMS = sorted(FIXTURES.glob("*.sse"))


def events(stream: bytes) -> list[dict[str, Any]]:
    return [orjson.loads(d) for _n, d in SSEDecoder().feed(stream)]


def raw(*evs: dict[str, Any]) -> bytes:
    return b"".join(sse_event(e) for e in evs)


@pytest.mark.parametrize("path", STREAMS, ids=[p.stem for p in STREAMS])
def test_fixture_translates_to_expected_message(path: Path) -> None:
    stream = translate_bytes([path.read_bytes()])
    check_anthropic_stream(stream)
    assert message_of(stream) == json.loads(path.with_suffix(".expected.json").read_text())


@pytest.mark.parametrize("path", STREAMS, ids=[p.stem for p in STREAMS])
def test_fixture_split_at_every_byte_gives_the_same_stream(path: Path) -> None:
    data = path.read_bytes()
    whole = translate_bytes([data])
    for cut in range(1, len(data)):
        assert translate_bytes([data[:cut], data[cut:]]) == whole, f"differs when split at byte {cut}"
    assert translate_bytes([data[i:i + 1] for i in range(len(data))]) == whole
    crlf = data.replace(b"\n", b"\r\n")
    assert translate_bytes([crlf]) == whole
    assert translate_bytes([crlf[i:i + 7] for i in range(0, len(crlf), 7)]) == whole


def test_reasoning_signature_carries_the_completed_item_and_comes_just_before_the_stop() -> None:
    stream = translate_bytes([(FIXTURES / "reasoning_tool_call.sse").read_bytes()])
    evs = events(stream)
    stop = next(i for i, e in enumerate(evs) if e["type"] == "content_block_stop")
    assert evs[stop - 1]["delta"]["type"] == "signature_delta"
    source, details = parse_reasoning_signature(evs[stop - 1]["delta"]["signature"])
    assert source == "responses"
    assert details == [{"id": "rs_r2", "encrypted_content": "gAAAAABpFULLENCRYPTEDREASONING_0123456789abcdef==",
                        "summary": ["**Finding the tests**\n\nThe user wants the suite run.",
                                    "**Choosing a command**\n\npytest is the runner."],
                        "provider": PROVIDER, "model": MODEL}]  # from output_item.done, not the partial `added`


def test_interleaved_calls_never_put_a_delta_on_a_closed_or_other_block() -> None:
    stream = translate_bytes([(FIXTURES / "parallel_interleaved.sse").read_bytes()])
    check_anthropic_stream(stream)  # one block open at a time, deltas only into it
    starts = [e for e in events(stream) if e["type"] == "content_block_start"]
    assert [s["index"] for s in starts] == [0, 1]  # output indices 1 and 3 become blocks 0 and 1


def test_nothing_reaches_the_client_before_the_first_output_item() -> None:
    tr = new_stream()
    head = stream_events(ResponsesAPI().response(Step(text="hi"), MODEL, [], "completed"))[:2]
    assert tr.feed(b"".join(head)) == b"" and not tr.started


ERROR_EVENT = {"type": "error", "code": "rate_limit_exceeded", "param": None, "sequence_number": 2,
               "message": "Rate limit reached for gpt-5 on tokens per min (TPM). Please try again in 1.2s."}


def failed(code: str, message: str = "it failed") -> dict[str, Any]:
    return {"type": "response.failed", "response": {"id": "resp_f", "status": "failed", "output": [],
                                                     "error": {"code": code, "message": message}}}


@pytest.mark.parametrize(("ev", "status", "error_type", "words"), [
    (ERROR_EVENT, 429, "rate_limit_error", "Rate limit reached"),
    # the shape seen from OpenAI: the error object nested, then response.failed
    ({"type": "error", "sequence_number": 2, "error": {"type": "insufficient_quota", "code": "insufficient_quota",
                                                       "message": "You exceeded your current quota"}},
     429, "rate_limit_error", "billing"),
    (failed("server_error", "The server had an error processing your request."), 500, "api_error", "server had"),
    (failed("rate_limit_exceeded"), 429, "rate_limit_error", "rate_limit_exceeded"),
    (failed("invalid_prompt", "Invalid prompt: flagged"), 400, "invalid_request_error", "Invalid prompt"),
    (failed("context_length_exceeded", "Your input exceeds the context window of this model."), 400,
     "invalid_request_error", "prompt is too long"),
    (failed("invalid_base64_image"), 400, "invalid_request_error", "an image in the conversation"),
    (failed("vector_store_timeout"), 504, "timeout_error", "vector_store_timeout"),
    (failed("something_new"), 502, "api_error", "something_new"),
    ({"type": "response.failed", "response": {"status": "failed", "error": None}}, 502, "api_error", "failed"),
])
def test_failures_before_output_are_http_errors(ev: dict[str, Any], status: int, error_type: str,
                                                words: str) -> None:
    created = {"type": "response.created", "response": {"id": "resp_f", "status": "in_progress", "output": []}}
    with pytest.raises(ProxyError) as info:
        translate_bytes([raw(created, ev)])
    assert not isinstance(info.value, Partial)
    assert (info.value.status, info.value.error_type) == (status, error_type)
    assert words in info.value.message and "provider 'oai'" in info.value.message


def test_a_failure_after_output_is_partial_with_the_good_bytes() -> None:
    good = stream_events(ResponsesAPI().response(Step(text="Half an answer"), MODEL,
                                                 ResponsesAPI().output(Step(text="Half an answer")), "completed"))
    with pytest.raises(Partial) as info:
        translate_bytes([b"".join(good[:-1]) + raw(failed("server_error"))])
    assert info.value.failure.status == 500
    assert accumulate(info.value.good)["content"] == [{"type": "text", "text": "Half an answer"}]


@pytest.mark.parametrize("cut", ["before", "after"])
def test_a_stream_without_a_terminal_event_is_a_truncation(cut: str) -> None:
    api = ResponsesAPI()
    chunks = stream_events(api.response(Step(text="Some words"), MODEL, api.output(Step(text="Some words")),
                                        "completed"))
    reads = chunks[:2] if cut == "before" else chunks[:-1]
    with pytest.raises((UpstreamError, Partial)) as info:
        translate_bytes(reads)
    failure = info.value.failure if isinstance(info.value, Partial) else info.value
    assert "ended the stream before the answer was complete" in failure.message and failure.status == 502
    assert isinstance(info.value, Partial) == (cut == "after")


def test_an_event_that_is_not_json_fails_the_stream() -> None:
    with pytest.raises(UpstreamError) as info:
        translate_bytes([b"event: response.created\ndata: {not json\n\n"])
    assert "not JSON" in info.value.message


def test_events_after_the_terminal_one_are_ignored_and_close_adds_nothing() -> None:
    data = (FIXTURES / "text.sse").read_bytes()
    assert translate_bytes([data + raw(failed("server_error"))]) == translate_bytes([data])


def test_usage_counts_cached_and_written_tokens_apart() -> None:
    api = ResponsesAPI()
    usage = {"input_tokens": 10000, "input_tokens_details": {"cached_tokens": 6000, "cache_write_tokens": 1000},
             "output_tokens": 300, "output_tokens_details": {"reasoning_tokens": 200}}
    step = Step(text="ok", usage=usage)
    tr = new_stream()
    tr.feed(b"".join(stream_events(api.response(step, MODEL, api.output(step), "completed"))))
    assert tr.close() == b"" and tr.finished
    assert tr.usage == {"input_tokens": 3000, "output_tokens": 300, "cache_creation_input_tokens": 1000,
                        "cache_read_input_tokens": 6000}


def test_usage_missing_is_estimated_and_marked() -> None:
    tr = new_stream()
    tr.feed((FIXTURES / "final_only.sse").read_bytes())
    tr.close()
    assert tr.usage["estimated"] == 1 and tr.usage["input_tokens"] == 100


def test_long_tool_names_are_restored() -> None:
    long_name = "mcp__a_very_long_server_name_for_testing__and_an_even_longer_tool_name_here"
    names = ToolNames()
    short = names.short(long_name)
    step = Step(calls=[("call_1", short, {"a": 1})])
    api = ResponsesAPI()
    stream = translate_bytes(stream_events(api.response(step, MODEL, api.output(step), "completed")), names)
    assert message_of(stream)["content"][0]["name"] == long_name


def test_summary_and_raw_reasoning_text_both_become_thinking() -> None:
    evs = [
        {"type": "response.output_item.added", "output_index": 0, "item": {"id": "rs_1", "type": "reasoning"}},
        {"type": "response.reasoning_text.delta", "output_index": 0, "content_index": 0, "delta": "raw thought"},
        {"type": "response.output_item.done", "output_index": 0,
         "item": {"id": "rs_1", "type": "reasoning", "summary": [], "encrypted_content": "E1"}},
        {"type": "response.completed", "response": {"status": "completed", "output": []}},
    ]
    msg = message_of(translate_bytes([raw(*evs)]))
    assert msg["content"][0]["thinking"] == "raw thought"
    assert parse_reasoning_signature(msg["content"][0]["signature"])[1][0]["encrypted_content"] == "E1"


def test_deltas_without_output_index_or_added_event_still_land() -> None:
    evs = [{"type": "response.output_text.delta", "delta": "no "},
           {"type": "response.output_text.delta", "delta": "index"},
           {"type": "response.completed", "response": {"status": "completed", "output": []}}]
    assert message_of(translate_bytes([raw(*evs)]))["content"] == [{"type": "text", "text": "no index"}]


def test_data_only_events_without_event_lines_work_too() -> None:
    data = (FIXTURES / "text.sse").read_bytes()
    stripped = b"\n".join(line for line in data.split(b"\n") if not line.startswith(b"event: "))
    assert message_of(translate_bytes([stripped])) == message_of(translate_bytes([data]))


# ---- whole answers --------------------------------------------------------------------------------------

def whole(step: Step, names: ToolNames | None = None, **over: Any) -> dict[str, Any]:
    api = ResponsesAPI()
    answer = {**api.whole(step, MODEL), **over}
    return translate_response(answer, "oai,gpt-5.1-codex", names or ToolNames(), PROVIDER, MODEL)


def test_whole_answer_with_reasoning_text_and_calls() -> None:
    msg = whole(Step(reasoning="Think first.", text="Running both.",
                     calls=[("call_a", "Bash", {"command": "ls"}), ("call_b", "Read", {"file_path": "/x"})]))
    kinds = [b["type"] for b in msg["content"]]
    assert kinds == ["thinking", "text", "tool_use", "tool_use"]
    assert msg["content"][0]["thinking"] == "Think first."
    source, details = parse_reasoning_signature(msg["content"][0]["signature"])
    assert source == "responses" and details is not None and details[0]["encrypted_content"].startswith("gAAAA")
    assert msg["content"][3] == {"type": "tool_use", "id": "call_b", "name": "Read", "input": {"file_path": "/x"}}
    assert msg["stop_reason"] == "tool_use"
    assert msg["usage"] == {"input_tokens": 200, "output_tokens": 40, "cache_creation_input_tokens": 0,
                            "cache_read_input_tokens": 1000}


@pytest.mark.parametrize(("step", "reason"), [
    (Step(text="fine"), "end_turn"),
    (Step(refusal="No."), "refusal"),
    (Step(text="cut", incomplete="max_output_tokens"), "max_tokens"),
    (Step(text="cut", incomplete="content_filter"), "refusal"),
    (Step(calls=[("c", "Bash", {})]), "tool_use"),
])
def test_whole_answer_stop_reasons(step: Step, reason: str) -> None:
    assert whole(step)["stop_reason"] == reason


def test_whole_and_streamed_answers_agree() -> None:
    api = ResponsesAPI()
    step = Step(reasoning="Plan.", text="Here.", calls=[("call_q", "Bash", {"command": "true"})])
    final = api.response(step, MODEL, api.output(step), "completed")
    streamed = message_of(translate_bytes(stream_events(final, interleave=True)))
    answered = translate_response(final, "oai,gpt-5.1-codex", ToolNames(), PROVIDER, MODEL)
    answered.pop("id")
    assert streamed == answered


@pytest.mark.parametrize(("answer", "status", "words"), [
    ({"error": {"message": "The server had an error", "type": "server_error", "code": "server_error"}}, 500,
     "server had"),
    ({"id": "r", "status": "failed", "output": [], "error": {"code": "rate_limit_exceeded", "message": "slow"}},
     429, "slow"),
    ({"choices": []}, 502, "api_base_url should end in /responses"),
])
def test_whole_answer_failures(answer: dict[str, Any], status: int, words: str) -> None:
    with pytest.raises(UpstreamError) as info:
        translate_response(answer, "l", ToolNames(), PROVIDER, MODEL)
    assert info.value.status == status and words in info.value.message


def test_reasoning_without_encrypted_content_gets_a_signature_that_is_never_replayed() -> None:
    msg = translate_response({"status": "completed", "output": [{"type": "reasoning", "id": "rs_x", "summary": []}]},
                             "l", ToolNames(), PROVIDER, MODEL)
    assert msg["content"][0]["signature"] == reasoning_signature("responses")
