"""What differs between Responses models and endpoints, as data. Built once per (provider, model)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# OpenAI's effort levels from least to most; each model family takes a subset (the API answers 400 to the rest)
EFFORT_RANK = {"none": 0, "minimal": 1, "low": 2, "medium": 3, "high": 4, "xhigh": 5, "max": 6}
_DEFAULT_EFFORTS = ("low", "medium", "high")  # what every reasoning model since o1 takes
# first match wins; names are compared without an "org/" prefix. A transformer option overrides the table:
# ["openai-responses", {"efforts": ["low", "medium", "high", "xhigh"]}]
_FAMILY_EFFORTS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"^gpt-5(\.\d+)?-codex-max"), ("low", "medium", "high", "xhigh")),
    (re.compile(r"^gpt-5(\.\d+)?-codex"), ("low", "medium", "high")),
    (re.compile(r"^(gpt-5\.([2-9]|\d\d)|gpt-([6-9]|\d\d))"), ("none", "low", "medium", "high", "xhigh")),
    (re.compile(r"^gpt-5\.1"), ("none", "low", "medium", "high")),
    (re.compile(r"^gpt-5"), ("minimal", "low", "medium", "high")),
)
# models that reason (and so refuse temperature/top_p and take `reasoning`), when the config does not say
_REASONING_NAME = re.compile(r"^(o\d|gpt-5|gpt-[6-9]|gpt-\d\d|codex)(?!.*-chat)")


def efforts_for(model: str) -> tuple[str, ...]:
    name = model.rsplit("/", 1)[-1].lower()
    return next((efforts for pattern, efforts in _FAMILY_EFFORTS if pattern.match(name)), _DEFAULT_EFFORTS)


def reasons_by_name(model: str) -> bool:
    return bool(_REASONING_NAME.match(model.rsplit("/", 1)[-1].lower()))


@dataclass(frozen=True, slots=True)
class ResponsesOptions:
    provider: str = ""  # reasoning is replayed only to the provider and model that produced it
    model: str = ""
    max_output_tokens: int | None = None
    reasoning: bool = False
    efforts: tuple[str, ...] = _DEFAULT_EFFORTS
    extra_params: dict[str, Any] = field(default_factory=dict)
    # the model is known not to read images: images left in the history go as a note (the API refuses them)
    blind: bool = False
