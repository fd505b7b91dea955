#!/usr/bin/env python3
"""Coding questions with a strong and a weak model's graded answers: an evaluation of difficulty on developers'
questions (never trained on).

stdlib only. Reads a bare git snapshot (fetched with the search tool's `fetch`, read with `git show`) and writes
coding.jsonl, one row per question:

  {"id", "source", "prompt", "strong_score", "weak_score"}

Source:
  * infi-coder/infibench-evaluator @ 96cb098c143e42464acdab4ba22da00193039da6, Apache-2.0 (LICENSE; the questions
      derive from Stack Overflow posts, CC BY-SA 4.0): InfiBench's dev set (Li et al. 2024, "InfiBench:
      Evaluating the Question-Answering Capabilities of Code LLMs"), 135 free-form questions the authors adapted
      from Stack Overflow (code completion, debugging, configuration, knowledge questions in eight languages),
      batched_prompts/suite_v2.0.0_dev.csv (`content_prompt`: the question without the benchmark's system
      prompt), and the repository's graded answers of GPT-4 (strong) and GPT-3.5-turbo (weak),
      results/suite_v2.0.0_dev_{gpt-4,gpt-3.5-turbo}_0.2_0.9_30_suite_v2.0.0_dev.yaml: each question's score
      (keywords, unit tests, similarity to a reference, as the benchmark grades it) as a share of its full score.

    python data/outcomes/extract_coding.py [OUT]  # writes OUT (default coding.jsonl in the current directory)
"""
import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys

MIRRORS = os.environ.get("CCR_MIRRORS", "/work/.mirror")
INFI = ("infi-coder+infibench-evaluator", "96cb098c143e42464acdab4ba22da00193039da6")
PROMPTS = "batched_prompts/suite_v2.0.0_dev.csv"
RESULTS = "results/suite_v2.0.0_dev_{model}_0.2_0.9_30_suite_v2.0.0_dev.yaml"
SOURCE = "infibench_gpt4_vs_gpt35"
_FIELD = re.compile(r"^  (full_score|now_score|id): (.*)$")


def git_show(name, commit, path):
    gitdir = os.path.join(MIRRORS, name, "repo")
    return subprocess.run(["git", "--git-dir", gitdir, "show", f"{commit}:{path}"],
                          capture_output=True, check=True, text=True).stdout


def scores(model):
    """Question id -> score / full score, from the grader's YAML (top-level keys are the cases; each case's own
    fields are indented two spaces; read line by line, the standard library has no YAML)."""
    out, case = {}, {}
    for line in [*git_show(*INFI, RESULTS.format(model=model)).splitlines(), "end:"]:
        if line and not line.startswith(" ") and case:
            out[case["id"]] = float(case["now_score"]) / float(case["full_score"])
            case = {}
        match = _FIELD.match(line)
        if match:
            case[match[1]] = match[2].strip().strip("'\"")
    return out


def rows():
    strong, weak = scores("gpt-4"), scores("gpt-3.5-turbo")
    out = []
    for row in csv.DictReader(io.StringIO(git_show(*INFI, PROMPTS))):
        case = re.search(r"eval_(.+)\.yaml$", row["filename"])[1]
        prompt = row["content_prompt"].strip()
        out.append({"id": f"infi-{hashlib.sha1(prompt.encode()).hexdigest()[:16]}", "source": SOURCE,
                    "prompt": prompt, "strong_score": strong[case], "weak_score": weak[case]})
    assert len({r["id"] for r in out}) == len(out) == len(strong) == len(weak), "questions and grades disagree"
    return out


def main():
    out, questions = sys.argv[1] if len(sys.argv) > 1 else "coding.jsonl", rows()
    with open(out, "w", encoding="utf-8") as f:
        for row in questions:
            f.write(json.dumps(row) + "\n")
    print(f"{len(questions)} questions written to {out}")


if __name__ == "__main__":
    main()
