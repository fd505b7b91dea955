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

import csv
import io
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from extract_first import git_show
from extract_targeted import run

HERE = os.path.dirname(os.path.abspath(__file__))

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
    run(__doc__.split("\n")[0], SOURCES, EXTRACTORS, os.path.join(HERE, "prompts_wildchat.jsonl"), argv)


if __name__ == "__main__":
    main()
