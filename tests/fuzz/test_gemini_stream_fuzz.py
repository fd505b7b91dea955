"""The Gemini stream path of the relay (SSE reader → JSON → JsonEvents and the Gemini translator → Anthropic events) on
plausible-but-adversarial streamGenerateContent streams: text, thoughts and function calls with and without
thought signatures, signatures on empty parts, finish reasons of every kind (unknown ones too), usage and
grounding of the wrong types, blocked prompts, error objects, events that are not JSON, CRLF or LF separators,
all cut into arbitrary reads.

Invariants: the only exceptions are ccr's own (an HTTP error before any output, an `error` event after), the
client gets a valid Anthropic event stream with tool inputs that are JSON objects, exactly the same bytes
whatever the cut of the same input, and a stream that never said how it finished (no finishReason) ends with an
error, never as a complete answer.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from router.translate.gemini import signatures
from router.translate.gemini.errors import FAILURES, REFUSALS
from router.translate.gemini.options import GeminiOptions
from router.translate.gemini.request import ToolNames, translate_request
from router.wire.anthropic import accumulate
from tests.fuzz.anthropic_order import Seen, check_stream
from tests.fuzz.drive import Outcome, gemini_stream, split
from tests.fuzz.strategies import DEEPEST, NUMBERS, TEXT, WRONG, encode, now_and_then, optional_fields
from tests.support.gemini_upstream import GeminiAPI

FIXTURES = sorted((Path(__file__).parent.parent / "fixtures" / "gemini").glob("*.sse"))
CUTS = st.lists(st.integers(0, 2**16), max_size=10)

def maybe(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The expected kind of value, now and then a value of any other shape (nested as deep as orjson reads)."""
    return now_and_then(good, st.one_of(WRONG, DEEPEST), 8)


SIGNATURE = maybe(st.sampled_from(["c2lnOmE=", "c2lnOmI=", "", "not base64!", "x" * 300]))
FINISH = st.sampled_from(["STOP", "MAX_TOKENS", "SAFETY", "RECITATION", "OTHER", "BLOCKLIST", "SPII", "LANGUAGE",
                          "MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL", "TOO_MANY_TOOL_CALLS",
                          "FINISH_REASON_UNSPECIFIED", "IMAGE_SAFETY", "weird", "", "stop"])
NAME = st.sampled_from(["Bash", "Read", "mcp__srv__tool", "_a1b2c3d4", "", "x.y:z-w"])
ARGS = now_and_then(st.dictionaries(TEXT, st.one_of(TEXT, NUMBERS, st.booleans(), st.none()), max_size=3),
                    WRONG.map(lambda v: {"v": v}), 6)


def _signed(part: dict[str, Any], signature: Any) -> dict[str, Any]:
    return part if signature is None else {**part, "thoughtSignature": signature}


PART = st.one_of(
    st.builds(lambda t, s: _signed({"text": t}, s), maybe(TEXT), st.one_of(st.none(), SIGNATURE)),
    st.builds(lambda t, th, s: _signed({"text": t, "thought": th}, s), maybe(TEXT), maybe(st.just(True)),
              st.one_of(st.none(), SIGNATURE)),
    st.builds(lambda c, s: _signed({"functionCall": c}, s),
              maybe(optional_fields({}, {"name": maybe(NAME), "args": maybe(ARGS),
                                         "id": maybe(st.sampled_from(["c1", "c2", "functions.Bash:0", ""]))})),
              st.one_of(st.none(), SIGNATURE)),
    st.builds(lambda s: {"text": "", "thoughtSignature": s}, SIGNATURE),  # signs what came before it
    st.sampled_from([{}, {"inlineData": {"mimeType": "image/png", "data": "AA=="}},
                     {"executableCode": {"language": "PYTHON", "code": "1"}}]),
    WRONG,
    DEEPEST,
)
USAGE = maybe(optional_fields({}, {k: maybe(NUMBERS) for k in (
    "promptTokenCount", "candidatesTokenCount", "cachedContentTokenCount", "thoughtsTokenCount",
    "toolUsePromptTokenCount", "totalTokenCount")}))
GROUNDING = maybe(optional_fields({}, {"groundingChunks": maybe(st.lists(maybe(optional_fields({}, {
    "web": maybe(optional_fields({}, {"uri": maybe(st.sampled_from(["https://a.example", "https://b.example"])),
                                      "title": maybe(TEXT)}))})), max_size=3))}))
