"""One bootstrap engine: patient-level (cluster) resampling shared by every training seed.

A bootstrap replicate is a vector of multiplicities, one per row: resampling *patients* with replacement
gives every image of a drawn patient the patient's count, so images of one patient stay together (they
are not independent, and resampling them one by one gives intervals that are too narrow).

Several training seeds are evaluated on the **same** resamples: replicate b draws one set of patients and
every seed is scored on it; the seed-averaged metric of replicate b is the mean over seeds. The interval
therefore covers the test-set uncertainty once — training five near-identical models does not make the
test set larger, so it must not make the interval narrower (averaging independent resamples per seed
did exactly that). The spread between seeds is reported separately (``seed_sd``); with no bootstrap,
several seeds give bahre2025's mean ± t·SE over runs ("Models and Training").
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
    return _counts(rng.integers(0, n_units, size=(n_rep, n_units)), n_units)[:, units]


def _counts(draws: np.ndarray, n_units: int) -> np.ndarray:
    """(R, k) drawn patient indices → (R, n_units) multiplicities, with one bincount (no Python loop)."""
    R = draws.shape[0]
    flat = (draws + (np.arange(R) * n_units)[:, None]).ravel()
    return np.bincount(flat, minlength=R * n_units).reshape(R, n_units).astype(float)


def chunk_rows(n_rows: int, max_cells: int = 4_000_000) -> int:
    """Weight rows per chunk so that ``rows × n_rows`` stays below ``max_cells``."""
    return max(2, max_cells // max(n_rows, 1))


def weight_chunks(
    units: np.ndarray, n_units: int, n_boot: int, rng: np.random.Generator, max_cells: int = 4_000_000,
    per: int | None = None,
) -> Iterator[np.ndarray]:
    """Yield weight matrices whose rows are [point (all ones), replicate 1, ..., replicate B] in chunks.

    Chunks keep ``rows × n`` below ``max_cells`` so memory stays bounded for large test sets; the first
    chunk starts with the all-ones row. Two calls with generators in the same state, the same ``n_units``,
    ``n_boot`` and ``per`` draw the same patients in every replicate whatever ``units`` holds — this is how
    every seed is scored on one shared set of resamples (``units`` codes the seed's rows into a patient
    numbering shared by all seeds).
    """
    n = units.size
    per = per or chunk_rows(n, max_cells)
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


def shared_seed_replicates(reps: np.ndarray) -> np.ndarray:
    """Seed-averaged replicates: ``reps`` (k seeds, B) scored on the same B resamples → (B,).

    Replicate b is the mean over seeds of the metric on resample b (seeds undefined there are left out).
    """
    reps = np.atleast_2d(np.asarray(reps, dtype=float))
    if reps.shape[0] == 1:
        return reps[0]
    ok = ~np.all(np.isnan(reps), axis=0)
    out = np.full(reps.shape[1], np.nan)
    out[ok] = np.nanmean(reps[:, ok], axis=0)
    return out


def seed_sd(points: np.ndarray) -> float:
    """Standard deviation (ddof 1) of the per-seed point estimates: the training-seed component."""
    x = np.asarray(points, dtype=float)
    x = x[~np.isnan(x)]
    return float(x.std(ddof=1)) if x.size >= 2 else float("nan")


def bootstrap_ci(statistic, units, *, n_resamples: int = 1000, level: float = 0.95,
                 method: str = "percentile", seed: int = 0) -> tuple[float, float]:
    """Patient-level interval of one statistic via ``scipy.stats.bootstrap`` (``percentile`` or ``BCa``).

    ``statistic(weights)`` maps row weights (R, n) to values (R,) — any weighted metric of this package.
    ``units`` gives the patient of each row; scipy resamples patients, their images come along.
    """
    from scipy import stats

    codes, n_units = unit_codes(units)

    def stat(idx, axis=-1):
        idx = np.asarray(idx, dtype=int)
        flat = idx.reshape(-1, idx.shape[-1])
        out = np.asarray(statistic(_counts(flat, n_units)[:, codes]), dtype=float)
        return out.reshape(idx.shape[:-1]) if idx.ndim > 1 else out[0]

    res = stats.bootstrap((np.arange(n_units),), stat, vectorized=True, n_resamples=n_resamples,
                          confidence_level=level, method=method, random_state=seed)
    return float(res.confidence_interval.low), float(res.confidence_interval.high)
