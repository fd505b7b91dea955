"""Labels derived from the logged history, for `ccr train`; and the prompts `ccr label` shows.

- manual:     a label given with `ccr label` (the newest wins; it beats everything else).
- override:   the user switched model with `/model provider,model` (the turn where the requested model
              changed), or a rule named the model: that model's tier says whether a strong model was wanted.
- escalation: the first model tried failed on the request itself (400, 422, 500, 502: not capacity, not
              configuration) and a strong model of a higher tier answered it.
- retry:      the next turn of the session repeats the prompt word for word after a model below the strong
              tier answered it: the first answer was not good enough.
Derived labels teach only what they know (`strong`); the seed set teaches the rest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import orjson

Run = Callable[..., list[tuple[Any, ...]]]
TierOf = Callable[[str], int | None]  # "provider,model" or a deployment id → tier
STRONG = 3
MODEL_FAILURES = {400, 422, 500, 502}  # 429/503/504/529, timeouts and refused connections are capacity
MIN_RETRY_CHARS = 12  # "yes" or "continue" typed twice is not a retry


def _latest_labels(run: Run) -> dict[str, tuple[Any, ...]]:
    rows = run("""SELECT prompt_id, task_type, complexity, strong FROM labels
                  QUALIFY row_number() OVER (PARTITION BY prompt_id ORDER BY ts DESC) = 1""")
    return {r[0]: r[1:] for r in rows}


def _escalated(hops_json: str, answered: str | None, tier_of: TierOf) -> bool:
    attempted = [h for h in orjson.loads(hops_json) if h.get("outcome") != "skipped"]
    if not attempted or not answered or attempted[0].get("outcome") != "error":
        return False
    if attempted[0].get("status") not in MODEL_FAILURES:
        return False
    first, final = tier_of(attempted[0]["deployment"]), tier_of(answered)
    return first is not None and final is not None and final > first and final >= STRONG


_SPACE = "' \t\n\r\x0b\x0c'"  # what str.strip() takes off an ASCII prompt, as a DuckDB string literal


def derive(run: Run, tier_of: TierOf) -> list[dict[str, Any]]:
    # every request of every turn, without the prompts' text (a digest of it finds retries): a join that carried
    # the text once per request ran out of the log's memory limit on a few hundred long prompts; the text is read
    # afterwards for the turns that got a label
    rows = run(f"""
        WITH p AS (SELECT prompt_id, session, md5(trim(prompt, {_SPACE})) AS digest, depth, context_tokens, ts,
                          length(trim(prompt, {_SPACE})) AS chars FROM prompts)
        SELECT p.prompt_id, p.session, p.digest, p.depth, p.context_tokens, d.signal, d.target, d.requested_model,
               o.deployment, o.status, o.hops, p.chars
        FROM p JOIN decisions d USING (prompt_id) JOIN outcomes o USING (request_id)
        ORDER BY p.session, p.depth, p.ts, d.ts""")
    labels = _latest_labels(run)
    turns: dict[str, list[tuple[Any, ...]]] = defaultdict(list)  # prompt_id → its requests, in order
    for r in rows:
        turns[r[0]].append(r)
    out: dict[str, dict[str, Any]] = {}

    def put(pid: str, source: str, **label: Any) -> None:
        first = turns[pid][0]
        if pid not in out:
            out[pid] = {"id": f"log-{pid}", "prompt": "", "depth": first[3], "context_tokens": first[4],
                        "task_type": None, "complexity": None, "strong": None, "source": source, **label}

    for pid, (task, level, strong) in labels.items():
        if pid in turns:
            put(pid, "manual", task_type=task, complexity=level, strong=strong)
    previous: tuple[Any, ...] | None = None  # the session's turn before this one
    for pid, requests in turns.items():
        first = requests[0]
        session, digest, depth, signal, target, requested = first[1], first[2], first[3], first[5], first[6], first[7]
        before = previous if previous is not None and previous[1] == session else None
        tier = tier_of(target)
        switched = signal == "explicit" and (before is None or before[7] != requested)
        if tier is not None and (switched or signal.startswith("rule:")):
            put(pid, "override", strong=tier >= STRONG)
        if any(r[9] == 200 and _escalated(r[10], r[8], tier_of) for r in requests):
            put(pid, "escalation", strong=True)
        if (before is not None and session is not None and before[3] == depth - 1
                and first[11] >= MIN_RETRY_CHARS and before[2] == digest):
            answered = turns[before[0]][-1][8]
            answered_tier = tier_of(answered) if answered else None
            if answered_tier is not None and answered_tier < STRONG:
                put(before[0], "retry", strong=True)
        previous = first
    if out:
        for pid, text in run("SELECT prompt_id, prompt FROM prompts WHERE list_contains(?, prompt_id)", [list(out)]):
            out[pid]["prompt"] = text
    return list(out.values())


MAX_PROMPTS = 10_000  # at most this many prompts in one `ccr label --list` (DuckDB's LIMIT takes a 64-bit number)
SHOWN_CHARS = 1_200  # of each prompt, what `ccr label` shows (the whole text of a thousand could not fit in memory)


def prompt_limit(text: str) -> int | None:
    """How many prompts `ccr label` asked for, or None when `text` is not a whole number from 1 to MAX_PROMPTS
    (ASCII digits only: str.isdigit() also takes "²", which int() refuses)."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_PROMPTS)):
        return None
    return int(text) if 1 <= int(text) <= MAX_PROMPTS else None


