"""The predictions table of ``curate audit``, checked once: columns, labels, scores, groups, splits.

:func:`prepare` validates every argument of :func:`curate.pipeline.audit.audit` that concerns the table and
returns a :class:`Prepared` run (the checked frame, the resolved columns, the conventions, the chosen audits
and the test / validation masks); :func:`attributes` lays out the attributes the audits are computed over.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from curate.audits.builtin import ALL
from curate.audits.inputs import group_labels
from curate.audits.metrics import Conventions
from curate.audits.thresholds import TEST_NAMES, VAL_NAMES, parse_threshold, split_mask
from curate.errors import InputError, UsageError
from curate.policy.disclosure_audit import OVERALL

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

INTERSECT_SEP = "×"


@dataclass
class Prepared:
    """A checked audit run: what :func:`curate.pipeline.audit.audit` scores."""

    df: pd.DataFrame
    labels: list[str]
    scores: list[str]
    group_cols: list[str]
    inter: list[list[str]]
    thr: Any
    thr_source: str
    conv: Conventions
    chosen: list
    seed_col: str | None
    split_col: str | None
    test_mask: np.ndarray
    val_mask: np.ndarray
    warnings: list[str] = field(default_factory=list)


def prepare(preds, *, label_cols, score_cols, groups, audits, patient_col, threshold, bootstrap, seed_col,
            split_col, intersect, level, method, compare, reference, undefined, allow_leaky_split,
            permutations) -> Prepared:
    """Read and check the predictions table and every option about it (one error naming the problem)."""
    from curate.tables import read_table

    df = read_table(preds, what="predictions")
    labels = parse_list(label_cols)
    if not labels:
        raise UsageError("give at least one label column (--label-cols)")
    scores = parse_list(score_cols) or [f"score_{c}" for c in labels]
    if len(scores) != len(labels):
        raise UsageError(
            f"{len(labels)} label columns but {len(scores)} score columns; give one score per label")
    inter = [parse_list(x) for x in (intersect or [])]
    _check_numbers(inter, bootstrap, permutations, level)
    thr = parse_threshold(0.5 if threshold is None else threshold)
    thr_source = "default" if threshold is None else ("f1" if thr == "f1" else "given")
    if len(df) == 0:
        raise InputError("the predictions table is empty")
    if seed_col is None and "seed" in df.columns:
        seed_col = "seed"
    if split_col is None and "split" in df.columns:
        split_col = "split"
    df, group_cols, inter = _check_columns(df, labels, scores, parse_list(groups), inter, patient_col,
                                           seed_col, split_col)
    conv = Conventions(method=method, compare=compare, reference=reference, undefined=undefined)
    if conv.method == "to_reference" or conv.compare == "reference":
        attrs_all = group_cols + [INTERSECT_SEP.join(c) for c in inter]
        lacking = [a for a in attrs_all if conv.reference_for(a) is None]
        if lacking:
            raise UsageError(f"give a reference group for '{lacking[0]}' (--reference {lacking[0]}=GROUP)")
    chosen = _chosen_audits(audits, patient_col)
    test_mask, val_mask = _masks(df, split_col, thr)
    warnings: list[str] = []
    if split_col and patient_col:
        check_split_leakage(df, split_col, patient_col, seed_col, allow_leaky_split, warnings)
    return Prepared(df, labels, scores, group_cols, inter, thr, thr_source, conv, chosen, seed_col, split_col,
                    test_mask, val_mask, warnings)


def _check_numbers(inter: list[list[str]], bootstrap: int, permutations: int, level: float) -> None:
    for cols in inter:
        if len(cols) < 2:
            raise UsageError(f"--intersect needs at least two columns (got '{','.join(cols)}')")
    if bootstrap < 0:
        raise UsageError(f"--bootstrap must be ≥ 0 (got {bootstrap})")
    if isinstance(permutations, bool) or not isinstance(permutations, (int, np.integer)) or permutations < 0:
        raise UsageError(f"permutations must be an integer ≥ 0 (got {permutations!r})")
    if not 0 < level < 1:
        raise UsageError(f"level must be in (0, 1) (got {level})")


def _check_columns(df, labels, scores, group_cols, inter, patient_col, seed_col, split_col):
    """Resolve roles, check every named column exists and holds what it should; group columns as strings."""
    from curate.policy.roles import resolve_columns

    group_cols = resolve_columns(df, group_cols)  # roles accepted: --groups sex → the sex column
    inter = [resolve_columns(df, cols) for cols in inter]
    need_cols(df, labels, "label")
    need_cols(df, scores, "score")
    need_cols(df, group_cols, "group")
    need_cols(df, [c for cols in inter for c in cols], "--intersect")
    need_cols(df, [c for c in (patient_col, seed_col, split_col) if c], "patient/seed/split")
    check_labels(df, labels)
    check_scores(df, scores)
    df = normalise_groups(df, list(dict.fromkeys(group_cols + [c for cols in inter for c in cols])))
    refuse_identifiers(df, group_cols, inter, patient_col, seed_col)
    if patient_col and df[patient_col].isna().any():
        n_missing = int(df[patient_col].isna().sum())
        raise InputError(f"patient column '{patient_col}' has {n_missing} missing values")
    return df, group_cols, inter


def _chosen_audits(audits, patient_col: str | None) -> list:
    from curate.audits.registry import get_audits

    chosen = get_audits(parse_list(audits) or None)
    for a in chosen:
        if "patients" in a.needs and not patient_col:
            raise UsageError(f"audit '{a.name}' needs --patient-col")
    return chosen


def _masks(df: pd.DataFrame, split_col: str | None, thr) -> tuple[np.ndarray, np.ndarray]:
    """Test rows (all rows without a split column) and validation rows (for ``--threshold f1``)."""
    if split_col:
        test_mask = split_mask(df[split_col].to_numpy(), TEST_NAMES)
        val_mask = split_mask(df[split_col].to_numpy(), VAL_NAMES)
        if not test_mask.any():
            raise InputError(f"no rows with {split_col} == 'test' to audit")
    else:
        test_mask = np.ones(len(df), dtype=bool)
        val_mask = np.zeros(len(df), dtype=bool)
    if thr == "f1" and not val_mask.any():
        raise InputError("--threshold f1 needs validation rows (a split column with 'val' or 'validation')")
    return test_mask, val_mask


def need_cols(df: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        shown = ", ".join(map(str, list(df.columns)[:20]))
        raise InputError(f"{what} column '{missing[0]}' not found (columns: {shown})")


def check_labels(df: pd.DataFrame, label_cols: Sequence[str]) -> None:
    for c in label_cols:
        col = df[c]
        if col.isna().any():
            raise InputError(f"label column '{c}' has {int(col.isna().sum())} missing values")
        vals = set(col.unique().tolist())
        if not vals <= {0, 1}:
            shown = ", ".join(map(str, sorted(map(str, vals))[:5]))
            raise InputError(f"label column '{c}' is not binary 0/1 (values include: {shown}); "
                             "one-hot encode multi-class labels")


def check_scores(df: pd.DataFrame, score_cols: Sequence[str]) -> None:
    import pandas as pd

    for c in score_cols:
        if not pd.api.types.is_numeric_dtype(df[c]):
            raise InputError(f"score column '{c}' is not numeric")
        v = df[c].to_numpy(dtype=float)
        bad = int((~np.isfinite(v)).sum())
        if bad:
            raise InputError(f"score column '{c}' has {bad} missing or non-finite values")
        out = int(((v < 0) | (v > 1)).sum())
        if out:
            raise InputError(f"score column '{c}' has {out} values outside [0, 1]; probabilities are "
                             "expected (apply a sigmoid or softmax to logits first)")


def normalise_groups(df: pd.DataFrame, cols: Sequence[str]) -> pd.DataFrame:
    """Group columns as strings, once (:func:`curate.audits.inputs.group_labels`: no silent merges)."""
    if not cols:
        return df
    df = df.copy()
    for c in cols:
        df[c] = group_labels(df[c], f"group column '{c}'")
    return df


def check_split_leakage(df: pd.DataFrame, split_col: str, patient_col: str, seed_col: str | None,
                         allow: bool, warnings: list[str]) -> None:
    """Refuse (or, with ``allow``, warn about) a split column that puts one patient in two splits."""
    from curate.engine.splits import patients_in_several_splits

    frames = [df] if not seed_col else [g for _, g in df.groupby(seed_col, sort=True)]
    leaked = max(patients_in_several_splits(f, split_col=split_col, patient_col=patient_col) for f in frames)
    if not leaked:
        return
    msg = (f"split column '{split_col}' puts {leaked} patients (column '{patient_col}') in more than one "
           "split: the test rows are not independent of training")
    if not allow:
        raise InputError(msg + "; fix the split or pass --allow-leaky-split to audit it anyway")
    warnings.append(msg + " (audited anyway: --allow-leaky-split)")


def refuse_identifiers(df: pd.DataFrame, group_cols: list[str], inter: list[list[str]],
                        patient_col: str | None, seed_col: str | None) -> None:
    """Group values go into results and the model card: identifier-like columns are refused (the policy).

    Judged on one seed's rows, since every image appears once per training seed.
    """
    from curate.policy.roles import check_columns

    base = df[df[seed_col] == df[seed_col].iloc[0]] if seed_col else df
    check_columns(base, group_cols, option="--groups", patient_col=patient_col)
    check_columns(base, list(dict.fromkeys(c for cols in inter for c in cols)), option="--intersect",
                  patient_col=patient_col)


def parse_list(v: str | Sequence[str] | None) -> list[str]:
    if v is None:
        return []
    if isinstance(v, str):
        return [x.strip() for x in v.split(",") if x.strip()]
    return [str(x).strip() for x in v if str(x).strip()]


def attributes(df: pd.DataFrame, groups: list[str], intersect: list[list[str]]):
    """(name, codes, group names) per attribute: overall, each group column, each intersection.

    Group columns are already strings (:func:`normalise_groups`); names sort as strings.
    """
    out = [(OVERALL, np.zeros(len(df), dtype=int), [ALL])]
    keys = [(col, df[col].to_numpy(dtype=str)) for col in groups]
    for cols in intersect:
        key = df[cols[0]].to_numpy(dtype=object)
        for c in cols[1:]:
            key = key + INTERSECT_SEP + df[c].to_numpy(dtype=object)
        keys.append((INTERSECT_SEP.join(cols), key.astype(str)))
    for name, key in keys:
        names, codes = np.unique(key, return_inverse=True)
        out.append((name, codes.astype(int), [str(c) for c in names]))
    return out

