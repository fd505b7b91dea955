"""Coverage-guided fuzzing (atheris/libFuzzer) of the SSE reader, the OpenAI stream path, request translation,
whole-answer translation and the Anthropic passthrough, with the invariants of the hypothesis suite.

    python -m tests.fuzz.atheris_targets -max_total_time=300        # or -runs=N; any libFuzzer flag
    make fuzz                                                       # 5 minutes, FUZZ_SECONDS to change

Not part of `make test`: it runs until its budget is spent. An input is: a byte that picks the target, a byte
that says how many (up to 7) two-byte offsets follow, the offsets (where the rest is cut into reads), the rest. A violated invariant raises, and libFuzzer then writes the input to
`crash-<sha1>` under -artifact_prefix (default .fuzz/) and stops; rerun with that file as the only argument.
A seed corpus (the recorded provider streams, a Claude Code request) is written to .fuzz/corpus on first run.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["router"]):
    import orjson

    from router.translate.openai_chat import ChatOptions, ToolNames, translate_request, translate_response
    from router.wire.anthropic import check_messages_request, message_as_events, parse_body
    from router.wire.errors import InvalidRequest, UpstreamError
    from router.wire.sse import SSEDecoder
    from tests.fuzz.anthropic_order import check_stream
    from tests.fuzz.drive import fixed_ids, openai_stream, passthrough_stream, split

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / ".fuzz"


class Input:
    """The fuzzer's bytes, read from the front: small header fields, then the payload."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def byte(self) -> int:
        value, self.data = (self.data[0], self.data[1:]) if self.data else (0, b"")
        return value

    def cuts(self) -> list[int]:
        return [self.byte() << 8 | self.byte() for _ in range(self.byte() % 8)]


def _decode(reads: list[bytes]) -> list[tuple[bytes | None, bytes]]:
    decoder = SSEDecoder()
    out: list[tuple[bytes | None, bytes]] = []
    for read in reads:
        out += decoder.feed(read)
    return out + decoder.close()


def sse(data: Input) -> None:
    cuts = data.cuts()
    whole = _decode([data.data])
    assert _decode(split(data.data, cuts)) == whole, "the events depend on how the bytes were cut"
    assert all(payload for _name, payload in whole), "an event with empty data was dispatched"


def openai(data: Input) -> None:
    cuts = data.cuts()
    whole = openai_stream([data.data])
    if whole.status == 200:
        check_stream(whole.stream)
    assert openai_stream(split(data.data, cuts)).same_as() == whole.same_as(), "the output depends on the cut"


def passthrough(data: Input) -> None:
    cuts = data.cuts()
    assert passthrough_stream(split(data.data, cuts)).same_as() == passthrough_stream([data.data]).same_as()


def request(data: Input) -> None:
    flags = data.byte()
    opts = ChatOptions(reasoning_style=("openai", "openrouter", "deepseek")[flags % 3], reasoning_capable=bool(flags & 4),
                       strip_schema_keys=("$schema",) if flags & 8 else ())
    try:
        body = parse_body(data.data)
        check_messages_request(body)
        out, _names = translate_request(body, "m", opts)
    except InvalidRequest:
        return
    orjson.dumps(out)


def answer(data: Input) -> None:
    try:
        parsed = orjson.loads(data.data)
    except orjson.JSONDecodeError:
        return
    try:
        with fixed_ids():
            message = translate_response(parsed, "up,m", ToolNames())
    except UpstreamError:
        return
    orjson.dumps(message)
    check_stream(message_as_events(message))


TARGETS: list[Callable[[Input], None]] = [sse, openai, passthrough, request, answer]


def test_one_input(raw: bytes) -> None:
    data = Input(raw)
    TARGETS[data.byte() % len(TARGETS)](data)


def _seed(corpus: Path) -> None:
    """Recorded inputs, each behind its header (the target, no cuts, no flags)."""
    corpus.mkdir(parents=True, exist_ok=True)
    fixtures = ROOT / "tests" / "fixtures"
    for i, path in enumerate(sorted((fixtures / "openai_streams").glob("*.sse"))):
        (corpus / f"openai_{i}").write_bytes(bytes([TARGETS.index(openai), 0]) + path.read_bytes())
        (corpus / f"sse_{i}").write_bytes(bytes([TARGETS.index(sse), 0]) + path.read_bytes())
    for path in sorted((fixtures / "claude_code").glob("*.json")):
        (corpus / f"request_{path.stem}").write_bytes(bytes([TARGETS.index(request), 0]) + path.read_bytes())
    whole = {"choices": [{"message": {"content": "hi", "tool_calls": [
        {"id": "c", "function": {"name": "Bash", "arguments": "{}"}}]}, "finish_reason": "tool_calls"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1}}
    (corpus / "answer").write_bytes(bytes([TARGETS.index(answer)]) + json.dumps(whole).encode())
    events = (b'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":1}}}\n\n'
              b'event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":2}}\n\n'
              b'event: message_stop\ndata: {"type":"message_stop"}\n\n')
    (corpus / "passthrough").write_bytes(bytes([TARGETS.index(passthrough), 0]) + events)


def main() -> None:
    import logging

    logging.disable(logging.CRITICAL)  # the relays log each upstream failure: millions of them here
    args = list(sys.argv)
    if not any(a.startswith("-artifact_prefix=") for a in args):
        WORK.mkdir(exist_ok=True)
        args.append(f"-artifact_prefix={WORK}/")
    if not any(a.startswith("-max_len=") for a in args):
        args.append("-max_len=8192")
    if not any(not a.startswith("-") for a in args[1:]):  # no corpus or crash file given: the seeded corpus
        _seed(WORK / "corpus")
        args.append(str(WORK / "corpus"))
    atheris.Setup(args, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
