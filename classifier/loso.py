"""`python -m classifier.loso`: task type on sources the model never trained on. Each source of data/real is left
out in turn (both its halves), the task head and the n-gram map are fitted on the seed training split and every
other source, as the shipped model is (real prompts counted REAL_WEIGHT times, half the prior of the first set's
mix, the n-gram logits at NGRAM_WEIGHT), and the left-out source is labelled. The README's "each source left out of
training in turn" figures come from here.

It needs the prompts' text (the n-gram map reads it; the repository holds only numbers): give the JSONL files
the data/real/extract_*.py scripts write, as for `python -m classifier.public`. The agent sessions come from 37
owners, too many to leave out one by one: they are left out in five groups of owners (by a hash of the owner).
Takes 20-30 minutes (each of 18 folds fits five perceptrons and the map).

    python -m classifier.loso a.jsonl b.jsonl c.jsonl d.jsonl e.jsonl [--only so aider] [--json out.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from classifier import ngrams
from classifier.dataset import Example, load_seed, split
from classifier.model import NGRAM_WEIGHT, PRIOR_STRENGTH, Heads, base
from classifier.public import load_real
from classifier.taxonomy import TASK_NAMES

SESSION_GROUPS = 5


def group(example: Example, owner: str) -> str:
    """The source a prompt is left out with: its id's prefix (so-, aider-, wild- ...); a session prompt's owner's
    group (one owner's prompts share a style, so they stay together)."""
    if example.id.startswith("sess-"):
        return f"sess{int(hashlib.md5(owner.split('/')[0].encode()).hexdigest(), 16) % SESSION_GROUPS}"
    return example.id.split("-")[0]


def _prior(labels: list[str]) -> np.ndarray:
    return np.asarray([(labels.count(t) + 1) / (len(labels) + len(TASK_NAMES)) for t in TASK_NAMES])


def _scores(truth: list[str], guess: list[str]) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score

    return {"prompts": len(truth), "accuracy": round(float(accuracy_score(truth, guess)), 4),
            "macro_f1": round(float(f1_score(truth, guess, average="macro", zero_division=0)), 4)}


def run(texts: dict[str, str], owners: dict[str, str], only: list[str] | None = None,
        say: Callable[[str], None] = lambda line: None) -> dict[str, Any]:
    from classifier.embed import shared
    from classifier.train import REAL_WEIGHT, matrix

    halves = [load_real(evaluation=False), load_real(evaluation=True)]
    examples = [ex for half in halves for ex in half.examples]
    missing = [ex.id for ex in examples if ex.id not in texts]
    if missing:
        raise SystemExit(f"ccr: {len(missing)} labelled prompts have no text in the files given (e.g. {missing[0]}): "
                         "give every set's extracted JSONL")
    seed = [ex for ex in split(load_seed())[0] if ex.task_type]
    Xs = base(matrix(seed, shared()))
    ys = [str(ex.task_type) for ex in seed]
    X = base(np.vstack([half.X for half in halves]))
    y = np.asarray([str(ex.task_type) for ex in examples])
    groups = np.asarray([group(ex, owners.get(ex.id, "")) for ex in examples])
    first = np.asarray([ex.source == "real" for ex in examples])  # the prior's prompts, as the shipped model's
    report: dict[str, Any] = {"groups": {}}
    truth: list[str] = []
    guess: list[str] = []
    names = [g for g in sorted(set(groups)) if not only or g in only]
    for n, held in enumerate(names, 1):
        out, keep = groups == held, groups != held
        say(f"[{n}/{len(names)}] {held}: {int(out.sum())} prompts left out, fitting on the rest")
        head = Heads.task_head().fit(np.vstack([Xs] + [X[keep]] * REAL_WEIGHT),
                                     ys + list(y[keep]) * REAL_WEIGHT)
        classes = [str(c) for c in head.classes_]
        index = [TASK_NAMES.index(c) for c in classes]
        kept = [ex.id for ex, k in zip(examples, keep, strict=True) if k]
        grams = ngrams.fit([ex.prompt for ex in seed] + [texts[i] for i in kept], ys + list(y[keep]),
                           [1.0] * len(seed) + [float(REAL_WEIGHT)] * len(kept))
        held_ids = [ex.id for ex, o in zip(examples, out, strict=True) if o]
        z = (np.asarray(head.decision_function(X[out]))
             + PRIOR_STRENGTH * np.log(_prior(list(y[keep & first])))[index]
             + NGRAM_WEIGHT * grams.logits([texts[i] for i in held_ids])[:, index])
        predicted = [classes[k] for k in z.argmax(axis=1)]
        report["groups"][held] = _scores(list(y[out]), predicted)
        truth += list(y[out])
        guess += predicted
        say(f"  {held}: accuracy {report['groups'][held]['accuracy']:.3f}, "
            f"macro-F1 {report['groups'][held]['macro_f1']:.3f}")
    report["pooled"] = _scores(truth, guess)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m classifier.loso", description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path, help="JSONL of extracted real prompts (every set)")
    parser.add_argument("--only", nargs="*", help="leave out only these groups (id prefixes, sess0 ... sess4)")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args()
    texts, owners = {}, {}
    for path in args.files:
        for line in path.read_text(encoding="utf-8").split("\n"):  # not splitlines: \u2028 may sit in a prompt
            if line.strip():
                row = json.loads(line)
                texts[str(row["id"])], owners[str(row["id"])] = str(row["prompt"]), str(row.get("source", ""))
    report = run(texts, owners, args.only, say=lambda line: print(f"ccr: {line}", file=sys.stderr, flush=True))
    width = max(len(g) for g in report["groups"])
    for name, r in [*report["groups"].items(), ("pooled", report["pooled"])]:
        print(f"{name:<{width}}  {r['prompts']:>5} prompts  accuracy {r['accuracy']:.3f}  macro-F1 {r['macro_f1']:.3f}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