def to_label(run: Run, limit: int, include_labelled: bool = False) -> list[dict[str, Any]]:
    """Logged prompts (their first SHOWN_CHARS characters, and their length) with what the classifier said of
    them, newest first, for `ccr label`."""
    rows = run("""
        WITH labelled AS (SELECT DISTINCT prompt_id FROM labels),
             newest AS (SELECT p.prompt_id, p.ts, l.prompt_id IS NOT NULL AS done
                        FROM prompts p LEFT JOIN labelled l USING (prompt_id)
                        WHERE ? OR l.prompt_id IS NULL ORDER BY p.ts DESC LIMIT ?),
             said AS (SELECT prompt_id, any_value(task_type) AS task_type, any_value(complexity) AS complexity,
                             any_value(difficulty) AS difficulty
                      FROM decisions WHERE prompt_id IN (SELECT prompt_id FROM newest) GROUP BY 1)
        -- the newest ids first, their text joined after: joins that carry every prompt's text ran out of the
        -- log's memory limit on a few hundred long prompts
        SELECT n.prompt_id, n.ts, left(p.prompt, ?), length(p.prompt), said.task_type, said.complexity,
               said.difficulty, n.done
        FROM newest n JOIN prompts p USING (prompt_id) LEFT JOIN said USING (prompt_id)
        ORDER BY n.ts DESC""", [include_labelled, limit, SHOWN_CHARS])
    return [{"prompt_id": r[0], "ts": str(r[1]), "prompt": r[2], "chars": r[3], "task_type": r[4],
             "complexity": r[5], "difficulty": r[6], "labelled": bool(r[7])} for r in rows]


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


def save_label(run: Run, execute: Callable[[str, list[Any]], Any], label: dict[str, Any]) -> None:
    """Write a checked label for a logged prompt; NotFound when no such prompt was logged."""
    import datetime as dt

    from router.wire.errors import NotFound

    if not run("SELECT 1 FROM prompts WHERE prompt_id = ?", [label["prompt_id"]]):
        raise NotFound(f"no logged prompt {label['prompt_id'][:100]}; `ccr label --list` shows the ids")
    execute(LABEL_SQL, [label["prompt_id"], dt.datetime.now(dt.UTC).replace(tzinfo=None), label["task_type"],
                        label["complexity"], label["strong"]])
