"""Patient-level train/validation/test splits: no patient appears in two splits.

Both seed studies split at the patient level (germani2025 §2 "Sample selection": 70/30 by patient;
bahre2025 "Models and Training": 80/10/10), because image-level splits leak a patient's other images into
the test set and inflate results.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from curate.errors import InputError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

DEFAULT_NAMES = ("train", "validation", "test")


def parse_fractions(text: str | Sequence[float]) -> tuple[float, ...]:
    """``"0.8,0.1,0.1"`` → (0.8, 0.1, 0.1); they must be positive and sum to 1."""
    try:
        fr = tuple(float(x) for x in (text.split(",") if isinstance(text, str) else text))
    except ValueError as exc:
        raise UsageError(
            f"--splits must be comma-separated numbers, e.g. 0.8,0.1,0.1 (got '{text}')"
        ) from exc
    if not fr or any(f <= 0 for f in fr) or abs(sum(fr) - 1) > 1e-6:
        raise UsageError(f"split fractions must be positive and sum to 1 (got {', '.join(map(str, fr))})")
    return fr


def _counts(n: int, fractions: Sequence[float]) -> list[int]:
    """Largest-remainder apportionment of ``n`` items to the fractions."""
    raw = [f * n for f in fractions]
    base = [int(x) for x in raw]
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - base[i], reverse=True)[: n - sum(base)]:
        base[i] += 1
    return base


def patient_splits(
    meta: pd.DataFrame,
    *,
    patient_col: str | None = None,
    fractions: Sequence[float] | str = (0.8, 0.1, 0.1),
    names: Sequence[str] | None = None,
    seed: int = 0,
    stratify: str | None = None,
) -> pd.Series:
    """Assign each row a split so that all rows of a patient share one split.

    Patients are shuffled with ``seed`` and apportioned to ``fractions`` within each stratum of
    ``stratify`` (a patient's stratum is its most frequent value), so label prevalence is kept close
    across splits. Without ``patient_col`` each row is its own patient.

    Returns a string Series aligned to ``meta.index``.

    >>> import pandas as pd
    >>> m = pd.DataFrame({"patient": ["a", "a", "b", "c", "d"]})
    >>> s = patient_splits(m, patient_col="patient", fractions=(0.5, 0.5), names=("x", "y"))
    >>> s.groupby(m["patient"]).nunique().max()
    1
    """
    import numpy as np
    import pandas as pd

    fr = parse_fractions(fractions)
    names = tuple(names) if names is not None else (DEFAULT_NAMES if len(fr) == 3 else
                                                     tuple(f"split{i}" for i in range(len(fr))))
    if len(names) != len(fr):
        raise UsageError(f"{len(fr)} split fractions but {len(names)} split names")
    if len(meta) == 0:
        raise InputError("cannot split an empty table")
    for col in (patient_col, stratify):
        if col is not None and col not in meta.columns:
            raise InputError(f"column '{col}' not found (columns: {', '.join(map(str, meta.columns))})")
    if patient_col is not None and meta[patient_col].isna().any():
        raise InputError(f"column '{patient_col}' has {int(meta[patient_col].isna().sum())} missing values")

    groups = meta[patient_col].astype(str) if patient_col else pd.Series(
        np.arange(len(meta)).astype(str), index=meta.index)
    if stratify is not None:
        strata = (meta[stratify].astype(str).groupby(groups)
                  .agg(lambda s: s.value_counts().sort_index().idxmax()))
    else:
        strata = pd.Series("all", index=pd.Index(groups.unique()))
    rng = np.random.default_rng(seed)
    assignment: dict[str, str] = {}
    for _, patients in sorted(strata.groupby(strata), key=lambda kv: kv[0]):
        ids = np.array(sorted(patients.index))
        rng.shuffle(ids)
        start = 0
        for name, count in zip(names, _counts(len(ids), fr)):
            for p in ids[start:start + count]:
                assignment[p] = name
            start += count
    return groups.map(assignment).rename("split")


def patients_in_several_splits(meta: pd.DataFrame, *, split_col: str, patient_col: str) -> int:
    """Number of patients whose rows fall in more than one split (0 for a leakage-free split)."""
    return int((meta.groupby(patient_col)[split_col].nunique() > 1).sum())
