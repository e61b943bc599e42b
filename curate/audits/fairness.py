"""Fairness metrics over :class:`~curate.audits.metrics.GroupedStats`: group, count, compare.

Every function returns one value per weight row (point estimate first, then bootstrap replicates): ``(R,)``
for a summary, ``(R, G)`` per group. How undefined rates and "compared with whom" are handled is the stats'
:class:`~curate.audits.metrics.Conventions` (fairlearn-compatible by default); the docstrings give the
formula, the paper and section, and the empty-group convention. docs/audits.md "Conventions" lists them all.
"""

from __future__ import annotations

import numpy as np

from curate.audits.metrics import GroupedStats, _div

__all__ = [
    "aod_mean_stats", "aod_sum_stats", "demographic_parity_difference_stats", "difference", "eod_stats",
    "equalized_odds_difference_stats", "es_auc_stats", "nanfn", "tpr_difference_stats", "tpr_disparity",
    "tpr_gap", "undefined_note",
]


def nanfn(fn, a: np.ndarray) -> np.ndarray:
    """Row-wise nan-reduction of an (R, G) array without the all-NaN warning: all-NaN rows give NaN."""
    a = np.atleast_2d(np.asarray(a, dtype=float))
    ok = ~np.all(np.isnan(a), axis=1)
    out = np.full(a.shape[0], np.nan)
    if ok.any():
        out[ok] = fn(a[ok], axis=1)
    return out


def difference(s: GroupedStats, per_group: np.ndarray, overall: np.ndarray) -> np.ndarray:
    """One number from per-group rates (R, G), by ``s.conventions.method`` (``MetricFrame.difference``).

    ``between_groups``: max_g r_g − min_g r_g; ``to_overall``: max_g |r_g − r_overall|; ``to_reference``:
    max_g |r_g − r_ref|. NaN entries (absent or excluded groups) are left out.
    """
    method = s.conventions.method
    if method == "between_groups":
        return nanfn(np.nanmax, per_group) - nanfn(np.nanmin, per_group)
    if method == "to_overall":
        return nanfn(np.nanmax, np.abs(per_group - np.asarray(overall)[:, None]))
    ref = per_group[:, [s.reference_index()]]
    out = nanfn(np.nanmax, np.abs(per_group - ref))
    return np.where(np.isnan(ref[:, 0]), np.nan, out)


def undefined_note(s: GroupedStats, rates: tuple[str, ...] = ("tpr", "fpr")) -> str | None:
    """Per-group note for the point estimate: which groups had an undefined rate and how it was scored."""
    how = ("scored 0 as in fairlearn" if s.conventions.undefined == "zero"
           else "left out of the comparison")
    parts = []
    for rate, why in (("tpr", "no positives"), ("fpr", "no negatives")):
        if rate in rates:
            gs = s.undefined_groups(rate)
            if gs:
                parts.append(f"{rate.upper()} undefined in {', '.join(gs)} ({why}), {how}")
    return "; ".join(parts) or None


def demographic_parity_difference_stats(s: GroupedStats) -> np.ndarray:
    """DPD from selection rates P(Ŷ=1 | G=g), (R,) — luo2024 §5.1 "Metrics" (after Agarwal et al.).

    ``between_groups``: max_g − min_g P(Ŷ=1|G=g), equal to ``fairlearn.metrics.demographic_parity_difference``
    (also for ``to_overall``). A selection rate is defined for every present group, so no convention for
    empty denominators is needed.
    """
    sel = s.selection_rate
    return difference(s, sel, _div(s.tp.sum(1) + s.fp.sum(1), s.count.sum(1)))


def tpr_difference_stats(s: GroupedStats) -> np.ndarray:
    """TPR difference, (R,): ``difference`` of per-group TPR (fairlearn's ``true_positive_rate_difference``).

    Unlike bahre2025's Gap it means the same for binary and non-binary attributes (max − min TPR), so it is
    comparable across attributes. A present group without positives scores TPR 0 (``undefined="zero"``,
    fairlearn) or is left out (``"exclude"``).
    """
    return difference(s, s.scored("tpr"), s.scored_all("tpr"))


def equalized_odds_difference_stats(s: GroupedStats, agg: str = "worst_case") -> np.ndarray:
    """DEOdds = max(TPR difference, FPR difference), (R,) — luo2024 §5.1 "Metrics".

    Equal to ``fairlearn.metrics.equalized_odds_difference(..., method=s.conventions.method, agg=agg)``
    including groups with no positives or no negatives: their TPR/FPR scores 0 as in fairlearn (which
    takes it from scikit-learn's ``confusion_matrix(normalize="true")``). With ``undefined="exclude"``
    such groups are left out of that rate's comparison instead. ``agg="mean"`` averages the two.
    """
    t = difference(s, s.scored("tpr"), s.scored_all("tpr"))
    f = difference(s, s.scored("fpr"), s.scored_all("fpr"))
    if agg == "mean":
        return (t + f) / 2
    return np.fmax(t, f)


