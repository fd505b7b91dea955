"""A small, safe expression language for rule conditions: `tokenCount >= 500 && tokenCount < 2000`.

No eval: a tokenizer and a recursive-descent parser build closures over a fixed set of variables. Input is
bounded in length and nesting; anything else is a `ExprError` that names the position, so a bad rule is
reported at load with its path, never at request time.

    expr   := or
    or     := and ("||" and)*
    and    := not ("&&" not)*
    not    := "!" not | cmp
    cmp    := atom (("<" | "<=" | ">" | ">=" | "==" | "!=") atom)?
    atom   := number | 'string' | "string" | true | false | name | "(" expr ")"
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

MAX_LENGTH = 500
MAX_DEPTH = 32

# what a rule may ask about; values are filled per request (those of the classifier once it exists)
VARIABLES = ("tokenCount", "promptChars", "messageCount", "toolRounds", "taskType", "complexity", "difficulty")

_TOKEN = re.compile(r"\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<name>[A-Za-z_]\w*)|(?P<str>'[^']*'|\"[^\"]*\")"
                    r"|(?P<op><=|>=|==|!=|&&|\|\||[<>!()]))")
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
}

Node = Callable[[Mapping[str, Any]], Any]


class ExprError(ValueError):
    pass


class Unavailable(LookupError):
    """A variable the request has no value for yet (e.g. taskType before the classifier is loaded)."""


def _tokens(source: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(source):
        if source[pos:].strip() == "":
            break
        m = _TOKEN.match(source, pos)
        if not m or m.end() == pos:
            raise ExprError(f"unexpected character {source[pos:].lstrip()[:1]!r} at position {pos}")
        kind = m.lastgroup
        assert kind is not None
        out.append((kind, m.group(kind), m.start(kind)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = _tokens(source)
        self.i = 0
        self.depth = 0
        self.names: set[str] = set()

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str, int]:
        tok = self.peek()
        if tok is None:
            raise ExprError("unexpected end of expression" + (f", expected {value!r}" if value else ""))
        if value is not None and tok[1] != value:
            raise ExprError(f"expected {value!r} at position {tok[2]}, got {tok[1]!r}")
        self.i += 1
        return tok

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExprError(f"expression nested deeper than {MAX_DEPTH} levels")

    def expr(self) -> Node:
        self.nest()
        node = self.binary(self.conj, "||", any)
        self.depth -= 1
        return node

    def conj(self) -> Node:
        return self.binary(self.neg, "&&", all)

    def binary(self, sub: Callable[[], Node], op: str, combine: Callable[[Any], bool]) -> Node:
        parts = [sub()]
        while (tok := self.peek()) is not None and tok[1] == op:
            self.take()
            parts.append(sub())
        if len(parts) == 1:
            return parts[0]
        return lambda env: combine(bool(p(env)) for p in parts)

    def neg(self) -> Node:
        tok = self.peek()
        if tok is not None and tok[1] == "!":
            self.take()
            self.nest()
            inner = self.neg()
            self.depth -= 1
            return lambda env: not inner(env)
        return self.compare()

    def compare(self) -> Node:
        left = self.atom()
        tok = self.peek()
        if tok is None or tok[1] not in _COMPARE:
            return left
        self.take()
        right = self.atom()
        fn = _COMPARE[tok[1]]

        def cmp(env: Mapping[str, Any]) -> bool:
            a, b = left(env), right(env)
            if isinstance(a, str) != isinstance(b, str):
                return False  # "debug" < 3 is simply false, never an exception
            return bool(fn(a, b))

        return cmp

    def atom(self) -> Node:
        kind, value, pos = self.take()
        if kind == "num":
            number = float(value) if "." in value else int(value)
            return lambda env: number
        if kind == "str":
            text = value[1:-1]
            return lambda env: text
        if kind == "name":
            if value in ("true", "false"):
                flag = value == "true"
                return lambda env: flag
            if value not in VARIABLES:
                raise ExprError(f"unknown name {value!r} at position {pos}; known: {', '.join(VARIABLES)}")
            self.names.add(value)

            def var(env: Mapping[str, Any]) -> Any:
                found = env.get(value)
                if found is None:
                    raise Unavailable(value)
                return found

            return var
        if value == "(":
            node = self.expr()
            self.take(")")
            return node
        raise ExprError(f"unexpected {value!r} at position {pos}")


class Expression:
    """A parsed condition. `names` are the variables it reads."""

    __slots__ = ("_node", "names", "source")

    def __init__(self, source: str) -> None:
        if len(source) > MAX_LENGTH:
            raise ExprError(f"expression longer than {MAX_LENGTH} characters")
        parser = _Parser(source)
        if not parser.tokens:
            raise ExprError("empty expression")
        self._node = parser.expr()
        if parser.peek() is not None:
            tok = parser.peek()
            assert tok is not None
            raise ExprError(f"unexpected {tok[1]!r} at position {tok[2]}")
        self.source = source
        self.names = frozenset(parser.names)

    @classmethod
    def all_of(cls, parts: list[Expression]) -> Expression:
        """Several parsed conditions that must all hold (no re-parsing, so no length limit applies)."""
        combined = cls.__new__(cls)
        combined._node = lambda env: all(p(env) for p in parts)
        combined.source = " && ".join(f"({p.source})" for p in parts)
        combined.names = frozenset().union(*(p.names for p in parts))
        return combined

    def __call__(self, env: Mapping[str, Any]) -> bool:
        """Raises Unavailable when a variable it reads has no value for this request."""
        return bool(self._node(env))

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"
