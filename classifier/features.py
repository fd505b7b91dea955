"""What is classified: the latest human prompt (the text a person typed, not tool results or system prompts)
and cheap structural features of it and of the conversation around it."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_FENCE = re.compile(r"```.*?(```|\Z)", re.S)
_TRACE = re.compile(
    r"Traceback \(most recent call last\)|^\s+at [\w$.<>]+\(|panic:|Exception\b|Error:|error\[E\d+\]|"
    r"FAILED|Segmentation fault|AddressSanitizer|^E\s{3}", re.M)
_CODE_LINE = re.compile(r"^(?:\s{4}|\t)\S|[{};]\s*$|^\s*(?:def|class|function|fn|func|import|#include)\b", re.M)
_PATH = re.compile(r"(?<![\w/])[\w./-]*\w\.[A-Za-z][A-Za-z0-9]{0,9}\b")
HEAD_CHARS = 700
TAIL_CHARS = 500

_MATH = re.compile(r"\\(?:frac|sqrt|sum|int)|\$[^$\n]+\$|[=<>]\s*-?\d|\d\s*[-+*/^]\s*\d|\b(?:solve|equation|"
                   r"integral|derivative|probability|prove|calculate|compute)\b", re.I)
_CONSTRAINT = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+\S|\b(?:must|should|exactly|at least|at most|without|"
                         r"ensure|only|each|every|step by step)\b", re.I | re.M)

STRUCTURAL_NAMES = ("chars", "lines", "code", "trace", "files", "question", "depth", "tool_rounds",
                    "context_tokens", "digits", "math", "constraints", "questions")


@dataclass(frozen=True, slots=True)
class Conversation:
    """Where the prompt sits: human turns before it, tool rounds since it, the request's estimated size."""

    depth: int = 0
    tool_rounds: int = 0
    context_tokens: int = 0


def embedding_text(prompt: str) -> str:
    """The part of a prompt the embedding reads. The intent lives in the prose, so fenced code becomes a marker,
    and a long prompt keeps its head and its tail (the question usually ends a pasted log)."""
    text = _FENCE.sub(" [code] ", prompt).strip() or prompt.strip()
    if len(text) > HEAD_CHARS + TAIL_CHARS:
        text = text[:HEAD_CHARS] + " … " + text[-TAIL_CHARS:]
    return text


# words in Latin script, and words in any other: a Chinese, Japanese or Korean character counts as a word, a run
# of other letters (Cyrillic, Greek, Arabic …) as one
_LATIN = "a-zA-Z\u00c0-\u024f\u1e00-\u1eff"
_CJK = "\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff"
_LATIN_WORD = re.compile(f"[{_LATIN}]+")
_OTHER_WORD = re.compile(f"[{_CJK}]|[^\\W\\d_{_LATIN}{_CJK}]+")


def readable(prompt: str) -> bool:
    """Whether the embedding model can read the prompt's prose. all-MiniLM-L6-v2 learned English: on prompts whose
    letters are mostly in another script (Chinese, Japanese, Cyrillic …) its label is a guess (26% right on such
    agent-session prompts, 62% on the rest), so the prediction is flagged uncertain rather than acted on; so is a
    prompt without a word in it (empty, punctuation, a number), whose label is only the prior."""
    text = embedding_text(prompt)
    other, latin = len(_OTHER_WORD.findall(text)), len(_LATIN_WORD.findall(text))
    if not other:
        return latin > 0  # no words at all (empty, "???", "42"): nothing to label
    return other < 0.3 * (other + latin)


def structural(prompt: str, conversation: Conversation = Conversation()) -> list[float]:
    """Numbers of about unit scale, in STRUCTURAL_NAMES order."""
    lines = prompt.count("\n") + 1
    code = "```" in prompt or len(_CODE_LINE.findall(prompt)) >= 2
    return [
        math.log1p(len(prompt)) / 8,
        math.log1p(lines) / 5,
        1.0 if code else 0.0,
        1.0 if _TRACE.search(prompt) else 0.0,
        math.log1p(len(set(_PATH.findall(prompt)))) / 2,
        1.0 if "?" in prompt else 0.0,
        math.log1p(conversation.depth) / 3,
        math.log1p(conversation.tool_rounds) / 3,
        math.log1p(conversation.context_tokens) / 12,
        # what makes a prompt harder than its length says: numbers to work with, maths, several constraints or
        # questions at once
        math.log1p(sum(c.isdigit() for c in prompt)) / 5,
        min(len(_MATH.findall(prompt)), 5) / 5,
        math.log1p(len(_CONSTRAINT.findall(prompt))) / 3,
        math.log1p(prompt.count("?")) / 2,
    ]
