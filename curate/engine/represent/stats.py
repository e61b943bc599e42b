"""Distances and ratios between a dataset's strata counts and a reference population.

- **Jensen–Shannon distance**, base 2 (Lin 1991, *IEEE Trans. Inf. Theory* 37(1), eq. 4.1, the divergence;
  the distance is its square root, Endres & Schindelin 2003): ``scipy.spatial.distance.jensenshannon(p, q,
  base=2)``, between 0 (same distribution) and 1 (disjoint). MIDRC REACT uses the same function.
- **Expected from sampling alone**: the distance of ``n`` people drawn at random from the reference itself
  (multinomial draws, ``reps`` times). Its mean is the distance a perfectly representative dataset of this
  size shows; the Monte-Carlo p-value is the share of those draws at least as far as the dataset (Davison &
  Hinkley 1997, *Bootstrap Methods*, §4.2.1, ``(1 + #{d* ≥ d}) / (1 + R)``).
- **Interval**: a *test-inversion bootstrap* interval (Carpenter 1999, *J. R. Statist. Soc. B* 61(1),
  159–172; Garthwaite & Buckland 1992, *Applied Statistics* 41(1), 159–171): the distances ``d(λ)`` of the
  one-parameter family ``p(λ) = q + λ(p̂ − q)`` (from the reference, λ = 0, through the dataset's shares,
  λ = 1, and beyond; clipped at 0) that the observed distance does not reject — ``d̂`` lies between the
  ``α/2`` and ``1 − α/2`` quantiles of the distances of ``reps`` samples of ``n`` patients drawn from
  ``p(λ)`` (the same random numbers for every λ, so the quantiles move smoothly), each end found by
  bisection. Each candidate truth is judged with *its own* sampling distribution, bias included: the
  plug-in distance is biased upwards (JSD ≥ 0; at a few hundred patients over 38 strata the bias exceeds the
  distance itself), and an interval built from resampling the dataset — percentile, basic (the earlier
  method, 93–99.6 % coverage) or BCa (whose bias correction saturates: every resample lies above ``d̂``) —
  takes the spread at the biased estimate for the spread at the truth, and over-covers when the truth is
  small. Measured coverage: docs/representativeness.md.
- **Representation ratio** of a stratum: dataset share / reference share, with the Wilson score interval of
  the dataset share (``scipy.stats.binomtest(...).proportion_ci(method="wilson")``) divided by the reference
  share (the reference is a census, taken as exact). A stratum is *under-represented* when the whole interval
  lies below ``1 / factor``, *over-represented* when it lies above ``factor``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np


def js_distance(counts, reference) -> float:
    """Jensen–Shannon distance (base 2) between two non-negative vectors (each normalised to sum 1).

    Equal distributions can round to a divergence a hair below 0, whose square root scipy returns as NaN:
    that is a distance of 0."""
    import numpy as np
    from scipy.spatial.distance import jensenshannon

    with np.errstate(invalid="ignore"):
        return float(np.nan_to_num(jensenshannon(counts, reference, base=2), nan=0.0))


def _distances(draws: np.ndarray, q: np.ndarray) -> np.ndarray:
    import numpy as np
    from scipy.spatial.distance import jensenshannon

    with np.errstate(invalid="ignore"):  # a draw equal to q: a divergence a hair below 0 is a distance of 0
        out = jensenshannon(draws, np.broadcast_to(q, draws.shape), base=2, axis=1)
    return np.nan_to_num(np.asarray(out, dtype=float), nan=0.0)


def null_distances(reference, n: int, *, reps: int, seed: int | None) -> np.ndarray:
    """Distances of ``reps`` samples of ``n`` people drawn from ``reference`` to ``reference``."""
    import numpy as np

    q = np.asarray(reference, dtype=float)
    q = q / q.sum()
    draws = np.random.default_rng(seed).multinomial(n, q, size=reps)
    return _distances(draws, q)


#: bisection steps for each end of the interval: λ to 2^-BISECTION of its range (d to about d̂ / 1000)
BISECTION = 10


def _family(counts, reference, lam: float):
    """``p(λ) = q + λ(p̂ − q)``, clipped at 0 and renormalised: the reference at 0, the dataset at 1."""
    import numpy as np

    c = np.asarray(counts, dtype=float)
    q = np.asarray(reference, dtype=float)
    p = np.clip(q / q.sum() + lam * (c / c.sum() - q / q.sum()), 0, None)
    return p / p.sum()


def inverted_interval(counts, reference, *, reps: int, confidence: float, seed: int | None
                      ) -> tuple[float, float]:
    """Test-inversion bootstrap interval of the distance (module docstring): ``(d(λ_L), d(λ_U))`` with λ_L
    the smallest λ whose upper quantile reaches ``d̂`` (0 when λ = 0 does: the reference itself is not
    rejected) and λ_U the largest whose lower quantile does not exceed it (doubling the range from 1 until
    one does)."""
    import numpy as np

    c = np.asarray(counts, dtype=int)
    q = np.asarray(reference, dtype=float)
    q = q / q.sum()
    n = int(c.sum())
    d = js_distance(c, q)
    a = (1 - confidence) / 2
    seed = 0 if seed is None else seed

    def quantiles(lam: float) -> np.ndarray:  # the same random numbers for every λ (common random numbers)
        draws = np.random.default_rng(seed).multinomial(n, _family(c, q, lam), size=reps)
        return np.quantile(_distances(draws, q), [a, 1 - a])

    if d == 0:  # the dataset's shares are the reference's: no direction to move in
        return 0.0, float(quantiles(0.0)[1])
    lo, hi = 0.0, 1.0
    if quantiles(0.0)[1] >= d:
        lam_lo = 0.0
    else:
        while quantiles(hi)[1] < d and hi < 2 ** 8:
            lo, hi = hi, 2 * hi
        for _ in range(BISECTION):
            mid = (lo + hi) / 2
            lo, hi = (lo, mid) if quantiles(mid)[1] >= d else (mid, hi)
        lam_lo = hi
    lo, hi = lam_lo, max(1.0, lam_lo)
    while quantiles(hi)[0] <= d and hi < 2 ** 8:
        lo, hi = hi, 2 * hi
    for _ in range(BISECTION):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if quantiles(mid)[0] <= d else (lo, mid)
    return js_distance(_family(c, q, lam_lo), q), js_distance(_family(c, q, lo), q)


def wilson(k: int, n: int, confidence: float) -> tuple[float, float]:
    from scipy.stats import binomtest

    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


@dataclass
class Comparison:
    """One comparison (one attribute set) of the dataset's counts with a reference, stratum by stratum."""

    strata: list[tuple]
    counts: list[int]
    reference_share: list[float]
    n: int
    distance: float
    interval: tuple[float, float]
    expected: float  # mean distance of a perfectly representative sample of n
    expected_hi: float  # its upper quantile (confidence level)
    p_value: float
    confidence: float
    factor: float
    ratios: list[float] = field(default_factory=list)
    ratio_intervals: list[tuple[float, float]] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)  # "", "under", "over"

    @property
    def beyond_sampling(self) -> bool:
        """The dataset is farther from the reference than sampling alone explains (p < 1 − confidence)."""
        return self.p_value < 1 - self.confidence


