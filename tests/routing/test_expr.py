"""The rule expression parser, on valid and on hostile input."""

from __future__ import annotations

from typing import Any

import pytest

from router.routing.expr import ExprError, Expression, Unavailable

ENV = {"tokenCount": 1200, "promptChars": 80, "messageCount": 5, "toolRounds": 2}


@pytest.mark.parametrize(("source", "expected"), [
    ("tokenCount < 500", False),
    ("tokenCount >= 500 && tokenCount < 2000", True),
    ("tokenCount < 500 || toolRounds == 2", True),
    ("!(tokenCount > 1000)", False),
    ("!!true", True),
    ("(tokenCount > 1000 && (promptChars < 100)) || false", True),
    ("tokenCount != 1200", False),
    ("messageCount <= 5", True),
    ("tokenCount >= 1199.5", True),
    ("  tokenCount<500||toolRounds>1  ", True),
    ("'a' == 'a'", True),
    ("tokenCount == 'many'", False),  # mixed types compare false, never raise
])
def test_valid(source: str, expected: bool) -> None:
    assert Expression(source)(ENV) is expected


@pytest.mark.parametrize(("source", "message"), [
    ("", "empty expression"),
    ("tokenCount <", "unexpected end"),
    ("tokenCount < 500 &&", "unexpected end"),
    ("(tokenCount < 500", "expected ')'"),
    ("tokenCount < 500)", "unexpected ')'"),
    ("__import__('os').system('x')", "unexpected character '.' at position 16"),
    ("__import__('os')", "unknown name '__import__' at position 0"),
    ("tokenCount.__class__", "unexpected character '.'"),
    ("open('/etc/passwd')", "unknown name 'open'"),
    ("tokenCount ; rm -rf /", "unexpected character ';'"),
    ("tokenCount < 1e9", "unexpected 'e9' at position 14"),
    ("lambda: 1", "unexpected character ':'"),
    ("(" * 40 + "true" + ")" * 40, "nested deeper"),
    ("!" * 40 + "true", "nested deeper"),
    ("tokenCount < 1 " + "&& tokenCount < 1 " * 40, "longer than"),
    ("tokenCount = 5", "unexpected character '='"),
    ("tokenCount < 500 tokenCount", "unexpected 'tokenCount'"),
])
def test_hostile_or_broken_input_is_refused_with_a_position(source: str, message: str) -> None:
    with pytest.raises(ExprError) as info:
        Expression(source)
    assert message in str(info.value)


def test_variables_without_a_value_are_unavailable_not_false() -> None:
    expr = Expression("taskType == 'debug' && tokenCount > 10")
    assert expr.names == {"taskType", "tokenCount"}
    env: dict[str, Any] = {**ENV, "taskType": None}
    with pytest.raises(Unavailable):
        expr(env)
    assert expr({**ENV, "taskType": "debug"}) is True
