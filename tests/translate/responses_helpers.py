"""Driving a ResponsesStream with raw upstream bytes cut into arbitrary reads, as the relay does."""

from __future__ import annotations

from router.translate.adapter import Partial
from router.translate.openai_chat import ToolNames
from router.translate.openai_responses import ResponsesStream

PROVIDER, MODEL = "oai", "gpt-5.1-codex"


def new_stream(names: ToolNames | None = None) -> ResponsesStream:
    tr = ResponsesStream("oai,gpt-5.1-codex", names or ToolNames(), PROVIDER, MODEL, 100)
    tr.message_id = "msg_fixed"
    return tr


def translate_bytes(reads: list[bytes], names: ToolNames | None = None) -> bytes:
    """The client's bytes for the upstream's reads (a Partial's good bytes, then its failure, re-raised)."""
    tr = new_stream(names)
    out = []
    try:
        for read in reads:
            out.append(tr.feed(read))
        out.append(tr.close())
    except Partial as part:
        raise Partial(b"".join(out) + part.good, part.failure) from None
    return b"".join(out)
