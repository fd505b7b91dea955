"""A whole Gemini answer (generateContent) → one Anthropic message: the stream translator fed the one response,
so both paths map parts, signatures, finish reasons and usage the same way."""

from __future__ import annotations

from typing import Any

from router.translate.gemini.errors import gemini_error
from router.translate.gemini.request import ToolNames
from router.translate.gemini.stream import StreamTranslator
from router.wire.anthropic import accumulate
from router.wire.errors import UpstreamUnavailable


def translate_response(data: Any, label: str, names: ToolNames, provider: str,
                       input_estimate: int = 0) -> tuple[dict[str, Any], dict[str, int]]:
    """(the message, the usage for the log: Gemini's counts, or an estimate marked as one)."""
    if isinstance(data, dict) and data.get("error"):
        raise gemini_error(data["error"], provider)
    if not isinstance(data, dict) or not ("candidates" in data or "promptFeedback" in data):
        raise UpstreamUnavailable(f"provider '{provider}' answered 200 without candidates; it may not speak the "
                                  "Gemini API at this URL (check api_base_url)")
    tr = StreamTranslator(label, names, provider, input_estimate)
    stream = tr.start(data) + tr.feed(data)
    if tr.finish_reason is None:  # a whole answer has ended however it says it did
        tr.finish_reason = "STOP"
    message = accumulate(stream + tr.finish())
    return message, tr.final_usage
