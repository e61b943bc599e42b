"""Patient-level train/validation/test splits: no patient appears in two splits.

Both seed studies split at the patient level (germani2025 §2 "Sample selection": 70/30 by patient;
bahre2025 "Models and Training": 80/10/10), because image-level splits leak a patient's other images into
the test set and inflate results.
"""

from __future__ import annotations

import math
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
    if not fr or not all(math.isfinite(f) and f > 0 for f in fr) or abs(sum(fr) - 1) > 1e-6:
        raise UsageError(f"split fractions must be positive and sum to 1 (got {', '.join(map(str, fr))})")
    return fr


class SplitWarning(UserWarning):
    """A stratum could not be represented in every split (too few patients in it)."""


def _counts(n: int, fractions: Sequence[float]) -> list[int]:
    """Largest-remainder apportionment of ``n`` items to the fractions (ties: the earlier split)."""
    raw = [f * n for f in fractions]
    base = [int(x) for x in raw]
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - base[i], reverse=True)[: n - sum(base)]:
        base[i] += 1
    return base


def split_totals(n: int, fractions: Sequence[float]) -> list[int]:
    """Patients per split over the whole sample: largest remainder, then at least one patient in every split
    whenever ``n`` ≥ the number of splits (taken from the split furthest above its quota).

    Each total is within one patient of ``n · f`` whenever every ``n · f ≥ 1``; a split whose quota is
    under one patient gets one anyway (an empty test split is worse than a slightly smaller train split).
    """
    import numpy as np

    tot = np.array(_counts(n, fractions))
    quota = n * np.asarray(fractions, dtype=float)
    if n >= len(fractions):
        while (tot == 0).any():
            k = int(np.flatnonzero(tot == 0)[0])
            donors = np.flatnonzero(tot >= 2)
            j = int(donors[np.argmax((tot - quota)[donors])])
            tot[j] -= 1
            tot[k] += 1
    return [int(x) for x in tot]


def allocate_splits(sizes: Sequence[int], fractions: Sequence[float], seed: int = 0):
    """(strata × splits) patient counts: rows sum to the stratum sizes, columns to :func:`split_totals`.

    Apportionment over the whole sample, not per stratum: each stratum first gets ``floor(n_s · f_k)``; the
    leftover patients go, largest remainder first, to splits still short of their total (ties broken at
    random with ``seed``, so no stratum name is favoured). Rounding per stratum instead can leave a split
    empty: 20 strata of 5 patients at 0.8/0.1/0.1 each round to (4, 1, 0) — validation 20, test 0.
    """
    import numpy as np

    n_s = np.asarray(sizes, dtype=int)
    fr = np.asarray(fractions, dtype=float)
    totals = np.array(split_totals(int(n_s.sum()), fr))
    raw = n_s[:, None] * fr[None, :]
    cnt = np.floor(raw).astype(int)
    # the minimum-one rule may have lowered a total below the sum of floors: hand those patients back
    for k in range(fr.size):
        while cnt[:, k].sum() > totals[k]:
            cand = np.flatnonzero(cnt[:, k] > 0)
            s = int(cand[np.argmin((raw - cnt)[cand, k])])
            cnt[s, k] -= 1
    left = n_s - cnt.sum(1)
    short = totals - cnt.sum(0)
    tie = np.random.default_rng(seed).random(cnt.shape)
    while left.sum() > 0:
        rem = raw - cnt
        order = np.lexsort((tie.ravel(), -rem.ravel()))  # largest remainder first, random among ties
        for flat in order:
            s, k = divmod(int(flat), fr.size)
            if left[s] > 0 and short[k] > 0:
                cnt[s, k] += 1
                left[s] -= 1
                short[k] -= 1
    return cnt


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

    Patients are shuffled with ``seed`` and apportioned to ``fractions`` over the whole sample and across
    the strata of ``stratify`` (a patient's stratum is its most frequent value; :func:`allocate_splits`):
    every split gets at least one patient when there are as many patients as splits, split sizes are
    within one patient of the fractions, and each stratum is spread as evenly as the totals allow. A
    :class:`SplitWarning` says when some stratum cannot be in every split. Without ``patient_col`` each
    row is its own patient.

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
    members = []
    for _, patients in sorted(strata.groupby(strata), key=lambda kv: kv[0]):
        ids = np.array(sorted(patients.index))
        rng.shuffle(ids)
        members.append(ids)
    counts = allocate_splits([len(m) for m in members], fr, seed=int(rng.integers(2**31)))
    assignment: dict[str, str] = {}
    for ids, row in zip(members, counts):
        start = 0
        for name, count in zip(names, row):
            for p in ids[start:start + count]:
                assignment[p] = name
            start += int(count)
    missing = int((counts == 0).any(axis=1).sum()) if len(members) > 1 else 0
    if missing:
        import warnings

        warnings.warn(f"{missing} of {len(members)} strata of '{stratify}' are not represented in every "
                      "split (too few patients in them)", SplitWarning, stacklevel=2)
    return groups.map(assignment).rename("split")


def patients_in_several_splits(meta: pd.DataFrame, *, split_col: str, patient_col: str) -> int:
    """Number of patients whose rows fall in more than one split (0 for a leakage-free split)."""
    return int((meta.groupby(patient_col)[split_col].nunique() > 1).sum())
