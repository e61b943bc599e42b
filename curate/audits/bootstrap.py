"""Uncertainty: bootstrap weights that resample patients (not images), and seed aggregation.

A bootstrap replicate is a vector of multiplicities, one per row: resampling *patients* with replacement
gives every image of a drawn patient the patient's count, so images of one patient stay together (they
are not independent, and resampling them one by one gives intervals that are too narrow).
Several training seeds are summarised as bahre2025 "Models and Training" does: mean over runs and a
95% confidence interval.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def unit_codes(patients) -> tuple[np.ndarray, int]:
    """Patient labels → (integer code per row, number of patients)."""
    _, codes = np.unique(np.asarray(patients).astype(str), return_inverse=True)
    return codes.astype(int), int(codes.max()) + 1 if codes.size else 0


def bootstrap_weights(units: np.ndarray, n_units: int, n_rep: int, rng: np.random.Generator) -> np.ndarray:
    """(n_rep, n_rows) multiplicities: draw ``n_units`` patients with replacement, per replicate."""
    if n_rep <= 0:
        return np.empty((0, units.size))
    counts = rng.multinomial(n_units, np.full(n_units, 1.0 / n_units), size=n_rep)
    return counts[:, units].astype(float)


def weight_chunks(
    units: np.ndarray, n_units: int, n_boot: int, rng: np.random.Generator, max_cells: int = 4_000_000
) -> Iterator[np.ndarray]:
    """Yield weight matrices whose rows are [point (all ones), replicate 1, ..., replicate B] in chunks.

    Chunks keep ``rows × n`` below ``max_cells`` so memory stays bounded for large test sets; the first
    chunk starts with the all-ones row.
    """
    n = units.size
    per = max(1, max_cells // max(n, 1))
    done = -1  # the point row counts as one
    while done < n_boot:
        k = min(per, n_boot - done)
        if done < 0:
            W = np.vstack([np.ones((1, n)), bootstrap_weights(units, n_units, k - 1, rng)])
        else:
            W = bootstrap_weights(units, n_units, k, rng)
        done += k
        yield W


def percentile_ci(reps: np.ndarray, level: float = 0.95, min_valid: float = 0.5) -> tuple[float, float]:
    """Percentile interval of bootstrap replicates, ignoring NaN ones (an undefined resample).

    Returns NaNs when fewer than ``min_valid`` of the replicates are defined: an interval built from a
    minority of resamples would be misleading.
    """
    reps = np.asarray(reps, dtype=float)
    ok = reps[~np.isnan(reps)]
    if reps.size == 0 or ok.size < max(2, min_valid * reps.size):
        return float("nan"), float("nan")
    a = (1 - level) / 2
    lo, hi = np.quantile(ok, [a, 1 - a])
    return float(lo), float(hi)


def seed_t_ci(points: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """mean ± t_{(1+level)/2, k−1} · sd / √k over training seeds (bahre2025: "mean … and 95% CI across five
    independent runs"). NaN with fewer than two defined seeds."""
    from scipy import stats

    x = np.asarray(points, dtype=float)
    x = x[~np.isnan(x)]
    if x.size < 2:
        return float("nan"), float("nan")
    m, se = x.mean(), x.std(ddof=1) / np.sqrt(x.size)
    h = float(stats.t.ppf((1 + level) / 2, x.size - 1)) * se
    return float(m - h), float(m + h)


def seed_bootstrap(reps: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Two-level bootstrap of a seed mean: ``reps`` (k seeds, B) → (B,).

    Replicate b draws k seeds with replacement and averages their b-th patient resample, so the interval
    carries both the test-sample and the training-seed variability.
    """
    reps = np.atleast_2d(np.asarray(reps, dtype=float))
    k, B = reps.shape
    if k == 1:
        return reps[0]
    pick = rng.integers(0, k, size=(B, k))
    vals = reps[pick, np.arange(B)[:, None]]
    ok = ~np.all(np.isnan(vals), axis=1)
    out = np.full(B, np.nan)
    out[ok] = np.nanmean(vals[ok], axis=1)
    return out
