"""``curate.audit(preds, ...)``: validate a predictions table, then run every audit per label × attribute.

Input is one row per (seed, image) with true labels, probability scores, group columns and optionally a
patient, split and seed column — the ``preds.parquet`` that ``curate probe`` writes, or any model's
output in that shape. Output is a tidy table with columns
``audit, metric, label, attribute, group, value, ci_low, ci_high, n, note, n_units, reportable, seed_sd``:
every per-group number carries its size (``n`` images, ``n_units`` patients or images) and its interval,
and ``reportable`` is False for groups under the small-cell threshold
(``curate.policy.disclosure.MIN_CELL``) — and for summaries over an attribute with such a group — so they
are not presented as findings. Hiding counts is the disclosure layer's job, not this table's.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from curate.audits import bootstrap as boot
from curate.audits import nulltests as NT
from curate.audits.builtin import ALL
from curate.audits.collect import summarise
from curate.audits.inputs import group_labels
from curate.audits.metrics import SMALL_GROUP, Conventions, GroupedStats
from curate.audits.thresholds import TEST_NAMES, VAL_NAMES, f1_optimal_threshold, parse_threshold, split_mask
from curate.errors import InputError, UsageError
from curate.policy.disclosure_audit import OVERALL

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

COLUMNS = ["audit", "metric", "label", "attribute", "group", "value", "ci_low", "ci_high", "n", "note",
           "n_units", "reportable", "seed_sd", "p_value"]
ALL_LABELS = "all labels"
INTERSECT_SEP = "×"


@dataclass
class AuditResult:
    """Tidy results plus what is needed to report them honestly (thresholds, warnings, settings)."""

    results: pd.DataFrame
    thresholds: dict[str, list[float]]
    warnings: list[str]
    settings: dict[str, Any]
    audits: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (NaN → null)."""
        recs = [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
                for r in self.results.to_dict(orient="records")]
        return {"settings": self.settings, "audits": self.audits, "thresholds": self.thresholds,
                "warnings": self.warnings, "results": recs}


