"""Tests of "no disparity" and intervals that can contain 0.

A disparity such as DPD, TPR_diff, DEOdds or Gap is a max − min (or a max of absolute values) over groups:
it is never negative, and with sampling noise its estimate is positive even when the groups do not differ
at all. A percentile bootstrap interval of such a number therefore never contains 0 — a reader would
always "see" a disparity. Two things fix that:

- **A permutation test of "no disparity"** (:func:`null_distributions`). Under the null hypothesis the group
  labels carry no information, so they can be shuffled: each permutation reassigns the group labels of
  *patients* (a patient keeps one label for all of their images, so the clustering of images within patients
  is kept), the disparity is recomputed, and the p-value is the share of permutations more extreme than the
  observed value, ties broken at random (:func:`permutation_p_value`; Phipson & Smyth 2010, eq. 2; Good,
  *Permutation Tests*, 2000, §3). For the equalized-odds family (TPR/FPR based: TPR_diff, DEOdds, Gap,
  TPRDisp, EOD, AOD) the shuffle is *within the true label* — positives' group labels among positives,
  negatives' among negatives — so the null is exactly equalized odds, Ŷ ⊥ G | Y (Hardt et al. 2016, §2), and
  a difference in prevalence between groups is not mistaken for a disparity. Demographic parity (DPD) is Ŷ ⊥
  G, shuffled without strata. Every training seed is scored on the same permutations and the seed-averaged
  statistic is compared with the seed-averaged null, as for the bootstrap.
- **An interval that can contain 0**: for max − min statistics [2θ̂ − q_{1−α/2}, q_{1−α/2}]
  (:func:`corrected_interval`: the basic bootstrap's bias-corrected lower end, Davison & Hinkley 1997,
  §5.2.1, eq. 5.6, and the percentile upper end), clipped to the metric's range, so its lower end reaches
  0 when the resamples show that the estimate is mostly upward bias; and whenever the permutation test
  does not reject "no disparity" at the interval's level, the interval is extended down to 0 (the
  interval and the test never contradict each other that way, and coverage under the null is at least
  one minus the test's size). AUC-type metrics use BCa (Efron 1987; Davison & Hinkley §5.3.2), with
  the acceleration from a grouped (delete-a-block-of-patients) jackknife.

Audits opt in with two class attributes: ``null_tests`` (metric → ``"none"`` or ``"label"``: the strata of
the permutation) and ``intervals`` (metric → ``"corrected"`` or ``"bca"``; percentile otherwise).
docs/audits.md "Tests of no disparity" shows the coverage measured by scripts/coverage_audits.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from curate.audits.metrics import N_BINS, GroupedStats, ece_bins

STRATA = ("none", "label")
DEFAULT_PERMUTATIONS = 999
JACKKNIFE_BLOCKS = 200
_MAX_CELLS = 2_000_000


# ---- permutations -----------------------------------------------------------------------------------------

def permuted_codes(codes: np.ndarray, units: np.ndarray | None, strata: np.ndarray, n_perm: int,
                   rng: np.random.Generator) -> tuple[np.ndarray, bool]:
    """(n_perm, n) group codes with the labels of patients shuffled within each stratum.

    A cluster is one patient's rows of one stratum; when a group label varies within a cluster (an
    attribute that changes between a patient's images) the rows are shuffled one by one instead and the
    second value is False. Clusters are ordered by (stratum, patient code), so the same ``units``,
    ``strata`` and generator state give the same permutation in every training seed.
    """
    n = codes.size
    unit = np.arange(n) if units is None else np.asarray(units, dtype=np.int64)
    strata = np.asarray(strata, dtype=np.int64)
    key = strata * (int(unit.max()) + 1 if n else 1) + unit
    clusters, inv = np.unique(key, return_inverse=True)
    cg = np.zeros(clusters.size, dtype=np.int64)
    cg[inv] = codes
    by_patient = bool(np.array_equal(cg[inv], codes))
    if not by_patient:  # the attribute varies within a patient: rows are the exchangeable units
        clusters, inv, cg = np.arange(n), np.arange(n), np.asarray(codes, dtype=np.int64)
        cs = strata
    else:
        cs = np.zeros(clusters.size, dtype=np.int64)
        cs[inv] = strata
    base = np.argsort(cs, kind="stable")  # clusters in stratum order (already so: keys sort by stratum)
    order = np.argsort(rng.random((n_perm, cs.size)) + cs[None, :] * 2.0, axis=1, kind="stable")
    out = np.empty((n_perm, cs.size), dtype=np.int64)
    out[:, base] = cg[order]
    return out[:, inv], by_patient


class PermutedStats(GroupedStats):
    """:class:`GroupedStats` whose rows are permutations of the group labels (not bootstrap weights).

    Counts (images, positives, TP, FP) and the per-group ECE are recomputed per permutation with one
    ``bincount``; score-ranking metrics (AUC, ES-AUC) are not permuted (NaN): they have no null test here.
    """

    def __init__(self, s: GroupedStats, pcodes: np.ndarray) -> None:
        n = s.codes.size
        super().__init__(s.label, s.attribute, s.groups, s.codes, s.y, s.score, s.threshold,
                         np.ones((1, n)), s.units, s.conventions)
        P, G = pcodes.shape[0], s.G
        self.weights = np.broadcast_to(np.ones(n), (P, n))
        flat = (pcodes + G * np.arange(P)[:, None]).ravel()

        def per_group(v: np.ndarray) -> np.ndarray:
            return np.bincount(flat, weights=np.tile(v, P), minlength=P * G).reshape(P, G)

        self.__dict__["count"] = per_group(np.ones(n))
        self.__dict__["pos"] = per_group(self.y)
        self.__dict__["tp"] = per_group(self.y * self.y_pred)
        self.__dict__["fp"] = per_group((1 - self.y) * self.y_pred)
        bins = ece_bins(self.score, N_BINS)
        cell = (flat * N_BINS + np.tile(bins, P))
        resid = np.bincount(cell, weights=np.tile(self.y - self.score, P), minlength=P * G * N_BINS)
        with np.errstate(invalid="ignore", divide="ignore"):
            ece = np.abs(resid.reshape(P, G, N_BINS)).sum(2) / self.__dict__["count"]
        self.__dict__["ece"] = np.where(self.__dict__["count"] > 0, ece, np.nan)
        self.__dict__["auc"] = np.full((P, G), np.nan)
        self.__dict__["auc_all"] = np.full(P, np.nan)


def _strata(s: GroupedStats, kind: str) -> np.ndarray:
    return s.y.astype(np.int64) if kind == "label" else np.zeros(s.codes.size, dtype=np.int64)


def null_distributions(s: GroupedStats, audits: Sequence[Any], units: np.ndarray | None, n_perm: int,
                       seed: int) -> tuple[dict[tuple[str, str, str], np.ndarray], bool]:
    """Permutation null of every ``null_tests`` metric of ``audits`` on the point estimate ``s``.

    Returns ({(audit, metric, group): values (n_perm,)}, whether patients were the permuted units). The
    generator is seeded with ``seed`` per stratum kind so every training seed sees the same permutations.
    """
    wanted = {(a.name, m): kind for a in audits for m, kind in (getattr(a, "null_tests", None) or {}).items()}
    out: dict[tuple[str, str, str], list[np.ndarray]] = {}
    by_patient = True
    per = max(1, _MAX_CELLS // max(s.codes.size, 1))
    for kind in STRATA:
        if kind not in wanted.values():
            continue
        rng = np.random.default_rng([seed, STRATA.index(kind)])
        done = 0
        while done < n_perm:
            k = min(per, n_perm - done)
            pcodes, whole = permuted_codes(s.codes, units, _strata(s, kind), k, rng)
            by_patient &= whole
            ps = PermutedStats(s, pcodes)
            for a in audits:
                for row in a.compute(ps):
                    if wanted.get((a.name, row.metric)) == kind:
                        out.setdefault((a.name, row.metric, row.group), []).append(np.asarray(row.values))
            done += k
    return {key: np.concatenate(v) for key, v in out.items()}, by_patient


def permutation_p_value(observed: float, null: np.ndarray, u: float = 0.5, tol: float = 1e-12) -> float:
    """Permutation p-value with ties broken at random: (#{|T*| > |T|} + u·(#{|T*| = |T|} + 1)) / (P + 1).

    The observed statistic counts as one of the P + 1 arrangements (Phipson & Smyth 2010, eq. 2, so p is
    never 0). Disparities are differences of counts and take few distinct values under permutation (a fifth
    of the permutations can tie with the observed value): counting ties in full gives p-values far above
    uniform under the null (a test that almost never rejects). With ``u`` ~ Uniform(0, 1) — the runner draws
    it from the audit's seed — the p-value is exactly uniform under the null (the randomised test; Hemerik &
    Goeman 2018, "Exact testing with random permutations", §2); ``u = 0.5`` gives Lancaster's mid-p, its
    expectation. When every permutation ties with the observed value (e.g. TPR 1 in every group) the
    p-value is 1: nothing in the data could show a disparity. Two-sided for signed differences (absolute
    values); a max − min is never negative. NaN when the observed value or most permutations are undefined.
    """
    null = np.asarray(null, dtype=float)
    ok = np.abs(null[~np.isnan(null)])
    if np.isnan(observed) or ok.size < max(1, null.size // 2):
        return float("nan")
    t = abs(observed)
    above = np.sum(ok > t + tol)
    ties = np.sum(np.abs(ok - t) <= tol)
    if ties == ok.size:  # every permutation gives the observed value: the data hold no evidence at all
        return 1.0
    return float((above + u * (ties + 1)) / (1 + ok.size))


# ---- intervals ---------------------------------------------------------------------------------------------

def corrected_interval(point: float, reps: np.ndarray, level: float = 0.95,
                       min_valid: float = 0.5) -> tuple[float, float]:
    """Interval of a max − min that can reach 0: [2θ̂ − q_{1−α/2}, q_{1−α/2}] of the bootstrap replicates.

    The lower end is the basic ("reverse percentile") bootstrap bound (Davison & Hinkley 1997, eq. 5.6),
    which corrects the upward bias of a maximum over noisy groups: under no disparity the resamples lie
    above the estimate about as far as the estimate lies above 0, so the bound reaches 0 (the runner clips
    it to the metric's range). The upper end is the percentile bound: the basic upper bound 2θ̂ − q_{α/2}
    is too low when the true disparity is small but not 0 (a max − min is not a smooth function there).
    docs/audits.md gives the coverage measured by scripts/coverage_audits.py. NaN like ``percentile_ci``.
    """
    from curate.audits.bootstrap import percentile_ci

    lo, hi = percentile_ci(reps, level, min_valid)
    if np.isnan(lo) or np.isnan(point):
        return float("nan"), float("nan")
    return float(min(2 * point - hi, point)), float(max(hi, point))


def bca_interval(point: float, reps: np.ndarray, jack: np.ndarray, level: float = 0.95,
                 min_valid: float = 0.5) -> tuple[float, float]:
    """BCa interval (Efron 1987; Davison & Hinkley 1997, §5.3.2, eqs. 5.21-5.23).

    z₀ = Φ⁻¹(share of replicates below θ̂, ties counted half); acceleration a = Σd³ / (6 (Σd²)^{3/2}) with
    d = mean(jackknife) − jackknife values, from a grouped jackknife (each value leaves out one block of
    patients; the ratio is scale-free, so blocks estimate the same a). Falls back to the percentile
    interval when z₀ or a is not finite (all replicates on one side).
    """
    from scipy.stats import norm

    from curate.audits.bootstrap import percentile_ci

    reps = np.asarray(reps, dtype=float)
    ok = reps[~np.isnan(reps)]
    jk = np.asarray(jack, dtype=float)
    jk = jk[~np.isnan(jk)]
    if np.isnan(point) or ok.size < max(2, min_valid * reps.size) or jk.size < 3:
        return percentile_ci(reps, level, min_valid)
    below = (np.sum(ok < point) + 0.5 * np.sum(ok == point)) / ok.size
    z0 = norm.ppf(below)
    d = jk.mean() - jk
    den = 6.0 * np.sum(d ** 2) ** 1.5
    a = float(np.sum(d ** 3) / den) if den > 0 else 0.0
    if not np.isfinite(z0) or not np.isfinite(a):
        return percentile_ci(reps, level, min_valid)
    z = norm.ppf([(1 - level) / 2, (1 + level) / 2])
    adj = norm.cdf(z0 + (z0 + z) / (1 - a * (z0 + z)))
    lo, hi = np.quantile(ok, np.clip(adj, 0, 1))
    return float(lo), float(hi)


def jackknife_chunks(units: np.ndarray, n_units: int, blocks: int = JACKKNIFE_BLOCKS,
                     max_cells: int = 4_000_000) -> Iterator[np.ndarray]:
    """Weight rows of the grouped jackknife: row k leaves out the patients with ``code % K == k``.

    ``units`` is the patient numbering shared by every training seed, so block k is the same patients in
    each seed. K = min(number of patients, ``blocks``).
    """
    K = max(1, min(int(n_units), blocks))
    block = np.asarray(units, dtype=np.int64) % K
    per = max(1, max_cells // max(block.size, 1))
    for start in range(0, K, per):
        ks = np.arange(start, min(K, start + per))
        yield (block[None, :] != ks[:, None]).astype(float)


def jackknife_rows(n_units: int, blocks: int = JACKKNIFE_BLOCKS) -> int:
    """How many jackknife rows :func:`jackknife_chunks` yields."""
    return max(1, min(int(n_units), blocks))
