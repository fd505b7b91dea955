"""Gemini's own token count (models/{m}:countTokens) for Anthropic's /v1/messages/count_tokens."""

from __future__ import annotations

from typing import Any

import orjson

from router.wire.errors import UpstreamUnavailable

_COUNTED = ("contents", "systemInstruction", "tools")  # what the count is of; generation settings are not


def count_request(request: dict[str, Any], model: str, vertex: bool) -> dict[str, Any]:
    """AI Studio takes the whole generate request (with its model); Vertex the counted fields themselves."""
    counted = {k: request[k] for k in _COUNTED if k in request}
    if vertex:
        return counted
    return {"generateContentRequest": {"model": f"models/{model}", **counted}}


def count_answer(data: bytes, provider: str) -> bytes:
    try:
        answer = orjson.loads(data)
    except orjson.JSONDecodeError:
        answer = None
    total = answer.get("totalTokens") if isinstance(answer, dict) else None
    if not isinstance(total, int) or isinstance(total, bool) or not 0 <= total < 2**53:
        raise UpstreamUnavailable(f"provider '{provider}' answered its token count without a usable totalTokens: "
                                  f"{data[:200].decode('utf-8', 'replace')!r}")
    return orjson.dumps({"input_tokens": total})
