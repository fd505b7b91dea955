"""Anthropic-compatible upstreams: the body goes through as it came, with only what must change changed.

What changes: the model name; `cache_control` marks when the provider uses `cleancache`; thinking signed by
another Anthropic-format upstream (signatures.py) and thinking blocks that another provider produced through ccr
(their signature starts with `ccr1.`), which an Anthropic upstream would reject as forged.
The model is spliced into the raw bytes when it is the first key (as Claude Code sends it), so the common
request is not re-encoded at all.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from router.translate.anthropic.signatures import SIGNERS
from router.translate.common import SIGNATURE_PREFIX

_FOREIGN = b'"signature":"' + SIGNATURE_PREFIX.encode()
_MODEL_FIRST = re.compile(rb'^\s*\{\s*"model"\s*:\s*"(?:[^"\\]|\\.)*"')


def _is_foreign(block: Any, signer: str) -> bool:
    """Thinking this upstream would refuse: made by ccr from another format's reasoning, or signed by another
    Anthropic-format upstream."""
    if not isinstance(block, dict):
        return False
    kind = block.get("type")
    if kind == "thinking":
        signature = block.get("signature")
        return str(signature or "").startswith(SIGNATURE_PREFIX) or SIGNERS.foreign(signature, signer)
    return kind == "redacted_thinking" and SIGNERS.foreign(block.get("data"), signer)


def _signed_elsewhere(body: dict[str, Any], signer: str) -> bool:
    for msg in body["messages"]:
        content = msg.get("content") if isinstance(msg, dict) and msg.get("role") == "assistant" else None
        if isinstance(content, list) and any(_is_foreign(b, signer) for b in content):
            return True
    return False


def _without_foreign_thinking(body: dict[str, Any], signer: str) -> dict[str, Any]:
    messages = []
    stripped_last = False
    for msg in body["messages"]:
        content = msg.get("content") if isinstance(msg, dict) else None
        stripped_last = stripped_last and not (isinstance(msg, dict) and msg.get("role") == "assistant")
        if isinstance(msg, dict) and msg.get("role") == "assistant" and isinstance(content, list):
            kept = [b for b in content if not _is_foreign(b, signer)]
            if len(kept) != len(content):
                stripped_last = True
                msg = dict(msg, content=kept or [{"type": "text", "text": "(thinking omitted)"}])
        messages.append(msg)
    out = dict(body, messages=messages)
    if stripped_last:
        # with thinking on, Anthropic wants the turn in progress to open with a (genuine) thinking block; that
        # turn's thinking came from another provider, so this request goes without thinking
        out.pop("thinking", None)
        edits = (out.get("context_management") or {}).get("edits")
        if isinstance(edits, list):
            kept_edits = [e for e in edits if not str((e or {}).get("type", "")).startswith("clear_thinking")]
            if kept_edits or len(out["context_management"]) > 1:
                out["context_management"] = dict(out["context_management"], edits=kept_edits)
            else:  # nothing left to manage: an empty edit list is not what the client sent
                out.pop("context_management")
    return out


def _without_cache_control(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_cache_control(v) for k, v in node.items() if k != "cache_control"}
    if isinstance(node, list):
        return [_without_cache_control(v) for v in node]
    return node


def rewrite_body(raw: bytes | None, body: dict[str, Any], model: str, clean_cache: bool = False,
                 signer: str = "") -> bytes:
    """The body for `model` at the upstream `signer` (its URL)."""
    if clean_cache and (raw is None or b'"cache_control"' in raw):  # cleancache: for upstreams that refuse it
        body = {k: _without_cache_control(v) if k in ("system", "messages", "tools") else v for k, v in body.items()}
        raw = None
    if (raw is None or _FOREIGN in raw or b'"signature": "' + SIGNATURE_PREFIX.encode() in raw
            or (SIGNERS.others_seen(signer) and _signed_elsewhere(body, signer))):
        return orjson.dumps(dict(_without_foreign_thinking(body, signer), model=model))
    if body.get("model") == model:
        return raw
    m = _MODEL_FIRST.match(raw)
    if m:
        return raw[: m.start()] + b'{"model":' + orjson.dumps(model) + raw[m.end():]
    return orjson.dumps(dict(body, model=model))
