#!/usr/bin/env python3
"""Extract a fourth set of ccr task-type prompts: what developers typed to ChatGPT, from its public logs.

Stdlib only. Reads bare git mirrors (``git --git-dir=... show COMMIT:path``), never a work tree, never runs
anything from the snapshots. Same conventions as extract_first.py: the SOURCES table names repository, pinned
commit, files and licence; ids are ``<source>-<10 hex of sha256(conversation)>~<turn>``, so that the evaluation
split keeps a conversation's prompts on one side, whichever source took them (classifier.public.split_key);
prompts are capped at 4,000 characters. A text already met (case-folded, spaces collapsed), in this source or
an earlier one, is skipped.

- ``wild``: CodeChat (Zhong, Zou, Adams 2025: developer-LLM conversations taken from WildChat, AI2's log of real
  users' conversations with ChatGPT) publishes, for its first research question, 400 conversations in which the
  developer followed up, with both prompts: the turn before the follow-up and the follow-up itself. Both are
  taken: first requests with pasted code, and follow-ups without their conversation, as developers write them
  to a chat assistant, often with unfenced code and in imperfect English.
- ``wild2``: the same study publishes, for its second research question, the follow-up pairs of 207 more whole
  conversations (one topic of its model of the conversations; several pairs per conversation): at most 10
  prompts of a conversation (by hash of the key: two conversations hold 72 and 69).
- ``convo``: a visualisation project publishes 589 WildChat conversations whole (402 of the files are cut off
  inside their trailing metadata, one holds its conversation in a list); the user turns of the 153 whose user
  turns mention software (DEVELOPER below: a language, code, an error, a tool), at most 10 of a conversation
  (151 conversations keep a turn not met before). The rest are chat of every other kind.

CodeChat's LICENSE (MIT, SEAL Lab) covers its code; Convo-topo's README states MIT; the data derive from
WildChat, released by AI2 under ODC-BY (the CodeChat data set's card states odc-by as well). Labelled by
data/LABELLING.md in labels_wildchat.jsonl; prompts cut off before a request or asking for nothing are left
unlabelled.

Usage:
    python3 extract_wildchat.py [--mirrors DIR] [--out prompts_wildchat.jsonl]
"""

import csv
import io
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from extract_first import git_show, h
from extract_targeted import run

HERE = os.path.dirname(os.path.abspath(__file__))

CODECHAT = {"repo": "Software-Evolution-Analytics-Lab-SEAL/CodeChat",
            "commit": "043013c47f14d0b5987a0680536b077b9a1ee09c",
            "licence": "data: ODC-BY (WildChat, AI2; the CodeChat data set's card: odc-by); code: MIT (LICENSE)"}


def conversation_id(name, key):
    conversation, turn = key.split(":")
    return f"{name}-{h(conversation)[:10]}~{turn}"


SOURCES = {
    "wild": {**CODECHAT, "paths": ["RQ1/rq1_results/RQ1_labelled.csv"], "take": None, "make_id": conversation_id},
    "wild2": {**CODECHAT, "paths": ["RQ2/rq2_results/1_topic7_gap_labeled.csv"], "take": None,
              "per_conversation": 10, "make_id": conversation_id},
    "convo": {"repo": "issacting93/Convo-topo", "commit": "c24138a2d402839fc0537c5a8baac8bdd250814b",
              "dir": "public/output-wildchat/", "licence": "data: ODC-BY (WildChat, AI2); README: MIT",
              "take": None, "per_conversation": 10, "make_id": conversation_id},
}

# a conversation of `convo` is taken when its user turns mention software work
DEVELOPER = re.compile(
    r"\b(python|javascript|typescript|java|c\+\+|c#|sql|html|css|php|rust|golang|kotlin|swift|bash|powershell"
    r"|code|coding|function|error|exception|api|script|react|node|django|flask|excel|vba|linux|git|docker|bug"
    r"|compile|program|programming|database|json|regex|algorithm|class|import|def)\b|```|[{};]\s*$", re.I | re.M)

SEEN = set()  # texts met so far, by any source (cleared by main)


def _new(text):
    folded = " ".join(text.lower().split())
    if not text or folded in SEEN:
        return False
    SEEN.add(folded)
    return True


def _per_conversation(items, limit):
    """At most `limit` items of a conversation (key ``conversation:turn``), chosen by hash of the key."""
    kept, taken = [], {}
    for key, text in sorted(items, key=lambda kv: h(kv[0])):
        conversation = key.split(":")[0]
        taken[conversation] = taken.get(conversation, 0) + 1
        if taken[conversation] <= limit:
            kept.append((key, text))
    return kept


def extract_wild(src, gitdir):
    """Both prompts of each row (prompt1: the turn before the follow-up, prompt2: the follow-up); key =
    conversation id and turn number."""
    items = []
    for path in src["paths"]:
        for row in csv.DictReader(io.StringIO(git_show(gitdir, src["commit"], path))):
            for text_field, turn_field in (("prompt1", "turn1_number"), ("prompt2", "turn2_number")):
                text = (row.get(text_field) or "").strip()
                if _new(text):
                    items.append((f"{row['conversation_id']}:{row[turn_field]}", text))
    return _per_conversation(items, src["per_conversation"]) if src.get("per_conversation") else items


def _messages(text):
    """The messages of one conversation file. A file cut off inside its trailing metadata (after the messages) is
    read up to the end of the messages' array; a file holding a list of one conversation is unwrapped. Raises
    ValueError for anything else."""
    try:
        data = json.loads(text)
    except ValueError:
        start = text.index('"messages"')
        cut = text.find('"metadata"', start)
        if cut < 0:
            raise
        return json.loads(text[text.index("[", start):text.rfind("]", 0, cut) + 1])
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
        raise ValueError("not one conversation")
    return data["messages"]


def extract_convo(src, gitdir):
    """Every user turn of the conversations that mention software; key = conversation id and user turn number."""
    listing = subprocess.run(["git", "--git-dir=" + gitdir, "ls-tree", "--name-only", src["commit"], src["dir"]],
                             check=True, capture_output=True, text=True).stdout.split()
    items = []
    for path in listing:
        try:
            turns = [m["content"].strip() for m in _messages(git_show(gitdir, src["commit"], path))
                     if m.get("role") == "user" and isinstance(m.get("content"), str)]
        except ValueError:
            continue  # none in this snapshot: every file is read
        if not DEVELOPER.search("\n".join(turns)):
            continue
        conversation = os.path.basename(path)[len("wildchat_"):-len(".json")]
        items += [(f"{conversation}:{n}", text) for n, text in enumerate(turns, 1) if _new(text)]
    return _per_conversation(items, src["per_conversation"])


EXTRACTORS = {"wild": extract_wild, "wild2": extract_wild, "convo": extract_convo}


def main(argv=None):
    SEEN.clear()
    run(__doc__.split("\n")[0], SOURCES, EXTRACTORS, os.path.join(HERE, "prompts_wildchat.jsonl"), argv)


if __name__ == "__main__":
    main()
