"""Array API with fairlearn-style signatures, for use outside the audit runner.

Inputs are validated once here (:mod:`curate.audits.inputs`): ``y_true`` binary, ``y_score`` finite,
``y_pred`` binary unless ``threshold`` is given, ``sample_weight`` non-negative and one per row, group
labels normalised to strings once. ``method``/``undefined``/``reference`` are the
:class:`~curate.audits.metrics.Conventions` (fairlearn's behaviour by default).
"""

from __future__ import annotations

import numpy as np

from curate.audits import fairness as F
from curate.audits import inputs as I
from curate.audits.metrics import N_BINS, Conventions, GroupedStats, calibration_error


def stats_from_arrays(
    y_true, y_score=None, *, sensitive_features, threshold: float | None = None, y_pred=None,
    sample_weight=None, method: str = "between_groups", compare: str = "rest", reference: str | None = None,
    undefined: str = "zero",
) -> GroupedStats:
    """Build :class:`GroupedStats` from arrays (point estimate only).

    Pass ``y_score`` (any finite score; predictions are ``y_score >= threshold``, default 0.5), or hard 0/1
    predictions ``y_pred`` (then score-based metrics such as AUC are computed on the 0/1 predictions). A
    continuous ``y_pred`` needs an explicit ``threshold``.
    """
    conv = Conventions(method=method, compare=compare, reference=reference, undefined=undefined)
    y = I.check_binary(y_true, "y_true")
    if y_score is None:
        if y_pred is None:
            from curate.errors import InputError

            raise InputError("pass y_score (scores) or y_pred (hard predictions)")
        score = I.check_predictions(y_pred, threshold, "y_pred")
        thr = 0.5
    else:
        score = I.check_scores(y_score, "y_score")
        thr = 0.5 if threshold is None else float(threshold)
    codes, names = I.encode_groups(sensitive_features, "sensitive_features")
    I.check_lengths(y_true=y, **{"y_score" if y_score is not None else "y_pred": score},
                    sensitive_features=codes)
    w = I.check_weights(sample_weight, len(y), "sample_weight")
    return GroupedStats("y", "group", names, codes, y, score, thr, w[None, :], conventions=conv)


def _by_group(s: GroupedStats, arr: np.ndarray) -> dict[str, float]:
    return {g: float(v) for g, v in zip(s.groups, arr[0])}


def demographic_parity_difference(y_true, y_pred, *, sensitive_features, sample_weight=None,
                                  method: str = "between_groups", reference: str | None = None,
                                  threshold: float | None = None) -> float:
    """DPD, selection-rate difference (luo2024 §5.1); equals fairlearn's for both of its methods."""
    s = stats_from_arrays(y_true, y_pred=y_pred, sensitive_features=sensitive_features, threshold=threshold,
                          sample_weight=sample_weight, method=method, reference=reference)
    return float(F.demographic_parity_difference_stats(s)[0])


def equalized_odds_difference(y_true, y_pred, *, sensitive_features, sample_weight=None,
                              method: str = "between_groups", agg: str = "worst_case",
                              undefined: str = "zero", reference: str | None = None,
                              threshold: float | None = None) -> float:
    """DEOdds (luo2024 §5.1); equals ``fairlearn.metrics.equalized_odds_difference`` with the defaults,
    including groups with no positives or no negatives (their rate scores 0, ``undefined="zero"``)."""
    s = stats_from_arrays(y_true, y_pred=y_pred, sensitive_features=sensitive_features, threshold=threshold,
                          sample_weight=sample_weight, method=method, undefined=undefined,
                          reference=reference)
    return float(F.equalized_odds_difference_stats(s, agg)[0])


def true_positive_rate_difference(y_true, y_pred, *, sensitive_features, sample_weight=None,
                                  method: str = "between_groups", undefined: str = "zero",
                                  reference: str | None = None, threshold: float | None = None) -> float:
    """TPR difference across groups (comparable across attributes, unlike bahre2025's Gap)."""
    s = stats_from_arrays(y_true, y_pred=y_pred, sensitive_features=sensitive_features, threshold=threshold,
                          sample_weight=sample_weight, method=method, undefined=undefined,
                          reference=reference)
    return float(F.tpr_difference_stats(s)[0])


