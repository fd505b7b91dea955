"""An upstream's error answer (any status, any body) read by providers/upstream.error_from under Python's default
recursion limit: always a ccr UpstreamError whose body is an Anthropic error (a string type and message), whatever
the body holds, values nested as deep as orjson reads included."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from router.providers import upstream
from tests.fuzz.drive import production_recursion_limit, run
from tests.fuzz.strategies import TEXT, deepened, encode, maybe, optional_fields, places, put


class _Content:
    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    async def read(self, n: int) -> bytes:
        piece, self.raw = self.raw[:n], self.raw[n:]
        return piece


class _Response:
    def __init__(self, raw: bytes, status: int) -> None:
        self.content = _Content(raw)
        self.status = status
        self.headers: dict[str, str] = {"retry-after": "3"}

    def release(self) -> None:
        pass


class _Provider:
    name = "up"


def check(raw: bytes, status: int) -> bytes:
    with production_recursion_limit():
        exc = run(upstream.error_from(_Response(raw, status), _Provider(), "m"))  # type: ignore[arg-type]
    body = orjson.loads(exc.body())
    assert body["type"] == "error" and isinstance(body["error"]["type"], str) and body["error"]["type"]
    assert isinstance(body["error"]["message"], str) and 400 <= exc.status < 600
    return exc.body()


# what providers answer with: OpenAI's, Anthropic's, Google's, FastAPI's and bare error bodies
BODY = st.one_of(
    optional_fields({"error": maybe(optional_fields({}, {
        "message": maybe(TEXT), "type": maybe(st.sampled_from(["overloaded_error", "invalid_request_error", "x"])),
        "code": maybe(st.sampled_from([429, "rate_limit_exceeded"])), "status": maybe(st.just("RESOURCE_EXHAUSTED")),
        "param": maybe(TEXT)}))}, {"type": maybe(st.just("error"))}),
    optional_fields({}, {"message": maybe(TEXT), "detail": maybe(st.one_of(TEXT, st.lists(st.fixed_dictionaries(
        {"loc": st.just(["body", "x"]), "msg": TEXT}), max_size=2)))}),
    st.builds(lambda e: {"error": e}, maybe(TEXT)),
)
STATUS = st.sampled_from([400, 401, 403, 404, 408, 413, 422, 429, 500, 502, 503, 520, 529, 200, 302, 999])


@given(st.one_of(BODY, deepened(BODY)), STATUS)
def test_any_error_body(data: Any, status: int) -> None:
    check(encode(data), status)


RICH = {"type": "error", "error": {"type": "overloaded_error", "message": "m", "status": "UNAVAILABLE", "code": 529},
        "message": "m", "detail": [{"loc": ["body"], "msg": "m"}]}


@pytest.mark.parametrize("path", places(RICH)[1:], ids=lambda p: ".".join(map(str, p)))
def test_a_deep_value_in_each_place(path: tuple[Any, ...]) -> None:
    check(encode(put(RICH, path, "@deep1000@")), 400)


# str() of a value nested as deep as orjson reads raised a RecursionError, and an Anthropic error type that is
# not a string went into the client's error body (nested deep: a TypeError writing it): ccr's internal error
PINNED: list[tuple[str, Any]] = [
    ("an error message nested deep", {"error": {"message": "@deep1000@"}}),
    ("an error message nested deep, with a Google status", {"error": {"message": "@deep1000@", "status": "X"}}),
    ("a message nested deep", {"message": "@deep1000@"}),
    ("a detail nested deep", {"detail": "@deep1000@"}),
    ("an Anthropic error type nested deep", {"type": "error", "error": {"type": "@deep1000@", "message": "m"}}),
    ("an Anthropic error type that is a list", {"type": "error", "error": {"type": [1], "message": "m"}}),
]


@pytest.mark.parametrize(("label", "data"), PINNED, ids=[p[0] for p in PINNED])
def test_pinned_error_bodies(label: str, data: Any) -> None:
    body = orjson.loads(check(encode(data), 400))
    assert body["error"]["type"] == "invalid_request_error"
