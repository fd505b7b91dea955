"""The trained heads as plain arrays, for inference in the router: scikit-learn (and SciPy under it) cost
~115 MB of resident memory to import, and inference is only a standardization, a matrix product (two, with a ReLU
between, for the task head's perceptron) and a softmax or a calibrated sigmoid. Exported from the fitted `Heads`
when they are saved; a test pins the outputs to scikit-learn's own within 1e-6."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from classifier.model import CodingExpert, Personal, Prediction, base, ngram_columns, predictions, with_expert
from classifier.taxonomy import TASK_NAMES

ARRAYS_FILE = "heads.npz"


def _standardizing(scaler: Any) -> tuple[Any, Any]:
    """A fitted scaler's scale and mean (1 and 0 where it was built without them). A zero spread never reaches here:
    scikit-learn makes it 1, and the heads' FlooredScaler keeps every scale at SCALE_FLOOR or more."""
    return (scaler.scale_ if scaler.scale_ is not None else 1.0), (scaler.mean_ if scaler.mean_ is not None else 0.0)


def _affine(pipeline: Any) -> tuple[np.ndarray, np.ndarray]:
    """StandardScaler then LogisticRegression folded into one affine map: X @ W.T + b."""
    scale, mean = _standardizing(pipeline[0])
    logistic = pipeline[-1]
    weights = logistic.coef_ / scale
    return weights, logistic.intercept_ - weights @ np.broadcast_to(mean, weights.shape[1:])


def _hidden(pipeline: Any) -> tuple[np.ndarray, np.ndarray]:
    """StandardScaler then a perceptron's first layer folded into one affine map (before its ReLU): X @ W + b."""
    scale, mean = _standardizing(pipeline[0])
    mlp = pipeline[-1]
    weights = np.asarray(mlp.coefs_[0]) / np.reshape(scale, (-1, 1))
    return weights, np.asarray(mlp.intercepts_[0]) - np.broadcast_to(mean, weights.shape[:1]) @ weights


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-z)))


