"""Gemini's thought signatures, carried through Claude Code on thinking blocks.

Gemini returns a `thoughtSignature` on the parts it wants back (Gemini 3 answers 400 when the first functionCall
of a step in the current turn comes back without one). Claude Code keeps an assistant message's thinking blocks
with their `signature`, and tool_use and text blocks exactly, and sends them all back; so each signature travels
on a thinking block placed next to the block it belongs to, with a `ccr1.gemini.` signature holding:

  t  the signature of the thought part whose text the block holds
  n  the signature of the part that the next block became (a functionCall; the block may have no text)
  p  the signature of the part that the previous block became (a text part: Gemini signs a text answer's last
     part, often an empty one that arrives after the text)

The payload is a JSON object, not a list, so the other adapters' readers (common.parse_reasoning_signature)
see no reasoning details in it and replay nothing of it; the Anthropic passthrough drops it as it drops every
`ccr1.` block. Only these signatures are ever sent to Gemini: thinking from any other provider is not.
"""

from __future__ import annotations

import base64
import binascii

import orjson

from router.translate.common import SIGNATURE_PREFIX

PREFIX = SIGNATURE_PREFIX + "gemini."
# Google's documented value for a function call Gemini did not produce (history from another provider, or a
# signature that was lost): validation of that step is skipped instead of failing with 400
SKIP = "skip_thought_signature_validator"
_ROLES = ("t", "n", "p")


def pack(signatures: dict[str, str]) -> str:
    """The thinking block signature for {role: Gemini signature}."""
    payload = orjson.dumps({k: v for k, v in signatures.items() if k in _ROLES and v})
    return PREFIX + base64.urlsafe_b64encode(payload).decode().rstrip("=")


def unpack(signature: object) -> dict[str, str] | None:
    """{role: Gemini signature} of a block ccr made from a Gemini answer; None for any other signature."""
    if not isinstance(signature, str) or not signature.startswith(PREFIX):
        return None
    packed = signature[len(PREFIX):]
    try:
        value = orjson.loads(base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4)))
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        return None
    if not isinstance(value, dict):
        return None
    return {k: v for k, v in value.items() if k in _ROLES and isinstance(v, str) and v}
