"""Anthropic Messages ⇄ OpenAI Responses."""

from router.translate.openai_responses.options import ResponsesOptions
from router.translate.openai_responses.request import translate_request
from router.translate.openai_responses.response import translate_response
from router.translate.openai_responses.stream import ResponsesStream

__all__ = ["ResponsesOptions", "ResponsesStream", "translate_request", "translate_response"]
