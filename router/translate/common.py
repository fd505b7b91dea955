"""What every translator shares: tool names and ids within upstream limits, reasoning carried across providers in
thinking signatures, message ids."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import orjson

from router.ids import unique

_VALID_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_VALID_ID = re.compile(r"^[a-zA-Z0-9_-]+$")
_INVALID_CHARS = re.compile(r"[^a-zA-Z0-9_-]")
_ID_PREFIX = "ccrid_"


def short_tool_name(name: str) -> str:
    """OpenAI allows ≤64 chars of [a-zA-Z0-9_-]; longer MCP names get a stable hashed short form."""
    if _VALID_NAME.match(name):
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return _INVALID_CHARS.sub("_", name)[:55] + "_" + digest


def to_anthropic_id(upstream_id: str | None) -> str:
    """Anthropic requires ids of [a-zA-Z0-9_-]; others (Kimi's `functions.Bash:0`) are encoded reversibly."""
    if not upstream_id:
        return unique("toolu_ccr")
    if _VALID_ID.match(upstream_id):
        return upstream_id
    return _ID_PREFIX + base64.urlsafe_b64encode(upstream_id.encode()).decode().rstrip("=")


def to_upstream_id(anthropic_id: str) -> str:
    if anthropic_id.startswith(_ID_PREFIX):
        raw = anthropic_id[len(_ID_PREFIX):]
        try:
            return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            return anthropic_id
    return anthropic_id


# A thinking block produced from another provider's reasoning carries, in its signature, which field the
# reasoning came in (and OpenRouter's reasoning_details), so a later turn replays it exactly as it came.
SIGNATURE_PREFIX = "ccr1."


def reasoning_signature(source: str, details: list[Any] | None = None) -> str:
    if details:
        try:
            packed = base64.urlsafe_b64encode(orjson.dumps(details)).decode().rstrip("=")
        except orjson.JSONEncodeError:  # nested deeper than orjson writes: the reasoning is replayed without them
            return f"{SIGNATURE_PREFIX}{source}"
        return f"{SIGNATURE_PREFIX}{source}.{packed}"
    return f"{SIGNATURE_PREFIX}{source}"


def parse_reasoning_signature(signature: str | None) -> tuple[str | None, list[Any] | None]:
    """(source field, details) of a ccr signature; (None, None) for a real Anthropic signature."""
    if not signature or not signature.startswith(SIGNATURE_PREFIX):
        return None, None
    source, _, packed = signature[len(SIGNATURE_PREFIX):].partition(".")
    if not packed:
        return source, None
    try:
        details = orjson.loads(base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4)))
        orjson.dumps(details)  # they are sent on: deeper than orjson writes (it reads deeper) counts as garbled
    except (ValueError, orjson.JSONDecodeError, orjson.JSONEncodeError):
        return source, None
    return source, details if isinstance(details, list) else None


def is_azure(host: str) -> bool:
    """Azure OpenAI's hosts (Chat and Responses): keys go in an `api-key` header there."""
    return host.endswith((".openai.azure.com", ".cognitiveservices.azure.com", ".services.ai.azure.com"))


def new_message_id() -> str:
    return unique("msg_ccr")
