"""The labels the classifier predicts, with the definitions the labelling guide (data/LABELLING.md) expands."""

from __future__ import annotations

TASK_TYPES: dict[str, str] = {
    "generate": "write new code or a feature",
    "debug": "find and fix a bug, error or failing test",
    "refactor": "restructure existing code without changing behaviour",
    "review": "judge code: correctness, quality, best way",
    "explain": "explain code, a concept, or how to do something",
    "test": "write or extend tests",
    "document": "docs, comments, READMEs, commit or PR messages",
    "plan": "design, architecture, approach, brainstorming",
    "other": "anything not software work: translation, maths, chat",
}
COMPLEXITIES: dict[str, str] = {
    "low": "one small step, one place",
    "medium": "several steps in one component",
    "high": "multi-file or cross-cutting work, subtle bugs, concurrency, performance, architecture",
}
TASK_NAMES = tuple(TASK_TYPES)
COMPLEXITY_NAMES = tuple(COMPLEXITIES)