def _need_cols(df: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        shown = ", ".join(map(str, list(df.columns)[:20]))
        raise InputError(f"{what} column '{missing[0]}' not found (columns: {shown})")


def _check_labels(df: pd.DataFrame, label_cols: Sequence[str]) -> None:
    for c in label_cols:
        col = df[c]
        if col.isna().any():
            raise InputError(f"label column '{c}' has {int(col.isna().sum())} missing values")
        vals = set(col.unique().tolist())
        if not vals <= {0, 1}:
            shown = ", ".join(map(str, sorted(map(str, vals))[:5]))
            raise InputError(f"label column '{c}' is not binary 0/1 (values include: {shown}); "
                             "one-hot encode multi-class labels")


def _check_scores(df: pd.DataFrame, score_cols: Sequence[str]) -> None:
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


def _normalise_groups(df: pd.DataFrame, cols: Sequence[str]) -> pd.DataFrame:
    """Group columns as strings, once (:func:`curate.audits.inputs.group_labels`: no silent merges)."""
    if not cols:
        return df
    df = df.copy()
    for c in cols:
        df[c] = group_labels(df[c], f"group column '{c}'")
    return df


def _check_split_leakage(df: pd.DataFrame, split_col: str, patient_col: str, seed_col: str | None,
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


def _refuse_identifiers(df: pd.DataFrame, group_cols: list[str], inter: list[list[str]],
                        patient_col: str | None, seed_col: str | None) -> None:
    """Group values go into results and the model card: identifier-like columns are refused (the policy).

    Judged on one seed's rows, since every image appears once per training seed.
    """
    from curate.policy.roles import check_columns

    base = df[df[seed_col] == df[seed_col].iloc[0]] if seed_col else df
    check_columns(base, group_cols, option="--groups", patient_col=patient_col)
    check_columns(base, list(dict.fromkeys(c for cols in inter for c in cols)), option="--intersect",
                  patient_col=patient_col)


def _parse_list(v: str | Sequence[str] | None) -> list[str]:
    if v is None:
        return []
    if isinstance(v, str):
        return [x.strip() for x in v.split(",") if x.strip()]
    return [str(x).strip() for x in v if str(x).strip()]


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


def audit(
    preds,
    *,
    label_cols: str | Sequence[str],
    score_cols: str | Sequence[str] | None = None,
    groups: str | Sequence[str],
    audits: str | Sequence[str] | None = None,
    patient_col: str | None = None,
    threshold: float | str | None = None,
    bootstrap: int = 0,
    seed_col: str | None = None,
    split_col: str | None = None,
    intersect: Sequence[str | Sequence[str]] | None = None,
    level: float = 0.95,
    seed: int = 0,
    method: str = "between_groups",
    compare: str = "rest",
    reference: str | dict[str, str] | None = None,
    undefined: str = "zero",
    allow_leaky_split: bool = False,
    permutations: int = 999,
) -> AuditResult:
    """Run fairness audits on a predictions table and return tidy results with 95% intervals.

    Parameters
    ----------
    preds : DataFrame or path to .parquet/.csv, one row per (seed, image).
    label_cols, score_cols : true binary labels and their probability columns (default ``score_<label>``).
    groups : sensitive attribute columns (e.g. ``"sex,age_group,race"``).
    audits : audit names from the ``curate.audits`` entry points (default: all registered).
    patient_col : resample patients, not images, in the bootstrap; also counts patients per group.
    threshold : a number in [0, 1], or ``"f1"`` for per-label F1-optimal thresholds chosen on the
        validation rows (``split`` in val/validation) and applied to the test rows (bahre2025); None: the
        default 0.5 (the card says which of the three it was: ``settings["threshold_source"]``).
    bootstrap : number of bootstrap replicates (0 = none), percentile intervals. Patients (or images, or
        ids shared across seeds) are resampled once per replicate and every seed is scored on the same
        resample, so the interval covers the test set once; ``seed_sd`` reports the seed-to-seed spread.
        With ``bootstrap=0`` and several seeds the interval is the mean ± t·SE over seeds (bahre2025).
        Intervals are clipped to each metric's natural range (the audit's ``ranges``: [0, 1] for rates,
        AUC and ECE, [-1, 1] for differences, [-2, 2] for germani2025's AOD_sum).
    seed_col : column identifying training seeds (default: ``seed`` when present).
    split_col : column with train/validation/test (default: ``split`` when present); only test rows are
        audited when it exists.
    intersect : combinations of group columns, e.g. ``["sex,age_group"]`` → attribute ``sex×age_group``.
    method, compare, reference, undefined : the :class:`~curate.audits.metrics.Conventions` (fairlearn's
        by default): how DPD/DEOdds/TPR_diff compare groups, whom EOD/AOD compare a group with, the
        reference group (one name or ``{attribute: group}``), and how an undefined rate is scored.
    allow_leaky_split : audit a split column that puts a patient in two splits (warn instead of refusing).
    permutations : permutations of the patients' group labels for the test of "no disparity" behind each
        disparity's ``p_value`` (:mod:`curate.audits.nulltests`; 0 = no test).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"y": rng.integers(0, 2, 200), "score_y": rng.random(200),
    ...                    "sex": rng.choice(["F", "M"], 200)})
    >>> res = audit(df, label_cols="y", groups="sex", audits="performance")
    >>> sorted(res.results["metric"].unique())
    ['AUC', 'FPR', 'TPR']
    """
    from curate.audits.registry import get_audits
    from curate.tables import read_table

    df = read_table(preds, what="predictions")
    labels = _parse_list(label_cols)
    if not labels:
        raise UsageError("give at least one label column (--label-cols)")
    scores = _parse_list(score_cols) or [f"score_{c}" for c in labels]
    if len(scores) != len(labels):
        raise UsageError(
            f"{len(labels)} label columns but {len(scores)} score columns; give one score per label")
    group_cols = _parse_list(groups)
    inter = [_parse_list(x) for x in (intersect or [])]
    for cols in inter:
        if len(cols) < 2:
            raise UsageError(f"--intersect needs at least two columns (got '{','.join(cols)}')")
    if bootstrap < 0:
        raise UsageError(f"--bootstrap must be ≥ 0 (got {bootstrap})")
    if isinstance(permutations, bool) or not isinstance(permutations, (int, np.integer)) or permutations < 0:
        raise UsageError(f"permutations must be an integer ≥ 0 (got {permutations!r})")
    if not 0 < level < 1:
        raise UsageError(f"level must be in (0, 1) (got {level})")
    thr = parse_threshold(0.5 if threshold is None else threshold)
    thr_source = "default" if threshold is None else ("f1" if thr == "f1" else "given")
    from curate.synthetic import is_synthetic
    if len(df) == 0:
        raise InputError("the predictions table is empty")
    if seed_col is None and "seed" in df.columns:
        seed_col = "seed"
    if split_col is None and "split" in df.columns:
        split_col = "split"
    from curate.policy.roles import resolve_columns

    group_cols = resolve_columns(df, group_cols)  # roles accepted: --groups sex → the sex column
    inter = [resolve_columns(df, cols) for cols in inter]
    _need_cols(df, labels, "label")
    _need_cols(df, scores, "score")
    _need_cols(df, group_cols, "group")
    _need_cols(df, [c for cols in inter for c in cols], "--intersect")
    _need_cols(df, [c for c in (patient_col, seed_col, split_col) if c], "patient/seed/split")
    _check_labels(df, labels)
    _check_scores(df, scores)
    df = _normalise_groups(df, list(dict.fromkeys(group_cols + [c for cols in inter for c in cols])))
    _refuse_identifiers(df, group_cols, inter, patient_col, seed_col)
    conv = Conventions(method=method, compare=compare, reference=reference, undefined=undefined)
    if conv.method == "to_reference" or conv.compare == "reference":
        attrs_all = group_cols + [INTERSECT_SEP.join(c) for c in inter]
        lacking = [a for a in attrs_all if conv.reference_for(a) is None]
        if lacking:
            raise UsageError(f"give a reference group for '{lacking[0]}' (--reference {lacking[0]}=GROUP)")
    if patient_col and df[patient_col].isna().any():
        n_missing = int(df[patient_col].isna().sum())
        raise InputError(f"patient column '{patient_col}' has {n_missing} missing values")
    chosen = get_audits(_parse_list(audits) or None)
    for a in chosen:
        if "patients" in a.needs and not patient_col:
            raise UsageError(f"audit '{a.name}' needs --patient-col")

    seeds = sorted(df[seed_col].unique().tolist()) if seed_col else [None]
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
    warnings: list[str] = []
    if split_col and patient_col:
        _check_split_leakage(df, split_col, patient_col, seed_col, allow_leaky_split, warnings)

    rng = np.random.default_rng(seed)
    base_seed = seed  # the loop below names each training run `seed`
    acc: dict[tuple, dict[str, Any]] = {}
    thresholds: dict[str, list[float]] = {lab: [] for lab in labels}
    n_test_rows = n_test_units = 0

    # one patient numbering for every seed, so replicate b resamples the same patients in each seed
    tests = []
    for seed in seeds:
        in_seed = (df[seed_col] == seed).to_numpy() if seed_col else np.ones(len(df), dtype=bool)
        test = df[in_seed & test_mask].reset_index(drop=True)
        if len(test) == 0:
            raise InputError(f"no test rows for seed {seed}")
        if len(test) < SMALL_GROUP:  # nothing in it could be reported, and intervals would be noise
            raise InputError(f"the test set has fewer than {SMALL_GROUP} images (seed {seed}): nothing in it "
                             "could be reported (small-cell rule); audit a larger test set")
        tests.append((in_seed, test))
    unit_key = patient_col or ("id" if "id" in df.columns else None)
    keys = [t[unit_key].astype(str).to_numpy() if unit_key else np.arange(len(t)).astype(str)
            for _, t in tests]
    all_keys, inverse = np.unique(np.concatenate(keys), return_inverse=True)
    n_units_all = len(all_keys)
    bounds = np.cumsum([0] + [len(k) for k in keys])
    per = boot.chunk_rows(max(len(k) for k in keys))
    boot_state = int(rng.integers(2**62))
    perm_state = int(rng.integers(2**62))
    bca = bootstrap > 0 and any(v == "bca" for a in chosen
                                for v in (getattr(a, "intervals", None) or {}).values())
    n_jack = NT.jackknife_rows(n_units_all) if bca else 0
    by_patient = True

    for si, (seed, (in_seed, test)) in enumerate(zip(seeds, tests)):
        label_thr = {}
        for lab, sc in zip(labels, scores):
            if thr == "f1":
                val = df[in_seed & val_mask]
                if len(val) == 0:
                    raise InputError(f"no validation rows for seed {seed} (needed by --threshold f1)")
                label_thr[lab] = f1_optimal_threshold(val[lab].to_numpy(float), val[sc].to_numpy(float))
            else:
                label_thr[lab] = float(thr)
            thresholds[lab].append(label_thr[lab])
        units = inverse[bounds[si]:bounds[si + 1]].astype(int)
        local_units, n_units = (boot.unit_codes(test[patient_col]) if patient_col
                                else (np.arange(len(test)), len(test)))
        if si == 0:
            n_test_rows, n_test_units = len(test), n_units
        attrs = _attributes(test, group_cols, inter)
        offset = 0
        chunks = boot.weight_chunks(units, n_units_all, bootstrap, np.random.default_rng(boot_state), per=per)
        if n_jack:  # the grouped jackknife rows of the BCa intervals follow the bootstrap replicates
            chunks = itertools.chain(chunks, NT.jackknife_chunks(units, n_units_all))
        for W in chunks:
            for lab, sc in zip(labels, scores):
                y, s = test[lab].to_numpy(float), test[sc].to_numpy(float)
                for attr, codes, names in attrs:
                    st = GroupedStats(lab, attr, names, codes, y, s, label_thr[lab], W,
                                      local_units if patient_col else None, conventions=conv)
                    for a in chosen:
                        if attr == OVERALL and "groups" in a.needs:
                            continue
                        for row in a.compute(st):
                            key = (a.name, row.metric, lab, attr, row.group)
                            slot = acc.setdefault(key, {"vals": {}, "n": None, "units": None, "note": set(),
                                                        "small": None, "reportable": True})
                            slot["vals"].setdefault(si, []).append(np.asarray(row.values, dtype=float))
                            if offset == 0:
                                if row.note:
                                    slot["note"].add(row.note)
                                if si == 0:
                                    slot.update(_group_n(st, row.group))
            offset += W.shape[0]
        if permutations:
            by_patient &= _add_nulls(acc, test, labels, scores, label_thr, attrs[1:], units, chosen, conv,
                                     permutations, perm_state, si)
        for attr, codes, names in attrs[1:]:
            st = GroupedStats("", attr, names, codes, np.zeros(len(test)), np.zeros(len(test)), 0.5,
                              np.ones((1, len(test))), local_units if patient_col else None)
            for g, name in enumerate(names):
                if min(st.n_rows[g], st.n_units[g]) < SMALL_GROUP:
                    msg = f"small group: {attr} = {name} has fewer than {SMALL_GROUP} " + (
                        "patients" if patient_col else "images") + " in the test set"
                    if msg not in warnings:
                        warnings.append(msg)

    if permutations and not by_patient:
        warnings.append("an attribute varies between a patient's images: its group labels were permuted "
                        "image by image for the test of no disparity")
    res = summarise(acc, chosen, bootstrap=bootstrap, level=level, columns=COLUMNS, all_labels=ALL_LABELS,
                    n_jack=n_jack)
    ci = ("bootstrap" if bootstrap > 0 else ("seeds" if len(seeds) > 1 else "none"))
    settings = {
        "labels": labels, "score_cols": scores, "groups": group_cols,
        "intersect": [INTERSECT_SEP.join(c) for c in inter], "threshold": thr,
        "threshold_source": thr_source, "synthetic": is_synthetic(df), "bootstrap": bootstrap,
        "ci": ci, "ci_level": level,
        "ci_method": ("percentile; bias-corrected lower end for max − min disparities; BCa for AUC"
                      if bootstrap > 0 else None),
        "permutations": int(permutations),
        "resampling_unit": "patients" if patient_col else "images",
        "resamples_shared_across_seeds": bool(bootstrap > 0 and len(seeds) > 1),
        "seeds": [s for s in seeds if s is not None], "n_seeds": len(seeds),
        "n_test_rows": int(n_test_rows), "n_test_units": int(n_test_units),
        "patient_col": patient_col, "split_col": split_col, "seed": base_seed,
        "conventions": {"method": conv.method, "compare": conv.compare, "reference": conv.reference,
                        "undefined": conv.undefined},
        "reporting_threshold": SMALL_GROUP,
    }
    info = [{"name": a.name, "title": getattr(a, "title", a.name), "source": getattr(a, "source", "")}
            for a in chosen]
    return AuditResult(res, thresholds, warnings, settings, info)


def _add_nulls(acc, test, labels, scores, label_thr, attrs, units, chosen, conv, n_perm, perm_state,
               si) -> bool:
    """Permutation nulls of one seed's disparities into ``acc`` (slot ``null``); every seed uses the same
    permutations of the shared patient numbering ``units``. Returns whether patients were the units."""
    whole = True
    for lab, sc in zip(labels, scores):
        y, s = test[lab].to_numpy(float), test[sc].to_numpy(float)
        for attr, codes, names in attrs:
            st = GroupedStats(lab, attr, names, codes, y, s, label_thr[lab], np.ones((1, len(test))),
                              conventions=conv)
            nulls, ok = NT.null_distributions(st, chosen, units, n_perm, perm_state)
            whole &= ok
            # one tie-breaking u per label × attribute (the same in every seed; equal statistics, equal p)
            u = float(np.random.default_rng([perm_state, labels.index(lab), len(attr)]).random())
            for (aname, metric, group), null in nulls.items():
                slot = acc.get((aname, metric, lab, attr, group))
                if slot is not None:
                    slot.setdefault("null", {})[si] = null
                    slot.setdefault("null_u", u)
    return whole


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
