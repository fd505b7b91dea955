"""Reading what an upstream sent without trusting its shape: a field of the wrong type reads as absent, so that
it never becomes an internal error or an invalid Anthropic message."""

from __future__ import annotations

from typing import Any

import orjson

from router.wire.errors import UpstreamUnavailable


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def shown(value: Any, limit: int = 500) -> str:
    """An upstream's value quoted in an error message: a string as it is, anything else as JSON (at most `limit`
    characters). Never str(): of a list or object nested as deep as orjson reads (1024 levels) it exceeds
    Python's recursion limit, and the client would see ccr's internal error instead of the upstream's."""
    if isinstance(value, str):
        return value
    try:
        text = orjson.dumps(value).decode()
    except orjson.JSONEncodeError:  # orjson writes ~254 levels, without recursing in Python
        return "(a value nested too deeply to show)"
    return text if len(text) <= limit else text[:limit] + "…"


def count(value: Any) -> int:
    """A token count as providers send it (an int, a float, now and then a string of digits); anything else,
    or a count no tokenizer produces (negative, or beyond what JSON writers take), is 0."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 2**53:
        return 0
    return int(value)


def encode_arguments(value: Any) -> bytes:
    """Arguments are written out again, and orjson reads 1024 levels of nesting but writes only ~254."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        raise UpstreamUnavailable("upstream sent tool arguments nested too deeply to pass on") from None


def encodable_arguments(value: dict[str, Any]) -> dict[str, Any]:
    encode_arguments(value)
    return value


def parse_arguments(raw: Any) -> dict[str, Any]:
    """Tool arguments arrive as a JSON string (or, from a few providers, an object)."""
    if isinstance(raw, dict):
        return encodable_arguments(raw)
    if not raw:
        return {}
    if not isinstance(raw, str):  # a number or a list where the arguments belong: kept as unparsable ones are
        return encodable_arguments({"_raw_arguments": raw})
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {"_raw_arguments": raw}
    return encodable_arguments(value if isinstance(value, dict) else {"value": value})


def json_answer(data: bytes, provider: str) -> Any:
    """A whole answer's JSON; garbage is the upstream's failure, never a 200 the client cannot read."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        raise UpstreamUnavailable(
            f"provider '{provider}' answered with invalid JSON: {data[:200].decode('utf-8', 'replace')!r}"
        ) from None
