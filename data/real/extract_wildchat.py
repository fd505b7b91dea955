#!/usr/bin/env python3
"""Extract a fourth set of ccr task-type prompts: what developers typed to ChatGPT, from its public logs.

Stdlib only. Reads a bare git mirror (``git --git-dir=... show COMMIT:path``), never a work tree, never runs
anything from the snapshot. Same conventions as extract_first.py: the SOURCES table names repository, pinned
commit, file and licence; ids are ``<source>-<first 10 hex of sha256(key)>``; prompts are capped at 4,000
characters.

- ``wild``: CodeChat (Zhong, Zou, Adams 2025: developer-LLM conversations taken from WildChat, AI2's log of real
  users' conversations with ChatGPT) publishes, for its first research question, 400 conversations in which the
  developer followed up, with both prompts: the turn before the follow-up and the follow-up itself. Both are
  taken (deduplicated by text): first requests with pasted code, and follow-ups without their conversation,
  as developers write them to a chat assistant, often with unfenced code and in imperfect English.

The repository's LICENSE (MIT, SEAL Lab) covers its code; the data derive from WildChat, released by AI2 under
ODC-BY (the CodeChat data set's card states odc-by as well). Labelled by data/LABELLING.md in
labels_wildchat.jsonl; prompts cut off before a request or asking for nothing are left unlabelled.

Usage:
    python3 extract_wildchat.py [--mirrors DIR] [--out prompts_wildchat.jsonl]
"""

import argparse
import csv
import io
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from extract_first import cap, git_show, h, mirror_path, stable_id

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_MIRRORS = "/work/.mirror"

SOURCES = {
    "wild": {
        "repo": "Software-Evolution-Analytics-Lab-SEAL/CodeChat",
        "commit": "043013c47f14d0b5987a0680536b077b9a1ee09c",
        "paths": ["RQ1/rq1_results/RQ1_labelled.csv"],
        "licence": "data: ODC-BY (WildChat, AI2; the CodeChat data set's card: odc-by); code: MIT (LICENSE)",
        "take": None,  # all
    },
}


def extract_wild(src, gitdir):
    """Both prompts of each row (prompt1: the turn before the follow-up, prompt2: the follow-up); key =
    conversation id and turn number; a text seen before (case-folded, spaces collapsed) is skipped."""
    items, seen = [], set()
    for path in src["paths"]:
        for row in csv.DictReader(io.StringIO(git_show(gitdir, src["commit"], path))):
            for text_field, turn_field in (("prompt1", "turn1_number"), ("prompt2", "turn2_number")):
                text = (row.get(text_field) or "").strip()
                folded = " ".join(text.lower().split())
                if text and folded not in seen:
                    seen.add(folded)
                    items.append((f"{row['conversation_id']}:{row[turn_field]}", text))
    return items


EXTRACTORS = {"wild": extract_wild}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mirrors", default=DEFAULT_MIRRORS)
    ap.add_argument("--out", default=os.path.join(HERE, "prompts_wildchat.jsonl"))
    args = ap.parse_args(argv)
    rows = []
    for name, src in SOURCES.items():
        items = sorted(EXTRACTORS[name](src, mirror_path(args.mirrors, src["repo"])), key=lambda kv: h(kv[0]))
        chosen = items if src["take"] is None else items[:src["take"]]
        for key, prompt in chosen:
            rows.append({"id": stable_id(name, key), "source": name, "prompt": cap(prompt)})
        print(f"{name:<8} {len(items):4d} candidates, {len(chosen):4d} taken  ({src['repo']} @ {src['commit'][:12]})",
              file=sys.stderr)
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), "id collision"
    with open(args.out, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} prompts to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
