"""The official anthropic SDK as the client: one request answered whole, and the same request streamed."""

from __future__ import annotations

from typing import Any

import anthropic
from anthropic.types import Message


def whole_and_streamed(base_url: str, **request: Any) -> tuple[Message, Message]:
    """(the non-streaming answer, the message the SDK's stream helper rebuilds from the stream)."""
    with anthropic.Anthropic(base_url=base_url, api_key="unused", max_retries=0) as client:
        whole = client.messages.create(**request)
        with client.messages.stream(**request) as stream:
            streamed = stream.get_final_message()
    return whole, streamed
