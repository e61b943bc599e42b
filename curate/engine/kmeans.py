"""Single-level k-means: seeded k-means++ initialisation, Lloyd iterations in numpy, FAISS k-means.

The numpy :func:`lloyd` is the reference the Dask path (:mod:`curate.engine.lloyd_dask`) reproduces; both
start from :func:`init_centroids`, as does the FAISS path (:func:`kmeans`).
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


KMEANS_METHODS = ("auto", "flat", "two-level")
TWO_LEVEL_MIN_K = 1024  # auto: two-level training from this many centroids on (flat cost grows like k)


def _check_k(k: int, n: int) -> None:
    if k < 1:
        raise UsageError(f"k must be at least 1 (got {k})")
    if k > n:
        raise InputError(f"k={k} is larger than the number of embeddings ({n})")


def init_centroids(x: np.ndarray, k: int, seed: int = 0, *, method: str = "kmeans++",
                   max_sample: int | None = None) -> np.ndarray:
    """Initial centroids shared by the FAISS and Dask paths.

    ``kmeans++`` (Arthur & Vassilvitskii 2007; the scikit-learn default): each next seed is drawn with
    probability proportional to its squared distance to the seeds so far, on a random subsample of at most
    ``max_sample`` rows (default ``max(10_000, 50 k)``) so huge inputs stay cheap. ``random``: ``k``
    distinct rows (FAISS's own initialisation).
    """
    _check_k(k, len(x))
    if method == "random":
        rng = np.random.default_rng(seed)
        return np.array(x[np.sort(rng.choice(len(x), size=k, replace=False))], dtype=np.float32)
    if method != "kmeans++":
        raise UsageError(f"init must be kmeans++ or random (got '{method}')")
    rng, rows = _init_rows(len(x), k, seed, max_sample)
    return _kmeanspp(np.asarray(x[rows], dtype=np.float64), k, rng)


def _init_rows(n: int, k: int, seed: int, max_sample: int | None = None) -> tuple[np.random.Generator,
                                                                                 np.ndarray]:
    """The seeded, sorted rows k-means++ runs on (all rows when ``n`` is small), and the generator after
    drawing them. The shard path fetches exactly these rows from the workers, so it starts from the same
    centroids as :func:`init_centroids` on the concatenated shards."""
    rng = np.random.default_rng(seed)
    m = min(n, max_sample or max(10_000, 50 * k))
    rows = np.sort(rng.choice(n, size=m, replace=False)) if m < n else np.arange(n)
    return rng, rows


def _kmeanspp(xs: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding on the sample ``xs`` (float64) with ``rng``."""
    m = len(xs)
    chosen = [int(rng.integers(m))]
    d2 = ((xs - xs[chosen[0]]) ** 2).sum(axis=1)
    for _ in range(1, k):
        total = d2.sum()
        nxt = int(rng.choice(m, p=d2 / total)) if total > 0 else int(rng.choice(
            np.setdiff1d(np.arange(m), chosen)))
        chosen.append(nxt)
        d2 = np.minimum(d2, ((xs - xs[nxt]) ** 2).sum(axis=1))
    return np.array(xs[chosen], dtype=np.float32)


# -------------------------------------------------------------------------------------- Lloyd (numpy)
def assign(x: np.ndarray, centroids: np.ndarray, spherical: bool) -> tuple[np.ndarray, np.ndarray, float]:
    """Nearest centroid (max inner product if ``spherical``, else min L2), its distance, and inertia.

    Distances are cosine distances ``1 - x.c`` when spherical, else Euclidean. Computed in float64 so
    the result does not depend on how rows are split into partitions.
    """
    x64 = np.asarray(x, dtype=np.float64)
    c64 = np.asarray(centroids, dtype=np.float64)
    ip = x64 @ c64.T
    xx = np.einsum("ij,ij->i", x64, x64)
    cc = np.einsum("ij,ij->i", c64, c64)
    if spherical:
        labels = np.argmax(ip, axis=1)
        best = ip[np.arange(len(x64)), labels]
        d2 = np.maximum(xx + cc[labels] - 2 * best, 0.0)
        dist = 1.0 - best
    else:
        d2all = xx[:, None] - 2 * ip + cc[None, :]
        labels = np.argmin(d2all, axis=1)
        d2 = np.maximum(d2all[np.arange(len(x64)), labels], 0.0)
        dist = np.sqrt(d2)
    return labels.astype(np.int64), dist.astype(np.float32), float(d2.sum())


def partial_sums(x: np.ndarray, centroids: np.ndarray,
                 spherical: bool) -> tuple[np.ndarray, np.ndarray, float]:
    """Map step of one Lloyd iteration on one partition: per-cluster sums (float64), counts, inertia."""
    labels, _, inertia = assign(x, centroids, spherical)
    k, d = centroids.shape
    sums = np.zeros((k, d), dtype=np.float64)
    np.add.at(sums, labels, np.asarray(x, dtype=np.float64))
    return sums, np.bincount(labels, minlength=k).astype(np.int64), inertia


def update_centroids(sums: np.ndarray, counts: np.ndarray, old: np.ndarray, spherical: bool) -> np.ndarray:
    """Reduce step: mean of each cluster (an empty cluster keeps its centroid); unit norm if spherical."""
    new = np.array(old, dtype=np.float64)
    nz = counts > 0
    new[nz] = sums[nz] / counts[nz, None]
    if spherical:
        norms = np.linalg.norm(new, axis=1, keepdims=True)
        new = np.where(norms > 0, new / np.where(norms > 0, norms, 1), new)
    return new


def lloyd(x: np.ndarray, init: np.ndarray, niter: int = 20, *, spherical: bool = True) -> KMeansResult:
    """Plain Lloyd iterations in numpy from ``init``: the reference the Dask path must reproduce."""
    c = np.asarray(init, dtype=np.float64)
    for _ in range(niter):
        sums, counts, _ = partial_sums(x, c, spherical)
        c = update_centroids(sums, counts, c, spherical)
    labels, dist, inertia = assign(x, c, spherical)
    return KMeansResult(c.astype(np.float32), labels, dist, inertia, np.asarray(init, np.float32))


# --------------------------------------------------------------------------------------- FAISS path
def kmeans(x: np.ndarray, k: int, *, niter: int = 20, seed: int = 0, spherical: bool = True,
           device: str = "auto", dask: Any = None, init: np.ndarray | None = None,
           max_points_per_centroid: int | None = None, n_workers: int | None = None,
           method: str = "auto", refine: int = 1) -> KMeansResult:
    """k-means with FAISS (``faiss.Kmeans``; spherical = unit-norm centroids, for cosine) or Dask.

    ``method``: ``flat`` (every Lloyd iteration over all ``k`` centroids), ``two-level``
    (:mod:`curate.engine.two_level`: coarse k-means, k-means inside each coarse cluster, then ``refine``
    flat iterations; for thousands of centroids) or ``auto`` (two-level from :data:`TWO_LEVEL_MIN_K`
    centroids when neither ``init`` nor ``dask`` is given, else flat). ``info["method"]`` says which ran.

    ``dask`` (``"local"``, an address or a Client) runs :func:`kmeans_dask` on this in-memory array; for
    shards on disk :func:`cluster` uses :func:`kmeans_shards` instead. Both start from
    :func:`init_centroids` (``seed``) unless ``init`` is given. FAISS trains on every
    point unless ``max_points_per_centroid`` asks for its subsampling (faster on huge ``n``).
    """
    from curate.engine._faiss import faiss_module, resolve_device

    x = np.ascontiguousarray(x, dtype=np.float32)
    n, d = x.shape
    _check_k(k, n)
    if niter < 1:
        raise UsageError(f"--niter must be at least 1 (got {niter})")
    if not np.isfinite(x).all():
        raise InputError(f"{int((~np.isfinite(x).all(axis=1)).sum())} vectors contain NaN or infinite values")
    meth = check_method(method)
    if meth == "auto":
        meth = "two-level" if k >= TWO_LEVEL_MIN_K and init is None and dask is None else "flat"
    if meth == "two-level":
        if init is not None or dask is not None:
            raise UsageError("two-level k-means trains its own start on this machine: it takes no init "
                             "and no dask")
        if refine < 0:
            raise UsageError(f"refine must be 0 or more flat iterations (got {refine})")
        from curate.engine._faiss import resolve_device
        from curate.engine.two_level import two_level_kmeans

        cent, how = two_level_kmeans(x, k, niter=niter, seed=seed, spherical=spherical,
                                     gpu=resolve_device(device) == "gpu", refine=refine,
                                     max_points_per_centroid=max_points_per_centroid or 256)
        labels, dist, inertia = nearest(x, cent, spherical)
        return KMeansResult(cent, labels, dist, inertia, cent, how)
    init = init_centroids(x, k, seed) if init is None else np.asarray(init, dtype=np.float32)
    if dask is not None:
        from curate.engine.distributed import dask_client

        with dask_client(dask, n_workers=n_workers) as client:
            from curate.engine.lloyd_dask import kmeans_dask

            return kmeans_dask(x, init, niter, spherical=spherical, client=client)
    faiss = faiss_module()
    dev = resolve_device(device)
    km = faiss.Kmeans(d, k, niter=niter, seed=seed, spherical=spherical, gpu=dev == "gpu", verbose=False,
                      min_points_per_centroid=1,
                      max_points_per_centroid=max_points_per_centroid or (n // k + 1))
    km.train(x, init_centroids=init)
    cent = np.ascontiguousarray(km.centroids, dtype=np.float32)
    labels, dist, inertia = nearest(x, cent, spherical)
    return KMeansResult(cent, labels, dist, inertia, init, {"method": "flat"})


def check_method(method: str, dask: Any = None) -> str:
    """The k-means training method, checked once at the edge (two-level cannot run on Dask)."""
    meth = str(method or "auto").lower()
    if meth not in KMEANS_METHODS:
        raise UsageError(f"--kmeans (the k-means training) must be one of {', '.join(KMEANS_METHODS)} "
                         f"(got '{method}')")
    if meth == "two-level" and dask:
        raise UsageError("--kmeans two-level trains on this machine; with --dask use --kmeans flat or auto")
    return meth


def nearest(x: np.ndarray, centroids: np.ndarray, spherical: bool) -> tuple[np.ndarray, np.ndarray, float]:
    """FAISS flat search for each row's nearest centroid: labels, distances (as :func:`assign`), inertia."""
    from curate.engine._faiss import faiss_module

    faiss = faiss_module()
    x = np.ascontiguousarray(x, dtype=np.float32)
    cent = np.ascontiguousarray(centroids, dtype=np.float32)
    index = faiss.IndexFlatIP(cent.shape[1]) if spherical else faiss.IndexFlatL2(cent.shape[1])
    index.add(cent)
    score, idx = index.search(x, 1)
    labels, score = idx[:, 0].astype(np.int64), score[:, 0].astype(np.float64)
    xx = np.einsum("ij,ij->i", x, x, dtype=np.float64)
    if spherical:
        cc = np.einsum("ij,ij->i", cent, cent, dtype=np.float64)[labels]
        d2 = np.maximum(xx + cc - 2 * score, 0.0)
        dist = (1.0 - score).astype(np.float32)
    else:
        d2 = np.maximum(score, 0.0)
        dist = np.sqrt(d2).astype(np.float32)
    return labels, dist, float(d2.sum())
