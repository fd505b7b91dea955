"""Scores of the heads on labelled examples: per-class precision / recall / F1, macro-F1 and a confusion matrix
for task type and complexity; Brier score, AUC and the strong-share curve for difficulty."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from classifier.dataset import Example
from classifier.model import Prediction
from classifier.taxonomy import COMPLEXITY_NAMES, TASK_NAMES


def _head(truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    p, r, f, n = precision_recall_fscore_support(truth, predicted, labels=list(labels), zero_division=0)
    # over the classes that occur (in the labels or the predictions), as scikit-learn's own macro average: a class
    # a small file never mentions is not a class the model got wrong
    occurs = [i for i, lab in enumerate(labels) if n[i] or lab in predicted]
    return {
        "accuracy": round(float(np.mean([a == b for a, b in zip(truth, predicted, strict=True)])), 4) if truth else 0.0,
        "macro_f1": round(float(np.mean(f[occurs])), 4) if occurs else 0.0,
        "per_class": {lab: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                            "f1": round(float(f[i]), 4), "support": int(n[i])} for i, lab in enumerate(labels)},
        "labels": list(labels),
        "confusion": confusion_matrix(truth, predicted, labels=list(labels)).tolist() if truth else [],
    }


def calibration_error(confidence: Sequence[float], correct: Sequence[bool], bins: int = 10) -> float:
    """Expected calibration error: over equal-width bins of the top probability, the gap between how confident
    the head was and how often it was right, weighted by the bin's share."""
    conf, hit = np.asarray(confidence, dtype=float), np.asarray(correct, dtype=float)
    if not len(conf):
        return 0.0
    which = np.minimum((conf * bins).astype(int), bins - 1)
    return round(float(sum(abs(conf[which == b].mean() - hit[which == b].mean()) * (which == b).mean()
                            for b in range(bins) if (which == b).any())), 4)


def apgr(difficulty: Sequence[float] | np.ndarray, strong: Sequence[float] | np.ndarray,
         weak: Sequence[float] | np.ndarray, steps: int = 21) -> float:
    """RouteLLM's average performance gap recovered: send the `share` hardest prompts (by the score) to the strong
    model, for shares on a grid from 0 to 1; PGR = (quality − weak-only) / (strong-only − weak-only); its mean.
    0.5 is random, 1 a perfect order. Prompts with equal scores are sent in random order, so a share that cuts
    through them gains their mean (the expectation), never what the order of the input file happens to say."""
    d, s, w = (np.asarray(v, dtype=float) for v in (difficulty, strong, weak))
    order = np.argsort(-d, kind="stable")
    low, high = w.mean(), s.mean()
    if high <= low:
        return 0.0
    gain, score = (s - w)[order], d[order]
    # the cumulative gain at each tie group's end, interpolated linearly inside the group
    ends = np.flatnonzero(np.r_[score[1:] != score[:-1], True]) + 1
    at = np.concatenate([[0.0], np.cumsum(gain)[ends - 1]])
    gained = np.interp(np.arange(len(d) + 1), np.r_[0, ends], at) / len(d)
    return round(float(np.mean([gained[round(share * len(d))] / (high - low)
                                for share in np.linspace(0, 1, steps)])), 4)


def score(examples: list[Example], predictions: list[Prediction]) -> dict[str, Any]:
    pairs = list(zip(examples, predictions, strict=True))
    report: dict[str, Any] = {"examples": len(examples)}
    for name, attr, labels in (("task_type", "task_type", TASK_NAMES), ("complexity", "complexity", COMPLEXITY_NAMES)):
        kept = [(getattr(ex, attr), getattr(p, attr)) for ex, p in pairs if getattr(ex, attr) is not None]
        if kept:  # a file may label task types only (`ccr label` leaves complexity out when not given)
            report[name] = _head([t for t, _ in kept], [p for _, p in kept], labels)
    typed = [(ex, p) for ex, p in pairs if ex.task_type is not None]
    if typed:
        report["task_type"]["calibration_error"] = calibration_error(
            [p.probabilities["task_type"][p.task_type] for _, p in typed], [ex.task_type == p.task_type for ex, p in typed])
        sure = [(ex, p) for ex, p in typed if not p.uncertain]
        report["task_type"]["uncertain_share"] = round(1 - len(sure) / len(typed), 4)
        report["task_type"]["accuracy_when_certain"] = (
            round(float(np.mean([ex.task_type == p.task_type for ex, p in sure])), 4) if sure else None)
    strong = [(ex.strong, p.difficulty) for ex, p in pairs if ex.strong is not None]
    if strong:
        from sklearn.metrics import brier_score_loss, roc_auc_score

        y = np.array([s for s, _ in strong], dtype=int)
        d = np.array([p for _, p in strong])
        report["difficulty"] = {
            "brier": round(float(brier_score_loss(y, d)), 4),
            "auc": round(float(roc_auc_score(y, d)), 4) if 0 < y.sum() < len(y) else None,
            "strong_share": round(float(y.mean()), 4),
        }
    report["difficulty_quantiles"] = [round(float(q), 4) for q in
                                      np.quantile([p.difficulty for p in predictions] or [0.0], np.linspace(0, 1, 101))]
    return report


def headline(report: dict[str, Any]) -> float:
    """One number to compare two models on the same data: the mean of the two macro-F1s."""
    return round((float(report["task_type"]["macro_f1"]) + float(report["complexity"]["macro_f1"])) / 2, 4)


def render(report: dict[str, Any], title: str) -> str:
    lines = [f"{title}: {report['examples']} examples"]
    for name in ("task_type", "complexity"):
        if name not in report:
            lines.append(f"\n{name}: no labels")
            continue
        head = report[name]
        lines.append(f"\n{name}: accuracy {head['accuracy']:.3f}, macro-F1 {head['macro_f1']:.3f}")
        if "calibration_error" in head:
            certain = head["accuracy_when_certain"]
            lines.append(f"  calibration error {head['calibration_error']:.3f}; {head['uncertain_share']:.0%} flagged "
                         f"uncertain" + (f", accuracy {certain:.3f} on the rest" if certain is not None else ""))
        lines.append(f"  {'class':<10} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>8}")
        for lab, m in head["per_class"].items():
            lines.append(f"  {lab:<10} {m['precision']:>9.3f} {m['recall']:>7.3f} {m['f1']:>6.3f} {m['support']:>8}")
        labels = head["labels"]
        short = [lab[:5] for lab in labels]
        lines.append("  confusion (rows: truth, columns: predicted)")
        lines.append("  " + " " * 10 + " ".join(f"{s:>5}" for s in short))
        for lab, row in zip(labels, head["confusion"], strict=True):
            lines.append(f"  {lab:<10}" + " ".join(f"{v:>5}" for v in row))
    if "difficulty" in report:
        d = report["difficulty"]
        auc = f"{d['auc']:.3f}" if d["auc"] is not None else "n/a"
        lines.append(f"\ndifficulty: Brier {d['brier']:.3f}, AUC {auc}, strong share in labels {d['strong_share']:.2f}")
    return "\n".join(lines)
