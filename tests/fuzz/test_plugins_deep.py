"""Plugins shown answers holding values nested as deep as orjson reads (an Anthropic upstream's answer passes
through as it came), under Python's default recursion limit: the answer goes on whatever the plugin does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from router.config.schema import PluginSpec
from router.plugins import Plugins
from router.wire.results import Stream, Whole
from tests.fuzz.drive import drain, production_recursion_limit, run
from tests.fuzz.strategies import deep_text

# an Anthropic answer with a tool input nested as deep as orjson reads (deeper than it writes)
DEEP_MESSAGE = (b'{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"tool_use",'
                b'"id":"t","name":"Bash","input":{"d":' + deep_text(1000) + b'}}],"stop_reason":"tool_use",'
                b'"usage":{"input_tokens":1,"output_tokens":1}}')


def _plugins(tmp_path: Path, source: str) -> Plugins:
    path = tmp_path / "plugin.py"
    path.write_text(source)
    return Plugins((PluginSpec(str(path)),))


@pytest.mark.parametrize("returns", ["message", "None", "str(message)"])
def test_a_whole_answer_nested_deep(tmp_path: Path, returns: str) -> None:
    """A plugin that returned the message it was shown (changed in place, say) made ccr write it again, and
    orjson does not write that deep: a TypeError, ccr's internal error instead of the answer."""
    plugins = _plugins(tmp_path, f"def on_response(message, ctx):\n    message['seen'] = True\n    return {returns}\n")
    with production_recursion_limit():
        result = run(plugins.response(Whole(DEEP_MESSAGE), {}))
    assert isinstance(result, Whole) and result.body == DEEP_MESSAGE


def test_a_stream_nested_deep(tmp_path: Path) -> None:
    """The stream goes out as it came, and the plugin is shown what accumulates of it."""
    plugins = _plugins(tmp_path, "SEEN = []\ndef on_response(message, ctx):\n    SEEN.append(message)\n")
    events = [b"event: message_start\ndata: " + DEEP_MESSAGE.replace(b'"stop_reason":"tool_use"',
                                                                      b'"stop_reason":null') + b"\n\n",
              b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},'
              b'"usage":{"output_tokens":2}}\n\n', b'event: message_stop\ndata: {"type":"message_stop"}\n\n']
    events[0] = events[0].replace(b"data: {", b'data: {"type":"message_start","message":{', 1).replace(
        b"\n\n", b"}\n\n", 1)

    async def chunks() -> Any:
        for e in events:
            yield e

    with production_recursion_limit():
        result = run(plugins.response(Stream(chunks()), {}))
        assert isinstance(result, Stream)
        assert b"".join(drain(result.chunks)) == b"".join(events)
    seen: list[dict[str, Any]] = plugins.plugins[0].hooks["on_response"].__globals__["SEEN"]
    assert [m["stop_reason"] for m in seen] == ["end_turn"]
