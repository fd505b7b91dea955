"""The scikit-learn heads over [embedding, structural features, n-gram task logits]: task type (five small
perceptrons averaged, plus the n-gram logits), complexity (multinomial logistic regression) and difficulty
(logistic regression with sigmoid calibration: the probability that a strong model is needed, mixed with a
coding expert on prompts with code and an expert for exam questions: maths word problems, multiple-choice science
questions). Saved as versioned artifacts with their training metadata."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from classifier.dataset import Example
from classifier.embed import DIM
from classifier.features import STRUCTURAL_NAMES
from classifier.taxonomy import COMPLEXITY_NAMES, TASK_NAMES

HEADS_FILE = "heads.joblib"
META_FILE = "meta.json"
SEED = 0


# below this calibrated probability the task type is flagged `uncertain`: still the best guess, but rules and
# the policy let their defaults decide rather than act on it
UNCERTAIN_BELOW = 0.5


@dataclass(slots=True)
class Prediction:
    task_type: str
    complexity: str
    difficulty: float
    probabilities: dict[str, dict[str, float]] = field(default_factory=dict)
    uncertain: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"task_type": self.task_type, "complexity": self.complexity, "difficulty": self.difficulty,
                "uncertain": self.uncertain, "probabilities": self.probabilities}


class Predictor(Protocol):
    def predict(self, X: np.ndarray) -> list[Prediction]: ...


def _classifier(c: float) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from classifier.scaling import FlooredScaler

    return make_pipeline(FlooredScaler(), LogisticRegression(C=c, max_iter=3000, class_weight="balanced",
                                                              random_state=SEED))


# the task head: one hidden layer of this many ReLU units, with this L2 penalty (chosen by cross-validation on
# the training side of data/real against logistic regression: see README, "The classifier")
TASK_HIDDEN = 128
TASK_L2 = 1.0
# ...and the mean of this many of them (seeds 0-4): one perceptron's macro-F1 on the first set's evaluation half
# varied by 0.03 (one standard deviation) from seed to seed; five average that out (first set 0.662 / 0.518 on
# four single seeds' mean, 0.672-0.678 / 0.528-0.542 for two sets of five; targeted set 0.69 -> 0.70-0.72)
TASK_MEMBERS = 5
# the difficulty head's regularization: strong, because what prompts share about difficulty is a faint direction
# in the embedding (chosen by five-fold cross-validation on the training side of data/outcomes: mean APGR over
# its sources 0.533 at 0.0003, 0.527 at 0.003, 0.505 at 0.1, the value before)
DIFFICULTY_C = 0.0003
# Within exam questions that head is blind (its difficulty and GSM8K's solution steps: Spearman -0.01; on ARC's
# science questions, Challenge against Easy, 0.50: chance, where prompt length scores 0.571), and one
# linear head cannot learn both the judged outcomes and such questions (joint training: 0.530 on maths problems
# by steps, prompt length 0.558). So exam questions get an expert: a logistic regression on maths word problems
# above/below their source's median steps and on ARC's Challenge questions against its Easy ones (REASONING_C,
# structural features penalised STRUCTURAL_WEIGHT times less than the embedding), mixed with the judged logit by a
# gate, the probability that the prompt is such a question (a logistic regression: exam questions against every
# other training prompt). Its penalties are the maths-only expert's (chosen by five-fold cross-validation on the
# training sides); mixed in rather than added through a softplus, cross-validated: judged outcomes 0.528 -> 0.527,
# GSM8K 0.555 -> 0.551, ARC 0.563 -> 0.579 (prompt length 0.571 on ARC's held-out questions).
REASONING_C = 0.01
STRUCTURAL_WEIGHT = 10.0
GATE_C = 0.01
REASONING = "reasoning"  # the source of the exam questions' rows (classifier.public.REASONING_FILE)
# On coding work the judged head is blind too (InfiBench's Stack Overflow questions, GPT-4 against GPT-3.5: 0.506;
# ClassEval's class-generation tasks, GPT-4-Turbo against five open 6.7-15B models: 0.532), and there a longer
# prompt is a harder one (prompt length 0.587 and 0.611), where on judged chat it is not (0.44-0.53). So a prompt
# with code (the structural `code` flag: a fence, or lines of code) is ordered by a coding expert: a logistic
# regression on the judged logit and the prompt's log length, fitted on ClassEval's tasks (CODING_TASKS rows; C
# chosen by five-fold cross-validation there, flat from 0.01 to 10: 0.604-0.609; other structural features lowered
# it), its length measured from CODING_CENTER (ClassEval's class skeletons are all long, so its own intercept would
# call every shorter coding prompt easy). InfiBench, never trained on: 0.506 -> 0.614 (length 0.587; one standard
# deviation of a random order there: 0.06).
CODING_TASKS = "coding-tasks"  # the source of the coding tasks' rows (classifier.public.CLASSEVAL_FILE)
CODE_COLUMN = DIM + STRUCTURAL_NAMES.index("code")
CODING_C = 0.1
# where the expert's length term is zero: the median length of the real developers' prompts the public task head
# learned from (136 characters), pinned, so that a user's own labels (`ccr train`) cannot move every coding prompt
CODING_CENTER = math.log1p(136) / 8
# The personal stage (`ccr train`): the user's own outcome labels (manual, overrides, escalations, retries) refit
# the difficulty on top of the public heads: a logistic regression on the public difficulty's logit (scaled up,
# so barely penalised) and the features (structural ones penalised STRUCTURAL_WEIGHT times less), kept only when
# it ranks their labels better than the public heads by PERSONAL_GAIN in AUC and better than it ranks each of
# PERSONAL_SHUFFLES shufflings of them (repeated five-fold cross-validation on the labels themselves), with at
# least PERSONAL_MIN_EACH labels on each side. Counted once among ~1,000 public rows, 250 labels moved the shared
# head by +0.002 APGR; as this stage, 250 labels of maths problems by steps took unseen ones 0.535 -> 0.561, and
# random labels were refused 20 times in 20 (without the shuffling test, kept 9 times, at -0.02 to -0.05).
PERSONAL_C = (0.001, 0.003, 0.01, 0.03, 0.1)
PERSONAL_GAIN = 0.02
PERSONAL_MIN_EACH = 15
PERSONAL_SHUFFLES = 19  # beating all of 19 shufflings: p < 0.05
PERSONAL_SEARCH = 600
# A feature row: the embedding, the structural features, then the public n-gram map's task logits (classifier.ngrams,
# TASK_NAMES order). The heads read the first BASE_WIDTH columns; the n-gram logits (balanced classes, no prior:
# the perceptrons' side carries it) are added to the task head's logits at NGRAM_WEIGHT. Left out one source at a
# time (4,004 real prompts): accuracy / macro-F1 0.549 / 0.475 without them; 0.591 / 0.511 at 0.5, 0.607 / 0.521
# at 1, 0.613 / 0.525 at 1.5; with the prior on both sides, 0.605 / 0.504 at 1.
BASE_WIDTH = DIM + len(STRUCTURAL_NAMES)
LENGTH_COLUMN = DIM  # the first structural feature: the log of the prompt's characters
NGRAM_WEIGHT = 1.5
# how much of the real-traffic log-prior is added to the task head's balanced logits (0: a flat mix, 1: the
# whole prior); half the prior kept macro-F1 without costing accuracy in cross-validation
PRIOR_STRENGTH = 0.5


def _balanced_mlp() -> Any:
    """The task head's perceptron class, defined on first use: scikit-learn is not imported with this module
    (the router runs the heads as arrays without it). Module `__getattr__` makes it picklable by name."""
    if "BalancedMLP" in globals():
        return globals()["BalancedMLP"]
    from sklearn.neural_network import MLPClassifier

    class BalancedMLP(MLPClassifier):  # type: ignore[misc]  # scikit-learn ships no types
        """One-hidden-layer perceptrons (TASK_MEMBERS, logits averaged) whose logits have the training mix taken
        out (the log of each class's share subtracted): balanced classes, as the logistic heads' class weights give, so that a prior can
        be added afterwards. Its probabilities are the softmax of those logits."""

        def fit(self, X: np.ndarray, y: Any) -> BalancedMLP:
            # TASK_MEMBERS perceptrons from consecutive seeds, their logits averaged: one wider hidden layer (the
            # members' side by side) and their output layers scaled by 1/n, so the router's arrays are unchanged
            seed = int(self.random_state or 0)
            members = [MLPClassifier(**{**self.get_params(), "random_state": seed + k}).fit(X, y)
                       for k in range(TASK_MEMBERS)]
            self.classes_ = members[0].classes_
            self.coefs_ = [np.hstack([m.coefs_[0] for m in members]),
                           np.vstack([m.coefs_[1] for m in members]) / len(members)]
            self.intercepts_ = [np.concatenate([m.intercepts_[0] for m in members]),
                                np.mean([m.intercepts_[1] for m in members], axis=0)]
            labels = np.asarray(y)
            self.log_share_ = np.log(np.asarray([np.mean(labels == c) for c in self.classes_]))
            return self

        def decision_function(self, X: np.ndarray) -> np.ndarray:
            hidden = np.maximum(np.asarray(X, dtype=np.float64) @ self.coefs_[0] + self.intercepts_[0], 0.0)
            return np.asarray(hidden @ self.coefs_[1] + self.intercepts_[1] - self.log_share_)

        def predict_proba(self, X: np.ndarray) -> np.ndarray:
            z = self.decision_function(X)
            e = np.exp(z - z.max(axis=1, keepdims=True))
            return np.asarray(e / e.sum(axis=1, keepdims=True))

        def predict(self, X: np.ndarray) -> np.ndarray:
            return np.asarray(self.classes_[self.decision_function(X).argmax(axis=1)])

    BalancedMLP.__module__, BalancedMLP.__qualname__ = __name__, "BalancedMLP"
    globals()["BalancedMLP"] = BalancedMLP
    return BalancedMLP


def __getattr__(name: str) -> Any:
    if name == "BalancedMLP":
        return _balanced_mlp()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Heads:
    """Three estimators with fit / predict / predict_proba, trained on the same feature rows.

    The task head (five small perceptrons averaged, balanced classes) is told the classes' real shares (`prior`: a log-prior,
    at PRIOR_STRENGTH, added to its logits, so that generate and explain, the bulk of real requests, are not
    under-predicted) and calibrated (a temperature fitted on predictions for examples it did not see)."""

    def __init__(self, c_task: float = 0.1, c_complexity: float = 0.01, c_difficulty: float = DIFFICULTY_C) -> None:
        # regularization chosen by cross-validation on the training side of the real prompts (data/real), never
        # on their evaluation side
        from sklearn.calibration import CalibratedClassifierCV

        del c_task  # the task head is a perceptron (TASK_HIDDEN, TASK_L2); the argument stays for callers
        self.task = self.task_head()
        self.complexity = _classifier(c_complexity)
        self.difficulty = CalibratedClassifierCV(_classifier(c_difficulty), method="sigmoid", cv=5)
        self.task_log_prior: np.ndarray | None = None
        self.task_temperature = 1.0
        self.reasoning: Any = None  # the exam expert and its gate, when exam questions were in training
        self.maths_gate: Any = None
        self.coding: CodingExpert | None = None  # the coding expert, when coding tasks were in training
        self.personal: Personal | None = None  # fitted by `ccr train` from the user's own outcome labels
        self.personal_report: dict[str, Any] | None = None  # what fit_personal decided, and why
        self.ngram_weight = 0.0  # NGRAM_WEIGHT once trained on rows that carry n-gram logits

    @staticmethod
    def task_head() -> Any:
        """The task head's estimator, unfitted (also what calibration fits on folds)."""
        from sklearn.pipeline import make_pipeline

        from classifier.scaling import FlooredScaler

        mlp = _balanced_mlp()(hidden_layer_sizes=(TASK_HIDDEN,), alpha=TASK_L2, max_iter=300, early_stopping=True,
                              random_state=SEED)
        return make_pipeline(FlooredScaler(), mlp)

    def fit(self, X: np.ndarray, examples: list[Example], prior: dict[str, float] | None = None) -> Heads:
        maths = np.asarray([ex.source == REASONING for ex in examples], dtype=bool)
        coding = np.asarray([ex.source == CODING_TASKS for ex in examples], dtype=bool)
        grams = ngram_columns(X)
        self.ngram_weight = NGRAM_WEIGHT if grams is not None and bool(np.any(grams)) else 0.0
        X = base(X)
        for head, attr in ((self.task, "task_type"), (self.complexity, "complexity"), (self.difficulty, "strong")):
            rows = [i for i, ex in enumerate(examples) if getattr(ex, attr) is not None and not (maths[i] or coding[i])]
            head.fit(X[rows], [getattr(examples[i], attr) for i in rows])
        if coding.any():
            self.coding = CodingExpert.fit(_logit(self._judged(X[coding])), X[coding, LENGTH_COLUMN],
                                           np.asarray([bool(examples[i].strong) for i in np.flatnonzero(coding)]))
        if maths.any():
            self.reasoning = _expert(X[maths], [bool(examples[i].strong) for i in np.flatnonzero(maths)])
            self.maths_gate = _classifier(GATE_C).fit(X, maths)  # exam questions against every other prompt
        if prior:
            self.task_log_prior = PRIOR_STRENGTH * np.log(np.asarray([prior.get(str(c), 1e-3)
                                                                      for c in self.task.classes_]))
        return self

    def task_logits(self, X: np.ndarray) -> np.ndarray:
        z = np.asarray(self.task.decision_function(base(X)))
        if self.task_log_prior is not None:
            z = z + self.task_log_prior
        z = z + with_ngrams(X, list(self.task.classes_), getattr(self, "ngram_weight", 0.0))
        return np.asarray(z / self.task_temperature)  # the temperature calibrates; it never changes which class wins

    def _judged(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.difficulty.predict_proba(X)[:, list(self.difficulty.classes_).index(True)])

    def public_strong_probability(self, X: np.ndarray) -> np.ndarray:
        """P(strong needed) from the public data: the judged head, mixed with the coding expert on prompts with code
        and with the exam expert on exam questions, where there are such experts."""
        X = base(X)
        p = self._judged(X)
        coding = getattr(self, "coding", None)  # None in models trained before it
        if coding is not None:
            p = coding.mix(p, X)
        if getattr(self, "reasoning", None) is None:  # a model trained before the exam expert
            return np.asarray(p)
        gate = self.maths_gate.predict_proba(X)[:, list(self.maths_gate.classes_).index(True)]
        expert = np.asarray(self.reasoning.decision_function(X))
        return with_expert(np.asarray(p), gate, expert)

    def strong_probability(self, X: np.ndarray) -> np.ndarray:
        p = self.public_strong_probability(X)
        personal = getattr(self, "personal", None)  # None in models trained before it, or without enough labels
        return p if personal is None else personal.apply(p, base(X))

    def fit_personal(self, X: np.ndarray, strong: list[bool]) -> dict[str, Any]:
        """The personal stage from the user's own outcome labels (rows of X); kept only when it ranks them better
        than the public heads in cross-validation. Returns what was decided, for the model's metadata."""
        self.personal = None
        y = np.asarray(strong, dtype=bool)
        report: dict[str, Any] = {"labels": len(y), "strong": int(y.sum()), "used": False}
        X = base(X)
        if min(y.sum(), (~y).sum()) < PERSONAL_MIN_EACH:
            report["why"] = f"fewer than {PERSONAL_MIN_EACH} labels on one side (strong needed, or not)"
            return report
        z_all = _logit(self.public_strong_probability(X))
        rng = np.random.default_rng(SEED)
        # the search and the test on at most PERSONAL_SEARCH labels (~1,000 fits: 10 s at 250 labels, 21 s at 600 on
        # two cores; uncapped, minutes at a few thousand); the stage it keeps is then fitted on all of them
        some = np.sort(rng.choice(len(y), PERSONAL_SEARCH, replace=False)) if len(y) > PERSONAL_SEARCH else slice(None)
        z, Xs, ys = z_all[some], X[some], y[some]
        folds = _folds(ys)
        public = float(np.mean([_auc(ys[held], z[held]) for _, held in folds]))
        best, personal = _best_personal(z, Xs, ys, folds)
        # chance: the same search, scored the same way, on shuffled labels (a few hundred labels, several penalties
        # and the public logit's sign free: noise alone reached +0.07 AUC); it must beat all PERSONAL_SHUFFLES of
        # them. (Scored on one repeat of the folds instead of two, the shufflings' AUC was noisier than the labels'
        # and its maximum higher: real outcomes' labels were refused more often: ASDiv's kept 2 times in 5, now 4.)
        chance = max(_best_personal(z, Xs, shuffled, _folds(shuffled))[1]
                     for shuffled in (rng.permutation(ys) for _ in range(PERSONAL_SHUFFLES)))
        report.update(auc_public=round(public, 4), auc_personal=round(personal, 4), auc_chance=round(chance, 4),
                      c=best)
        if personal < public + PERSONAL_GAIN:
            report["why"] = f"it did not rank your labels better than the public heads by {PERSONAL_GAIN} AUC"
            return report
        if personal <= chance:
            report["why"] = (f"it ranked your labels no better than it ranked {PERSONAL_SHUFFLES} shufflings of them: "
                             "more labels, or labels that say more, are needed")
            return report
        self.personal = Personal.fit(z_all, X, y, best)
        report["used"] = True
        return report

    def predict(self, X: np.ndarray) -> list[Prediction]:
        strong_p = self.strong_probability(X)
        z = self.task_logits(X)
        z = z - z.max(axis=1, keepdims=True)
        task_p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        return predictions(task_p, list(self.task.classes_),
                           self.complexity.predict_proba(base(X)), list(self.complexity.classes_), strong_p)


