"""The audit's scoring loop: every seed's test rows, every label, attribute and audit, bootstrap replicates
in chunks (:func:`score_seeds`); :func:`curate.pipeline.audit.audit` checks the inputs and gathers the result.

Replicate b resamples the same patients in every seed (one patient numbering for all seeds), so the interval
covers the test set once (docs/audits.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from curate.audits import bootstrap as boot
from curate.audits.metrics import SMALL_GROUP, Conventions, GroupedStats
from curate.audits.thresholds import f1_optimal_threshold
from curate.errors import InputError
from curate.policy.disclosure_audit import ALL, OVERALL

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


INTERSECT_SEP = "×"


@dataclass
class AuditInputs:
    """The checked predictions table and the resolved options (``curate.pipeline.audit._check_inputs``)."""

    df: pd.DataFrame
    labels: list[str]
    scores: list[str]
    group_cols: list[str]
    inter: list[list[str]]
    thr: float | str
    thr_source: str
    seed_col: str | None
    split_col: str | None
    conv: Conventions
    chosen: list[Any]


@dataclass
class Scored:
    """What the loop accumulated: per (audit, metric, label, attribute, group) the replicate values."""

    acc: dict[tuple, dict[str, Any]] = field(default_factory=dict)
    thresholds: dict[str, list[float]] = field(default_factory=dict)
    n_test_rows: int = 0
    n_test_units: int = 0


def score_seeds(q: AuditInputs, seeds: list[Any], test_mask: np.ndarray, val_mask: np.ndarray, *,
                patient_col: str | None, bootstrap: int, seed: int, warnings: list[str]) -> Scored:
    """Score every seed's test rows (thresholds per label and seed; replicate weights shared by seeds)."""
    df = q.df
    out = Scored(thresholds={lab: [] for lab in q.labels})
    tests = _test_sets(df, seeds, q.seed_col, test_mask)
    unit_key = patient_col or ("id" if "id" in df.columns else None)
    keys = [t[unit_key].astype(str).to_numpy() if unit_key else np.arange(len(t)).astype(str)
            for _, t in tests]
    _, inverse = np.unique(np.concatenate(keys), return_inverse=True)
    n_units_all = int(inverse.max()) + 1
    bounds = np.cumsum([0] + [len(k) for k in keys])
    per = boot.chunk_rows(max(len(k) for k in keys))
    boot_state = int(np.random.default_rng(seed).integers(2**62))
    for si, (run, (in_seed, test)) in enumerate(zip(seeds, tests)):
        label_thr = _thresholds(q, df[in_seed & val_mask], run)
        for lab in q.labels:
            out.thresholds[lab].append(label_thr[lab])
        units = inverse[bounds[si]:bounds[si + 1]].astype(int)
        local_units, n_units = (boot.unit_codes(test[patient_col]) if patient_col
                                else (np.arange(len(test)), len(test)))
        if si == 0:
            out.n_test_rows, out.n_test_units = len(test), n_units
        attrs = _attributes(test, q.group_cols, q.inter)
        chunks = boot.weight_chunks(units, n_units_all, bootstrap, np.random.default_rng(boot_state), per=per)
        for c, W in enumerate(chunks):
            _score_chunk(q, out.acc, test, attrs, W, label_thr, local_units if patient_col else None, si,
                         first_chunk=c == 0)
        _small_group_warnings(test, attrs, local_units if patient_col else None, warnings)
    return out


def _test_sets(df: pd.DataFrame, seeds: list[Any], seed_col: str | None, test_mask: np.ndarray):
    """[(rows of the seed, its test rows)] per seed; a seed without test rows is an error."""
    tests = []
    for run in seeds:
        in_seed = (df[seed_col] == run).to_numpy() if seed_col else np.ones(len(df), dtype=bool)
        test = df[in_seed & test_mask].reset_index(drop=True)
        if len(test) == 0:
            raise InputError(f"no test rows for seed {run}")
        tests.append((in_seed, test))
    return tests


