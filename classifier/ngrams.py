"""A bag of words and word pairs: task-type logits from the prompt's own words, beside the embedding.

all-MiniLM-L6-v2 reads a prompt's meaning; the words a developer uses for a kind of request ("write a test for",
"review", "docstring", "why does") say the task more directly, and carry over to sources the perceptrons never
saw: left out one source at a time (eleven sources and five folds of the agent sessions' owners, 4,004 prompts),
accuracy 0.549 -> 0.613 and macro-F1 0.475 -> 0.525 with these logits added to the perceptrons' (model.py,
NGRAM_WEIGHT).

The words are hashed (CRC-32, stable across platforms) into 2^16 buckets, weighted by sublinear term frequency
and inverse document frequency, normalized, and scored by a linear map per task type. The map is trained once on
the public prompts' text (seed training split and the training halves of data/real, by `python -m
classifier.public`, the only step that sees their text) and ships as numbers (data/real/ngrams.npz); the router
computes the logits with NumPy alone. Each real prompt's logits are stored beside its embedding (from a map that
did not see it), so the task head can be trained and calibrated on them without the text."""

from __future__ import annotations

import hashlib
import math
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from classifier.features import embedding_text
from classifier.taxonomy import TASK_NAMES

BITS = 16
C = 10.0  # the logistic regression's inverse penalty (leave-one-source-out: 1 and 3 within 0.01 of it)
FILE = "ngrams.npz"
_WORD = re.compile(r"[a-z][a-z0-9_']+|\d+")


def buckets(text: str) -> dict[int, float]:
    """The prompt's hashed words and word pairs (of the text the embedding reads) with sublinear counts."""
    words = _WORD.findall(embedding_text(text).lower())
    mask = (1 << BITS) - 1
    counts: dict[int, int] = {}
    for i, word in enumerate(words):
        for gram in (word, f"{words[i - 1]} {word}") if i else (word,):
            h = zlib.crc32(gram.encode()) & mask
            counts[h] = counts.get(h, 0) + 1
    return {h: 1.0 + math.log(n) for h, n in counts.items()}


def weighted(counts: dict[int, float], idf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A prompt's TF-IDF row as (buckets, values): sublinear counts times IDF, scaled to unit length. The one
    weighting both `fit` and `NgramHead.logits` use, so the map is read as it was trained."""
    index = np.fromiter(counts, dtype=np.int64, count=len(counts))
    values = np.fromiter(counts.values(), dtype=np.float64, count=len(counts)) * idf[index]
    norm = math.sqrt(float(values @ values))
    return index, values / norm if norm > 0 else values


@dataclass(frozen=True, slots=True)
class NgramHead:
    """TF-IDF weighting and one linear map per task type (TASK_NAMES order)."""

    idf: np.ndarray  # (2^BITS,)
    w: np.ndarray  # (2^BITS, len(TASK_NAMES))
    b: np.ndarray  # (len(TASK_NAMES),)

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty((len(texts), len(TASK_NAMES)))
        for row, text in enumerate(texts):
            index, values = weighted(buckets(text), self.idf)
            out[row] = values @ self.w[index] + self.b
        return out

    def save(self, path: Path) -> None:
        with open(path, "wb") as handle:
            np.savez_compressed(handle, idf=self.idf.astype(np.float32), w=self.w.astype(np.float32),
                                b=self.b.astype(np.float32), classes=np.asarray(TASK_NAMES))

    @classmethod
    def load(cls, path: Path) -> NgramHead:
        with np.load(path, allow_pickle=False) as data:
            if [str(c) for c in data["classes"]] != list(TASK_NAMES):
                raise ValueError(f"{path} was trained on other task types")
            return cls(data["idf"].astype(np.float64), data["w"].astype(np.float64), data["b"].astype(np.float64))


def fit(texts: Sequence[str], labels: Sequence[str], weights: Sequence[float]) -> NgramHead:
    """Training only (scikit-learn): a balanced logistic regression on the TF-IDF rows."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    counts = [buckets(text) for text in texts]
    df = np.bincount(np.fromiter((h for row in counts for h in row), dtype=np.int64), minlength=1 << BITS)
    idf = np.log((1 + len(texts)) / (1 + df)) + 1.0
    rows = [weighted(row, idf) for row in counts]
    tfidf = sparse.csr_matrix((np.concatenate([values for _, values in rows]),
                               np.concatenate([index for index, _ in rows]),
                               np.cumsum([0] + [len(index) for index, _ in rows])), shape=(len(texts), 1 << BITS))
    model: Any = LogisticRegression(C=C, max_iter=3000, class_weight="balanced")
    model.fit(tfidf, list(labels), sample_weight=np.asarray(weights, dtype=np.float64))
    w, b = np.zeros((1 << BITS, len(TASK_NAMES))), np.full(len(TASK_NAMES), -30.0)  # a class never seen: never
    classes = [TASK_NAMES.index(str(c)) for c in model.classes_]
    coef, intercept = model.coef_, model.intercept_
    if len(classes) == 2:  # scikit-learn keeps one row, the second class's logit against the first's zero
        coef, intercept = np.vstack([np.zeros_like(coef[0]), coef[0]]), np.asarray([0.0, intercept[0]])
    for k, column in enumerate(classes):
        w[:, column], b[column] = coef[k], intercept[k]
    return NgramHead(idf, w, b)


def public_head() -> NgramHead | None:
    """The shipped map (data/real/ngrams.npz), or None in a data directory without one."""
    from classifier.dataset import data_root

    return _load(data_root() / "real" / FILE)


@lru_cache(maxsize=2)
def _load(path: Path) -> NgramHead | None:
    return NgramHead.load(path) if path.exists() else None


def digest() -> str | None:
    """Which map is installed (the file's SHA-256, 16 hex digits; None without one): a model records the map it
    was trained with, and one read with another (after an upgrade refitted it) is flagged for retraining."""
    from classifier.dataset import data_root

    return _digest(data_root() / "real" / FILE)


@lru_cache(maxsize=2)
def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.exists() else None


def logits(texts: Sequence[str]) -> np.ndarray:
    """The public map's logits for these prompts; zeros without one (and then the task head does not use them)."""
    head = public_head()
    return head.logits(texts) if head is not None else np.zeros((len(texts), len(TASK_NAMES)))
