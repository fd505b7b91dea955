"""The scikit-learn heads over [embedding, structural features]: task type and complexity (multinomial
logistic regression) and difficulty (logistic regression with sigmoid calibration: the probability that a
strong model is needed). Saved as versioned artifacts with their training metadata."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from classifier.dataset import Example
from classifier.taxonomy import COMPLEXITY_NAMES, TASK_NAMES

HEADS_FILE = "heads.joblib"
META_FILE = "meta.json"
SEED = 0


@dataclass(slots=True)
class Prediction:
    task_type: str
    complexity: str
    difficulty: float
    probabilities: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"task_type": self.task_type, "complexity": self.complexity, "difficulty": self.difficulty,
                "probabilities": self.probabilities}


class Predictor(Protocol):
    def predict(self, X: np.ndarray) -> list[Prediction]: ...


def _classifier(c: float) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=3000, class_weight="balanced",
                                                              random_state=SEED))


class Heads:
    """Three estimators with fit / predict / predict_proba, trained on the same feature rows."""

    def __init__(self, c_task: float = 0.01, c_complexity: float = 0.01, c_difficulty: float = 0.01) -> None:
        # strong regularization: chosen on the seed validation split (never on the held-out set)
        from sklearn.calibration import CalibratedClassifierCV

        self.task = _classifier(c_task)
        self.complexity = _classifier(c_complexity)
        self.difficulty = CalibratedClassifierCV(_classifier(c_difficulty), method="sigmoid", cv=5)

    def fit(self, X: np.ndarray, examples: list[Example]) -> Heads:
        for head, attr in ((self.task, "task_type"), (self.complexity, "complexity"), (self.difficulty, "strong")):
            rows = [i for i, ex in enumerate(examples) if getattr(ex, attr) is not None]
            head.fit(X[rows], [getattr(examples[i], attr) for i in rows])
        return self

    def predict(self, X: np.ndarray) -> list[Prediction]:
        strong_p = self.difficulty.predict_proba(X)[:, list(self.difficulty.classes_).index(True)]
        return predictions(self.task.predict_proba(X), list(self.task.classes_),
                           self.complexity.predict_proba(X), list(self.complexity.classes_), strong_p)


def predictions(task_p: np.ndarray, tasks: list[str], level_p: np.ndarray, levels: list[str],
                strong_p: np.ndarray) -> list[Prediction]:
    """Predictions from the heads' probability rows (classes a head never saw in training get 0)."""
    out = []
    for i in range(len(task_p)):
        tp = {t: round(float(task_p[i][tasks.index(t)]), 4) if t in tasks else 0.0 for t in TASK_NAMES}
        lp = {c: round(float(level_p[i][levels.index(c)]), 4) if c in levels else 0.0 for c in COMPLEXITY_NAMES}
        out.append(Prediction(max(tp, key=tp.__getitem__), max(lp, key=lp.__getitem__),
                              round(float(strong_p[i]), 4), {"task_type": tp, "complexity": lp}))
    return out


def features(embeddings: np.ndarray, structural: list[list[float]]) -> np.ndarray:
    return np.hstack([embeddings, np.asarray(structural, dtype=np.float32).reshape(len(embeddings), -1)])


def save(heads: Heads, meta: dict[str, Any], directory: Path) -> None:
    import joblib

    from classifier.linear import LinearHeads

    directory.mkdir(parents=True, exist_ok=True)
    joblib.dump(heads, directory / HEADS_FILE)
    LinearHeads.from_sklearn(heads).save(directory)  # what the router loads
    (directory / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")


def load(directory: Path) -> tuple[Heads, dict[str, Any]]:
    import joblib

    heads = joblib.load(directory / HEADS_FILE)
    if not isinstance(heads, Heads):
        raise ValueError(f"{directory / HEADS_FILE} does not hold ccr classifier heads")
    return heads, json.loads((directory / META_FILE).read_text())


def load_inference(directory: Path) -> tuple[Predictor, dict[str, Any]]:
    """The heads as arrays (classifier.linear), without importing scikit-learn; a model saved before the arrays
    existed gets them written once."""
    from classifier.linear import ARRAYS_FILE, LinearHeads

    meta = json.loads((directory / META_FILE).read_text())
    if not (directory / ARRAYS_FILE).exists():
        heads, _ = load(directory)
        LinearHeads.from_sklearn(heads).save(directory)
    return LinearHeads.load(directory), meta


def threshold_for_share(meta: dict[str, Any], share: float) -> float:
    """The difficulty above which `share` of validation prompts fall: route that share to strong models."""
    quantiles = meta["metrics"]["difficulty_quantiles"]  # 101 values, the 0th to the 100th percentile
    return float(quantiles[min(100, max(0, round(100 * (1 - share))))])
