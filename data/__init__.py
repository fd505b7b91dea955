"""ccr's data, installed as the package `ccr_data`: the model catalog, the labelled seed set and its guide, the
shipped classifier, and the numbers (embeddings, labels) of the public data it was trained and evaluated on.
Both `router` and `classifier` find it here (a leaf: it imports nothing of theirs)."""

from __future__ import annotations

import os
from pathlib import Path


def root() -> Path:
    """Where the data is: this package's folder (the repository's data/ in a checkout); CCR_DATA_DIR
    overrides it."""
    override = os.environ.get("CCR_DATA_DIR")
    return Path(override) if override else Path(__file__).resolve().parent
