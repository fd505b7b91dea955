"""`python -m classifier.ship`: train the default model from the data in the repository and write it where the
package ships it (data/model), as arrays and metadata only. Run after the training data changes; a test checks
that the shipped model matches a fresh training run."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from classifier.embed import shared
from classifier.linear import ARRAYS_FILE
from classifier.model import META_FILE
from classifier.train import shipped_dir, train_default


def ship(target: Path | None = None) -> Path:
    target = target or shipped_dir()
    with tempfile.TemporaryDirectory() as tmp:
        meta = train_default(Path(tmp), shared(), say=lambda line: print(f"ccr: {line}", file=sys.stderr, flush=True))
        target.mkdir(parents=True, exist_ok=True)
        for name in (ARRAYS_FILE, META_FILE):  # not the pickled scikit-learn heads: the router needs none
            shutil.copyfile(Path(tmp) / name, target / name)
    print(f"ccr: the default model ({meta['train_examples']} examples, score {meta['score']:.3f}) is in {target}",
          file=sys.stderr)
    return target


if __name__ == "__main__":
    ship()