def _expert(X: np.ndarray, y: list[bool]) -> Any:
    """The exam expert: standardized features, the structural ones scaled up (a weaker penalty on them), then a
    balanced logistic regression; one pipeline, so the router folds it into an affine map like the others."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from classifier.features import STRUCTURAL_NAMES
    from classifier.scaling import FlooredScaler

    scaler = FlooredScaler().fit(X)
    scaler.scale_ = scaler.scale_.copy()
    scaler.scale_[-len(STRUCTURAL_NAMES):] /= STRUCTURAL_WEIGHT
    logistic = LogisticRegression(C=REASONING_C, max_iter=3000, class_weight="balanced", random_state=SEED)
    logistic.fit(scaler.transform(X), y)
    return make_pipeline(scaler, logistic)


@dataclass(slots=True)
class CodingExpert:
    """The coding expert as numbers: on a prompt with code, logit' = a · (judged logit) + b · (log length − center);
    on a prompt without, the judged logit as it is (the gate is the structural `code` flag, 0 or 1)."""

    a: float
    b: float
    center: float

    @classmethod
    def fit(cls, z: np.ndarray, length: np.ndarray, y: np.ndarray) -> CodingExpert:
        from sklearn.linear_model import LogisticRegression

        F = np.column_stack([z, length])
        mean, scale = F.mean(axis=0), np.where(F.std(axis=0) == 0, 1.0, F.std(axis=0))
        logistic = LogisticRegression(C=CODING_C, max_iter=3000, class_weight="balanced", random_state=SEED)
        a, b = logistic.fit((F - mean) / scale, y).coef_[0] / scale
        return cls(float(a), float(b), CODING_CENTER)

    def mix(self, p: np.ndarray, X: np.ndarray) -> np.ndarray:
        z, gate = _logit(p), np.asarray(X[:, CODE_COLUMN], dtype=np.float64)
        z = (1.0 - gate) * z + gate * (self.a * z + self.b * (np.asarray(X[:, LENGTH_COLUMN], np.float64) - self.center))
        return np.asarray(1.0 / (1.0 + np.exp(-z)))


@dataclass(slots=True)
class Personal:
    """The personal stage as an affine map: logit' = a · (public logit) + X @ w + b."""

    a: float
    w: np.ndarray
    b: float

    @classmethod
    def fit(cls, z: np.ndarray, X: np.ndarray, y: np.ndarray, c: float) -> Personal:
        from sklearn.linear_model import LogisticRegression

        from classifier.features import STRUCTURAL_NAMES
        from classifier.scaling import SCALE_FLOOR

        mean, scale = X.mean(axis=0), np.maximum(X.std(axis=0), SCALE_FLOOR)
        scale[-len(STRUCTURAL_NAMES):] /= STRUCTURAL_WEIGHT
        z_scale = 10.0 / (float(z.std()) + 1e-9)  # the public logit, scaled up: its weight is barely penalised
        logistic = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=SEED)
        logistic.fit(np.hstack([z[:, None] * z_scale, (X - mean) / scale]), y)
        coef = logistic.coef_[0]
        w = coef[1:] / scale
        return cls(float(coef[0] * z_scale), w, float(logistic.intercept_[0] - w @ mean))

    def apply_logit(self, z: np.ndarray, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.a * z + np.asarray(X, dtype=np.float64) @ self.w + self.b)

    def apply(self, p: np.ndarray, X: np.ndarray) -> np.ndarray:
        return np.asarray(1.0 / (1.0 + np.exp(-self.apply_logit(_logit(p), X))))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-9, 1 - 1e-9)
    return np.asarray(np.log(p / (1 - p)))