def tpr_disparity(s: GroupedStats) -> np.ndarray:
    """TPRDisp per group, (R, G) — bahre2025 "Fairness Evaluation", eqs. (1) and (2), as printed.

    Binary attribute (two groups): ``TPRDisp_g = TPR_g − TPR_{not g}`` (eq. 1).
    Otherwise: ``TPRDisp_g = TPR_g − median_k TPR_k`` over the groups of the attribute (eq. 2).
    Positive values favour the group. A group without positives has no TPR: its TPRDisp is NaN (with a
    note) and it is left out of the median — the paper does not say, and a TPR of 0 would be invented.
    """
    if s.G == 2:
        return s.tpr - s.tpr_rest
    return s.tpr - nanfn(np.nanmedian, s.tpr)[:, None]


def tpr_gap(s: GroupedStats) -> np.ndarray:
    """Gap_j = max_k TPRDisp_k − min_k TPRDisp_k for one label j, (R,) — bahre2025 eq. (3), as printed.

    Applied literally, a binary attribute gives Gap = 2·|TPR_a − TPR_b| (the two disparities are ±d),
    while for ≥ 3 groups the median cancels and Gap = max TPR − min TPR. Gaps of binary and non-binary
    attributes are therefore not on one scale; :func:`tpr_difference_stats` (``TPR_diff``) is.
    """
    d = tpr_disparity(s)
    return nanfn(np.nanmax, d) - nanfn(np.nanmin, d)


def _compared(s: GroupedStats, rate: str) -> np.ndarray:
    """rate_g − rate of the comparison (``s.conventions.compare``), (R, G); NaN where either is undefined."""
    own = s.tpr if rate == "tpr" else s.fpr
    compare = s.conventions.compare
    if compare == "rest":
        other = s.tpr_rest if rate == "tpr" else s.fpr_rest
    elif compare == "overall":
        other = (s.tpr_all if rate == "tpr" else s.fpr_all)[:, None]
    else:
        other = own[:, [s.reference_index()]]
    return own - other


def eod_stats(s: GroupedStats) -> np.ndarray:
    """EOD_g = P(Ŷ=1|Y=1,G=g) − P(Ŷ=1|Y=1,G=g2), (R, G) — germani2025 §3 "Implementation details".

    germani2025 compares two subgroups g1, g2; ``compare`` chooses g2: ``"rest"`` (everyone not in g, the
    pairwise difference for a binary attribute), ``"overall"`` or ``"reference"``. NaN (with a note) when
    the group or its comparison has no positives.
    """
    return _compared(s, "tpr")


def aod_sum_stats(s: GroupedStats) -> np.ndarray:
    """AOD_sum_g = EOD_g + (P(Ŷ=1|Y=0,G=g) − P(Ŷ=1|Y=0,G=g2)), (R, G) — germani2025 §3, exactly as printed.

    This is the *sum* of the TPR and FPR differences (range [−2, 2]), hence the name; the usual average
    odds difference halves it (:func:`aod_mean_stats`). NaN when a class is missing in g or g2.
    """
    return _compared(s, "tpr") + _compared(s, "fpr")


def aod_mean_stats(s: GroupedStats) -> np.ndarray:
    """AOD_mean_g = ½ (TPR difference + FPR difference), (R, G): the common average odds difference
    (Hardt et al.'s equalized-odds gaps averaged, as in AIF360), i.e. germani2025's AOD halved."""
    return aod_sum_stats(s) / 2


def es_auc_stats(s: GroupedStats) -> np.ndarray:
    """Equity-scaled AUC = AUC / (1 + Σ_g |AUC − AUC_g|), (R,) — luo2024 §5.1 "Metrics" (ref. [48]).

    Undefined (NaN, with a note) when any present group's AUC is undefined (a group with one class only):
    the sum runs over all groups, and dropping one would raise the score. Groups absent from a bootstrap
    resample contribute nothing (they are not in that test set).
    """
    dev = np.abs(s.auc_all[:, None] - s.auc)
    dev = np.where(s.present, dev, 0.0)
    bad = np.any(np.isnan(dev), axis=1)
    return np.where(bad, np.nan, s.auc_all / (1.0 + np.nansum(dev, axis=1)))
