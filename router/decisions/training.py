"""Labels derived from the logged history, for `ccr train`; and the prompts `ccr label` shows.

- manual:     a label given with `ccr label` (newest wins; it beats everything else).
- override:   the user forced a model (`/model provider,model`, or a rule that names one): its tier says
              whether they wanted a strong model.
- escalation: a cheaper model failed and a fallback of a higher tier answered: the task needed more.
- retry:      the same prompt sent again as a new turn of the same session, after a model below the strong
              tier answered it: the first answer was not good enough.
Derived labels teach only what they know (usually `strong`); the seed set teaches the rest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import orjson

Run = Callable[..., list[tuple[Any, ...]]]
TierOf = Callable[[str], int | None]  # "provider,model" or a deployment id → tier
STRONG = 3
_FORCED = ("explicit", "subagent", "custom")


def _latest_labels(run: Run) -> dict[str, tuple[Any, ...]]:
    rows = run("""SELECT prompt_id, task_type, complexity, strong FROM labels
                  QUALIFY row_number() OVER (PARTITION BY prompt_id ORDER BY ts DESC) = 1""")
    return {r[0]: r[1:] for r in rows}


def derive(run: Run, tier_of: TierOf) -> list[dict[str, Any]]:
    rows = run("""
        SELECT p.prompt_id, p.session, p.prompt, d.signal, d.target, d.candidates, o.deployment, o.fallback_hops,
               o.status
        FROM prompts p JOIN decisions d USING (prompt_id) JOIN outcomes o USING (request_id)
        ORDER BY p.ts, p.prompt_id, d.ts""")
    labels = _latest_labels(run)
    by_prompt: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    text: dict[str, tuple[str | None, str]] = {}
    for r in rows:
        by_prompt[r[0]].append(r)
        text[r[0]] = (r[1], r[2])
    out: dict[str, dict[str, Any]] = {}

    def put(pid: str, source: str, **label: Any) -> None:
        if pid not in out:
            out[pid] = {"id": f"log-{pid}", "prompt": text[pid][1], "task_type": None, "complexity": None,
                        "strong": None, "source": source, **label}

    for pid, (task, level, strong) in labels.items():
        if pid in text:
            put(pid, "manual", task_type=task, complexity=level, strong=strong)
    for pid, requests in by_prompt.items():
        first = requests[0]
        signal, target = first[3], first[4]
        tier = tier_of(target)
        if (signal in _FORCED or signal.startswith("rule:")) and tier is not None:
            put(pid, "override", strong=tier >= STRONG)
        for r in requests:
            if r[7] > 0 and r[6] and r[8] == 200:
                tried = orjson.loads(r[5])
                first_tier, answered_tier = tier_of(tried[0]) if tried else None, tier_of(r[6])
                if first_tier is not None and answered_tier is not None and answered_tier > first_tier:
                    put(pid, "escalation", strong=answered_tier >= STRONG)
    seen: dict[tuple[str | None, str], str] = {}
    for pid in by_prompt:  # in time order: a later turn with the same text retries the earlier one
        key = text[pid]
        if key[0] is not None and key in seen:
            earlier = seen[key]
            answered = by_prompt[earlier][-1][6]
            tier = tier_of(answered) if answered else None
            if tier is not None and tier < STRONG:
                put(earlier, "retry", strong=True)
        seen[key] = pid
    return list(out.values())


def to_label(run: Run, limit: int, include_labelled: bool = False) -> list[dict[str, Any]]:
    """Logged prompts with what the classifier said of them, newest first, for `ccr label`."""
    rows = run("""
        WITH labelled AS (SELECT DISTINCT prompt_id FROM labels),
             said AS (SELECT prompt_id, any_value(task_type) AS task_type, any_value(complexity) AS complexity,
                             any_value(difficulty) AS difficulty
                      FROM decisions WHERE prompt_id IS NOT NULL GROUP BY 1)
        SELECT p.prompt_id, p.ts, p.prompt, said.task_type, said.complexity, said.difficulty,
               l.prompt_id IS NOT NULL
        FROM prompts p LEFT JOIN said USING (prompt_id) LEFT JOIN labelled l USING (prompt_id)
        WHERE ? OR l.prompt_id IS NULL
        ORDER BY p.ts DESC LIMIT ?""", [include_labelled, limit])
    return [{"prompt_id": r[0], "ts": str(r[1]), "prompt": r[2], "task_type": r[3], "complexity": r[4],
             "difficulty": r[5], "labelled": bool(r[6])} for r in rows]


LABEL_SQL = "INSERT INTO labels VALUES (?, ?, ?, ?, ?, 'manual')"  # prompt_id, UTC ts, task_type, complexity, strong


def check_label(raw: Any) -> dict[str, Any]:
    """A label as `ccr label` sends it; InvalidRequest naming what is wrong."""
    from classifier.dataset import label_problem
    from router.wire.errors import InvalidRequest

    if not isinstance(raw, dict) or not isinstance(raw.get("prompt_id"), str):
        raise InvalidRequest("prompt_id: field required (a string, as `ccr label --list` shows)")
    task, level, strong = raw.get("task_type"), raw.get("complexity"), raw.get("strong")
    problem = label_problem(task, level, strong)
    if problem:
        raise InvalidRequest(problem)
    if task is None and level is None and strong is None:
        raise InvalidRequest("give at least one of task_type, complexity, strong")
    return {"prompt_id": raw["prompt_id"], "task_type": task, "complexity": level, "strong": strong}


def label_params(label: dict[str, Any]) -> list[Any]:
    import datetime as dt

    return [label["prompt_id"], dt.datetime.now(dt.UTC).replace(tzinfo=None), label["task_type"],
            label["complexity"], label["strong"]]