def _folds(y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Five stratified folds, twice over (a few hundred labels give a noisy AUC: two repeats steady it)."""
    from sklearn.model_selection import RepeatedStratifiedKFold

    splitter = RepeatedStratifiedKFold(n_splits=5, n_repeats=2, random_state=SEED)
    return list(splitter.split(np.zeros(len(y)), y))


def _best_personal(z: np.ndarray, X: np.ndarray, y: np.ndarray,
                   folds: list[tuple[np.ndarray, np.ndarray]]) -> tuple[float, float]:
    """The penalty whose personal stage ranks the held-out folds best, and its mean AUC."""
    scores = {c: float(np.mean([_auc(y[held], Personal.fit(z[fit], X[fit], y[fit], c).apply_logit(z[held], X[held]))
                                for fit, held in folds])) for c in PERSONAL_C}
    best = max(scores, key=scores.__getitem__)
    return best, scores[best]


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, score))


def with_expert(p: np.ndarray, gate: np.ndarray, expert: np.ndarray) -> np.ndarray:
    """P(strong needed) as a mixture of the judged head's logit and the exam expert's decision value, weighted by
    the gate (how much the prompt is an exam question): a prompt that is none keeps the judged head's calibrated
    probability, an exam question is ordered by the expert, which learned where weak models fail on such
    questions. (An expert that could only raise the judged logit left half of the questions ordered by a head
    that is blind on them: ARC 0.561, against 0.589 mixed and prompt length's 0.571.)"""
    p = np.clip(p, 1e-9, 1 - 1e-9)
    z = (1.0 - gate) * np.log(p / (1 - p)) + gate * expert
    return np.asarray(1.0 / (1.0 + np.exp(-z)))


def predictions(task_p: np.ndarray, tasks: list[str], level_p: np.ndarray, levels: list[str],
                strong_p: np.ndarray) -> list[Prediction]:
    """Predictions from the heads' probability rows (classes a head never saw in training get 0)."""
    out = []
    for i in range(len(task_p)):
        tp = {t: round(float(task_p[i][tasks.index(t)]), 4) if t in tasks else 0.0 for t in TASK_NAMES}
        lp = {c: round(float(level_p[i][levels.index(c)]), 4) if c in levels else 0.0 for c in COMPLEXITY_NAMES}
        best = max(tp, key=tp.__getitem__)
        out.append(Prediction(best, max(lp, key=lp.__getitem__), round(float(strong_p[i]), 4),
                              {"task_type": tp, "complexity": lp}, uncertain=tp[best] < UNCERTAIN_BELOW))
    return out


def features(embeddings: np.ndarray, structural: list[list[float]], ngrams: np.ndarray | None = None) -> np.ndarray:
    """Feature rows: embedding, structural features, n-gram task logits (zeros where there is no text)."""
    grams = np.zeros((len(embeddings), len(TASK_NAMES))) if ngrams is None else ngrams
    return np.hstack([embeddings, np.asarray(structural, dtype=np.float32).reshape(len(embeddings), -1),
                      np.asarray(grams, dtype=np.float32)])


def base(X: np.ndarray) -> np.ndarray:
    """What every head but the n-gram term reads: the embedding and the structural features."""
    return X[:, :BASE_WIDTH]


def ngram_columns(X: np.ndarray) -> np.ndarray | None:
    """The n-gram task logits of the rows (TASK_NAMES order), or None for rows built without them."""
    return X[:, BASE_WIDTH:BASE_WIDTH + len(TASK_NAMES)] if X.shape[1] >= BASE_WIDTH + len(TASK_NAMES) else None


def with_ngrams(X: np.ndarray, classes: list[Any], weight: float) -> np.ndarray:
    """The n-gram term of the task logits, in the head's class order: weight × the n-gram logits (zeros for rows
    built without them)."""
    grams = ngram_columns(X)
    if grams is None or not weight:
        return np.zeros((len(X), len(classes)))
    return weight * np.asarray(grams, dtype=np.float64)[:, [TASK_NAMES.index(str(c)) for c in classes]]


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
    """The difficulty above which `share` of real prompts fall (the evaluation halves of the prompts as their
    sources sent them; a model trained before those were measured: of the seed validation split): route that
    share to strong models."""
    quantiles = (meta.get("public", {}).get("traffic_difficulty_quantiles")  # 101 values, 0th to 100th percentile
                 or meta["metrics"]["difficulty_quantiles"])
    return float(quantiles[min(100, max(0, round(100 * (1 - share))))])