def group_rates(y_true, y_pred, *, sensitive_features, sample_weight=None,
                threshold: float | None = None) -> dict[str, dict[str, float]]:
    """Per-group TPR, FPR and selection rate (NaN where a group has no positives / no negatives)."""
    s = stats_from_arrays(y_true, y_pred=y_pred, sensitive_features=sensitive_features, threshold=threshold,
                          sample_weight=sample_weight)
    return {"TPR": _by_group(s, s.tpr), "FPR": _by_group(s, s.fpr),
            "selection_rate": _by_group(s, s.selection_rate)}


def es_auc(y_true, y_score, *, sensitive_features, sample_weight=None) -> float:
    """Equity-scaled AUC (luo2024 §5.1): AUC / (1 + Σ_g |AUC − AUC_g|); NaN if a group has one class."""
    s = stats_from_arrays(y_true, y_score, sensitive_features=sensitive_features, sample_weight=sample_weight)
    return float(F.es_auc_stats(s)[0])


def roc_auc(y_true, y_score, *, sample_weight=None) -> float:
    """ROC AUC as ``sklearn.metrics.roc_auc_score`` (NaN instead of an error with one class only)."""
    s = stats_from_arrays(y_true, y_score, sensitive_features=np.zeros(len(np.asarray(y_true)), dtype=int),
                          sample_weight=sample_weight)
    return float(s.auc_all[0])


def group_auc(y_true, y_score, *, sensitive_features, sample_weight=None) -> dict[str, float]:
    """ROC AUC within each group (luo2024 "Group-wise AUC"); NaN for a one-class group."""
    s = stats_from_arrays(y_true, y_score, sensitive_features=sensitive_features, sample_weight=sample_weight)
    return _by_group(s, s.auc)


def tpr_disparities(y_true, y_pred, *, sensitive_features,
                    threshold: float | None = None) -> dict[str, float]:
    """TPRDisp per group (bahre2025 eqs. 1–2, as printed)."""
    s = stats_from_arrays(y_true, y_pred=y_pred, sensitive_features=sensitive_features, threshold=threshold)
    return _by_group(s, F.tpr_disparity(s))


def gap(y_true, y_pred, *, sensitive_features, threshold: float | None = None) -> float:
    """Gap = max − min TPRDisp (bahre2025 eq. 3, as printed: 2·|ΔTPR| for a binary attribute)."""
    s = stats_from_arrays(y_true, y_pred=y_pred, sensitive_features=sensitive_features, threshold=threshold)
    return float(F.tpr_gap(s)[0])


def equal_opportunity_differences(y_true, y_pred, *, sensitive_features, compare: str = "rest",
                                  reference: str | None = None,
                                  threshold: float | None = None) -> dict[str, float]:
    """EOD per group (germani2025 §3), compared with ``compare`` (rest / overall / reference)."""
    s = stats_from_arrays(y_true, y_pred=y_pred, sensitive_features=sensitive_features, threshold=threshold,
                          compare=compare, reference=reference)
    return _by_group(s, F.eod_stats(s))


def average_odds_sums(y_true, y_pred, *, sensitive_features, compare: str = "rest",
                      reference: str | None = None, threshold: float | None = None) -> dict[str, float]:
    """AOD_sum per group exactly as germani2025 §3 prints it: EOD + FPR difference (not halved)."""
    s = stats_from_arrays(y_true, y_pred=y_pred, sensitive_features=sensitive_features, threshold=threshold,
                          compare=compare, reference=reference)
    return _by_group(s, F.aod_sum_stats(s))


def average_odds_differences(y_true, y_pred, *, sensitive_features, compare: str = "rest",
                             reference: str | None = None,
                             threshold: float | None = None) -> dict[str, float]:
    """The usual average odds difference per group: ½ (TPR difference + FPR difference)."""
    s = stats_from_arrays(y_true, y_pred=y_pred, sensitive_features=sensitive_features, threshold=threshold,
                          compare=compare, reference=reference)
    return _by_group(s, F.aod_mean_stats(s))


def expected_calibration_error(y_true, y_score, *, n_bins: int = N_BINS) -> float:
    """ECE with equal-width bins (see :func:`curate.audits.metrics.calibration_error`)."""
    y = I.check_binary(y_true, "y_true")
    score = I.check_scores(y_score, "y_score")
    I.check_lengths(y_true=y, y_score=score)
    return float(calibration_error(y, score, np.ones((1, y.size)), n_bins)[0])
