"""Anthropic-compatible upstreams: the body goes through as it came, with only what must change changed.

What changes: the model name; thinking blocks that another provider produced through ccr (their signature
starts with `ccr1.`), which an Anthropic upstream would reject as forged; and the subagent tag, later.
The model is spliced into the raw bytes when it is the first key (as Claude Code sends it), so the common
request is not re-encoded at all.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from router.translate.common import SIGNATURE_PREFIX

_FOREIGN = b'"signature":"' + SIGNATURE_PREFIX.encode()
_MODEL_FIRST = re.compile(rb'^\s*\{\s*"model"\s*:\s*"(?:[^"\\]|\\.)*"')


def _without_foreign_thinking(body: dict[str, Any]) -> dict[str, Any]:
    messages = []
    for msg in body["messages"]:
        content = msg.get("content") if isinstance(msg, dict) else None
        if msg.get("role") == "assistant" and isinstance(content, list):
            kept = [b for b in content if not (isinstance(b, dict) and b.get("type") == "thinking"
                                                and str(b.get("signature", "")).startswith(SIGNATURE_PREFIX))]
            msg = dict(msg, content=kept or [{"type": "text", "text": "(thinking omitted)"}])
        messages.append(msg)
    return dict(body, messages=messages)


def rewrite_body(raw: bytes, body: dict[str, Any], model: str) -> bytes:
    if _FOREIGN in raw or b'"signature": "' + SIGNATURE_PREFIX.encode() in raw:
        return orjson.dumps(dict(_without_foreign_thinking(body), model=model))
    if body.get("model") == model:
        return raw
    m = _MODEL_FIRST.match(raw)
    if m:
        return raw[: m.start()] + b'{"model":' + orjson.dumps(model) + raw[m.end():]
    return orjson.dumps(dict(body, model=model))
