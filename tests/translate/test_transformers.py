"""claude-code-router's transformers, doing what their names say: enhancetool, tooluse, sampling, cleancache,
streamoptions (maxtoken, customparams, reasoning and the provider ones are pinned in test_presets.py and
test_openai_request.py)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from router.config import parse_config
from router.providers.provider import Providers
from router.translate.openai_chat import StreamTranslator, ToolNames
from router.translate.openai_chat.request import EXIT_TOOL
from router.translate.repair import repair_arguments
from router.wire.sse import SSEDecoder
from tests.translate.stream_helpers import check_anthropic_stream, message_of

TOOLS = [{"name": "Bash", "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}}}]


def provider(*use: Any, url: str = "https://llm.example.com/v1") -> Any:
    config = parse_config({"Providers": [{"name": "p", "api_base_url": url, "api_key": "k-123456",
                                          "models": ["m"], "transformer": {"use": list(use)}}]}, "<t>")
    return Providers(config).get("p")


def outgoing(p: Any, **body: Any) -> dict[str, Any]:
    request = {"model": "x", "max_tokens": 1000, "messages": [{"role": "user", "content": "hi"}], **body}
    return orjson.loads(p.adapter.outgoing(p, "m", "p,m", request, None, {}, 100).payload)


@pytest.mark.parametrize(("raw", "expected"), [
    ('{"command": "ls"}', {"command": "ls"}),
    ('```json\n{"command": "ls"}\n```', {"command": "ls"}),
    ('"{\\"command\\": \\"ls\\"}"', {"command": "ls"}),  # encoded twice
    ("{'command': 'ls', 'run': True, 'timeout': None}", {"command": "ls", "run": True, "timeout": None}),
    ('{"command": "ls",}', {"command": "ls"}),
    ('{command: "ls", description: "list"}', {"command": "ls", "description": "list"}),
    ('{"content": "line one\nline two\tend"}', {"content": "line one\nline two\tend"}),
    ('{"command": "echo hi', {"command": "echo hi"}),  # cut off
    ('{"paths": ["a", "b"', {"paths": ["a", "b"]}),
    ('I will run it: {"command": "ls"} now.', {"command": "ls"}),
    ('{"note": "say {a: 1}, ok"}', {"note": "say {a: 1}, ok"}),  # valid: untouched
    ("not json at all", {}),
    ("", {}),
], ids=["valid", "fence", "twice", "python", "trailing-comma", "bare-keys", "raw-newline", "cut", "cut-list",
        "prose", "braces-in-string", "garbage", "empty"])
def test_tool_arguments_are_repaired(raw: str, expected: dict[str, Any]) -> None:
    assert orjson.loads(repair_arguments(raw)) == expected


def _chunk(finish: str | None = None, **delta: Any) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def _calls(*pieces: tuple[int, str | None, str | None, str]) -> list[dict[str, Any]]:
    """(index, id, name, argument piece) per chunk."""
    out = []
    for index, call_id, name, args in pieces:
        call: dict[str, Any] = {"index": index, "function": {"arguments": args}}
        if call_id:
            call.update(id=call_id, type="function")
            call["function"]["name"] = name
        out.append(_chunk(tool_calls=[call]))
    return out


def _run(chunks: list[dict[str, Any]], **flags: bool) -> tuple[list[bytes], bytes]:
    """(what each upstream chunk released, the whole stream)."""
    tr = StreamTranslator("p,m", ToolNames(), 10, **flags)
    released = [tr.start()] + [tr.feed(c) for c in chunks] + [tr.finish()]
    return released, b"".join(released)


def test_enhancetool_repairs_streamed_arguments_and_keeps_text_streaming() -> None:
    chunks = [_chunk(content="Running "), _chunk(content="it."),
              *_calls((0, "call_1", "Bash", "{'command': "), (0, None, None, "'ls -la',}")),
              *_calls((1, "call_2", "Bash", '{"command": "pwd"')),  # never closed
              _chunk("tool_calls")]
    released, stream = _run(chunks, repair_tools=True)
    check_anthropic_stream(stream)
    assert b"Running " in released[1] and b"it." in released[2]  # text left as it came, not at the end
    message = message_of(stream)
    assert [b.get("input") for b in message["content"]] == [None, {"command": "ls -la"}, {"command": "pwd"}]
    assert message["stop_reason"] == "tool_use"
    _, plain = _run(chunks)  # without the transformer the client gets what the model wrote
    assert b"'ls -la'" in plain


def test_enhancetool_split_at_every_byte_gives_the_same_message() -> None:
    chunks = [_chunk(content="ok"), *_calls((0, "c1", "Bash", "{command: 'ls'")), _chunk("tool_calls")]
    raw = b"".join(b"data: " + orjson.dumps(c) + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"
    _, whole = _run(chunks, repair_tools=True)
    expected = message_of(whole)
    for cut in range(1, len(raw)):
        tr = StreamTranslator("p,m", ToolNames(), 10, repair_tools=True)
        decoder, out = SSEDecoder(), [tr.start()]
        for piece in (raw[:cut], raw[cut:]):
            out += [tr.feed(orjson.loads(d)) for _n, d in decoder.feed(piece) if d != b"[DONE]"]
        out.append(tr.finish())
        assert message_of(b"".join(out)) == expected


def test_enhancetool_repairs_whole_answers() -> None:
    p = provider("enhancetool")
    answer = {"choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "Bash", "arguments": "{'command': 'ls',}"}}]}}]}
    out = p.adapter.outgoing(p, "m", "p,m", {"max_tokens": 10, "messages": [{"role": "user", "content": "x"}]},
                             None, {}, 10)
    _whole, message = p.adapter.whole(orjson.dumps(answer), out, "p", 200, {})
    assert message is not None and message["content"][0]["input"] == {"command": "ls"}


def test_tooluse_requires_a_tool_and_offers_an_exit() -> None:
    sent = outgoing(provider("tooluse"), tools=TOOLS, system="be brief")
    assert sent["tool_choice"] == "required"
    assert [t["function"]["name"] for t in sent["tools"]] == ["Bash", EXIT_TOOL]
    assert sent["messages"][0]["role"] == "system" and EXIT_TOOL in sent["messages"][0]["content"]
    assert sent["messages"][0]["content"].startswith("be brief")
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]
    # the client said no tools, or named one: that stands
    assert "tool_choice" in outgoing(provider("tooluse"), tools=TOOLS, tool_choice={"type": "none"})
    assert EXIT_TOOL not in orjson.dumps(outgoing(provider("tooluse"), tools=TOOLS, tool_choice={"type": "none"})).decode()
    assert "tools" not in outgoing(provider("tooluse"))  # no tools, nothing to force


def test_tooluse_exit_call_becomes_the_answer_in_words() -> None:
    chunks = [*_calls((0, "c9", EXIT_TOOL, '{"response": "All '), (0, None, None, 'done."}')), _chunk("tool_calls")]
    _, stream = _run(chunks, exit_tool=True)
    check_anthropic_stream(stream)
    message = message_of(stream)
    assert message["content"] == [{"type": "text", "text": "All done."}]
    assert message["stop_reason"] == "end_turn"
    p = provider("tooluse")
    answer = {"choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": EXIT_TOOL, "arguments": '{"response": "Hi."}'}}]}}]}
    out = p.adapter.outgoing(p, "m", "p,m", {"max_tokens": 10, "messages": [{"role": "user", "content": "x"}]},
                             None, {}, 10)
    _whole, whole = p.adapter.whole(orjson.dumps(answer), out, "p", 200, {})
    assert whole is not None and whole["content"] == [{"type": "text", "text": "Hi."}]
    assert whole["stop_reason"] == "end_turn"


def test_sampling_passes_top_k_and_sets_recommended_values() -> None:
    assert "top_k" not in outgoing(provider(), top_k=20)
    sent = outgoing(provider(["sampling", {"temperature": 0.6, "min_p": 0}]), top_k=20, temperature=1.0)
    assert (sent["top_k"], sent["temperature"], sent["min_p"]) == (20, 0.6, 0)


def test_streamoptions_can_be_turned_off() -> None:
    assert outgoing(provider(), stream=True)["stream_options"] == {"include_usage": True}
    assert "stream_options" not in outgoing(provider(["streamoptions", {"include_usage": False}]), stream=True)


def test_cleancache_strips_cache_control_for_anthropic_upstreams() -> None:
    body = {"model": "x", "max_tokens": 10, "system": [{"type": "text", "text": "s", "cache_control": {"type": "ephemeral"}}],
            "messages": [{"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}]}]}
    raw = orjson.dumps(body)
    for use, kept in (([], True), (["cleancache"], False)):
        p = provider("anthropic", *use, url="https://anthropic.example.com/v1/messages")
        sent = p.adapter.outgoing(p, "m", "p,m", body, raw, {}, len(raw)).payload
        assert (b"cache_control" in sent) is kept
        assert orjson.loads(sent)["messages"][0]["content"][0]["text"] == "hi"
