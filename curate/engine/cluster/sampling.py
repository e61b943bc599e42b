"""Hierarchical sampling of Vo et al. 2024 (§3 "Hierarchical sampling"): a budget spread evenly over the
top-level clusters, then over each one's children, down to level 1, where points are drawn at random.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from curate.engine.cluster.result import table_of
from curate.errors import InputError, UsageError


def allocate(capacity: Sequence[int] | np.ndarray, n: int, seed: int | np.random.Generator = 0) -> np.ndarray:
    """Spread ``n`` draws over groups as evenly as their sizes allow (max-min fair "water filling").

    Groups smaller than the even share give everything they have; the rest is shared evenly among the
    others; the last few units of an uneven split go to randomly chosen groups (``seed``).
    """
    cap = np.asarray(capacity, dtype=np.int64)
    total = int(cap.sum())
    if n < 0:
        raise UsageError(f"sample size must be positive (got {n})")
    if n > total:
        raise InputError(f"asked for {n} but only {total} are available")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    lo, hi = 0, int(cap.max()) if len(cap) else 0
    while lo < hi:  # largest level t with sum(min(cap, t)) <= n
        mid = (lo + hi + 1) // 2
        if np.minimum(cap, mid).sum() <= n:
            lo = mid
        else:
            hi = mid - 1
    counts = np.minimum(cap, lo)
    rest = n - int(counts.sum())
    if rest:
        open_ = np.flatnonzero(cap > counts)
        counts[rng.choice(open_, size=rest, replace=False)] += 1
    return counts


def hierarchical_select(levels: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """Row indices of a Vo et al. hierarchical sample: ``levels`` is ``(rows, L)``, column 0 finest.

    The budget is spread with :func:`allocate` over the top-level groups, then recursively over each
    group's children; at level 1 rows are drawn uniformly at random. Returns sorted indices.
    """
    levels = np.asarray(levels)
    if levels.ndim == 1:
        levels = levels[:, None]
    rng = np.random.default_rng(seed)
    allocate(np.array([len(levels)]), n)  # n > rows -> clear error

    def rec(rows: np.ndarray, level: int, budget: int) -> list[np.ndarray]:
        if budget == 0:
            return []
        if level < 0:
            return [rng.choice(rows, size=budget, replace=False)]
        uniq, inv = np.unique(levels[rows, level], return_inverse=True)
        counts = allocate(np.bincount(inv, minlength=len(uniq)), budget, rng)
        out: list[np.ndarray] = []
        for g in range(len(uniq)):
            out += rec(rows[inv == g], level - 1, int(counts[g]))
        return out

    parts = rec(np.arange(len(levels)), levels.shape[1] - 1, n)
    return np.sort(np.concatenate(parts)) if parts else np.array([], dtype=np.int64)


def balanced_cluster_sample(clusters: Any, n: int, *, seed: int = 0) -> Any:
    """Vo et al. 2024 hierarchical sampling: ``n`` items spread evenly across top-level clusters, recursively.

    ``clusters``: a :class:`ClusterResult`, its table (``cluster_l*`` columns) — returns the sampled rows
    of the table — or an array of labels (``(n,)`` or ``(n, L)``, column 0 finest) — returns row indices.
    """
    table = table_of(clusters)
    if hasattr(table, "columns"):
        cols = sorted((c for c in table.columns if str(c).startswith("cluster_l")),
                      key=lambda c: int(str(c)[9:]))
        if not cols:
            raise InputError("no cluster_l1.. columns in the clusters table")
        idx = hierarchical_select(table[cols].to_numpy(), n, seed)
        return table.iloc[idx]
    return hierarchical_select(np.asarray(table), n, seed)
