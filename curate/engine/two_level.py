"""Two-level k-means for many centroids: coarse k-means, then k-means inside every coarse cluster.

A flat Lloyd iteration costs ``n * k * d``; with k = 10,000 centroids on a million rows that is minutes per
iteration on a CPU. Two-level training (the scheme of ``faiss.contrib.clustering.two_level_clustering``,
used by FAISS to train large IVF quantizers) clusters the rows into ``nc1 ≈ sqrt(k)`` coarse groups, then
each group into its share of the ``k`` centroids, so an iteration costs about ``n * (nc1 + k / nc1) * d``.
The centroids are then refined by ``refine`` flat Lloyd iterations over all rows (each one a flat
iteration's cost) so that rows near a group border move to their nearest centroid, and every row is
finally assigned to its nearest centroid exactly (:func:`curate.engine.kmeans.nearest`).

curate runs its own loop over the groups instead of calling ``two_level_clustering`` because that function
gives a tiny coarse group (an outlier or two) zero sub-centroids and FAISS then fails
(``clus.k > 0`` assertion); here every non-empty group gets at least one centroid and never more than it
has rows (:func:`allocate_centroids`).
"""

from __future__ import annotations

import numpy as np

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


def two_level_kmeans(x: np.ndarray, k: int, *, niter: int = 20, seed: int = 0, spherical: bool = True,
                     gpu: bool = False, nc1: int | None = None, refine: int = 1,
                     max_points_per_centroid: int = 256) -> tuple[np.ndarray, dict]:
    """``k`` centroids of ``x`` (float32, C-contiguous) by two-level training plus ``refine`` flat
    iterations. Returns the centroids and what was done (for ``info``)."""
    import faiss

    n, d = x.shape
    nc1 = int(nc1 or max(1, round(np.sqrt(k))))
    if not (1 <= nc1 <= k):
        raise UsageError(f"coarse clusters must be between 1 and k={k} (got {nc1})")
    common = {"spherical": spherical, "gpu": gpu, "verbose": False, "min_points_per_centroid": 1}
    coarse = faiss.Kmeans(d, nc1, niter=niter, seed=seed, max_points_per_centroid=COARSE_POINTS, **common)
    coarse.train(x)
    group = coarse.index.search(x, 1)[1][:, 0]
    order = np.argsort(group, kind="stable")
    sizes = np.bincount(group, minlength=nc1)
    alloc = allocate_centroids(sizes, k)
    starts = np.r_[0, np.cumsum(sizes)]
    parts = []
    for g in np.nonzero(sizes)[0]:
        rows = x[np.sort(order[starts[g]:starts[g + 1]])]
        if alloc[g] == len(rows):  # as many centroids as rows: the rows themselves
            parts.append(np.array(rows, dtype=np.float32))
            continue
        sub = faiss.Kmeans(d, int(alloc[g]), niter=niter, seed=seed + 1 + int(g),
                           max_points_per_centroid=max_points_per_centroid, **common)
        sub.train(rows)
        parts.append(np.array(sub.centroids, dtype=np.float32))
    cent = np.ascontiguousarray(np.vstack(parts), dtype=np.float32)
    if refine:
        flat = faiss.Kmeans(d, k, niter=refine, seed=seed, max_points_per_centroid=max(n // k + 1, 1),
                            **common)
        flat.train(x, init_centroids=cent)
        cent = np.ascontiguousarray(flat.centroids, dtype=np.float32)
    info = {"method": "two-level", "coarse_clusters": nc1, "refine_iterations": int(refine),
            "sub_centroids": [int(alloc.min()), int(alloc.max())]}
    return cent, info
