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
