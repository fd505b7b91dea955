"""What differs between OpenAI-compatible providers, as data. Built once per (provider, model), not per request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

# how reasoning is asked for: OpenAI's reasoning_effort, OpenRouter's reasoning object, DeepSeek's thinking switch,
# DashScope's enable_thinking, z.ai's thinking switch, or not at all (xAI: the model name decides)
ReasoningStyle = Literal["openai", "openrouter", "deepseek", "dashscope", "zai", "none"]


@dataclass(frozen=True, slots=True)
class ChatOptions:
    max_output_tokens: int | None = None
    max_tokens_field: str = "max_tokens"
    reasoning_style: ReasoningStyle = "openai"
    # reasoning_effort is only sent to models known to reason: others may reject the parameter
    reasoning_capable: bool = False
    # field that replays thinking which did not come from this kind of provider (e.g. Anthropic's own)
    replay_field: str | None = None
    user_limit: int = 64
    stream_usage: bool = True
    strip_schema_keys: tuple[str, ...] = ()
    extra_params: dict[str, Any] = field(default_factory=dict)
    # parameters this provider refuses (they are dropped from the finished request)
    drop_params: frozenset[str] = frozenset()
    # "mistral": tool call ids sent as 9 letters and digits, the only ids Mistral takes back
    tool_ids: Literal["any", "mistral"] = "any"
    # the most a request that is not streamed may ask for (Fireworks refuses more without streaming)
    whole_max_tokens: int | None = None
    # enhancetool: tool arguments gathered per call and repaired (text still streams as it comes)
    repair_tools: bool = False
    # tooluse: tool calls required, with an ExitTool the model calls to answer in words
    exit_tool: bool = False
    # sampling: top_k passed on, and these values set over the client's (a model's recommended settings)
    sampling: dict[str, Any] | None = None
    # the model is known not to read images: images left in the history go as a note
    blind: bool = False
