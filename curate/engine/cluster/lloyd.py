"""k-means on one machine: k-means++ seeding (scikit-learn), one Lloyd iteration, the local flat trainer.

One Lloyd iteration is a map and a reduce: :func:`partial_sums` (each row's nearest centroid, per-cluster
sums and counts) over blocks of rows, then :func:`update_centroids` (the means; unit norm when
``spherical``; an empty cluster keeps its centroid); :func:`lloyd_loop` runs them. Two trainers run that
loop: :func:`train_flat` here (numpy BLAS on the CPU, ``faiss.Kmeans`` on the GPU) and the Dask trainer
(:mod:`~curate.engine.cluster.dask_lloyd`, the same map over partitions, reduced in a fixed tree), so a
cluster of machines gives the local answer. Two-level training (:mod:`~curate.engine.cluster.two_level`)
calls :func:`train_flat`; :func:`curate.engine.cluster.kmeans.kmeans` chooses between them.

Both start from :func:`init_centroids`: scikit-learn's ``kmeans_plusplus`` (greedy k-means++, Arthur &
Vassilvitskii 2007) on a seeded sample of rows (:func:`init_rows`; the shard path fetches exactly those
rows from its workers), or ``random`` distinct rows (FAISS's own start; the dedup clusterings use it,
where the seeding would cost more than the search it prunes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from curate.errors import InputError, UsageError


@dataclass
class KMeansResult:
    """One k-means run: centroids (k, d), labels (n,), distance of each point to its centroid."""

    centroids: np.ndarray
    labels: np.ndarray
    distances: np.ndarray
    inertia: float  # sum of squared L2 distances to the assigned centroid
    init: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)  # how the centroids were trained


INITS = ("kmeans++", "random")
CHUNK_CELLS = 1 << 22  # (row, centroid) cells per product block: 16 MiB of float32 similarities


def check_k(k: int, n: int) -> None:
    if k < 1:
        raise UsageError(f"k must be at least 1 (got {k})")
    if k > n:
        raise InputError(f"k={k} is larger than the number of embeddings ({n})")


# ------------------------------------------------------------------------------------------ seeding
def init_rows(n: int, k: int, seed: int, max_sample: int | None = None) -> np.ndarray:
    """The seeded, sorted rows the start is drawn from (all rows when ``n`` is small): at most
    ``max_sample`` (default ``max(10_000, 50 k)``). The shard path fetches exactly these rows."""
    m = min(n, max_sample or max(10_000, 50 * k))
    return np.sort(np.random.default_rng(seed).choice(n, size=m, replace=False)) if m < n else np.arange(n)


def seed_centroids(xs: np.ndarray, k: int, seed: int, method: str = "kmeans++") -> np.ndarray:
    """``k`` starting centroids from the sample rows ``xs``: scikit-learn ``kmeans_plusplus`` (float64) or
    ``random`` distinct rows."""
    if method == "random":
        rng = np.random.default_rng(seed)
        return np.array(xs[np.sort(rng.choice(len(xs), size=k, replace=False))], dtype=np.float32)
    if method != "kmeans++":
        raise UsageError(f"init must be one of {', '.join(INITS)} or an array (got '{method}')")
    from sklearn.cluster import kmeans_plusplus

    centers, _ = kmeans_plusplus(np.asarray(xs, dtype=np.float64), k, random_state=seed)
    return np.asarray(centers, dtype=np.float32)


def init_centroids(x: np.ndarray, k: int, seed: int = 0, *, method: str = "kmeans++",
                   max_sample: int | None = None) -> np.ndarray:
    """Initial centroids shared by the local and Dask trainers: :func:`seed_centroids` on
    :func:`init_rows`."""
    check_k(k, len(x))
    return seed_centroids(x[init_rows(len(x), k, seed, max_sample)], k, seed, method)


# ------------------------------------------------------------------------------------ Lloyd iteration
def _row_step(k: int, d: int) -> int:
    """Rows per block: the block's similarities stay ~16 MiB and its row copies ~16 MiB / 4."""
    return max(1, min(CHUNK_CELLS // max(1, k), CHUNK_CELLS // (4 * max(1, d))))


def assign(x: np.ndarray, centroids: np.ndarray, spherical: bool) -> tuple[np.ndarray, np.ndarray, float]:
    """Nearest centroid (max inner product if ``spherical``, else min L2), its distance, and inertia.

    Distances are cosine distances ``1 - x.c`` when spherical, else Euclidean; inertia is the sum of
    squared L2 distances, summed in float64. Float32 products over row blocks; the L2 distance is computed
    from the row and its centroid themselves (no cancellation when the data lie far from the origin).
    """
    x = np.asarray(x)
    c32 = np.ascontiguousarray(centroids, dtype=np.float32)
    half = (0.5 * np.einsum("ij,ij->i", c32, c32, dtype=np.float64)).astype(np.float32)
    labels = np.empty(len(x), dtype=np.int64)
    dist = np.empty(len(x), dtype=np.float32)
    inertia, step = 0.0, _row_step(*c32.shape)
    for s in range(0, len(x), step):
        xb = np.asarray(x[s:s + step], dtype=np.float32)
        blk = xb @ c32.T
        lab = np.argmax(blk if spherical else blk - half, axis=1)  # x.c - |c|²/2 largest = |x - c|² least
        ip = blk[np.arange(len(lab)), lab]
        del blk
        diff = xb - c32[lab]  # float32 differences: no cancellation in |x - c|²
        d2 = np.einsum("ij,ij->i", diff, diff).astype(np.float64)
        labels[s:s + len(lab)] = lab
        dist[s:s + len(lab)] = 1.0 - ip if spherical else np.sqrt(d2)
        inertia += float(d2.sum())
    return labels, dist, inertia


def partial_sums(x: np.ndarray, centroids: np.ndarray,
                 spherical: bool) -> tuple[np.ndarray, np.ndarray, float]:
    """Map step of one Lloyd iteration on a block of rows: per-cluster sums and counts, and the inertia
    read off the products (``|x|² + |c|² - 2 x.c``: for progress only; :func:`assign` computes it exactly).

    Rows go a block at a time (float32 products and per-block float32 sums, accumulated in float64), so a
    worker's large shard never needs a float64 copy.
    """
    from scipy.sparse import csr_matrix

    x = np.asarray(x)
    k, d = centroids.shape
    c32 = np.ascontiguousarray(centroids, dtype=np.float32)
    cc = np.einsum("ij,ij->i", c32, c32).astype(np.float32)
    sums, counts, inertia = np.zeros((k, d)), np.zeros(k, dtype=np.int64), 0.0
    step = _row_step(k, d)
    for s in range(0, len(x), step):
        xb = np.asarray(x[s:s + step], dtype=np.float32)
        blk = xb @ c32.T
        if not spherical:
            blk -= 0.5 * cc
        lab = np.argmax(blk, axis=1)
        best = blk[np.arange(len(lab)), lab].astype(np.float64)
        xx = np.einsum("ij,ij->i", xb, xb).astype(np.float64)
        inertia += float((xx - 2 * best + (cc[lab] if spherical else 0.0)).sum())
        onehot = csr_matrix((np.ones(len(xb), np.float32), (lab, np.arange(len(xb)))), shape=(k, len(xb)))
        sums += onehot @ xb
        counts += np.bincount(lab, minlength=k)
    return sums, counts, inertia


def update_centroids(sums: np.ndarray, counts: np.ndarray, old: np.ndarray, spherical: bool) -> np.ndarray:
    """Reduce step: mean of each cluster (an empty cluster keeps its centroid); unit norm if spherical."""
    new = np.array(old, dtype=np.float64)
    nz = counts > 0
    new[nz] = sums[nz] / counts[nz, None]
    if spherical:
        norms = np.linalg.norm(new, axis=1, keepdims=True)
        new = np.where(norms > 0, new / np.where(norms > 0, norms, 1), new)
    return new


def lloyd_loop(init: np.ndarray, niter: int, spherical: bool,
               sums_of: Any) -> np.ndarray:
    """The Lloyd loop of both trainers: ``sums_of(centroids)`` is the map (sums, counts, inertia over all
    rows: here, or a Dask tree of partitions), :func:`update_centroids` the reduce. Float64 centroids."""
    c = np.asarray(init, dtype=np.float64)
    for _ in range(niter):
        sums, counts, _ = sums_of(c)
        c = update_centroids(sums, counts, c, spherical)
    return c


def lloyd(x: np.ndarray, init: np.ndarray, niter: int = 20, *, spherical: bool = True) -> KMeansResult:
    """``niter`` Lloyd iterations from ``init`` on this machine (the map over blocks of ``partial_sums``
    rows), then every row assigned to the final centroids."""
    c = lloyd_loop(init, niter, spherical, lambda cent: partial_sums(x, cent, spherical))
    labels, dist, inertia = assign(x, c, spherical)
    return KMeansResult(c.astype(np.float32), labels, dist, inertia, np.asarray(init, np.float32))


nearest = assign  # each row's nearest centroid, its distance and the inertia (hierarchy, two-level)


# -------------------------------------------------------------------------------------- local trainer
def train_flat(x: np.ndarray, k: int, *, niter: int = 20, seed: int = 0, spherical: bool = True,
               device: str = "cpu", init: np.ndarray | str | None = None,
               max_points_per_centroid: int | None = None) -> KMeansResult:
    """The local trainer: ``niter`` Lloyd iterations over all ``k`` centroids, then every row assigned.

    ``x`` float32 (C-contiguous, finite: checked by the caller). ``init``: an array of ``k`` centroids,
    ``"kmeans++"`` (default) or ``"random"`` (:func:`init_centroids`, ``seed``). ``max_points_per_centroid``
    trains on a seeded sample of that many rows per centroid (as FAISS subsamples). ``device="gpu"``
    runs the iterations with ``faiss.Kmeans``.
    """
    n, d = x.shape
    check_k(k, n)
    given = init is not None and not isinstance(init, str)
    xs = x
    if max_points_per_centroid and n > k * max_points_per_centroid:  # train on a seeded sample
        xs = x[init_rows(n, k, seed + 1, k * max_points_per_centroid)]
    start = np.asarray(init, dtype=np.float32) if given else init_centroids(xs, k, seed,
                                                                            method=init or "kmeans++")
    if start.shape != (k, d):
        raise UsageError(f"init must have shape ({k}, {d}), got {start.shape}")
    if device == "gpu":  # pragma: no cover - GPU machines only
        cent = _faiss_gpu(xs, start, niter, seed, spherical)
    else:
        cent = lloyd(xs, start, niter, spherical=spherical).centroids
    labels, dist, inertia = assign(x, cent, spherical)
    return KMeansResult(cent, labels, dist, inertia, start, {"method": "flat"})


def _faiss_gpu(x: np.ndarray, init: np.ndarray, niter: int, seed: int,
               spherical: bool) -> np.ndarray:  # pragma: no cover - GPU machines only
    """The same Lloyd iterations from ``init`` with ``faiss.Kmeans`` on the GPU (every row of ``x``)."""
    from curate.engine.devices import faiss_module

    faiss = faiss_module()
    km = faiss.Kmeans(x.shape[1], len(init), niter=niter, seed=seed, spherical=spherical, gpu=True,
                      verbose=False, min_points_per_centroid=1,
                      max_points_per_centroid=len(x) // len(init) + 1)
    km.train(x, init_centroids=init)
    return np.ascontiguousarray(km.centroids, dtype=np.float32)
