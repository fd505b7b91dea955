"""What differs between Gemini models and deployments, as data: built once per (provider, model)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_VERSION = re.compile(r"gemini-(\d+)(?:\.\d+)?")


@dataclass(frozen=True, slots=True)
class GeminiOptions:
    max_output_tokens: int | None = None
    # the model generation (2 for gemini-2.5-pro, 3 for gemini-3-flash-preview); None when the name gives none
    # (an alias such as gemini-flash-latest): treated as current, which is the stricter
    generation: int | None = None
    family: str = ""  # "pro", "flash", "flash-lite" or "" (unknown)
    blind: bool = False  # known not to read images: attachments become a note instead of a 400
    vertex: bool = False

    @property
    def current(self) -> bool:
        """Gemini 3 and later: thinking levels, and a thought signature required on replayed function calls."""
        return self.generation is None or self.generation >= 3


def traits(model: str) -> tuple[int | None, str]:
    """(generation, family) from a Gemini model name."""
    name = model.lower().rsplit("/", 1)[-1]
    m = _VERSION.search(name)
    generation = int(m.group(1)) if m else None
    family = "flash-lite" if "flash-lite" in name else "flash" if "flash" in name else "pro" if "pro" in name else ""
    return generation, family
