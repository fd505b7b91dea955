"""Matching `routingRules` against a request. A rule whose condition cannot be judged yet (taskType or
complexity before the classifier exists) is skipped, and the reason is kept with the decision."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from router.config.schema import Rule
from router.routing.expr import Unavailable
from router.routing.features import RequestView


@lru_cache(maxsize=1024)
def _phrase(phrase: str) -> re.Pattern[str]:
    """Whole words: "fix" matches "please fix it", not "prefix"."""
    return re.compile(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)", re.I)


def match(rule: Rule, view: RequestView, in_scenario: Callable[[str], bool],
          ml: dict[str, Any] | None = None) -> tuple[bool, str | None]:
    """(matched, why it was skipped). Cheap conditions are checked first; the token count only if needed."""
    c = rule.conditions
    if (c.task_type or c.complexity) and ml is None:
        return False, f"rule '{rule.name}' skipped: taskType/complexity need the classifier, which is not loaded"
    if c.scenario and not any(in_scenario(s) for s in c.scenario):
        return False, None
    if c.message_contains:
        prompt = view.prompt
        if not any(_phrase(p).search(prompt) for p in c.message_contains):
            return False, None
    if c.file_types and not view.file_types.intersection(c.file_types):
        return False, None
    if ml is not None:
        if c.task_type and ml.get("uncertain"):  # the best guess, not a label to act on: defaults decide
            top = ml.get("probabilities", {}).get("task_type", {}).get(ml.get("task_type"), 0.0)
            return False, (f"rule '{rule.name}' skipped: the task type is uncertain ({ml.get('task_type')}, "
                           f"p={top:.2f})")
        if c.task_type and ml.get("task_type") not in c.task_type:
            return False, None
        if c.complexity and ml.get("complexity") not in c.complexity:
            return False, None
    if c.token_min is not None and view.token_count < c.token_min:
        return False, None
    if c.token_max is not None and view.token_count > c.token_max:
        return False, None
    if c.expression is not None:
        env = {"promptChars": len(view.prompt), "messageCount": len(view.messages), "toolRounds": view.tool_rounds,
               **({"complexity": ml.get("complexity"), "difficulty": ml.get("difficulty")} if ml else {}),
               # an uncertain task type is not known: an expression that reads it skips the rule
               **({"taskType": ml.get("task_type")} if ml and not ml.get("uncertain") else {})}
        if "tokenCount" in c.expression.names:
            env["tokenCount"] = view.token_count
        try:
            if not c.expression(env):
                return False, None
        except Unavailable as missing:
            return False, f"rule '{rule.name}' skipped: {missing} is not known for this request yet"
    return True, None
