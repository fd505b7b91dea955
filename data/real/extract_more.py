#!/usr/bin/env python3
"""Extract a second batch of ccr task-type evaluation prompts from fetched public snapshots.

Stdlib only. Reads bare git mirrors (``git --git-dir=... show COMMIT:path``), never a
work tree, never runs anything from the snapshots. Same conventions as
../taskeval/extract.py: the SOURCES table names repo, pinned commit, file(s), licence and
take-N; candidates are ordered by sha256 of a stable key; ids are
``<source>-<first 10 hex of sha256(key)>``; prompts are capped at 4,000 characters.

Sources also used by the first batch (aider-hist, arenahard, hadoop) are read with the
same parser and the same ordering; the first ``skip`` candidates of that ordering are the
ones the first batch took, so they are skipped and the next ``take`` are emitted. As a
guard, no id already present in ../taskeval/prompts.jsonl is ever emitted (the script
fails if the skip rule and that file disagree).

Usage:
    python3 extract.py [--mirrors DIR] [--out prompts.jsonl] [--previous ../taskeval/prompts.jsonl]
"""

import argparse
import json
import os
import sys

MAX_CHARS = 4000
HERE = os.path.dirname(os.path.abspath(__file__))

SOURCES = {
    "aider-hist": {
        "repo": "Aider-AI/aider",
        "commit": "5dc9490bb35f9729ef2c95d00a19ccd30c26339c",
        "paths": ["tests/fixtures/chat-history.md"],
        "licence": "Apache-2.0 (LICENSE.txt)",
        "skip": 170,   # taken by ../taskeval
        "take": None,  # all the rest
    },
    "arenahard": {
        "repo": "lmarena/arena-hard-auto",
        "commit": "196f6b826783b3da7310e361a805fa36f0be83f3",
        "paths": ["data/arena-hard-v0.1/question.jsonl"],
        "licence": "Apache-2.0 (LICENSE)",
        "skip": 150,
        "take": None,  # all the rest
    },
    "hadoop": {
        "repo": "av9ash/gitbugs",
        "commit": "eadf2d6794990a1aaa26d0ae15391f29f8969301",
        "paths": ["hadoop/hadoop_bugs.csv"],
        "licence": "CC BY 4.0 (README.md, 'License and Citation')",
        "skip": 60,
        "take": 150,
    },
    "odex": {
        "repo": "zorazrw/odex",
        "commit": "21308ea6d474a078d5a85c61c2b5ca228d1fd167",
        "paths": ["data/en_test.jsonl"],
        "licence": "CC BY-SA 4.0 (README.md 'License'; LICENSE.md); intents derive from "
                   "Stack Overflow questions (CoNaLa), CC BY-SA",
        "skip": 0,
        "take": 150,
    },
}

DEFAULT_MIRRORS = "/work/.mirror"


# the helpers and the aider parser of the first batch, so that both batches read their sources the same way
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import extract_first as first  # noqa: E402
from extract_first import cap, git_show, h, mirror_path, stable_id  # noqa: E402


# the first batch's extractors, each with a fresh set of texts already seen
def extract_aider(src, gitdir):
    return first.extract_aider(src, gitdir, set())


def extract_arenahard(src, gitdir):
    return first.extract_arenahard(src, gitdir, set())


def extract_hadoop(src, gitdir):
    return first.extract_hadoop(src, gitdir, set())


# ---------------------------------------------------------------- ODEX (English)
def extract_odex(src, gitdir):
    """The natural-language intent only (no function stub, no tests). Key = task_id
    (the Stack Overflow question id the intent was written from)."""
    items, seen = [], set()
    for line in git_show(gitdir, src["commit"], src["paths"][0]).splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        intent = row["intent"].strip()
        key = str(row["task_id"])
        if intent.lower() in seen or key in {k for k, _ in items}:
            continue
        seen.add(intent.lower())
        items.append((key, intent))
    return items


EXTRACTORS = {"aider-hist": extract_aider, "arenahard": extract_arenahard,
              "hadoop": extract_hadoop, "odex": extract_odex}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mirrors", default=DEFAULT_MIRRORS)
    ap.add_argument("--out", default=os.path.join(HERE, "prompts.jsonl"))
    ap.add_argument("--previous", default=os.path.join(HERE, "..", "taskeval", "prompts.jsonl"),
                    help="ids in this file are never emitted (checked if the file exists)")
    args = ap.parse_args(argv)

    prev = set()
    if os.path.exists(args.previous):
        with open(args.previous, encoding="utf-8") as f:
            prev = {json.loads(line)["id"] for line in f if line.strip()}

    rows = []
    for name, src in SOURCES.items():
        items = EXTRACTORS[name](src, mirror_path(args.mirrors, src["repo"]))
        items = sorted(items, key=lambda kv: h(kv[0]))
        skipped, rest = items[:src["skip"]], items[src["skip"]:]
        if prev:
            assert all(stable_id(name, k) in prev for k, _ in skipped), name + ": skip mismatch"
        rest = [kv for kv in rest if stable_id(name, kv[0]) not in prev]
        chosen = rest if src["take"] is None else rest[:src["take"]]
        for key, prompt in chosen:
            rows.append({"id": stable_id(name, key), "source": name, "prompt": cap(prompt)})
        print(f"{name:<11} {len(items):4d} candidates, {len(skipped):4d} skipped (batch 1), {len(chosen):4d} taken  "
              f"({src['repo']} @ {src['commit'][:12]})", file=sys.stderr)

    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), "id collision"
    assert not (set(ids) & prev), "re-emitted a batch-1 id"
    with open(args.out, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} prompts to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