def compare(strata: list[tuple], counts, reference, *, reps: int = 2000, confidence: float = 0.95,
            factor: float = 2.0, seed: int | None = 0) -> Comparison:
    """Compare strata ``counts`` (patients) with ``reference`` (populations), both in ``strata`` order.

    Strata with no reference population must hold no patients (a share over a zero population is
    undefined); callers drop them or merge them first.
    """
    import numpy as np

    c = np.asarray(counts, dtype=int)
    q = np.asarray(reference, dtype=float)
    if c.shape != q.shape or c.ndim != 1:
        raise ValueError("counts and reference must be 1-D and of the same length")
    n = int(c.sum())
    if n <= 0:
        raise ValueError("counts must not all be zero")
    q = q / q.sum()
    d = js_distance(c, q)
    null = null_distances(q, n, reps=reps, seed=None if seed is None else seed + 1)
    out = Comparison(
        strata=list(strata), counts=[int(x) for x in c], reference_share=[float(x) for x in q], n=n,
        distance=d, interval=inverted_interval(c, q, reps=reps, confidence=confidence, seed=seed),
        expected=float(null.mean()),
        expected_hi=float(np.quantile(null, confidence)),
        p_value=float((1 + np.sum(null >= d - 1e-12)) / (1 + reps)), confidence=confidence, factor=factor,
    )
    for k, share in zip(c, q):
        lo, hi = wilson(int(k), n, confidence)
        ratio = (k / n) / share if share > 0 else float("nan")
        rlo, rhi = (lo / share, hi / share) if share > 0 else (float("nan"), float("nan"))
        out.ratios.append(float(ratio))
        out.ratio_intervals.append((float(rlo), float(rhi)))
        out.flags.append("under" if rhi < 1 / factor else "over" if rlo > factor else "")
    return out
