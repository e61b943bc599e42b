"""One grouped-evaluation engine and the fairness metrics built on it.

Every quantity is computed from a *weight matrix* ``W`` of shape ``(R, n)``: row 0 is all ones (the point
estimate) and rows 1.. are bootstrap resamples expressed as per-row multiplicities. Counting with weights
means a bootstrap replicate never copies the data, and all replicates are evaluated at once with a matrix
product (``W @ onehot``). Metric functions are a few lines over :class:`GroupedStats` (the fairlearn
``MetricFrame`` idea): group, count, compare — nothing is computed twice.

The fairness metrics over :class:`GroupedStats` live in :mod:`curate.audits.fairness`, the array API
with fairlearn-style signatures in :mod:`curate.audits.arrays`.
How undefined rates and comparisons are scored is a :class:`Conventions` object carried by the stats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from curate.errors import UsageError
from curate.policy.disclosure import MIN_CELL

SMALL_GROUP = MIN_CELL  # groups below this many individuals are marked not reportable (small-cell rule)
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
    Ws = W.T[order]  # (n, R), rows contiguous: reductions along axis 0 are several times faster
    pos = Ws * y[order][:, None]
    neg = Ws - pos
    P = np.add.reduceat(pos, starts, axis=0) if starts.size < y.size else pos  # (K, R) per distinct score
    N = np.add.reduceat(neg, starts, axis=0) if starts.size < y.size else neg
    below = np.cumsum(N, axis=0) - N  # negative weight strictly below each score
    num = (P * (below + 0.5 * N)).sum(axis=0)
    return _div(num, P.sum(axis=0) * N.sum(axis=0))


def ece_bins(score: np.ndarray, n_bins: int = N_BINS) -> np.ndarray:
    """Bin index of each score: bin m (1-based) is ((m−1)/M, m/M] as in Guo et al. 2017 §2 ("Reliability
    Diagrams") and ``sklearn.calibration.calibration_curve`` (same edges, ``np.linspace(0, 1, M + 1)``,
    same ``searchsorted``); a score of exactly 0 falls in the first bin."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return np.searchsorted(edges[1:-1], np.asarray(score, dtype=float), side="left")


def calibration_error(y: np.ndarray, score: np.ndarray, W: np.ndarray, n_bins: int = N_BINS) -> np.ndarray:
    """Expected calibration error per weight row: Σ_b |Σ_{i∈b} w_i (y_i − p_i)| / Σ_i w_i.

    Equal-width bins ((m−1)/M, m/M] on [0, 1] (Guo et al. 2017, eq. 3; :func:`ece_bins`); this is
    Σ_b (n_b/n)·|acc_b − conf_b|.
    """
    y = np.asarray(y, dtype=float)
    score = np.asarray(score, dtype=float)
    W = np.atleast_2d(np.asarray(W, dtype=float))
    bins = ece_bins(score, n_bins)
    onehot = np.zeros((y.size, n_bins))
    onehot[np.arange(y.size), bins] = 1.0
    resid = W @ (onehot * (y - score)[:, None])  # (R, n_bins)
    return _div(np.abs(resid).sum(axis=1), W.sum(axis=1))


METHODS = ("between_groups", "to_overall", "to_reference")
COMPARES = ("rest", "overall", "reference")
UNDEFINED = ("zero", "exclude")


@dataclass(frozen=True)
class Conventions:
    """How a fairness number is scored where the choice changes the answer (docs/audits.md "Conventions").

    ``method``: how the summary differences (DPD, DEOdds, TPR_diff) compare the groups, as
    ``fairlearn.metrics.MetricFrame.difference(method=...)``: ``"between_groups"`` (max − min over groups,
    fairlearn's default), ``"to_overall"`` (max_g |rate_g − overall rate|) or ``"to_reference"``
    (max_g |rate_g − rate of ``reference``).
    ``compare``: whom the per-group differences (EOD, AOD_sum, AOD_mean) compare a group with: ``"rest"``
    (everyone not in the group; germani2025's g2 for a binary attribute), ``"overall"`` or ``"reference"``.
    ``reference``: the reference group (per attribute: a dict ``{attribute: group}`` or one name).
    ``undefined``: a rate whose denominator is empty in a group that *is* present (TPR of a group with no
    positives, FPR of a group with no negatives) is scored ``"zero"`` as fairlearn/scikit-learn do
    (``confusion_matrix(normalize="true")`` fills 0) or left out of the comparison (``"exclude"``). Either way
    the result row says which groups were affected. Groups absent from a bootstrap resample are always
    left out (fairlearn never sees them).
    """

    method: str = "between_groups"
    compare: str = "rest"
    reference: str | dict[str, str] | None = None
    undefined: str = "zero"

    def __post_init__(self) -> None:
        for name, allowed in (("method", METHODS), ("compare", COMPARES), ("undefined", UNDEFINED)):
            if getattr(self, name) not in allowed:
                raise UsageError(f"{name} must be one of {', '.join(allowed)} (got '{getattr(self, name)}')")
        if (self.method == "to_reference" or self.compare == "reference") and not self.reference:
            raise UsageError("method='to_reference' / compare='reference' need a reference group")

    def reference_for(self, attribute: str) -> str | None:
        if isinstance(self.reference, dict):
            return self.reference.get(attribute)
        return self.reference


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
    conventions: Conventions = field(default_factory=Conventions)
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

    @cached_property
    def present(self) -> np.ndarray:
        """Whether each group has any weight in each row (a bootstrap resample may miss a group), (R, G)."""
        return self.count > 0

    def scored(self, rate: str) -> np.ndarray:
        """``"tpr"``/``"fpr"`` per group with :attr:`Conventions.undefined` applied, (R, G).

        NaN for groups absent from a row; for a present group with an empty denominator, 0 (``"zero"``,
        fairlearn) or NaN (``"exclude"``).
        """
        r = self.tpr if rate == "tpr" else self.fpr
        if self.conventions.undefined == "zero":
            r = np.where(np.isnan(r) & self.present, 0.0, r)
        return r

    def scored_all(self, rate: str) -> np.ndarray:
        r = self.tpr_all if rate == "tpr" else self.fpr_all
        if self.conventions.undefined == "zero":
            r = np.where(np.isnan(r) & (self.count.sum(1) > 0), 0.0, r)
        return r

    def undefined_groups(self, rate: str) -> list[str]:
        """Groups of the point estimate whose ``rate`` has an empty denominator (no positives/negatives)."""
        den = self.pos if rate == "tpr" else self.neg
        return [g for g, d, p in zip(self.groups, den[0], self.present[0]) if p and d == 0]

    @property
    def reference(self) -> str | None:
        return self.conventions.reference_for(self.attribute)

    def reference_index(self) -> int:
        ref = self.reference
        if ref is None or str(ref) not in self.groups:
            raise UsageError(f"reference group '{ref}' is not a group of '{self.attribute}' "
                             f"(groups: {', '.join(self.groups[:10])})")
        return self.groups.index(str(ref))

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
