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
from curate.audits.metrics import SMALL_GROUP, GroupedStats
from curate.audits.thresholds import f1_optimal_threshold
from curate.errors import InputError
from curate.pipeline.audit_table import INTERSECT_SEP, Prepared, attributes, prepare
from curate.policy.disclosure_audit import OVERALL

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

COLUMNS = ["audit", "metric", "label", "attribute", "group", "value", "ci_low", "ci_high", "n", "note",
           "n_units", "reportable", "seed_sd", "p_value"]
ALL_LABELS = "all labels"


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
    from curate.synthetic import is_synthetic

    p = prepare(preds, label_cols=label_cols, score_cols=score_cols, groups=groups, audits=audits,
                patient_col=patient_col, threshold=threshold, bootstrap=bootstrap, seed_col=seed_col,
                split_col=split_col, intersect=intersect, level=level, method=method, compare=compare,
                reference=reference, undefined=undefined, allow_leaky_split=allow_leaky_split,
                permutations=permutations)
    df, seed_col = p.df, p.seed_col
    seeds = sorted(df[seed_col].unique().tolist()) if seed_col else [None]
    tests = _test_sets(df, seeds, seed_col, p.test_mask)
    run = _Run(p, patient_col, bootstrap, permutations, seed, tests)
    for si, (s, (in_seed, test)) in enumerate(zip(seeds, tests)):
        run.score_seed(si, s, in_seed, test)
    if permutations and not run.by_patient:
        p.warnings.append("an attribute varies between a patient's images: its group labels were permuted "
                          "image by image for the test of no disparity")
    res = summarise(run.acc, p.chosen, bootstrap=bootstrap, level=level, columns=COLUMNS,
                    all_labels=ALL_LABELS, n_jack=run.n_jack)
    settings = _settings(p, seeds, bootstrap, level, permutations, patient_col, seed, run)
    settings["synthetic"] = is_synthetic(df)
    info = [{"name": a.name, "title": getattr(a, "title", a.name), "source": getattr(a, "source", "")}
            for a in p.chosen]
    return AuditResult(res, run.thresholds, p.warnings, settings, info)


def _test_sets(df, seeds, seed_col, test_mask) -> list[tuple[np.ndarray, pd.DataFrame]]:
    """(rows of the seed, its test rows) per training seed; a test set too small to report is refused."""
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
    return tests


