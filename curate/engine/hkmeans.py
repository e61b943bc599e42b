"""Hierarchical k-means of Vo et al. 2024 (§3 "Hierarchical k-means"): level 1 clusters the points, level
l+1 clusters the centroids of level l.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from curate.engine.kmeans import KMeansResult, kmeans
from curate.errors import UsageError


def hierarchical_kmeans(x: np.ndarray, ks: Sequence[int], *, niter: int = 20, seed: int = 0,
                        spherical: bool = True, device: str = "auto", dask: Any = None,
                        max_points_per_centroid: int | None = None, init: np.ndarray | None = None,
                        n_workers: int | None = None) -> list[KMeansResult]:
    """Vo et al. 2024 §3: level 1 clusters the points; level l+1 clusters the centroids of level l.

    Returns one :class:`KMeansResult` per level; level l's ``labels`` index level l-1's centroids.
    ``dask`` and ``init`` apply to level 1 only.
    """
    first = kmeans(x, ks[0], niter=niter, seed=seed, spherical=spherical, device=device, dask=dask,
                   init=init, max_points_per_centroid=max_points_per_centroid, n_workers=n_workers)
    return upper_levels(first, ks, niter=niter, seed=seed, spherical=spherical, device=device)


def upper_levels(first: KMeansResult, ks: Sequence[int], *, niter: int = 20, seed: int = 0,
                 spherical: bool = True, device: str = "auto") -> list[KMeansResult]:
    """Levels 2.. of the hierarchy on one machine: they cluster the (few) centroids of the level below,
    with seed ``seed + level`` (level 1 = 0), whichever backend computed level 1."""
    out = [first]
    for level in range(1, len(ks)):
        points, k = out[-1].centroids, ks[level]
        if k > len(points):
            raise UsageError(f"level {level + 1} asks for {k} clusters of only {len(points)} centroids")
        out.append(kmeans(points, k, niter=niter, seed=seed + level, spherical=spherical, device=device))
    return out
