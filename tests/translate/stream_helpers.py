"""Driving a StreamTranslator with raw upstream bytes cut into arbitrary reads, as the relay does."""

from __future__ import annotations

from typing import Any

import orjson

from router.translate.openai_chat import StreamTranslator, ToolNames
from router.wire.anthropic import accumulate
from router.wire.sse import DONE, SSEDecoder


def translate_bytes(reads: list[bytes], names: ToolNames | None = None) -> bytes:
    tr = StreamTranslator("up,m", names or ToolNames(), 100)
    tr.message_id = "msg_fixed"
    out = [tr.start()]
    decoder = SSEDecoder()
    done = False
    for read in [*reads, b""]:
        events = decoder.feed(read) if read else decoder.close()
        for _name, data in events:
            if data == DONE:
                done = True
                break
            out.append(tr.feed(orjson.loads(data)))
        if done:
            break
    out.append(tr.finish())
    return b"".join(out)


def message_of(stream: bytes) -> dict[str, Any]:
    msg = accumulate(stream)
    msg.pop("id")
    return msg


def check_anthropic_stream(stream: bytes) -> None:
    """What the official SDKs rely on: message_start first, blocks one at a time with indices 0,1,2…,
    deltas only into the open block, signature just before its block stops, message_delta then message_stop."""
    events = [orjson.loads(d) for _n, d in SSEDecoder().feed(stream)]
    kinds = [e["type"] for e in events]
    assert kinds[0] == "message_start"
    assert kinds[-2:] == ["message_delta", "message_stop"]
    open_index = None
    expected = 0
    for e in events[1:-2]:
        if e["type"] == "content_block_start":
            assert open_index is None, "a block started while another was open"
            assert e["index"] == expected
            open_index = e["index"]
            expected += 1
        elif e["type"] == "content_block_delta":
            assert e["index"] == open_index, "delta for a block that is not open"
        elif e["type"] == "content_block_stop":
            assert e["index"] == open_index
            open_index = None
    assert open_index is None
