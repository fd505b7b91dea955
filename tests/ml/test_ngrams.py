"""The n-gram map: stable hashing, the shipped map's reading of plain requests, and how the task head uses it."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from classifier import ngrams
from classifier.dataset import Example
from classifier.embed import DIM
from classifier.features import STRUCTURAL_NAMES
from classifier.model import BASE_WIDTH, Heads, features, ngram_columns
from classifier.taxonomy import TASK_NAMES


def test_words_and_pairs_hash_to_fixed_buckets() -> None:
    """The buckets are part of the shipped numbers: a change of hash, tokenizer or size must come with a refit."""
    got = ngrams.buckets("Write a test, then write a test again")
    mask = (1 << ngrams.BITS) - 1
    expected = {zlib.crc32(g.encode()) & mask for g in ("write", "test", "write test", "then", "test then",
                                                         "then write", "again", "test again")}
    assert set(got) == expected  # one-letter words are dropped; pairs join neighbours that are kept
    assert got[zlib.crc32(b"write") & mask] == pytest.approx(1 + np.log(2))  # sublinear counts
    assert ngrams.buckets("```python\nprint(1)\n```") == ngrams.buckets("[code]")  # fenced code is a marker, as for the embedding


@pytest.mark.parametrize(("prompt", "task"), [
    ("write unit tests for the config parser", "test"),
    ("review my pull request for security issues", "review"),
    ("add docstrings to every function in utils.py", "document"),
    ("why does this function return None?", "explain"),
    ("refactor this class to use dependency injection", "refactor"),
    ("the build fails with error: undefined reference to foo", "debug"),
    ("implement a CLI that converts csv to json", "generate"),
    ("write a poem about autumn", "other"),
])
def test_the_shipped_map_reads_plain_requests(prompt: str, task: str) -> None:
    z = ngrams.logits([prompt])[0]
    assert TASK_NAMES[int(z.argmax())] == task


def test_a_fitted_map_scores_its_own_kind_of_text() -> None:
    texts = ["please write tests for this", "add unit tests", "more tests please",
             "explain how this works", "what does this do", "explain the design"] * 3
    labels = ["test"] * 3 + ["explain"] * 3
    head = ngrams.fit(texts, labels * 3, [1.0] * len(texts))
    z = head.logits(["write the tests", "explain it"])
    assert [TASK_NAMES[i] for i in z.argmax(axis=1)] == ["test", "explain"]
    assert (z[:, [TASK_NAMES.index(t) for t in TASK_NAMES if t not in ("test", "explain")]] < -10).all()  # never seen
    assert np.allclose(head.logits([""]), head.b)  # no words: the bias alone


def test_the_task_head_adds_the_logits_only_when_rows_carry_them() -> None:
    rng = np.random.default_rng(0)
    labels = [TASK_NAMES[i % 3] for i in range(90)]
    examples = [Example(f"e{i}", "", t, ("low", "high")[i % 2], i % 3 == 0) for i, t in enumerate(labels)]
    emb = rng.normal(size=(90, DIM)).astype(np.float32)
    plain = [[0.0] * len(STRUCTURAL_NAMES)] * 90
    without = Heads().fit(features(emb, plain), examples)
    assert without.ngram_weight == 0.0  # a data directory without the map: the perceptrons alone
    grams = rng.normal(size=(90, len(TASK_NAMES)))
    X = features(emb, plain, grams)
    assert ngram_columns(X) is not None and np.allclose(ngram_columns(X), grams, atol=1e-6)
    heads = Heads().fit(X, examples)
    assert heads.ngram_weight > 0
    z = heads.task_logits(X) - heads.task_logits(features(emb, plain))
    classes = [TASK_NAMES.index(str(c)) for c in heads.task.classes_]
    assert np.allclose(z, heads.ngram_weight * X[:, BASE_WIDTH:][:, classes])


def test_the_weighting_is_scikit_learns_sublinear_tf_idf() -> None:
    """`weighted` (used by `fit` and by the router) is TfidfTransformer(sublinear_tf=True) with smoothed IDF and
    L2 norm, on the buckets' counts."""
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfTransformer

    texts = ["write a test for the parser", "the parser fails, the parser crashes", "explain the test", "ok"]
    counts = [{h: round(np.exp(v - 1.0)) for h, v in ngrams.buckets(t).items()} for t in texts]  # back to counts
    raw = sparse.csr_matrix(([n for c in counts for n in c.values()],
                             ([r for r, c in enumerate(counts) for _ in c], [h for c in counts for h in c])),
                            shape=(len(texts), 1 << ngrams.BITS))
    theirs = TfidfTransformer(sublinear_tf=True).fit(raw)
    expected = theirs.transform(raw).toarray()
    for row, text in enumerate(texts):
        index, values = ngrams.weighted(ngrams.buckets(text), theirs.idf_)
        ours = np.zeros(1 << ngrams.BITS)
        ours[index] = values
        assert np.allclose(ours, expected[row], atol=1e-12)


@pytest.mark.parametrize("kinds", [("test", "explain", "debug"), ("test", "explain")])
def test_a_fitted_map_reads_text_as_scikit_learn_scored_it(kinds: tuple[str, ...]) -> None:
    """`NgramHead.logits` (NumPy, the router) gives the fitted regression's decision values on the same rows, for
    several classes and for two (where scikit-learn keeps a single row of weights)."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    texts = [f"{verb} the {noun} {n}" for n in range(4) for verb, noun in
             (("write tests for", "parser"), ("explain why", "loop"), ("fix the crash in", "server"))]
    labels = [kinds[i % len(kinds)] for i in range(len(texts))]
    head = ngrams.fit(texts, labels, [1.0] * len(texts))
    rows = [ngrams.weighted(ngrams.buckets(t), head.idf) for t in texts]
    X = sparse.vstack([sparse.csr_matrix((v, (np.zeros(len(i), dtype=np.int64), i)), shape=(1, 1 << ngrams.BITS))
                       for i, v in rows])
    model = LogisticRegression(C=ngrams.C, max_iter=3000, class_weight="balanced").fit(X, labels)
    theirs = model.decision_function(X)
    columns = [TASK_NAMES.index(str(c)) for c in model.classes_]
    ours = head.logits(texts)[:, columns]
    if len(columns) == 2:
        ours = ours[:, 1] - ours[:, 0]
    assert np.allclose(ours, theirs, atol=1e-6)


def test_models_record_the_map_they_were_trained_with() -> None:
    """An upgrade that refits the map flags a user's model trained with the old one; the shipped model is
    trained with the shipped map."""
    import json

    from classifier.model import META_FILE
    from classifier.train import shipped_dir, stale_map

    installed = ngrams.digest()
    assert installed is not None and len(installed) == 16
    assert json.loads((shipped_dir() / META_FILE).read_text())["ngram_map"] == installed
    assert stale_map({"ngram_map": installed}, "v0003") is None
    assert stale_map({"ngram_map": "0" * 16}, "default") is None  # the default model ships with its map
    for meta in ({"ngram_map": "0" * 16}, {}):  # another map, or one from before models recorded it
        warning = stale_map(meta, "v0002")
        assert warning is not None and "v0002" in warning and "another n-gram map" in warning
        assert "`ccr train`" in warning and "--force" in warning
