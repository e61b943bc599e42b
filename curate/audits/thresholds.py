"""Decision thresholds: fixed, or per-label F1-optimal on the validation split (bahre2025).

bahre2025 "Models and Training": "The final binary predictions were made using optimized per-label
thresholds for the F1 score"; the thresholds are chosen on validation data and then applied to test.
"""

from __future__ import annotations

import numpy as np

from curate.errors import InputError
from curate.validation import ParameterError

VAL_NAMES = ("val", "validation", "valid", "dev")
TEST_NAMES = ("test",)


def f1_optimal_threshold(y_true, score) -> float:
    """The score t maximising F1 of the rule ``score >= t`` (ties: the highest such t).

    All distinct scores are candidates, evaluated at once with cumulative counts (O(n log n)).
    """
    y = np.asarray(y_true, dtype=float)
    s = np.asarray(score, dtype=float)
    if y.size == 0:
        raise InputError("cannot choose an F1-optimal threshold on an empty validation split")
    P = y.sum()
    if P == 0:
        raise InputError("cannot choose an F1-optimal threshold: the validation split has no positives")
    order = np.argsort(-s, kind="mergesort")
    s_desc, y_desc = s[order], y[order]
    last = np.r_[s_desc[1:] != s_desc[:-1], True]  # last row of each tie block
    tp = np.cumsum(y_desc)[last]
    pp = np.cumsum(np.ones_like(y_desc))[last]
    f1 = 2 * tp / (pp + P)
    return float(s_desc[last][int(np.argmax(f1))])


def parse_threshold(value: str | float) -> float | str:
    """``"0.5"`` → 0.5, ``"f1"`` → "f1"; anything else is a usage error."""
    if isinstance(value, str) and value.strip().lower() == "f1":
        return "f1"
    try:
        t = float(value)
    except (TypeError, ValueError) as exc:
        raise ParameterError("threshold", f"must be a number in [0, 1] or 'f1' (got '{value}')") from exc
    if not 0.0 <= t <= 1.0:
        raise ParameterError("threshold", f"must be in [0, 1] (got {t})")
    return t


def split_mask(split: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    return np.isin(np.char.lower(np.asarray(split).astype(str)), names)
