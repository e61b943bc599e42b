"""One grouped-evaluation engine and the fairness metrics built on it.

Every quantity is computed from a *weight matrix* ``W`` of shape ``(R, n)``: row 0 is all ones (the point
estimate) and rows 1.. are bootstrap resamples expressed as per-row multiplicities. Counting with weights
means a bootstrap replicate never copies the data, and all replicates are evaluated at once with a matrix
product (``W @ onehot``). Metric functions are a few lines over :class:`GroupedStats` (the fairlearn
``MetricFrame`` idea): group, count, compare — nothing is computed twice.

The array helpers at the bottom (:func:`demographic_parity_difference`, :func:`tpr_disparity`, ...) take
plain arrays, like fairlearn's functions, for use outside the audit runner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from curate.errors import InputError

SMALL_GROUP = 11  # groups below this many images or patients are flagged (small-cell rule)
N_BINS = 10  # equal-width bins for the expected calibration error


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den with NaN (not inf, not a warning) where den == 0: an undefined rate stays undefined."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


def weighted_auc(y: np.ndarray, score: np.ndarray, W: np.ndarray) -> np.ndarray:
    """ROC AUC for each weight row of ``W`` (R, n) → (R,); NaN when a row has only one class.

    AUC = P(score_pos > score_neg) + ½ P(tie), the Mann–Whitney form, which equals the trapezoidal area
    under the ROC curve (what ``sklearn.metrics.roc_auc_score`` computes, including ``sample_weight``).
    """
    y = np.asarray(y, dtype=float)
    score = np.asarray(score, dtype=float)
    W = np.atleast_2d(np.asarray(W, dtype=float))
    if y.size == 0:
        return np.full(W.shape[0], np.nan)
    order = np.argsort(score, kind="mergesort")
    s_sorted = score[order]
    starts = np.flatnonzero(np.r_[True, s_sorted[1:] != s_sorted[:-1]])  # tie blocks
    Ws = W[:, order]
    pos = Ws * y[order]
    neg = Ws - pos
    P = np.add.reduceat(pos, starts, axis=1)  # (R, K) positive weight per distinct score
    N = np.add.reduceat(neg, starts, axis=1)
    below = np.cumsum(N, axis=1) - N  # negative weight strictly below each score
    num = (P * (below + 0.5 * N)).sum(axis=1)
    return _div(num, P.sum(axis=1) * N.sum(axis=1))


def calibration_error(y: np.ndarray, score: np.ndarray, W: np.ndarray, n_bins: int = N_BINS) -> np.ndarray:
    """Expected calibration error per weight row: Σ_b |Σ_{i∈b} w_i (y_i − p_i)| / Σ_i w_i.

    Equal-width bins on [0, 1] (Guo et al. 2017, the usual ECE); this is Σ_b (n_b/n)·|acc_b − conf_b|.
    """
    y = np.asarray(y, dtype=float)
    score = np.asarray(score, dtype=float)
    W = np.atleast_2d(np.asarray(W, dtype=float))
    bins = np.minimum((score * n_bins).astype(int), n_bins - 1)
    onehot = np.zeros((y.size, n_bins))
    onehot[np.arange(y.size), bins] = 1.0
    resid = W @ (onehot * (y - score)[:, None])  # (R, n_bins)
    return _div(np.abs(resid).sum(axis=1), W.sum(axis=1))


@dataclass
class GroupedStats:
    """Counts and rates of one binary label split by one attribute, for every weight row.

    Shapes: per-group arrays are ``(R, G)``, overall arrays ``(R,)``. ``R`` = 1 + bootstrap replicates.
    Third-party audits receive this object and may use the raw arrays (``y``, ``score``, ``y_pred``,
    ``codes``, ``weights``) for anything the ready-made counts do not cover.
    """

    label: str
    attribute: str
    groups: list[str]
    codes: np.ndarray  # (n,) group index of each row
    y: np.ndarray  # (n,) 0/1
    score: np.ndarray  # (n,) probability
    threshold: float
    weights: np.ndarray  # (R, n)
    units: np.ndarray | None = None  # (n,) patient index of each row, when known
    y_pred: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.y = np.asarray(self.y, dtype=float)
        self.score = np.asarray(self.score, dtype=float)
        self.codes = np.asarray(self.codes, dtype=int)
        self.weights = np.atleast_2d(np.asarray(self.weights, dtype=float))
        self.y_pred = (self.score >= self.threshold).astype(float)

    # -- sizes (unweighted, from the data itself) --------------------------------------------------------
    @property
    def G(self) -> int:
        return len(self.groups)

    @cached_property
    def n_rows(self) -> np.ndarray:
        """Images per group, (G,)."""
        return np.bincount(self.codes, minlength=self.G)

    @cached_property
    def n_units(self) -> np.ndarray:
        """Patients per group (images when no patient column), (G,)."""
        if self.units is None:
            return self.n_rows
        pairs = np.unique(np.stack([self.codes, self.units]), axis=1)
        return np.bincount(pairs[0], minlength=self.G)

    # -- weighted counts ---------------------------------------------------------------------------------
    @cached_property
    def _onehot(self) -> np.ndarray:
        m = np.zeros((self.codes.size, self.G))
        m[np.arange(self.codes.size), self.codes] = 1.0
        return m

    def _count(self, v: np.ndarray) -> np.ndarray:
        return self.weights @ (self._onehot * v[:, None])

    @cached_property
    def count(self) -> np.ndarray:
        return self.weights @ self._onehot

    @cached_property
    def pos(self) -> np.ndarray:
        return self._count(self.y)

    @cached_property
    def neg(self) -> np.ndarray:
        return self.count - self.pos

    @cached_property
    def tp(self) -> np.ndarray:
        return self._count(self.y * self.y_pred)

    @cached_property
    def fp(self) -> np.ndarray:
        return self._count((1 - self.y) * self.y_pred)

    # -- rates -------------------------------------------------------------------------------------------
    @cached_property
    def tpr(self) -> np.ndarray:
        """True positive rate per group, TP_g / P_g."""
        return _div(self.tp, self.pos)

    @cached_property
    def fpr(self) -> np.ndarray:
        return _div(self.fp, self.neg)

    @cached_property
    def selection_rate(self) -> np.ndarray:
        """P(Ŷ=1 | G=g), the quantity demographic parity compares."""
        return _div(self.tp + self.fp, self.count)

    @cached_property
    def prevalence(self) -> np.ndarray:
        return _div(self.pos, self.count)

    @cached_property
    def tpr_all(self) -> np.ndarray:
        return _div(self.tp.sum(1), self.pos.sum(1))

    @cached_property
    def fpr_all(self) -> np.ndarray:
        return _div(self.fp.sum(1), self.neg.sum(1))

    @cached_property
    def tpr_rest(self) -> np.ndarray:
        """TPR of everyone *not* in group g (S_{-l} in bahre2025 eq. 1), (R, G)."""
        return _div(self.tp.sum(1, keepdims=True) - self.tp, self.pos.sum(1, keepdims=True) - self.pos)

    @cached_property
    def fpr_rest(self) -> np.ndarray:
        return _div(self.fp.sum(1, keepdims=True) - self.fp, self.neg.sum(1, keepdims=True) - self.neg)

    # -- score-based -------------------------------------------------------------------------------------
    def _per_group(self, fn) -> np.ndarray:
        out = np.empty((self.weights.shape[0], self.G))
        for g in range(self.G):
            idx = np.flatnonzero(self.codes == g)
            out[:, g] = fn(self.y[idx], self.score[idx], self.weights[:, idx])
        return out

    @cached_property
    def auc(self) -> np.ndarray:
        """ROC AUC within each group (NaN where the group has one class only), (R, G)."""
        return self._per_group(weighted_auc)

    @cached_property
    def auc_all(self) -> np.ndarray:
        return weighted_auc(self.y, self.score, self.weights)

    @cached_property
    def ece(self) -> np.ndarray:
        return self._per_group(calibration_error)

    @cached_property
    def ece_all(self) -> np.ndarray:
        return calibration_error(self.y, self.score, self.weights)


# ---- fairness metrics over GroupedStats ----------------------------------------------------------------


def _nanfn(fn, a: np.ndarray) -> np.ndarray:
    """Row-wise nan-reduction of an (R, G) array without the all-NaN warning: all-NaN rows give NaN."""
    a = np.atleast_2d(np.asarray(a, dtype=float))
    ok = ~np.all(np.isnan(a), axis=1)
    out = np.full(a.shape[0], np.nan)
    if ok.any():
        out[ok] = fn(a[ok], axis=1)
    return out


def tpr_disparity(s: GroupedStats) -> np.ndarray:
    """TPRDisp per group, (R, G) — bahre2025 "Fairness Evaluation", eqs. (1) and (2).

    Binary attribute (two groups): ``TPRDisp_g = TPR_g − TPR_{not g}`` (eq. 1).
    Otherwise: ``TPRDisp_g = TPR_g − median_k TPR_k`` over all groups of the attribute (eq. 2).
    Positive values favour the group, negative values disfavour it.
    """
    if s.G == 2:
        return s.tpr - s.tpr_rest
    return s.tpr - _nanfn(np.nanmedian, s.tpr)[:, None]


def tpr_gap(s: GroupedStats) -> np.ndarray:
    """Gap_j = max_k TPRDisp_k − min_k TPRDisp_k for one label j, (R,) — bahre2025 eq. (3).

    Applied literally, a binary attribute gives Gap = 2·|TPR_a − TPR_b| (the two disparities are ±).
    """
    d = tpr_disparity(s)
    return _nanfn(np.nanmax, d) - _nanfn(np.nanmin, d)


def demographic_parity_difference_stats(s: GroupedStats) -> np.ndarray:
    """DPD = max_g P(Ŷ=1|G=g) − min_g P(Ŷ=1|G=g), (R,) — luo2024 §5.1 "Metrics" (after Agarwal et al.).

    Identical to ``fairlearn.metrics.demographic_parity_difference`` (method="between_groups").
    """
    return _nanfn(np.nanmax, s.selection_rate) - _nanfn(np.nanmin, s.selection_rate)


def equalized_odds_difference_stats(s: GroupedStats) -> np.ndarray:
    """DEOdds = max(TPR range, FPR range) across groups, (R,) — luo2024 §5.1 "Metrics".

    Identical to ``fairlearn.metrics.equalized_odds_difference`` (agg="worst_case").
    """
    tpr_range = _nanfn(np.nanmax, s.tpr) - _nanfn(np.nanmin, s.tpr)
    fpr_range = _nanfn(np.nanmax, s.fpr) - _nanfn(np.nanmin, s.fpr)
    return np.fmax(tpr_range, fpr_range)


def es_auc_stats(s: GroupedStats) -> np.ndarray:
    """Equity-scaled AUC = AUC / (1 + Σ_g |AUC − AUC_g|), (R,) — luo2024 §5.1 "Metrics" (ref. [48]).

    Undefined (NaN) when any group's AUC is undefined (a group with one class only).
    """
    return s.auc_all / (1.0 + np.abs(s.auc_all[:, None] - s.auc).sum(axis=1))


def eod_stats(s: GroupedStats) -> np.ndarray:
    """EOD_g = P(Ŷ=1|Y=1,G=g) − P(Ŷ=1|Y=1,G≠g), (R, G) — germani2025 §3 "Implementation details".

    germani2025 compares two subgroups g1, g2; we take g2 = "everyone not in g1", which is the pairwise
    difference for a binary attribute and a one-vs-rest difference otherwise.
    """
    return s.tpr - s.tpr_rest


def aod_stats(s: GroupedStats) -> np.ndarray:
    """AOD_g = EOD_g + (P(Ŷ=1|Y=0,G=g) − P(Ŷ=1|Y=0,G≠g)), (R, G) — germani2025 §3 "Implementation details".

    Note: this is germani2025's definition — the *sum* of the TPR and FPR differences — not the
    usual average odds difference (which halves it).
    """
    return eod_stats(s) + (s.fpr - s.fpr_rest)


# ---- array API (fairlearn-style signatures) -------------------------------------------------------------


def encode_groups(values: Sequence) -> tuple[np.ndarray, list[str]]:
    """Group labels → (codes, sorted group names). Missing values are an input error."""
    import pandas as pd

    ser = pd.Series(np.asarray(values, dtype=object))
    if ser.isna().any():
        raise InputError(f"sensitive feature has {int(ser.isna().sum())} missing values; fill or drop them")
    names = sorted(ser.astype(str).unique())
    codes = pd.Categorical(ser.astype(str), categories=names).codes.astype(int)
    return codes, names


def stats_from_arrays(
    y_true, score=None, *, sensitive_features, threshold: float = 0.5, y_pred=None,
    sample_weight=None,
) -> GroupedStats:
    """Build :class:`GroupedStats` from arrays (point estimate only).

    Pass ``score`` (probabilities) and a ``threshold``, or hard predictions ``y_pred`` (then score-based
    metrics such as AUC are computed on the 0/1 predictions).
    """
    y = np.asarray(y_true, dtype=float)
    if score is None:
        if y_pred is None:
            raise InputError("pass score (probabilities) or y_pred (hard predictions)")
        score = np.asarray(y_pred, dtype=float)
        threshold = 0.5
    score = np.asarray(score, dtype=float)
    codes, names = encode_groups(sensitive_features)
    if not (len(y) == len(score) == len(codes)):
        raise InputError(f"lengths differ: y_true {len(y)}, score {len(score)}, groups {len(codes)}")
    if not np.isin(y, (0.0, 1.0)).all():
        raise InputError("y_true must be binary 0/1")
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    return GroupedStats("y", "group", names, codes, y, score, threshold, w[None, :])


def _by_group(s: GroupedStats, arr: np.ndarray) -> dict[str, float]:
    return {g: float(v) for g, v in zip(s.groups, arr[0])}


def demographic_parity_difference(y_true, y_pred, *, sensitive_features, sample_weight=None) -> float:
    """max − min selection rate across groups (luo2024 §5.1 DPD; same as fairlearn's)."""
    s = stats_from_arrays(y_true, y_pred=y_pred, sensitive_features=sensitive_features,
                          sample_weight=sample_weight)
    return float(demographic_parity_difference_stats(s)[0])


def equalized_odds_difference(y_true, y_pred, *, sensitive_features, sample_weight=None) -> float:
    """max(TPR range, FPR range) across groups (luo2024 §5.1 DEOdds; same as fairlearn's worst case)."""
    s = stats_from_arrays(y_true, y_pred=y_pred, sensitive_features=sensitive_features,
                          sample_weight=sample_weight)
    return float(equalized_odds_difference_stats(s)[0])


def es_auc(y_true, score, *, sensitive_features) -> float:
    """Equity-scaled AUC (luo2024 §5.1): AUC / (1 + Σ_g |AUC − AUC_g|)."""
    return float(es_auc_stats(stats_from_arrays(y_true, score, sensitive_features=sensitive_features))[0])


def group_auc(y_true, score, *, sensitive_features) -> dict[str, float]:
    """ROC AUC within each group (luo2024 "Group-wise AUC"); NaN for a one-class group."""
    s = stats_from_arrays(y_true, score, sensitive_features=sensitive_features)
    return _by_group(s, s.auc)


def tpr_disparities(y_true, y_pred, *, sensitive_features) -> dict[str, float]:
    """TPRDisp per group (bahre2025 eqs. 1–2)."""
    s = stats_from_arrays(y_true, y_pred=y_pred, sensitive_features=sensitive_features)
    return _by_group(s, tpr_disparity(s))


def gap(y_true, y_pred, *, sensitive_features) -> float:
    """Gap = max − min TPRDisp (bahre2025 eq. 3)."""
    s = stats_from_arrays(y_true, y_pred=y_pred, sensitive_features=sensitive_features)
    return float(tpr_gap(s)[0])


def equal_opportunity_differences(y_true, y_pred, *, sensitive_features) -> dict[str, float]:
    """EOD per group, group vs the rest (germani2025 §3)."""
    s = stats_from_arrays(y_true, y_pred=y_pred, sensitive_features=sensitive_features)
    return _by_group(s, eod_stats(s))


def average_odds_differences(y_true, y_pred, *, sensitive_features) -> dict[str, float]:
    """AOD per group as germani2025 §3 defines it: EOD + FPR difference (not halved)."""
    s = stats_from_arrays(y_true, y_pred=y_pred, sensitive_features=sensitive_features)
    return _by_group(s, aod_stats(s))


def expected_calibration_error(y_true, score, *, n_bins: int = N_BINS) -> float:
    """ECE with equal-width bins (see :func:`calibration_error`)."""
    y = np.asarray(y_true, dtype=float)
    return float(calibration_error(y, np.asarray(score, dtype=float), np.ones((1, y.size)), n_bins)[0])