CANDIDATE = maybe(optional_fields({}, {
    "content": maybe(optional_fields({}, {"role": st.just("model"), "parts": maybe(st.lists(PART, max_size=4))})),
    "finishReason": maybe(FINISH),
    "finishMessage": maybe(TEXT),
    "groundingMetadata": GROUNDING,
    "index": st.just(0),
}))
FEEDBACK = maybe(optional_fields({}, {"blockReason": maybe(st.sampled_from(["SAFETY", "OTHER", "PROHIBITED_CONTENT",
                                                                             ""])),
                                      "blockReasonMessage": maybe(TEXT)}))
ERROR = maybe(optional_fields({"message": maybe(TEXT)}, {
    "code": maybe(st.sampled_from([400, 429, 500, 503, 504, 200, 999, -1, 2**70])),
    "status": maybe(st.sampled_from(["INVALID_ARGUMENT", "RESOURCE_EXHAUSTED", "UNAVAILABLE", "ODD"]))}))


def _response(candidates: Any, usage: Any, feedback: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"candidates": candidates, "modelVersion": "gemini-test"}
    if usage is not None:
        out["usageMetadata"] = usage
    if feedback is not None:
        out["promptFeedback"] = feedback
    return out


# what Gemini sends, most of the time: one candidate, usage now and then
PLAIN = st.builds(_response, st.lists(CANDIDATE, min_size=1, max_size=1), st.one_of(st.none(), USAGE),
                  st.none())
EVENT = st.one_of(
    PLAIN, PLAIN, PLAIN, PLAIN,
    st.builds(_response, maybe(st.lists(CANDIDATE, max_size=2)), st.one_of(st.none(), USAGE),
              st.one_of(st.none(), FEEDBACK)),
    st.builds(lambda f, u: {"promptFeedback": f, "usageMetadata": u}, FEEDBACK, USAGE),
    st.builds(lambda e: {"error": e}, ERROR),
    st.lists(PLAIN, min_size=1, max_size=2),  # the JSON-array form
    WRONG,
    DEEPEST,
)
PAYLOAD = now_and_then(EVENT.map(encode), st.sampled_from(
    [b"{not json", b"", b"[DONE]", b'{"candidates": [{"content": {"parts": [{"text": "\xff\xfe"}]}}]}',
     b'{"candidates": [{"content": {"parts": [{"text": "\\ud800"}]}}]}', b"1e999", b"\xef\xbb\xbf{}",
     b"[" * 1000 + b"]" * 1000]), 30)


@st.composite
def gemini_sse(draw: st.DrawFn) -> bytes:
    """A Gemini stream as the upstream's bytes: `data:` events, CRLF CRLF (as Gemini) or LF LF apart."""
    end = draw(st.sampled_from([b"\r\n\r\n", b"\n\n"]))
    body = b"".join(b"data: " + p + end for p in draw(st.lists(PAYLOAD, max_size=10)))
    tail = draw(now_and_then(st.just(b""), st.sampled_from([b"data: {\"candidates\"", b"data: {}", end]), 5))
    return body + tail


def _finishes(raw: bytes) -> list[str]:
    """The finish reasons the stream's events carry (what the translator reads as one), in order."""
    out: list[str] = []
    for line in raw.replace(b"\r\n", b"\n").split(b"\n"):
        if not line.startswith(b"data:"):
            continue
        try:
            chunk = orjson.loads(line[5:])
        except orjson.JSONDecodeError:
            continue
        for c in chunk if isinstance(chunk, list) else [chunk]:
            candidates = c.get("candidates") if isinstance(c, dict) else None
            first = candidates[0] if isinstance(candidates, list) and candidates else None
            reason = first.get("finishReason") if isinstance(first, dict) else None
            if isinstance(reason, str) and reason:
                out.append(reason)
    return out


def check(outcome: Outcome) -> Seen | None:
    assert outcome.closed, "the upstream response was left open"
    if outcome.status != 200:  # failed before any output: an Anthropic error body with that status
        err = orjson.loads(outcome.error_body)
        assert err["type"] == "error" and isinstance(err["error"]["message"], str)
        assert 400 <= outcome.status < 600
        return None
    seen = check_stream(outcome.stream, json_inputs=True)
    ids = [b.start["id"] for b in seen.blocks if b.type == "tool_use"]
    assert len(ids) == len(set(ids)), f"tool_use ids repeat: {ids}"
    for block in seen.blocks:
        if block.type == "thinking" and block.closed:  # every signature ccr's own, which the request side reads back
            signature = block.text("signature_delta")
            assert signatures.unpack(signature) is not None, signature
    if seen.error is None:  # the log's usage is the provider's counts, and only counts
        assert all(isinstance(v, int) and 0 <= v < 2**53 for v in outcome.usage.values())
        assert seen.usage is not None and all(0 <= v < 2**53 for v in seen.usage.values())
    return seen


