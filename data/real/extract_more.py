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
import csv
import hashlib
import io
import json
import os
import re
import subprocess
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


def mirror_path(mirrors, repo):
    return os.path.join(mirrors, repo.replace("/", "+"), "repo")


def git_show(gitdir, commit, path):
    out = subprocess.run(["git", "--git-dir=" + gitdir, "show", commit + ":" + path],
                         check=True, capture_output=True).stdout
    return out.decode("utf-8", errors="replace")


def h(s):
    return hashlib.sha256(s.encode("utf-8")).hexdigest()


def cap(text):
    return text.strip()[:MAX_CHARS]


# ---------------------------------------------------------------- aider (same rules as batch 1)
AUTO_PREFIX = re.compile(
    r"^(# Fix any errors below|# Question:|I added these files|<blank>|I ran this command"
    r"|I have |I updated|I reverted|I committed|I switched|Ok[,.]? |The (user|edits))")
SLASH_KEEP = re.compile(r"^/(ask|code|architect)\s+")
# greetings and one-word asides of the source's own, skipped (kept as hashes: no text of theirs here)
TRIVIAL = {"0b9a11ae035c536d", "74724e79e0d918a8", "9b96a1fe1d548cbb", "b12d50c8b318553a", "d7ceda28c0edf789"}


def aider_user_turns(md):
    msgs, cur = [], None
    for line in md.split("\n"):
        if line.startswith("####"):
            t = line[4:]
            if t.startswith(" "):
                t = t[1:]
            cur = (cur or []) + [t.rstrip()]
        elif cur is not None:
            msgs.append("\n".join(cur).strip())
            cur = None
    if cur is not None:
        msgs.append("\n".join(cur).strip())
    return msgs


def clean_aider(msgs, seen):
    out = []
    for m in msgs:
        r = SLASH_KEEP.match(m)
        if r:
            m = m[r.end():]
        elif m.startswith("/"):
            continue
        if AUTO_PREFIX.match(m) or len(m) < 12:
            continue
        low = m.lower().strip()
        if hashlib.sha256(low.encode()).hexdigest()[:16] in TRIVIAL or low in seen:
            continue
        seen.add(low)
        out.append((low, m))
    return out


def extract_aider(src, gitdir):
    seen, items = set(), []
    for p in src["paths"]:
        items += clean_aider(aider_user_turns(git_show(gitdir, src["commit"], p)), seen)
    return items


# ---------------------------------------------------------------- arena-hard
def extract_arenahard(src, gitdir):
    items = []
    for line in git_show(gitdir, src["commit"], src["paths"][0]).splitlines():
        if line.strip():
            row = json.loads(line)
            items.append((row["uid"], row["prompt"]))
    return items


# ---------------------------------------------------------------- hadoop jira (GitBugs)
def extract_hadoop(src, gitdir):
    data = git_show(gitdir, src["commit"], src["paths"][0])
    csv.field_size_limit(10 ** 8)
    items = []
    for row in csv.DictReader(io.StringIO(data, newline="")):
        desc = row["Description"].strip()
        if not desc:
            continue
        items.append((row["Issue id"], row["Summary"].strip() + "\n\n" + desc))
    return items


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


def stable_id(source, key):
    return "%s-%s" % (source, h(key)[:10])


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
            prev = {json.loads(l)["id"] for l in f if l.strip()}

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
        print("%-11s %4d candidates, %4d skipped (batch 1), %4d taken  (%s @ %s)"
              % (name, len(items), len(skipped), len(chosen), src["repo"], src["commit"][:12]),
              file=sys.stderr)

    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), "id collision"
    assert not (set(ids) & prev), "re-emitted a batch-1 id"
    with open(args.out, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print("wrote %d prompts to %s" % (len(rows), args.out), file=sys.stderr)


if __name__ == "__main__":
    main()
