"""Anthropic Messages ⇄ OpenAI Chat Completions."""

from router.translate.openai_chat.options import ChatOptions
from router.translate.openai_chat.request import translate_request
from router.translate.openai_chat.response import translate_response
from router.translate.openai_chat.stream import StreamTranslator
from router.translate.reading import ToolNames

__all__ = ["ChatOptions", "StreamTranslator", "ToolNames", "translate_request", "translate_response"]