def check_finish(raw: bytes, outcome: Outcome, seen: Seen | None) -> None:
    """A complete answer only when Gemini said how it finished, with the stop reason that says."""
    if seen is None or seen.error is not None:
        return
    reasons = _finishes(raw)
    assert reasons, "a stream without a finishReason ended as a complete answer"
    assert not set(reasons) & FAILURES
    last = reasons[-1]
    calls = any(b.type == "tool_use" for b in seen.blocks)
    expected = ("refusal" if last in REFUSALS else "max_tokens" if last == "MAX_TOKENS"
                else "tool_use" if calls else "end_turn")
    assert seen.stop_reason == expected


@given(gemini_sse(), CUTS)
# found by this test: Gemini never sends [DONE], and one that came was taken (as from OpenAI) for a complete answer
@example(raw=b'data: {"candidates":[{}],"modelVersion":"gemini-test"}\r\n\r\ndata: [DONE]\r\n\r\n', cuts=[])
def test_any_stream_any_cut(raw: bytes, cuts: list[int]) -> None:
    whole = gemini_stream([raw])
    check_finish(raw, whole, check(whole))
    assert gemini_stream(split(raw, cuts)).same_as() == whole.same_as()


@settings(max_examples=150)
@given(gemini_sse())
def test_crlf_lf_and_byte_at_a_time(raw: bytes) -> None:
    whole = gemini_stream([raw])
    assert gemini_stream([raw.replace(b"\r\n", b"\n")]).same_as() == whole.same_as()
    assert gemini_stream([raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")]).same_as() == whole.same_as()
    if len(raw) < 3000:
        assert gemini_stream([raw[i:i + 1] for i in range(len(raw))]).same_as() == whole.same_as()


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
@settings(max_examples=50)
@given(cuts=CUTS)
def test_fixtures_any_cut(path: Path, cuts: list[int]) -> None:
    raw = path.read_bytes()
    whole = gemini_stream([raw])
    seen = check(whole)
    assert seen is not None and seen.blocks
    assert gemini_stream(split(raw, cuts)).same_as() == whole.same_as()


def _sse(*events: Any) -> bytes:
    return b"".join(b"data: " + encode(e) + b"\r\n\r\n" for e in events)


def _candidate(parts: list[Any], finish: str | None = "STOP", **extra: Any) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, **extra}
    if finish is not None:
        candidate["finishReason"] = finish
    return {"candidates": [candidate]}


# found by the fuzzing above; "ok": a complete answer, "error event": output and then an error event,
# a number: an HTTP error with that status before any output
DEEP = "@deep1000@"  # as deep as orjson reads, deeper than Python can str()
ODD_STREAMS: list[tuple[str, list[Any], str | int]] = [
    # a TypeError ("'int' object is not iterable"): a 500 before output, an internal error event after
    ("groundingChunks a number", [_candidate([{"text": "a"}], groundingMetadata={"groundingChunks": 1})], "ok"),
    ("groundingChunks a number after output", [_candidate([{"text": "a"}], None),
                                               _candidate([], groundingMetadata={"groundingChunks": 1})], "ok"),
    # RecursionError from str() of a value nested deeper than Python's recursion limit
    ("a function name nested deep", [_candidate([{"functionCall": {"name": DEEP}}])], "ok"),
    ("a function name nested deep after output", [_candidate([{"text": "a"}], None),
                                                  _candidate([{"functionCall": {"name": DEEP}}])], "ok"),
    ("a grounding title nested deep", [_candidate([{"text": "a"}], groundingMetadata={
        "groundingChunks": [{"web": {"uri": "https://a.example", "title": DEEP}}]})], "ok"),
    ("an error message nested deep", [{"error": {"code": 429, "message": DEEP}}], 429),
    ("an error that is a deep list", [{"error": [DEEP]}], 502),
    ("an error message nested deep after output", [_candidate([{"text": "a"}], None),
                                                   {"error": {"code": 500, "message": DEEP}}], "error event"),
    # a RecursionError: the JSON-array form was flattened at any depth
    ("arrays nested as deep as orjson reads", ["@lists1000@"], "error event"),
    ("arrays nested deep after output", [_candidate([{"text": "a"}], None), "@lists1000@", _candidate([])], "ok"),
    # two tool_use blocks with one id: Claude Code answers by id, and the next request had one result for two calls
    ("two calls with one id", [_candidate([{"functionCall": {"name": "Bash", "id": "c1"}}], None),
                               _candidate([{"functionCall": {"name": "Read", "id": "c1"}}])], "ok"),
]


@pytest.mark.parametrize(("label", "events", "expected"), ODD_STREAMS, ids=[c[0] for c in ODD_STREAMS])
def test_pinned_odd_streams(label: str, events: list[Any], expected: str | int) -> None:
    raw = _sse(*events)
    outcome = gemini_stream([raw])
    seen = check(outcome)
    if isinstance(expected, int):
        assert seen is None and outcome.status == expected
        return
    assert seen is not None
    if expected == "ok":
        assert seen.error is None
        check_finish(raw, outcome, seen)
    else:
        assert seen.error is not None and "up" in seen.error["message"]



# ---- thought signatures, from an answer into the next request --------------------------------------------------

ISSUED = [base64.b64encode(f"sig:{i}".encode()).decode() for i in range(6)]
SIG = st.one_of(st.none(), st.sampled_from(ISSUED))
WELL_FORMED_PART = st.one_of(
    st.builds(lambda t, s: _signed({"text": t, "thought": True}, s), st.sampled_from(["", "hmm", "so"]), SIG),
    st.builds(lambda t, s: _signed({"text": t}, s), st.sampled_from(["", "Let me", " look."]), SIG),
    st.builds(lambda n, i, a, s: _signed({"functionCall": {"name": n, "args": a, **({"id": i} if i else {})}}, s),
              st.sampled_from(["Bash", "Read", "mcp__" + "long_name_" * 8]), st.sampled_from([None, "c1", "f.x:1"]),
              st.dictionaries(st.sampled_from(["command", "path"]), TEXT, max_size=2), SIG),
)


@st.composite
def signed_answer(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A well-formed answer's events: parts of every kind, signed or not, any number to an event."""
    parts = draw(st.lists(WELL_FORMED_PART, min_size=1, max_size=8))
    events: list[dict[str, Any]] = []
    while parts:
        n = draw(st.integers(1, 3))
        events.append({"candidates": [{"content": {"role": "model", "parts": parts[:n]}}]})
        parts = parts[n:]
    events[-1]["candidates"][0]["finishReason"] = "STOP"
    return events


@given(signed_answer(), st.sampled_from(["gemini-3-pro-preview", "gemini-2.5-flash"]))
def test_signatures_come_back_on_their_calls(events: list[dict[str, Any]], model: str) -> None:
    """What Gemini signed comes back signed in the next request (Claude Code sends the assistant message back
    as it got it, with the calls' results): every function call with the signature it came with, and the
    request is one that Gemini takes."""
    names = ToolNames()
    names.short("mcp__" + "long_name_" * 8)  # the request that asked for this answer declared it
    outcome = gemini_stream([_sse(*events)], names)
    seen = check(outcome)
    assert seen is not None and seen.error is None
    message = accumulate(outcome.stream)
    parts = [p for e in events for p in e["candidates"][0]["content"]["parts"]]
    for kind, field, thought in (("text", "text", False), ("thinking", "thinking", True)):  # nothing lost
        assert "".join(b[field] for b in message["content"] if b["type"] == kind) == "".join(
            p.get("text", "") for p in parts if p.get("thought", False) is thought)
    calls = [b for b in message["content"] if b["type"] == "tool_use"]
    history: list[dict[str, Any]] = [{"role": "user", "content": "hi"}, {"role": "assistant",
                                                                         "content": message["content"]}]
    if calls:
        history.append({"role": "user", "content": [{"type": "tool_result", "tool_use_id": c["id"], "content": "ok"}
                                                    for c in calls]})
    else:
        history.append({"role": "user", "content": "go on"})
    request, _ = translate_request({"max_tokens": 100, "messages": history}, model, GeminiOptions(
        generation=int(model[7]), family="pro" if "pro" in model else "flash"))
    api = GeminiAPI(lambda call: None)  # type: ignore[arg-type,return-value]
    api.issued.update(ISSUED)
    api.validate(request, model)
    sent = [p for e in events for p in e["candidates"][0]["content"]["parts"] if "functionCall" in p]
    back = [p for p in request["contents"][1]["parts"] if "functionCall" in p] if sent else []
    assert [p["functionCall"]["name"] for p in back] == [names.short(p["functionCall"]["name"]) for p in sent]
    for i, (original, replayed) in enumerate(zip(sent, back, strict=True)):
        expected = original.get("thoughtSignature")
        if expected is None and i == 0 and model.startswith("gemini-3"):
            expected = signatures.SKIP
        assert replayed.get("thoughtSignature") == expected, (original, replayed)
