"""Distances and ratios between a dataset's strata counts and a reference population.

- **Jensen–Shannon distance**, base 2 (Lin 1991, *IEEE Trans. Inf. Theory* 37(1), eq. 4.1, the divergence;
  the distance is its square root, Endres & Schindelin 2003): ``scipy.spatial.distance.jensenshannon(p, q,
  base=2)``, between 0 (same distribution) and 1 (disjoint). MIDRC REACT uses the same function.
- **Expected from sampling alone**: the distance of ``n`` people drawn at random from the reference itself
  (multinomial draws, ``reps`` times). Its mean is the distance a perfectly representative dataset of this
  size shows; the Monte-Carlo p-value is the share of those draws at least as far as the dataset (Davison &
  Hinkley 1997, *Bootstrap Methods*, §4.2.1, ``(1 + #{d* ≥ d}) / (1 + R)``).
- **Bootstrap interval** over patients: resampling ``n`` patients with replacement makes the strata counts
  a multinomial draw with the dataset's own shares (so we draw those counts directly); the interval is the
  *basic* bootstrap interval (Davison & Hinkley §5.2.1, ``2θ − θ*_{1−α/2}, 2θ − θ*_{α/2}``) of the
  *divergence* ``θ = d²``, whose square roots bound the distance. Working on the divergence (a smooth
  functional) corrects the plug-in's upward bias, which at a few hundred patients over 38 strata is larger
  than the distance itself; the percentile interval of ``d`` then covers almost never. Measured coverage:
  docs/representativeness.md.
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
    """Jensen–Shannon distance (base 2) between two non-negative vectors (each normalised to sum 1)."""
    from scipy.spatial.distance import jensenshannon

    return float(jensenshannon(counts, reference, base=2))


def _distances(draws: np.ndarray, q: np.ndarray) -> np.ndarray:
    import numpy as np
    from scipy.spatial.distance import jensenshannon

    return np.asarray(jensenshannon(draws, np.broadcast_to(q, draws.shape), base=2, axis=1), dtype=float)


def null_distances(reference, n: int, *, reps: int, seed: int | None) -> np.ndarray:
    """Distances of ``reps`` samples of ``n`` people drawn from ``reference`` to ``reference``."""
    import numpy as np

    q = np.asarray(reference, dtype=float)
    q = q / q.sum()
    draws = np.random.default_rng(seed).multinomial(n, q, size=reps)
    return _distances(draws, q)


def bootstrap_distances(counts, reference, *, reps: int, seed: int | None) -> np.ndarray:
    """Distances of ``reps`` resamples of the dataset's patients (with replacement) to ``reference``."""
    import numpy as np

    c = np.asarray(counts, dtype=float)
    q = np.asarray(reference, dtype=float)
    draws = np.random.default_rng(seed).multinomial(int(c.sum()), c / c.sum(), size=reps)
    return _distances(draws, q / q.sum())


def basic_interval(estimate: float, boot: np.ndarray, confidence: float) -> tuple[float, float]:
    """Interval for the distance: the basic bootstrap interval of the divergence ``d²``, clipped to [0, 1],
    then its square roots."""
    import numpy as np

    a = (1 - confidence) / 2
    div = np.square(boot)
    lo_q, hi_q = np.quantile(div, [a, 1 - a])
    theta = estimate * estimate
    lo, hi = np.clip([2 * theta - hi_q, 2 * theta - lo_q], 0, 1)
    return float(np.sqrt(lo)), float(np.sqrt(hi))


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
    boot = bootstrap_distances(c, q, reps=reps, seed=seed)
    null = null_distances(q, n, reps=reps, seed=None if seed is None else seed + 1)
    out = Comparison(
        strata=list(strata), counts=[int(x) for x in c], reference_share=[float(x) for x in q], n=n,
        distance=d, interval=basic_interval(d, boot, confidence), expected=float(null.mean()),
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
