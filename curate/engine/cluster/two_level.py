"""Two-level k-means for many centroids: coarse k-means, then k-means inside every coarse cluster.

A flat Lloyd iteration costs ``n * k * d``; with k = 10,000 centroids on a million rows that is minutes per
iteration on a CPU. Two-level training (the scheme of ``faiss.contrib.clustering.two_level_clustering``,
used by FAISS to train large IVF quantizers) clusters the rows into ``nc1 ≈ sqrt(k)`` coarse groups, then
each group into its share of the ``k`` centroids, so an iteration costs about ``n * (nc1 + k / nc1) * d``.
The centroids are then refined by ``refine`` flat Lloyd iterations over all rows (each one a flat
iteration's cost) so that rows near a group border move to their nearest centroid, and every row is
finally assigned to its nearest centroid exactly. Every k-means here is the local trainer
(:func:`curate.engine.cluster.lloyd.train_flat`: a k-means++ start for the coarse groups, random ones
inside them, as FAISS starts); dedup's two-level inverted lists (:mod:`curate.engine.dedup.lists`) use
:func:`two_level_centroids` with ``random`` starts throughout.

curate runs its own loop over the groups instead of calling ``two_level_clustering`` because that function
gives a tiny coarse group (an outlier or two) zero sub-centroids and FAISS then fails
(``clus.k > 0`` assertion); here every non-empty group gets at least one centroid and never more than it
has rows (:func:`allocate_centroids`).
"""

from __future__ import annotations

import numpy as np

from curate.engine.cluster.lloyd import train_flat
from curate.engine.devices import resolve_device
from curate.errors import UsageError

COARSE_POINTS = 2000  # training rows per coarse centroid, as faiss.contrib.clustering uses


def allocate_centroids(sizes: np.ndarray, k: int) -> np.ndarray:
    """Centroids per coarse group: proportional to its rows (largest remainders), at least 1 per
    non-empty group, at most its rows, summing to ``k`` (``k`` between the non-empty groups and the rows)."""
    sizes = np.asarray(sizes, dtype=np.int64)
    n, nonempty = int(sizes.sum()), int((sizes > 0).sum())
    if not (nonempty <= k <= n):
        raise UsageError(f"k={k} must lie between the {nonempty} non-empty groups and the {n} rows")
    share = sizes * (k / n)
    alloc = np.clip(np.floor(share).astype(np.int64), np.minimum(sizes, 1), sizes)
    rem = share - alloc
    while alloc.sum() < k:  # add to the groups furthest below their share that have rows to spare
        room = np.nonzero(alloc < sizes)[0]
        take = room[np.argsort(-rem[room], kind="stable")][: k - int(alloc.sum())]
        alloc[take] += 1
        rem[take] -= 1
    while alloc.sum() > k:  # take from the groups furthest above their share that keep one
        spare = np.nonzero(alloc > 1)[0]
        take = spare[np.argsort(rem[spare], kind="stable")][: int(alloc.sum()) - k]
        alloc[take] -= 1
        rem[take] += 1
    return alloc


def two_level_centroids(x: np.ndarray, k: int, *, niter: int = 20, seed: int = 0, spherical: bool = True,
                        device: str = "auto", nc1: int | None = None, max_points_per_centroid: int = 256,
                        init: str = "kmeans++", sub_init: str = "random",
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coarse centroids (nc1, d), ``k`` fine centroids ordered by coarse group, and the groups' start
    offsets (nc1 + 1) among the fine ones: :func:`~curate.engine.cluster.lloyd.train_flat` into ``nc1``
    (default ``sqrt(k)``) groups from an ``init`` start, then inside each group (its share:
    :func:`allocate_centroids`) from ``sub_init`` starts (``random`` by default, as FAISS starts: a
    k-means++ start in each of ``sqrt(k)`` groups would cost more than the iterations at 10,000 centroids)."""
    nc1 = int(nc1 or max(1, round(np.sqrt(k))))
    if not (1 <= nc1 <= k):
        raise UsageError(f"nc1 (coarse clusters) must be between 1 and k={k} (got {nc1})")
    common = {"niter": niter, "spherical": spherical, "device": resolve_device(device)}
    coarse = train_flat(x, nc1, seed=seed, max_points_per_centroid=COARSE_POINTS, init=init, **common)
    order = np.argsort(coarse.labels, kind="stable")
    sizes = np.bincount(coarse.labels, minlength=nc1)
    alloc = allocate_centroids(sizes, k)
    starts = np.r_[0, np.cumsum(sizes)]
    parts, gstart = [], [0]
    for g in range(nc1):
        rows = x[np.sort(order[starts[g]:starts[g + 1]])]
        if alloc[g] == len(rows):  # as many centroids as rows: the rows themselves
            parts.append(np.array(rows, dtype=np.float32))
        elif alloc[g]:
            parts.append(train_flat(rows, int(alloc[g]), seed=seed + 1 + g, init=sub_init,
                                    max_points_per_centroid=max_points_per_centroid, **common).centroids)
        gstart.append(gstart[-1] + int(alloc[g]))
    fine = np.ascontiguousarray(np.vstack(parts), dtype=np.float32)
    return coarse.centroids, fine, np.asarray(gstart, dtype=np.int64)


def two_level_kmeans(x: np.ndarray, k: int, *, niter: int = 20, seed: int = 0, spherical: bool = True,
                     device: str = "auto", nc1: int | None = None, refine: int = 1,
                     max_points_per_centroid: int = 256) -> tuple[np.ndarray, dict]:
    """``k`` centroids of ``x`` by :func:`two_level_centroids` plus ``refine`` flat Lloyd iterations over
    all rows. Returns the centroids and what was done (for ``info``)."""
    coarse, cent, gstart = two_level_centroids(x, k, niter=niter, seed=seed, spherical=spherical,
                                               device=device, nc1=nc1,
                                               max_points_per_centroid=max_points_per_centroid)
    if refine:
        cent = train_flat(x, k, init=cent, niter=refine, seed=seed, spherical=spherical,
                          device=resolve_device(device)).centroids
    alloc = np.diff(gstart)
    info = {"method": "two-level", "coarse_clusters": len(coarse), "refine_iterations": int(refine),
            "sub_centroids": [int(alloc[alloc > 0].min()), int(alloc.max())]}
    return cent, info
