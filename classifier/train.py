"""Training the heads: the default model from the seed set (deterministic, cached), and retraining from the
seed set plus labels derived from the decision log (`ccr train`), compared with the active model first."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import importlib.metadata
import platform
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from classifier import versions
from classifier.dataset import Example, data_hash, heldout_file, load_jsonl, load_seed, split
from classifier.embed import MODEL_NAME, EmbeddingCache, Encoder, shared
from classifier.evaluate import headline, score
from classifier.features import Conversation, embedding_text, structural
from classifier.model import Heads, Prediction, Predictor, features, load_inference, save

Say = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def _cache() -> EmbeddingCache:
    return EmbeddingCache(versions.cache_dir() / "embeddings" / f"{MODEL_NAME}.npz")


def matrix(examples: list[Example], embedder: Encoder, say: Say = _quiet) -> np.ndarray:
    """Feature rows for labelled examples. The seed prompts stand alone; a logged prompt brings its conversation
    (human turns before it, context size), so those features carry weight once the log teaches them."""
    def progress(done: int, total: int) -> None:
        say(f"embedding {done}/{total}")

    vectors = _cache().embed(embedder, [embedding_text(ex.prompt) for ex in examples], progress)
    return features(vectors, [structural(ex.prompt, Conversation(ex.depth, 0, ex.context_tokens)) for ex in examples])


def predict_texts(heads: Predictor, embedder: Encoder, prompts: list[str],
                  conversations: list[Conversation] | None = None) -> list[Prediction]:
    conversations = conversations or [Conversation()] * len(prompts)
    vectors = embedder.encode([embedding_text(p) for p in prompts])
    return heads.predict(features(vectors, [structural(p, c) for p, c in zip(prompts, conversations, strict=True)]))


def fit(train: list[Example], embedder: Encoder, say: Say = _quiet) -> Heads:
    X = matrix(train, embedder, say)
    say(f"fitting the heads on {len(train)} examples")
    return Heads().fit(X, train)


def evaluate(heads: Predictor, examples: list[Example], embedder: Encoder, say: Say = _quiet) -> dict[str, Any]:
    return score(examples, heads.predict(matrix(examples, embedder, say)))


def _meta(train: list[Example], val_report: dict[str, Any], heldout: dict[str, Any] | None,
          source: str) -> dict[str, Any]:
    import sklearn

    sources: dict[str, int] = {}
    for ex in train:
        sources[ex.source] = sources.get(ex.source, 0) + 1
    return {
        "created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "source": source, "data_hash": data_hash(train), "train_examples": len(train), "train_sources": sources,
        "embedding": MODEL_NAME, "sklearn": sklearn.__version__, "python": platform.python_version(),
        "score": headline(val_report), "metrics": val_report, "heldout": heldout,
    }


def default_dir() -> Path:
    sklearn = importlib.metadata.version("scikit-learn")  # not imported: the router loads the heads without it
    return versions.cache_dir() / "classifier" / f"default-{data_hash(load_seed())}-sklearn{sklearn}"


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """One process trains the default at a time; the others wait and then find it ready."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def train_default(directory: Path, embedder: Encoder, say: Say = _quiet) -> dict[str, Any]:
    train, val = split(load_seed())
    heads = fit(train, embedder, say)
    say("scoring the validation split")
    val_report = evaluate(heads, val, embedder, say)
    heldout = None
    if heldout_file().exists():
        say("scoring the held-out set")
        heldout = evaluate(heads, load_jsonl(heldout_file(), "heldout"), embedder, say)
    meta = _meta(train, val_report, heldout, "seed")
    save(heads, meta, directory)
    return meta


def ensure_default(embedder: Encoder | None = None, say: Say = _quiet) -> Path:
    """The default model's directory, trained from the seed set on first use (a minute at most) and cached."""
    directory = default_dir()
    if (directory / "meta.json").exists():
        return directory
    with _exclusive(directory.with_name(directory.name + ".lock")):
        if not (directory / "meta.json").exists():
            say(f"training the default classifier from {len(load_seed())} seed examples (first use; cached in "
                f"{directory})")
            train_default(directory, embedder if embedder is not None else shared(), say)
    return directory


def active_dir(embedder: Encoder | None = None, say: Say = _quiet) -> Path:
    name = versions.active_name()
    if name == versions.DEFAULT:
        return ensure_default(embedder, say)
    return versions.versions_dir() / name


def load_active(embedder: Encoder | None = None, say: Say = _quiet) -> tuple[Predictor, dict[str, Any], str]:
    """The active model's heads as arrays (classifier.linear): what the router runs, and what `ccr classify`,
    `ccr eval` and `ccr train` score, so all of them give the same answers."""
    heads, meta = load_inference(active_dir(embedder, say))
    return heads, meta, versions.active_name()


def retrain(extra: list[Example], embedder: Encoder | None = None, say: Say = _quiet,
            force: bool = False) -> dict[str, Any]:
    """Seed train split + derived labels; compared with the active model on the seed validation split.
    Activated only when it scores at least as well, unless forced. The candidate is kept either way."""
    encoder: Encoder = embedder or shared()
    train, val = split(load_seed())
    train = train + extra
    current, _, current_name = load_active(encoder, say)
    say("scoring the active model on the validation split")
    before = evaluate(current, val, encoder, say)
    heads = fit(train, encoder, say)
    say("scoring the new model on the validation split")
    after = evaluate(heads, val, encoder, say)
    heldout = evaluate(heads, load_jsonl(heldout_file(), "heldout"), encoder, say) if heldout_file().exists() else None
    meta = _meta(train, after, heldout, "seed+log")
    meta["parent"] = current_name
    directory = versions.next_dir()
    save(heads, meta, directory)
    better = headline(after) >= headline(before)
    if better or force:
        versions.activate(directory.name, "trained" if better else "trained, forced")
    return {"version": directory.name, "activated": better or force, "before": before, "after": after,
            "heldout": heldout, "previous": current_name, "derived": len(extra)}
