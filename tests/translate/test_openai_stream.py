"""OpenAI chunk streams (provider quirks reproduced under tests/fixtures/openai_streams) → Anthropic events.

Every fixture is checked whole, split in two at every byte boundary, fed one byte at a time, and with CRLF
line ends: the translated stream must be identical in every case.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from router.translate.common import parse_reasoning_signature
from router.translate.openai_chat import StreamTranslator, ToolNames
from router.wire.errors import UpstreamError
from tests.translate.stream_helpers import check_anthropic_stream, message_of, translate_bytes

FIXTURES = Path(__file__).parent.parent / "fixtures" / "openai_streams"
STREAMS = sorted(FIXTURES.glob("*.sse"))


@pytest.mark.parametrize("path", STREAMS, ids=[p.stem for p in STREAMS])
def test_fixture_translates_to_expected_message(path: Path) -> None:
    stream = translate_bytes([path.read_bytes()])
    check_anthropic_stream(stream)
    expected = json.loads(path.with_suffix(".expected.json").read_text())
    assert message_of(stream) == expected


@pytest.mark.parametrize("path", STREAMS, ids=[p.stem for p in STREAMS])
def test_fixture_split_at_every_byte_gives_the_same_stream(path: Path) -> None:
    raw = path.read_bytes()
    whole = translate_bytes([raw])
    for cut in range(1, len(raw)):
        assert translate_bytes([raw[:cut], raw[cut:]]) == whole, f"differs when split at byte {cut}"
    assert translate_bytes([raw[i:i + 1] for i in range(len(raw))]) == whole
    crlf = raw.replace(b"\n", b"\r\n")
    assert translate_bytes([crlf]) == whole
    assert translate_bytes([crlf[i:i + 7] for i in range(0, len(crlf), 7)]) == whole


def test_interleaved_calls_never_put_a_delta_on_a_closed_block() -> None:
    stream = translate_bytes([(FIXTURES / "interleaved_tools.sse").read_bytes()])
    events = [orjson.loads(line[6:]) for line in stream.split(b"\n") if line.startswith(b"data: ")]
    closed = set()
    for e in events:
        if e["type"] == "content_block_stop":
            closed.add(e["index"])
        if e["type"] == "content_block_delta":
            assert e["index"] not in closed


def test_thinking_block_ends_with_signature_delta() -> None:
    stream = translate_bytes([(FIXTURES / "deepseek_reasoning.sse").read_bytes()])
    events = [orjson.loads(line[6:]) for line in stream.split(b"\n") if line.startswith(b"data: ")]
    stop = next(i for i, e in enumerate(events) if e["type"] == "content_block_stop")
    assert events[stop - 1]["delta"] == {"type": "signature_delta", "signature": "ccr1.reasoning_content"}


def test_long_tool_names_are_restored() -> None:
    long_name = "mcp__a_very_long_server_name_for_testing__and_an_even_longer_tool_name_here"
    names = ToolNames()
    short = names.short(long_name)
    assert short != long_name and len(short) <= 64
    chunk = {"choices": [{"index": 0, "delta": {"tool_calls": [
        {"index": 0, "id": "c1", "function": {"name": short, "arguments": "{}"}}]}, "finish_reason": "tool_calls"}]}
    stream = translate_bytes([b"data: " + orjson.dumps(chunk) + b"\n\n"], names)
    assert message_of(stream)["content"][0]["name"] == long_name


def test_error_chunk_raises_with_its_status() -> None:
    tr = StreamTranslator("up,m", ToolNames())
    with pytest.raises(UpstreamError) as info:
        tr.feed({"error": {"message": "Rate limit reached", "code": 429}})
    assert info.value.status == 429 and info.value.error_type == "rate_limit_error"


def test_usage_missing_is_estimated_not_zero() -> None:
    chunk = {"choices": [{"index": 0, "delta": {"content": "x" * 40}, "finish_reason": "stop"}]}
    msg = message_of(translate_bytes([b"data: " + orjson.dumps(chunk) + b"\n\n"]))
    assert msg["usage"]["input_tokens"] == 100 and msg["usage"]["output_tokens"] == 10


@pytest.mark.parametrize(("finish", "calls", "expected"), [
    ("stop", False, "end_turn"),
    ("length", False, "max_tokens"),
    ("tool_calls", True, "tool_use"),
    ("stop", True, "tool_use"),
    ("tool_calls", False, "end_turn"),
    ("content_filter", False, "refusal"),
])
def test_stop_reasons(finish: str, calls: bool, expected: str) -> None:
    delta: dict[str, object] = {"content": "hi"}
    if calls:
        delta = {"tool_calls": [{"index": 0, "id": "c", "function": {"name": "Bash", "arguments": "{}"}}]}
    chunk = {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    assert message_of(translate_bytes([b"data: " + orjson.dumps(chunk) + b"\n\n"]))["stop_reason"] == expected


def chunk(finish: str | None = None, **delta: Any) -> bytes:
    return b"data: " + orjson.dumps({"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}) + b"\n\n"


def call(args: str, **head: Any) -> list[dict[str, Any]]:
    return [{"index": 0, **head, "function": {**({"name": head.pop("name")} if "name" in head else {}),
                                              "arguments": args}}]


def test_text_and_reasoning_behind_unfinished_arguments_keep_their_order() -> None:
    stream = translate_bytes([
        chunk(tool_calls=call('{"a":', id="c1", name="Bash")),
        chunk(content="Hello "),
        chunk(reasoning_details=[{"type": "reasoning.encrypted", "data": "SECRET", "index": 1}]),
        chunk(tool_calls=call("1}")),
        chunk(content="world"),
        chunk("tool_calls"),
    ])
    check_anthropic_stream(stream)
    content = message_of(stream)["content"]
    assert [b["type"] for b in content] == ["tool_use", "text", "thinking", "text"]
    assert content[0]["input"] == {"a": 1}
    assert [content[1]["text"], content[3]["text"]] == ["Hello ", "world"]
    assert parse_reasoning_signature(content[2]["signature"])[1] == [
        {"type": "reasoning.encrypted", "data": "SECRET", "index": 1}]


def test_a_call_that_never_got_a_name_is_not_a_tool_use() -> None:
    msg = message_of(translate_bytes([chunk(tool_calls=call("{}", id="c1")), chunk("tool_calls")]))
    assert msg["content"] == [] and msg["stop_reason"] == "end_turn"


@pytest.mark.parametrize(("data", "status"), [
    # OpenRouter: an error object next to a choice whose finish_reason is "error"
    ({"error": {"code": "server_error", "message": "Provider disconnected"},
      "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}]}, 502),
    ({"choices": [{"index": 0, "delta": {}, "finish_reason": "insufficient_system_resource"}]}, 529),
])
def test_errors_that_end_a_stream_are_errors_not_end_turn(data: dict[str, Any], status: int) -> None:
    tr = StreamTranslator("up,m", ToolNames())
    tr.feed({"choices": [{"index": 0, "delta": {"content": "Partial answer"}}]})
    with pytest.raises(UpstreamError) as info:
        tr.feed(data)
    assert info.value.status == status


def test_events_without_data_are_not_dispatched() -> None:
    raw = b"\xef\xbb\xbfevent: ping\n\ndata:\n\n" + chunk("stop", content="ok")
    assert message_of(translate_bytes([raw]))["content"] == [{"type": "text", "text": "ok"}]


def test_whole_calls_without_index_or_id_stay_apart() -> None:
    """A server that streams each call whole, with neither `index` nor `id` (one per chunk, then two in one
    chunk): three calls, never one tool_use whose input is `{…}{…}`; the same for any split of the bytes."""
    raw = (FIXTURES.parent / "openai_quirks" / "whole_calls_no_index_no_id.sse").read_bytes()
    stream = translate_bytes([raw])
    check_anthropic_stream(stream)
    calls = [b for b in message_of(stream)["content"] if b["type"] == "tool_use"]
    assert [(c["name"], c["input"]) for c in calls] == [
        ("Read", {"file_path": "/a.txt"}), ("Read", {"file_path": "/b.txt"}), ("Bash", {"command": "ls"})]
    assert len({c["id"] for c in calls}) == 3
    for cut in range(1, len(raw), 7):
        again = message_of(translate_bytes([raw[:cut], raw[cut:]]))
        assert [(b.get("name"), b.get("input")) for b in again["content"]] == \
            [(b.get("name"), b.get("input")) for b in message_of(stream)["content"]]
