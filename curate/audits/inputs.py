"""Input validation at the edge, scikit-learn style: each failure is one :class:`InputError` naming the
parameter, so no metric ever silently changes its answer because of a bad value.

- ``y_true`` must be binary 0/1 (booleans allowed), without missing values;
- ``y_score`` must be finite (a NaN score would otherwise rank as the highest score in an AUC);
- ``y_pred`` must be binary 0/1 unless a ``threshold`` is given, which then turns scores into predictions
  (``y_pred >= threshold``) — a continuous ``y_pred`` is never thresholded without being asked;
- ``sample_weight`` must be finite, non-negative and one per row;
- group labels are normalised to strings **once** (:func:`group_labels`): ``str(value)``; a missing value
  (None/NaN) is its own explicit group ``(missing)`` — never dropped, never merged (fairlearn's
  ``MetricFrame`` rejects NaN, so the oracle tests pass the same explicit label). Two different
  values that would become the same label (the integer ``1`` and the text ``"1"``), or numerically equal
  values that would become different labels (``1`` and ``1.0`` in one column), are refused instead of
  being merged or split silently.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from curate.errors import InputError


def _array(name: str, values) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        arr = arr.reshape(-1) if arr.ndim == 2 and 1 in arr.shape else arr
    if arr.ndim != 1:
        raise InputError(f"{name} must be one-dimensional (got shape {arr.shape})")
    return arr


def _float(name: str, values) -> np.ndarray:
    arr = _array(name, values)
    try:
        return arr.astype(float)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be numeric") from None


def check_binary(values, name: str = "y_true") -> np.ndarray:
    """0/1 floats; a missing or non-binary value is an error naming ``name``."""
    v = _float(name, values)
    bad = ~np.isin(v, (0.0, 1.0))
    if bad.any():
        nan = int(np.isnan(v).sum())
        what = f"{nan} missing values" if nan else f"values other than 0/1 (e.g. {v[bad][0]:g})"
        raise InputError(f"{name} must be binary 0/1: it has {what}")
    return v


def check_scores(values, name: str = "y_score") -> np.ndarray:
    """Finite floats (probabilities or any monotone score)."""
    v = _float(name, values)
    bad = int((~np.isfinite(v)).sum())
    if bad:
        raise InputError(f"{name} has {bad} missing or non-finite values (NaN/inf)")
    return v


def check_predictions(values, threshold: float | None = None, name: str = "y_pred") -> np.ndarray:
    """Hard 0/1 predictions. With ``threshold``, scores are turned into ``values >= threshold`` first."""
    if threshold is None:
        v = _float(name, values)
        if np.isnan(v).any():
            raise InputError(f"{name} has {int(np.isnan(v).sum())} missing values")
        if not np.isin(v, (0.0, 1.0)).all():
            raise InputError(f"{name} must be binary 0/1 (got values such as {v[~np.isin(v, (0, 1))][0]:g});"
                             " pass threshold= to turn scores into predictions")
        return v
    t = float(threshold)
    if not np.isfinite(t):
        raise InputError(f"threshold must be a finite number (got {threshold})")
    return (check_scores(values, name) >= t).astype(float)


def check_weights(values, n: int, name: str = "sample_weight") -> np.ndarray:
    """One finite, non-negative weight per row (``None`` → all ones)."""
    if values is None:
        return np.ones(n)
    w = _float(name, values)
    if w.size != n:
        raise InputError(f"{name} has {w.size} values for {n} rows")
    if not np.isfinite(w).all():
        raise InputError(f"{name} has {int((~np.isfinite(w)).sum())} missing or non-finite values")
    if (w < 0).any():
        raise InputError(f"{name} has {int((w < 0).sum())} negative values; weights must be ≥ 0")
    return w


def check_lengths(**arrays: np.ndarray) -> None:
    """All arrays one per row; the message lists every length."""
    sizes = {k: len(v) for k, v in arrays.items() if v is not None}
    if len(set(sizes.values())) > 1:
        raise InputError("lengths differ: " + ", ".join(f"{k} {n}" for k, n in sizes.items()))


def _kind(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "boolean"
    if isinstance(v, numbers.Number):
        return "number"
    if isinstance(v, str):
        return "text"
    return type(v).__name__


#: the group of rows whose sensitive attribute is missing (None/NaN)
MISSING = "(missing)"


def group_labels(values, name: str = "sensitive_features") -> np.ndarray:
    """Group labels as strings (``str(value)``), refusing values that would merge or split silently."""
    import pandas as pd

    if isinstance(values, pd.Series):
        ser = values
    elif isinstance(values, (list, tuple)):  # not np.asarray: it would turn [1, "1"] into ["1", "1"]
        ser = pd.Series(list(values), dtype=object)
    else:
        ser = pd.Series(list(_array(name, values)), dtype=object)
    missing = ser.isna().to_numpy()
    if missing.any():
        if (ser[~missing].astype(str) == MISSING).any():
            raise InputError(f"{name} has missing values and also the value '{MISSING}' that curate uses "
                             "for them; rename that value")
        ser = ser.astype(object).where(~missing, MISSING)
    text = ser.astype(str)
    if ser.dtype == object:
        uniq = pd.DataFrame({"text": text.to_numpy(), "kind": ser.map(_kind).to_numpy()}).drop_duplicates()
        clash = uniq[uniq["text"].duplicated(keep=False)]
        if len(clash):
            label = clash["text"].iloc[0]
            kinds = " and ".join(sorted(clash[clash["text"] == label]["kind"]))
            raise InputError(f"{name} mixes {kinds} values that both read as the group '{label}'; "
                             "make the column one type")
        nums = set(uniq[uniq["kind"] == "number"]["text"])
        if len({float(v) for v in nums}) < len(nums):
            raise InputError(f"{name} has numerically equal values written differently (e.g. 1 and 1.0); "
                             "make the column one type")
    return text.to_numpy(dtype=object).astype(str)


def encode_groups(values, name: str = "sensitive_features") -> tuple[np.ndarray, list[str]]:
    """Group labels → (integer code per row, sorted group names), after :func:`group_labels`."""
    labels = group_labels(values, name)
    names, codes = np.unique(labels, return_inverse=True)
    return codes.astype(int), [str(x) for x in names]


def joined_labels(columns: Sequence, sep: str, names: Sequence[str]) -> np.ndarray:
    """Intersection labels ``a×b`` from several group columns, each normalised by :func:`group_labels`."""
    parts = [group_labels(c, n) for c, n in zip(columns, names)]
    out = parts[0].astype(object)
    for p in parts[1:]:
        out = out + sep + p
    return out.astype(str)