class LinearHeads:
    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.arrays = arrays
        self.tasks = [str(t) for t in arrays["task_classes"]]
        self.levels = [str(c) for c in arrays["complexity_classes"]]
        # the coding expert, built once: models trained before it have no such arrays
        self.coding = CodingExpert(*map(float, arrays["coding"])) if "coding" in arrays else None

    @classmethod
    def from_sklearn(cls, heads: Any) -> LinearHeads:
        arrays: dict[str, np.ndarray] = {}
        for name, head in (("task", heads.task), ("complexity", heads.complexity)):
            if hasattr(head[-1], "coefs_"):  # a one-hidden-layer perceptron: its first layer takes the scaler
                arrays[f"{name}_w1"], arrays[f"{name}_b1"] = _hidden(head)
                mlp = head[-1]
                arrays[f"{name}_w"] = np.asarray(mlp.coefs_[1]).T
                arrays[f"{name}_b"] = np.asarray(mlp.intercepts_[1]) - mlp.log_share_
            else:
                arrays[f"{name}_w"], arrays[f"{name}_b"] = _affine(head)
            arrays[f"{name}_classes"] = np.asarray([str(c) for c in head.classes_])
        # the task head's real-traffic prior and temperature, folded into its weights and bias
        if getattr(heads, "task_log_prior", None) is not None:
            arrays["task_b"] = arrays["task_b"] + heads.task_log_prior
        temperature = float(getattr(heads, "task_temperature", 1.0))
        arrays["task_w"], arrays["task_b"] = arrays["task_w"] / temperature, arrays["task_b"] / temperature
        weight = float(getattr(heads, "ngram_weight", 0.0))
        if weight:  # the n-gram term, weight × logits, in the head's class order and tempered alike
            arrays["ngram_index"] = np.asarray([TASK_NAMES.index(str(c)) for c in heads.task.classes_])
            arrays["ngram_scale"] = np.asarray(weight / temperature)
        positive = list(heads.difficulty.classes_).index(True)
        folds_w, folds_b, calibration = [], [], []
        for fold in heads.difficulty.calibrated_classifiers_:
            w, b = _affine(fold.estimator)
            (sigmoid,) = fold.calibrators  # binary: one calibrator, on the positive class's decision value
            folds_w.append(w[0])
            folds_b.append(b[0])
            calibration.append((float(sigmoid.a_), float(sigmoid.b_)))
        arrays["difficulty_w"], arrays["difficulty_b"] = np.asarray(folds_w), np.asarray(folds_b)
        arrays["difficulty_ab"] = np.asarray(calibration)
        arrays["difficulty_positive"] = np.asarray(positive)
        coding = getattr(heads, "coding", None)
        if coding is not None:
            arrays["coding"] = np.asarray([coding.a, coding.b, coding.center])
        if getattr(heads, "reasoning", None) is not None:  # the exam expert and its gate
            arrays["reasoning_w"], arrays["reasoning_b"] = _affine(heads.reasoning)
            gate_w, gate_b = _affine(heads.maths_gate)
            if not heads.maths_gate.classes_[-1]:  # the affine map scores the last class
                gate_w, gate_b = -gate_w, -gate_b
            arrays["gate_w"], arrays["gate_b"] = gate_w, gate_b
        personal = getattr(heads, "personal", None)
        if personal is not None:  # the stage `ccr train` fitted on the user's own outcome labels
            arrays["personal_w"], arrays["personal_ab"] = personal.w, np.asarray([personal.a, personal.b])
        return cls(arrays)

    def predict(self, X: np.ndarray) -> list[Prediction]:
        return predictions(*self.probabilities(X))

    def probabilities(self, X: np.ndarray) -> tuple[np.ndarray, list[str], np.ndarray, list[str], np.ndarray]:
        """Task-type rows, their classes, complexity rows, their classes, and P(strong model needed)."""
        a = self.arrays
        X = np.asarray(X, dtype=np.float64)
        grams = ngram_columns(X)
        X = base(X)
        task_in = np.maximum(X @ a["task_w1"] + a["task_b1"], 0.0) if "task_w1" in a else X
        task_z = task_in @ a["task_w"].T + a["task_b"]
        if "ngram_index" in a and grams is not None:
            task_z = task_z + float(a["ngram_scale"]) * grams[:, a["ngram_index"].astype(np.int64)]
        task_p = self._probabilities(task_z)
        level_p = self._probabilities(X @ a["complexity_w"].T + a["complexity_b"])
        # CalibratedClassifierCV's ensemble: each fold's sigmoid(-(a·f + b)) on its own decision value, averaged
        decision = X @ a["difficulty_w"].T + a["difficulty_b"]
        calibrated = _sigmoid(-(a["difficulty_ab"][:, 0] * decision + a["difficulty_ab"][:, 1]))
        strong_p = calibrated.mean(axis=1)
        if int(a["difficulty_positive"]) == 0:
            strong_p = 1.0 - strong_p
        if self.coding is not None:
            strong_p = self.coding.mix(strong_p, X)
        if "reasoning_w" in a:
            gate = _sigmoid(X @ a["gate_w"][0] + a["gate_b"][0])
            strong_p = with_expert(strong_p, gate, X @ a["reasoning_w"][0] + a["reasoning_b"][0])
        if "personal_w" in a:
            strong_p = Personal(float(a["personal_ab"][0]), a["personal_w"], float(a["personal_ab"][1])).apply(strong_p, X)
        return task_p, self.tasks, level_p, self.levels, strong_p

    @staticmethod
    def _probabilities(z: np.ndarray) -> np.ndarray:
        if z.shape[1] == 1:  # two classes: scikit-learn keeps one row of weights for the second class
            p = _sigmoid(z[:, 0])
            return np.stack([1.0 - p, p], axis=1)
        return _softmax(z)

    def save(self, directory: Path) -> None:
        tmp = directory / (ARRAYS_FILE + ".tmp")
        with open(tmp, "wb") as handle:  # written whole, then renamed: a router loading it never sees half
            # in single precision: half the size (the five perceptrons' weights are most of it), and probabilities
            # within 1e-6 of double's
            arrays = {k: v.astype(np.float32) if v.dtype == np.float64 else v for k, v in self.arrays.items()}
            np.savez(handle, **arrays)  # type: ignore[arg-type]  # numpy types allow_pickle in **kwds
        tmp.replace(directory / ARRAYS_FILE)

    @classmethod
    def load(cls, directory: Path) -> LinearHeads:
        with np.load(directory / ARRAYS_FILE, allow_pickle=False) as data:  # back to double once, not per call
            return cls({k: data[k].astype(np.float64) if data[k].dtype == np.float32 else data[k] for k in data.files})
