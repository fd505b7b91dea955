#!/usr/bin/env python3
"""Extract the ccr task-type evaluation prompts from fetched public snapshots.

Stdlib only. Reads bare git mirrors (``git --git-dir=... show COMMIT:path``),
never a work tree, never runs anything from the snapshots.

Usage:
    python3 extract.py [--mirrors DIR] [--out prompts.jsonl]
    python3 extract.py --repo owner/name=/path/to/bare.git ...   # override one

The table SOURCES below names every source: GitHub repository, the pinned commit,
the file(s) read, the licence file and licence. Sampling is deterministic:
candidates are ordered by sha256 of their stable key and the first N are taken,
so re-running on the same commit always yields the same ids.

Each output line: {"id", "source", "prompt"}; the prompt is capped at 4,000
characters (the beginning is kept), as the router would see it.
"""

import argparse
import csv
import hashlib
import html
import io
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser

MAX_CHARS = 4000

# repo -> pinned commit, files, licence. Keyed by repo+commit.
SOURCES = {
    "aider-hist": {
        "repo": "Aider-AI/aider",
        "commit": "5dc9490bb35f9729ef2c95d00a19ccd30c26339c",
        "paths": ["tests/fixtures/chat-history.md"],
        "licence": "Apache-2.0 (LICENSE.txt)",
        "take": 170,
    },
    "aider-docs": {
        "repo": "Aider-AI/aider",
        "commit": "5dc9490bb35f9729ef2c95d00a19ccd30c26339c",
        # example chat transcripts and usage docs (user turns are the '#### ' lines)
        "paths": [
            "aider/website/examples/2048-game.md",
            "aider/website/examples/add-test.md",
            "aider/website/examples/census.md",
            "aider/website/examples/chat-transcript-css.md",
            "aider/website/examples/complex-change.md",
            "aider/website/examples/css-exercises.md",
            "aider/website/examples/hello-world-flask.md",
            "aider/website/examples/no-color.md",
            "aider/website/examples/pong.md",
            "aider/website/examples/semantic-search-replace.md",
            "aider/website/examples/update-docs.md",
            "aider/website/docs/usage/modes.md",
            "aider/website/docs/usage/not-code.md",
            "aider/website/docs/usage/conventions.md",
            "aider/website/docs/usage/lint-test.md",
        ],
        "licence": "Apache-2.0 (LICENSE.txt)",
        "take": None,  # all
    },
    "arenahard": {
        "repo": "lmarena/arena-hard-auto",
        "commit": "196f6b826783b3da7310e361a805fa36f0be83f3",
        "paths": ["data/arena-hard-v0.1/question.jsonl"],
        "licence": "Apache-2.0 (LICENSE)",
        "take": 150,
    },
    "so": {
        "repo": "SnowLeopard-AI/discord_datasets",
        "commit": "da7914c43d67d7e3da3bbdb0e35306a7687c84ee",
        "paths": ["stack-overflow/data_tops/posts_questions.tsv"],
        "licence": "CC BY-SA 4.0 (Stack Overflow user content; per-post licence, "
                   "see stack-overflow/README.md); the repo has no licence file of its own",
        "take": None,  # all 100 rows
    },
    "hadoop": {
        "repo": "av9ash/gitbugs",
        "commit": "eadf2d6794990a1aaa26d0ae15391f29f8969301",
        "paths": ["hadoop/hadoop_bugs.csv"],
        "licence": "CC BY 4.0 (README.md, 'License and Citation')",
        "take": 60,
    },
}

DEFAULT_MIRRORS = "/work/.mirror"


def mirror_path(mirrors, repo):
    return os.path.join(mirrors, repo.replace("/", "+"), "repo")


def git_show(gitdir, commit, path):
    out = subprocess.run(
        ["git", "--git-dir=" + gitdir, "show", commit + ":" + path],
        check=True, capture_output=True,
    ).stdout
    return out.decode("utf-8", errors="replace")


def h(s):
    return hashlib.sha256(s.encode("utf-8")).hexdigest()


def cap(text):
    text = text.strip()
    return text[:MAX_CHARS]


def sample(items, take):
    """items: list of (key, prompt). Order by sha256(key); take first N."""
    items = sorted(items, key=lambda kv: h(kv[0]))
    return items if take is None else items[:take]


# ---------------------------------------------------------------- aider
AUTO_PREFIX = re.compile(
    r"^(# Fix any errors below|# Question:|I added these files|<blank>|I ran this command"
    r"|I have |I updated|I reverted|I committed|I switched|Ok[,.]? |The (user|edits))")