def _thresholds(q: AuditInputs, val: pd.DataFrame, run: Any) -> dict[str, float]:
    """The decision threshold per label for one seed: F1-optimal on its validation rows, or the given one."""
    out = {}
    for lab, sc in zip(q.labels, q.scores):
        if q.thr == "f1":
            if len(val) == 0:
                raise InputError(f"no validation rows for seed {run} (needed by --threshold f1)")
            out[lab] = f1_optimal_threshold(val[lab].to_numpy(float), val[sc].to_numpy(float))
        else:
            out[lab] = float(q.thr)
    return out


def _score_chunk(q: AuditInputs, acc: dict, test: pd.DataFrame, attrs, W: np.ndarray,
                 label_thr: dict[str, float], units: np.ndarray | None, si: int, *,
                 first_chunk: bool) -> None:
    """One chunk of replicate weights ``W``: every label × attribute × audit row into ``acc``."""
    for lab, sc in zip(q.labels, q.scores):
        y, s = test[lab].to_numpy(float), test[sc].to_numpy(float)
        for attr, codes, names in attrs:
            st = GroupedStats(lab, attr, names, codes, y, s, label_thr[lab], W, units, conventions=q.conv)
            for a in q.chosen:
                if attr == OVERALL and "groups" in a.needs:
                    continue
                for row in a.compute(st):
                    key = (a.name, row.metric, lab, attr, row.group)
                    slot = acc.setdefault(key, {"vals": {}, "n": None, "units": None, "note": set(),
                                                "small": None, "reportable": True})
                    slot["vals"].setdefault(si, []).append(np.asarray(row.values, dtype=float))
                    if first_chunk:
                        if row.note:
                            slot["note"].add(row.note)
                        if si == 0:
                            slot.update(_group_n(st, row.group))


def _small_group_warnings(test: pd.DataFrame, attrs, units: np.ndarray | None, warnings: list[str]) -> None:
    for attr, codes, names in attrs[1:]:
        st = GroupedStats("", attr, names, codes, np.zeros(len(test)), np.zeros(len(test)), 0.5,
                          np.ones((1, len(test))), units)
        for g, name in enumerate(names):
            if min(st.n_rows[g], st.n_units[g]) < SMALL_GROUP:
                msg = f"small group: {attr} = {name} has fewer than {SMALL_GROUP} " + (
                    "patients" if units is not None else "images") + " in the test set"
                if msg not in warnings:
                    warnings.append(msg)


def _attributes(df: pd.DataFrame, groups: list[str], intersect: list[list[str]]):
    """(name, codes, group names) per attribute: overall, each group column, each intersection.

    Group columns are already strings (:func:`_normalise_groups`); names sort as strings.
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



def _group_n(st: GroupedStats, group: str) -> dict[str, Any]:
    """Size of the row's group (all test rows for attribute-level rows), and whether it may be reported.

    ``n``: images; ``units``: patients (images without a patient column); ``small``: which count is under
    the threshold; ``reportable``: False for a small group, and for a summary over an attribute that has a
    small group (a max − min driven by five patients is not a finding).
    """
    if group in st.groups and not (st.G == 1 and group == ALL):
        g = st.groups.index(group)
        small = None
        if st.n_rows[g] < SMALL_GROUP:
            small = "images"
        elif st.units is not None and st.n_units[g] < SMALL_GROUP:
            small = "patients"
        return {"n": int(st.n_rows[g]), "units": int(st.n_units[g]), "small": small,
                "reportable": small is None}
    sizes = np.minimum(st.n_rows, st.n_units)
    units = int(st.n_units.sum()) if st.units is None else int(np.unique(st.units).size)
    return {"n": int(st.codes.size), "units": units, "small": None,
            "reportable": bool((sizes >= SMALL_GROUP).all())}
