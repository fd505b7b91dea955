"""The standardizing step of every trained head (training only: it imports scikit-learn, which the router never
loads; the router runs the heads as folded arrays, classifier/linear.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.preprocessing import StandardScaler

# no feature's scale is taken below this: three of all-MiniLM-L6-v2's 384 dimensions are zero up to float noise
# (about 1e-33, 1e-33 and 1e-8), which a plain StandardScaler divides by that noise; the heads then weighed them by
# up to 1e32, so a prompt's label moved with the embedding's last bits (5% of labels differed between two
# embeddings of the same prompts that agree to 1e-5). Every real feature's spread is far above it (the
# embedding's smallest is 0.026).
SCALE_FLOOR = 1e-3


class FlooredScaler(StandardScaler):  # type: ignore[misc]
    """StandardScaler whose scale never falls below SCALE_FLOOR."""

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> FlooredScaler:
        fitted = super().fit(X, y, sample_weight)
        fitted.scale_ = np.maximum(fitted.scale_, SCALE_FLOOR)
        return self