class _Run:
    """The scoring state shared by every seed: one patient numbering, one bootstrap and permutation stream,
    so replicate b resamples the same patients in each seed."""

    def __init__(self, p: Prepared, patient_col, bootstrap: int, permutations: int, seed: int, tests) -> None:
        self.p, self.patient_col, self.bootstrap, self.permutations = p, patient_col, bootstrap, permutations
        self.acc: dict[tuple, dict[str, Any]] = {}
        self.thresholds: dict[str, list[float]] = {lab: [] for lab in p.labels}
        self.n_test_rows = self.n_test_units = 0
        unit_key = patient_col or ("id" if "id" in p.df.columns else None)
        keys = [t[unit_key].astype(str).to_numpy() if unit_key else np.arange(len(t)).astype(str)
                for _, t in tests]
        all_keys, self.inverse = np.unique(np.concatenate(keys), return_inverse=True)
        self.n_units_all = len(all_keys)
        self.bounds = np.cumsum([0] + [len(k) for k in keys])
        self.per = boot.chunk_rows(max(len(k) for k in keys))
        rng = np.random.default_rng(seed)
        self.boot_state = int(rng.integers(2**62))
        self.perm_state = int(rng.integers(2**62))
        bca = bootstrap > 0 and any(v == "bca" for a in p.chosen
                                    for v in (getattr(a, "intervals", None) or {}).values())
        self.n_jack = NT.jackknife_rows(self.n_units_all) if bca else 0
        self.by_patient = True

    def _label_thresholds(self, seed, in_seed) -> dict[str, float]:
        p, out = self.p, {}
        for lab, sc in zip(p.labels, p.scores):
            if p.thr == "f1":
                val = p.df[in_seed & p.val_mask]
                if len(val) == 0:
                    raise InputError(f"no validation rows for seed {seed} (needed by --threshold f1)")
                out[lab] = f1_optimal_threshold(val[lab].to_numpy(float), val[sc].to_numpy(float))
            else:
                out[lab] = float(p.thr)
            self.thresholds[lab].append(out[lab])
        return out

    def score_seed(self, si: int, seed, in_seed, test) -> None:
        """Every audit on one seed's test rows, over the bootstrap (and jackknife) weights; then its nulls."""
        p, patient_col = self.p, self.patient_col
        label_thr = self._label_thresholds(seed, in_seed)
        units = self.inverse[self.bounds[si]:self.bounds[si + 1]].astype(int)
        local_units, n_units = (boot.unit_codes(test[patient_col]) if patient_col
                                else (np.arange(len(test)), len(test)))
        if si == 0:
            self.n_test_rows, self.n_test_units = len(test), n_units
        attrs = attributes(test, p.group_cols, p.inter)
        chunks = boot.weight_chunks(units, self.n_units_all, self.bootstrap,
                                    np.random.default_rng(self.boot_state), per=self.per)
        if self.n_jack:  # the grouped jackknife rows of the BCa intervals follow the bootstrap replicates
            chunks = itertools.chain(chunks, NT.jackknife_chunks(units, self.n_units_all))
        first = True
        for W in chunks:
            for lab, sc in zip(p.labels, p.scores):
                y, s = test[lab].to_numpy(float), test[sc].to_numpy(float)
                for attr, codes, names in attrs:
                    st = GroupedStats(lab, attr, names, codes, y, s, label_thr[lab], W,
                                      local_units if patient_col else None, conventions=p.conv)
                    self._collect(st, si, lab, attr, first)
            first = False
        if self.permutations:
            self.by_patient &= _add_nulls(self.acc, test, p.labels, p.scores, label_thr, attrs[1:], units,
                                          p.chosen, p.conv, self.permutations, self.perm_state, si)
        _small_group_warnings(test, attrs[1:], local_units if patient_col else None, patient_col, p.warnings)

    def _collect(self, st: GroupedStats, si: int, lab: str, attr: str, first: bool) -> None:
        for a in self.p.chosen:
            if attr == OVERALL and "groups" in a.needs:
                continue
            for row in a.compute(st):
                key = (a.name, row.metric, lab, attr, row.group)
                slot = self.acc.setdefault(key, {"vals": {}, "n": None, "units": None, "note": set(),
                                                 "small": None, "reportable": True})
                slot["vals"].setdefault(si, []).append(np.asarray(row.values, dtype=float))
                if first:
                    if row.note:
                        slot["note"].add(row.note)
                    if si == 0:
                        slot.update(_group_n(st, row.group))


def _small_group_warnings(test, attrs, local_units, patient_col, warnings: list[str]) -> None:
    for attr, codes, names in attrs:
        st = GroupedStats("", attr, names, codes, np.zeros(len(test)), np.zeros(len(test)), 0.5,
                          np.ones((1, len(test))), local_units)
        for g, name in enumerate(names):
            if min(st.n_rows[g], st.n_units[g]) < SMALL_GROUP:
                msg = f"small group: {attr} = {name} has fewer than {SMALL_GROUP} " + (
                    "patients" if patient_col else "images") + " in the test set"
                if msg not in warnings:
                    warnings.append(msg)


def _settings(p: Prepared, seeds, bootstrap, level, permutations, patient_col, seed, run: _Run) -> dict:
    ci = ("bootstrap" if bootstrap > 0 else ("seeds" if len(seeds) > 1 else "none"))
    return {
        "labels": p.labels, "score_cols": p.scores, "groups": p.group_cols,
        "intersect": [INTERSECT_SEP.join(c) for c in p.inter], "threshold": p.thr,
        "threshold_source": p.thr_source, "synthetic": False, "bootstrap": bootstrap,
        "ci": ci, "ci_level": level,
        "ci_method": ("percentile; bias-corrected lower end for max − min disparities; BCa for AUC"
                      if bootstrap > 0 else None),
        "permutations": int(permutations),
        "resampling_unit": "patients" if patient_col else "images",
        "resamples_shared_across_seeds": bool(bootstrap > 0 and len(seeds) > 1),
        "seeds": [s for s in seeds if s is not None], "n_seeds": len(seeds),
        "n_test_rows": int(run.n_test_rows), "n_test_units": int(run.n_test_units),
        "patient_col": patient_col, "split_col": p.split_col, "seed": seed,
        "conventions": {"method": p.conv.method, "compare": p.conv.compare, "reference": p.conv.reference,
                        "undefined": p.conv.undefined},
        "reporting_threshold": SMALL_GROUP,
    }


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
