"""The official `anthropic` SDK as the client: its stream helper must rebuild, from ccr's stream, the same
message ccr answers without streaming, for every kind of content."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import openai_config
from tests.e2e.agent import Step, stream_step, whole_step
from tests.support.openai_strict import strict_chat
from tests.support.router import RouterServer
from tests.support.sdk import whole_and_streamed
from tests.support.upstream import Reply, ScriptedUpstream

STEPS: dict[str, Step] = {
    "text": {"text": "Hello there, here is a longer answer with ünïcode ✓ and more."},
    "tools": {"text": "Running two.", "calls": [("call_1", "Bash", {"command": "ls", "description": "List"}),
                                                ("call_2", "Read", {"file_path": "/etc/hosts"})]},
    "reasoning": {"reasoning": "First think, then act.", "text": "Done thinking.",
                  "calls": [("call_3", "Bash", {"command": "pwd"})]},
    "no usage details": {"text": "plain", "usage": {"prompt_tokens": 7, "completion_tokens": 1}},
}


@pytest.mark.parametrize("name", list(STEPS))
@pytest.mark.parametrize("interleave", [False, True])
def test_stream_rebuilds_the_non_streamed_message(
    name: str, interleave: bool, upstream: ScriptedUpstream, make_router: Callable[[dict[str, Any]], RouterServer],
) -> None:
    step = STEPS[name]
    upstream.script = strict_chat(lambda r: (Reply(chunks=stream_step(step, interleave=interleave))
                                             if r.body.get("stream") else Reply(body=whole_step(step))))
    router = make_router(openai_config(upstream.url))
    whole, streamed = whole_and_streamed(
        router.url, model="up,gpt-test", max_tokens=1024, messages=[{"role": "user", "content": "go"}],
        tools=[{"name": "Bash", "input_schema": {"type": "object"}},
               {"name": "Read", "input_schema": {"type": "object"}}])
    assert streamed.model_dump(exclude={"id"}) == whole.model_dump(exclude={"id"})
    assert whole.content, "the answer must not be empty"
    if step.get("calls"):
        assert whole.stop_reason == "tool_use"
        assert [b.name for b in whole.content if b.type == "tool_use"] == [c[1] for c in step["calls"]]
    usage = step.get("usage")
    if usage is None:
        assert (whole.usage.input_tokens, whole.usage.cache_read_input_tokens) == (200, 1000)


@pytest.mark.parametrize("quirk", ["always streams", "never streams"])
def test_upstreams_that_ignore_the_stream_flag(
    quirk: str, upstream: ScriptedUpstream, make_router: Callable[[dict[str, Any]], RouterServer],
) -> None:
    step = STEPS["tools"]
    upstream.script = lambda r: (Reply(chunks=stream_step(step)) if quirk == "always streams"
                                 else Reply(body=whole_step(step)))
    router = make_router(openai_config(upstream.url))
    whole, streamed = whole_and_streamed(router.url, model="up,gpt-test", max_tokens=1024,
                                         messages=[{"role": "user", "content": "go"}])
    assert streamed.model_dump(exclude={"id"}) == whole.model_dump(exclude={"id"})
    assert [b.type for b in whole.content] == ["text", "tool_use", "tool_use"]
