"""Incremental token counting: a conversation that grows by a turn costs only its new blocks, and the
memoized count equals a count from scratch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from router import tokens

FIXTURE = Path(__file__).parent.parent / "fixtures" / "claude_code" / "request_hi.json"


def grow(body: dict[str, Any], n: int) -> dict[str, Any]:
    messages = list(body["messages"])
    for i in range(n):
        messages += [
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": f"step {i}: " + "reasoning about the code " * 30, "signature": "s"},
                {"type": "tool_use", "id": f"t{i}", "name": "Read", "input": {"file_path": f"/src/m{i}.py"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"t{i}",
                                          "content": f"# module {i}\n" + "def f(x):\n    return x * 2\n" * 40}]},
        ]
    return {**body, "messages": messages}


@pytest.fixture
def encodes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Lengths of the texts actually sent to the tokenizer."""
    seen: list[int] = []
    enc = tokens._encoding()
    real = enc.encode

    class Spy:
        def encode(self, text: str, **kw: Any) -> list[int]:
            seen.append(len(text))
            return real(text, **kw)

    monkeypatch.setattr(tokens, "_encoding", lambda: Spy())
    tokens._MEMO.clear()
    return seen


def test_incremental_count_equals_full_count(encodes: list[int]) -> None:
    base = json.loads(FIXTURE.read_text())
    first = tokens.count_request(grow(base, 10))
    encodes.clear()
    longer = grow(base, 11)
    incremental = tokens.count_request(longer)
    # only the new turn's long blocks reached the tokenizer
    assert sum(n for n in encodes if n >= 256) < 3000
    tokens._MEMO.clear()
    assert tokens.count_request(longer) == incremental > first


def test_counts_are_stable_and_plausible() -> None:
    body = json.loads(FIXTURE.read_text())
    n = tokens.count_request(body)
    assert 8000 < n < 16000  # tiktoken's own count of the raw JSON is ~11k
    assert tokens.count_request(body) == n


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Lengths of the texts counted (tokenized or looked up in the memo): what a request really costs."""
    seen: list[int] = []
    real = tokens.count_text

    def spy(text: str) -> int:
        seen.append(len(text))
        return real(text)

    monkeypatch.setattr(tokens, "count_text", spy)
    return seen


def test_a_conversation_that_grows_is_counted_only_where_it_grew(counted: list[int]) -> None:
    conversations = tokens.Conversations()
    base = json.loads(FIXTURE.read_text())
    for rounds in range(1, 6):
        body = grow(base, rounds)
        expected = tokens.count_request(body)
        counted.clear()
        assert conversations.count(body, "s1") == expected
        if rounds > 1:  # the system prompt, tools and earlier rounds were not looked at again
            assert sum(counted) < sum(len(json.dumps(m)) for m in body["messages"][-2:])


def _compacted(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "messages": [{"role": "user", "content": "Summary of the conversation so far: ..."},
                                 *body["messages"][-2:]]}


def _rewound(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "messages": [*body["messages"][:-3], {"role": "user", "content": "No, do it differently."}]}


def _retried(body: dict[str, Any]) -> dict[str, Any]:
    last = body["messages"][-1]
    edited = {**last, "content": [{**last["content"][0], "content": "a different answer from the tool"}]}
    return {**body, "messages": [*body["messages"][:-1], edited]}


def _new_system(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "system": [{"type": "text", "text": "You are a different agent now. " * 20}]}


def _fewer_tools(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "tools": body["tools"][:3]}


@pytest.mark.parametrize("change", [_compacted, _rewound, _retried, _new_system, _fewer_tools])
def test_a_changed_conversation_is_counted_as_it_now_is(change: Any) -> None:
    conversations = tokens.Conversations()
    body = grow(json.loads(FIXTURE.read_text()), 4)
    conversations.count(body, "s1")
    changed = change(body)
    assert conversations.count(changed, "s1") == tokens.count_request(changed)


def test_a_subagent_in_the_same_session_keeps_its_own_count(counted: list[int]) -> None:
    conversations = tokens.Conversations()
    base = json.loads(FIXTURE.read_text())
    subagent = {**base, "messages": [{"role": "user", "content": "Search the repo for TODOs. " * 20}]}
    conversations.count(grow(base, 3), "s1")
    conversations.count(subagent, "s1")
    body = grow(base, 4)
    expected = tokens.count_request(body)
    counted.clear()
    assert conversations.count(body, "s1") == expected
    assert sum(counted) < sum(len(json.dumps(m)) for m in body["messages"][-2:])


def test_without_a_session_every_request_is_counted_whole() -> None:
    body = grow(json.loads(FIXTURE.read_text()), 2)
    assert tokens.Conversations().count(body, None) == tokens.count_request(body)


def test_a_long_new_message_is_estimated_now_and_counted_for_the_next_request(counted: list[int]) -> None:
    conversations = tokens.Conversations()
    base = json.loads(FIXTURE.read_text())
    first = grow(base, 6)
    count, pending = conversations.quick(first, "s1", inline_chars=2000)
    assert count is None and pending  # much new text, nothing to estimate from: the caller counts in a thread
    conversations.count(first, "s1")
    longer = grow(base, 7)  # a tool round of ~1,300 characters
    exact = tokens.count_request(longer)
    counted.clear()
    estimate, pending = conversations.quick(longer, "s1", inline_chars=500)
    assert pending and not counted  # nothing tokenized on the request's path
    assert abs(estimate - exact) / exact < 0.01
    conversations.count(longer, "s1")  # the background count
    assert conversations.quick(longer, "s1", inline_chars=500) == (exact, False)
    assert conversations.quick(grow(base, 8), "s1", inline_chars=5000) == (tokens.count_request(grow(base, 8)), False)