SLASH_KEEP = re.compile(r"^/(ask|code|architect)\s+")
# greetings and one-word asides of the source's own, skipped (kept as hashes: no text of theirs here)
TRIVIAL = {"0b9a11ae035c536d", "74724e79e0d918a8", "9b96a1fe1d548cbb", "b12d50c8b318553a", "d7ceda28c0edf789"}


def aider_user_turns(md):
    """User turns in aider chat markdown are runs of lines starting with '####'."""
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
    """Drop aider's own commands and auto-generated turns; keep what a person typed."""
    out = []
    for m in msgs:
        r = SLASH_KEEP.match(m)
        if r:
            m = m[r.end():]
        elif m.startswith("/"):
            continue  # /add, /undo, /diff, ... are tool commands, not prompts
        if AUTO_PREFIX.match(m) or len(m) < 12:
            continue
        low = m.lower().strip()
        if hashlib.sha256(low.encode()).hexdigest()[:16] in TRIVIAL or low in seen:
            continue
        seen.add(low)
        out.append((low, m))
    return out


def extract_aider(src, gitdir, seen):
    items = []
    for p in src["paths"]:
        items += clean_aider(aider_user_turns(git_show(gitdir, src["commit"], p)), seen)
    return items


# ---------------------------------------------------------------- arena-hard
def extract_arenahard(src, gitdir, seen):
    items = []
    for line in git_show(gitdir, src["commit"], src["paths"][0]).splitlines():
        if line.strip():
            row = json.loads(line)
            items.append((row["uid"], row["prompt"]))
    return items


# ---------------------------------------------------------------- stack overflow
class _Text(HTMLParser):
    """Minimal HTML -> text: <pre> blocks become fenced code, <code> keeps backticks."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.pre = [], 0

    def handle_starttag(self, tag, attrs):
        if tag == "pre":
            self.pre += 1
            self.parts.append("\n```\n")
        elif tag == "code" and not self.pre:
            self.parts.append("`")
        elif tag in ("p", "br", "li", "h1", "h2", "h3", "blockquote"):
            self.parts.append("\n")
        elif tag == "img":
            self.parts.append("[image]")

    def handle_endtag(self, tag):
        if tag == "pre":
            self.pre -= 1
            self.parts.append("```\n")
        elif tag == "code" and not self.pre:
            self.parts.append("`")
        elif tag in ("p", "li"):
            self.parts.append("\n")

    def handle_data(self, data):
        self.parts.append(data)


def html_to_text(s):
    p = _Text()
    p.feed(s)
    text = "".join(p.parts)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def extract_so(src, gitdir, seen):
    data = git_show(gitdir, src["commit"], src["paths"][0])
    csv.field_size_limit(10 ** 8)
    items = []
    for row in csv.DictReader(io.StringIO(data), delimiter="\t"):
        title = html.unescape(row["title"]).strip()
        body = html_to_text(row["body"])
        items.append((row["id"], title + "\n\n" + body))
    return items


# ---------------------------------------------------------------- hadoop jira (GitBugs)
def extract_hadoop(src, gitdir, seen):
    data = git_show(gitdir, src["commit"], src["paths"][0])
    csv.field_size_limit(10 ** 8)
    items = []
    for row in csv.DictReader(io.StringIO(data, newline="")):
        desc = row["Description"].strip()
        if not desc:
            continue
        items.append((row["Issue id"], row["Summary"].strip() + "\n\n" + desc))
    return items


EXTRACTORS = {
    "aider-hist": extract_aider,
    "aider-docs": extract_aider,
    "arenahard": extract_arenahard,
    "so": extract_so,
    "hadoop": extract_hadoop,
}


def stable_id(source, key):
    return f"{source}-{h(key)[:10]}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mirrors", default=DEFAULT_MIRRORS,
                    help="folder holding owner+name/repo bare git dirs")
    ap.add_argument("--repo", action="append", default=[],
                    help="override: owner/name=/path/to/bare.git")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "prompts.jsonl"))
    args = ap.parse_args(argv)
    overrides = dict(x.split("=", 1) for x in args.repo)

    rows, seen_aider = [], set()
    for name, src in SOURCES.items():
        gitdir = overrides.get(src["repo"]) or mirror_path(args.mirrors, src["repo"])
        items = EXTRACTORS[name](src, gitdir, seen_aider)
        chosen = sample(items, src["take"])
        for key, prompt in chosen:
            rows.append({"id": stable_id(name, key), "source": name, "prompt": cap(prompt)})
        print(f"{name:<11} {len(items):4d} candidates, {len(chosen):4d} taken  ({src['repo']} @ {src['commit'][:12]})",
              file=sys.stderr)

    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), "id collision"
    with open(args.out, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} prompts to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
