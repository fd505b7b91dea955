"""Gemini's error bodies ({"error": {"code", "message", "status"}}, as an HTTP answer or a stream event) and
its finish reasons that are failures, as ccr's errors with the status Claude Code acts on."""

from __future__ import annotations

from typing import Any

from router.wire.errors import UpstreamError, type_for_status

# Gemini's HTTP code → what the client gets: 503 UNAVAILABLE is Anthropic's "overloaded" (529), which Claude Code
# retries; a 401 is ccr's key, not the client's, shown at once as 403
_STATUS = {400: 400, 401: 403, 403: 403, 404: 404, 408: 504, 409: 409, 429: 429, 499: 502, 500: 500, 502: 502,
           503: 529, 504: 504}
_HINTS = {
    "INVALID_ARGUMENT": "the request was refused as invalid",
    "FAILED_PRECONDITION": "the request cannot be served in this region or project as it is",
    "PERMISSION_DENIED": "check that the API key or service account may use this model",
    "UNAUTHENTICATED": "check the provider's api_key or Vertex credentials in the ccr config",
    "NOT_FOUND": "check the model name (and, on Vertex, the project and location)",
    "RESOURCE_EXHAUSTED": "the quota or rate limit is used up; wait, or raise the quota",
    "UNAVAILABLE": "Gemini is overloaded or unavailable; try again shortly",
    "DEADLINE_EXCEEDED": "Gemini took too long; try again, or ask for less",
}
# a prompt or an answer Gemini withheld: Anthropic's refusal
REFUSALS = frozenset({"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY",
                      "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION", "IMAGE_OTHER", "NO_IMAGE", "MODEL_ARMOR",
                      "LANGUAGE"})
# the model broke down mid-answer: what it produced cannot be used
FAILURES = frozenset({"MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL", "TOO_MANY_TOOL_CALLS",
                      "MALFORMED_RESPONSE"})


def _shown(value: Any) -> str:
    """An upstream's value in a message: str() of a list or an object nested as deep as orjson reads (1024
    levels) would exceed Python's recursion limit, so only a scalar is shown as it is."""
    if isinstance(value, str | int | float):
        return str(value)
    return f"an error of type {type(value).__name__}"


def gemini_error(err: Any, provider: str) -> UpstreamError:
    if not isinstance(err, dict):
        return UpstreamError(f"provider '{provider}' (Gemini) reported an error: {_shown(err)}", status=502)
    code = err.get("code")
    code = code if isinstance(code, int) and not isinstance(code, bool) else 502
    status = _STATUS.get(code, code if 400 <= code < 600 else 502)
    name = err.get("status") if isinstance(err.get("status"), str) else ""
    message = err["message"] if isinstance(err.get("message"), str) and err["message"] else "no message"
    text = f"provider '{provider}' (Gemini) answered {code}{' ' + name if name else ''}: {message}"
    if name in _HINTS:
        text += f" — {_HINTS[name]}"
    return UpstreamError(text, status=status, error_type=type_for_status(status))


def finish_failure(reason: str, message: Any, provider: str) -> UpstreamError:
    detail = f": {message}" if isinstance(message, str) and message else ""
    return UpstreamError(f"provider '{provider}' (Gemini) stopped with finishReason {reason}{detail}; the answer "
                         "cannot be used, try again", status=502)


def blocked_prompt(reason: str, message: Any, provider: str) -> UpstreamError:
    detail = f" ({message})" if isinstance(message, str) and message else ""
    return UpstreamError(f"the prompt was blocked by Gemini's safety filter: {reason}{detail} (provider "
                         f"'{provider}'); rephrase it or route it to another model", status=400)
