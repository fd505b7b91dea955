#!/usr/bin/env python3
"""Exam questions with a proxy of how hard they are for a weak model: maths word problems with the length of
their worked solution (how many reasoning steps a prompt needs), and science exam questions split by whether
simple solvers answer them (ARC's Challenge set against its Easy set).

stdlib only. Reads bare git snapshots (fetched with the search tool's `fetch`, read with `git show`) and writes
reasoning.jsonl, one row per problem:

  {"id", "source", "prompt", "steps"}

`steps` is the number of lines of the reference solution before its answer. It is a proxy, not an outcome:
weak models' accuracy on word problems falls with the number of steps much faster than strong models' does,
so within a source, more steps is where a strong model is needed. It teaches the difficulty head what the
judged chat outcomes (extract.py, extract_many.py) cannot: to order prompts *within* maths, where those
outcomes' head was blind (its difficulty and GSM8K's solution steps: Spearman -0.01; prompt length: 0.37).

Sources:
  * openai/grade-school-math @ 3101c7d5072418e28b9008a6636bde82a006892c, MIT,
      grade_school_math/data/train.jsonl (the TRAIN split only; its test split is never read), the first TAKE
      problems in the order of sha1 of the question; steps = solution lines before "####"
  * google-deepmind/AQuA @ 26b64ed1f22208c6742f47df547dfd65088ec30d, Apache-2.0, dev.json and test.json
      (multiple-choice algebra; the prompt is the question with its choices); steps = rationale lines, less a
      last line that only names the answer
  * AI2's ARC (Clark et al. 2018, "Think you have solved question answering? Try ARC"), CC BY-SA 4.0, as
      copied unchanged into pangr2/dataset_collection @ 52d6686c0aef1a55241f3fc8f42345b1af9ce544 (that repository
      states no licence of its own; the data's is AI2's), ARC-V1-Feb2018/ARC-V1-Feb2018-2/ARC-{Challenge,Easy}/
      *-{Train,Dev,Test}.jsonl: grade-school science questions with four (rarely three or five) choices. The
      Challenge set is the questions that both a retrieval solver and a word co-occurrence solver got wrong;
      weak language models lose far more on it than strong ones do (a 7B model: about 75% on Easy, 45-55% on
      Challenge; the strongest: above 95% on both). steps = 1 for Challenge, 0 for Easy: a knowledge-exam
      counterpart of the maths steps. The choices are written in one of a few common layouts (chosen by a
      hash of the question) so that no one layout becomes what the model keys on.

    python data/outcomes/extract_reasoning.py [OUT]  # writes OUT (default reasoning.jsonl in the current directory)
"""
import hashlib
import json
import os
import re
import subprocess
import sys

MIRRORS = os.environ.get("CCR_MIRRORS", "/work/.mirror")
GSM = ("openai+grade-school-math", "3101c7d5072418e28b9008a6636bde82a006892c", "grade_school_math/data/train.jsonl")
AQUA = ("google-deepmind+AQuA", "26b64ed1f22208c6742f47df547dfd65088ec30d", ("dev.json", "test.json"))
ARC = ("pangr2+dataset_collection", "52d6686c0aef1a55241f3fc8f42345b1af9ce544", "ARC-V1-Feb2018/ARC-V1-Feb2018-2")
TAKE = 2500
_ANSWER_LINE = re.compile(r"^\W*(?:the\s+)?(?:correct\s+)?(?:answer|ans|option)\b|^\W*[A-E]\W*$", re.I)
_OPTION = re.compile(r"^\s*([A-E])\s*\)\s*")


def git_show(name, commit, path):
    gitdir = os.path.join(MIRRORS, name, "repo")
    return subprocess.run(["git", "--git-dir", gitdir, "show", f"{commit}:{path}"],
                          capture_output=True, check=True, text=True).stdout


def pid(source, text):
    return f"{source}-" + hashlib.sha1(text.encode()).hexdigest()[:16]


def gsm_rows():
    name, commit, path = GSM
    problems = [json.loads(line) for line in git_show(name, commit, path).splitlines() if line.strip()]
    problems.sort(key=lambda p: hashlib.sha1(p["question"].encode()).hexdigest())
    for p in problems[:TAKE]:
        work = p["answer"].split("####")[0].strip()
        yield {"id": pid("gsm8k-train", p["question"]), "source": "gsm8k_train_steps", "prompt": p["question"],
               "steps": sum(1 for line in work.splitlines() if line.strip())}


def aqua_rows():
    name, commit, paths = AQUA
    seen = set()
    for path in paths:
        for line in git_show(name, commit, path).splitlines():
            if not line.strip():
                continue
            p = json.loads(line)
            choices = " ".join(_OPTION.sub(lambda m: f"({m.group(1)}) ", o).strip() for o in p["options"])
            prompt = f"{p['question'].strip()}\nAnswer Choices: {choices}"
            if prompt in seen:
                continue
            seen.add(prompt)
            lines = [s for s in p["rationale"].splitlines() if s.strip()]
            if len(lines) > 1 and _ANSWER_LINE.search(lines[-1]) and len(lines[-1]) < 40:
                lines = lines[:-1]
            yield {"id": pid("aqua", prompt), "source": "aqua_rationale_steps", "prompt": prompt,
                   "steps": max(1, len(lines))}


def _arc_prompt(stem, choices):
    layout = int(hashlib.sha1(stem.encode()).hexdigest()[:8], 16) % 4
    if layout == 0:
        return stem + "\n" + "\n".join(f"{c['label']}. {c['text']}" for c in choices)
    if layout == 1:
        return stem + "\n" + "\n".join(f"({c['label']}) {c['text']}" for c in choices)
    if layout == 2:
        return stem + "\nAnswer Choices: " + " ".join(f"({c['label']}) {c['text']}" for c in choices)
    return "Question: " + stem + "\n" + "\n".join(f"{c['label']}) {c['text']}" for c in choices) + "\nAnswer:"


def arc_rows():
    name, commit, root = ARC
    seen = set()
    for level, steps in (("Challenge", 1), ("Easy", 0)):
        for split in ("Train", "Dev", "Test"):
            for line in git_show(name, commit, f"{root}/ARC-{level}/ARC-{level}-{split}.jsonl").splitlines():
                if not line.strip():
                    continue
                q = json.loads(line)["question"]
                if q["stem"] in seen:
                    continue
                seen.add(q["stem"])
                yield {"id": pid("arc", q["stem"]), "source": "arc_challenge_vs_easy",
                       "prompt": _arc_prompt(q["stem"].strip(), q["choices"]), "steps": steps}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "reasoning.jsonl"
    n = 0
    with open(out, "w", encoding="utf-8") as f:
        for row in [*gsm_rows(), *aqua_rows(), *arc_rows()]:
            f.write(json.dumps(row) + "\n")
            n += 1
    print(f"{n} problems written to {out}")


if __name__ == "__main__":
    main()
