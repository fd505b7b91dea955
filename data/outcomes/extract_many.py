#!/usr/bin/env python3
"""Per-prompt results of many models, for an item difficulty better than one strong/weak pair gives.

stdlib only. Reads the same git snapshots as extract.py (fetched with the search tool's `fetch`, bare git
directories read with `git show`) and writes items.jsonl, one row per (prompt, source, model):

  {"id", "source", "model", "score"}      score in [0, 1]: the model's quality on the prompt

The prompt ids are extract.py's (sha1 of the prompt, 16 hex), so the rows join its prompts; no text is written.

Sources (both Apache-2.0):
  * tatsu-lab/alpaca_eval @ cd543a149df89434d8a54582c0151c0b945c3d20, results/<model>/<annotator>/annotations.json
      - "ae2_many": annotator weighted_alpaca_eval_gpt4_turbo, every model whose file the snapshot holds (files
        of 4 MiB and more are missing from it); score = the judge's P(model beats GPT-4 Turbo, the reference)
      - "ae1_many": annotator alpaca_eval_gpt4, likewise; score = the model's win against text-davinci-003
        (1 / 0, tie 0.5)
  * lmarena/arena-hard-auto @ 4a705dd6963f777aba2ae79259e3013934e6e012, data/arena-bench-v1/model_judgment/*.jsonl
      - "arena_many": every model's GPT-4 grade 1..10 (with a GPT-4 reference answer), score = (grade - 1) / 9

Left out: the reference models themselves, NullModel (empty answers), gpt4_gamed (an attack on the judge) and
the "judge_any" file of arena-bench.

    python data/outcomes/extract_many.py            # writes data/outcomes/items.jsonl (not committed)
"""
import json
import os
import subprocess
import sys
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from extract import AE_COMMIT, AE_GIT, AH_COMMIT, AH_GIT, ae_pref_to_win, ah_scores, git_show, pid

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = {"NullModel", "gpt4_gamed"}
ANNOTATORS = (("ae2_many", "weighted_alpaca_eval_gpt4_turbo", "gpt4_1106_preview"),
              ("ae1_many", "alpaca_eval_gpt4", "text_davinci_003"))


def git_ls(gitdir, commit, path):
    out = subprocess.run(["git", "--git-dir", gitdir, "ls-tree", "-r", commit, path],
                         capture_output=True, check=True, text=True).stdout
    return [line.split(None, 3) for line in out.splitlines()]  # mode, type, sha, path


def present(gitdir, sha):
    return subprocess.run(["git", "--git-dir", gitdir, "cat-file", "-e", sha], capture_output=True).returncode == 0


def alpaca_rows():
    rows = []
    for source, annotator, reference in ANNOTATORS:
        for _, _, sha, path in git_ls(AE_GIT, AE_COMMIT, "results/"):
            parts = path.split("/")
            if len(parts) != 4 or parts[2] != annotator or parts[3] != "annotations.json":
                continue
            model = parts[1]
            if model in SKIP or model == reference or not present(AE_GIT, sha):
                continue
            seen = {}
            for e in json.loads(git_show(AE_GIT, AE_COMMIT, path)):
                w = ae_pref_to_win(e.get("preference"))
                if w is None or e.get("generator_1") != reference or e.get("generator_2") != model:
                    continue
                seen[pid(e["instruction"])] = w
            rows += [dict(id=i, source=source, model=model, score=round(s, 4)) for i, s in seen.items()]
    return rows


def arena_rows():
    qs = {}
    for line in git_show(AH_GIT, AH_COMMIT, "data/arena-bench-v1/question.jsonl").splitlines():
        q = json.loads(line)
        qs[q["question_id"]] = pid("\n\n".join(q["turns"]))
    rows = []
    for _, _, sha, path in git_ls(AH_GIT, AH_COMMIT, "data/arena-bench-v1/model_judgment/"):
        model = os.path.basename(path)[:-len(".jsonl")]
        if "judge_any" in model or not present(AH_GIT, sha):
            continue
        rows += [dict(id=qs[q], source="arena_many", model=model, score=round(s, 4))
                 for q, s in ah_scores(model).items() if q in qs]
    return rows


def main():
    rows = alpaca_rows() + arena_rows()
    out = os.path.join(HERE, "items.jsonl")
    with open(out, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    models, prompts = defaultdict(set), defaultdict(set)
    for r in rows:
        models[r["source"]].add(r["model"])
        prompts[r["source"]].add(r["id"])
    for s in sorted(models):
        print(f"{s}: {len(prompts[s])} prompts, {len(models[s])} models", file=sys.stderr)
    print("wrote", out, len(rows), "rows", file=sys.stderr)


if __name__ == "__main__":
    main()
