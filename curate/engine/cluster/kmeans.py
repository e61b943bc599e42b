"""The k-means entry point: :func:`kmeans` chooses the trainer (flat, two-level or Dask) for one call.

- flat: :func:`curate.engine.cluster.lloyd.train_flat` (numpy BLAS on the CPU, FAISS on the GPU);
- two-level (many centroids): :func:`curate.engine.cluster.two_level.two_level_kmeans`, which calls the
  flat trainer;
- Dask: :func:`curate.engine.cluster.dask_lloyd.kmeans_dask`, the same Lloyd iterations over partitions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from curate.engine.cluster.dask_lloyd import kmeans_dask
from curate.engine.cluster.lloyd import KMeansResult, assign, check_k, init_centroids, train_flat
from curate.engine.cluster.two_level import two_level_kmeans
from curate.errors import InputError, UsageError

KMEANS_METHODS = ("auto", "flat", "two-level")
TWO_LEVEL_MIN_K = 1024  # auto: two-level training from this many centroids on (flat cost grows like k)


def check_method(method: str, dask: Any = None, *, param: str = "kmeans_method") -> str:
    """The k-means training method, checked once (two-level cannot run on Dask); errors name ``param``."""
    from curate.validation import Options, ParameterError

    meth = Options(KMEANS_METHODS).check(param, method or "auto")
    if meth == "two-level" and dask:
        raise ParameterError(param, "two-level trains on this machine; with dask use flat or auto")
    return meth


def kmeans(x: np.ndarray, k: int, *, niter: int = 20, seed: int = 0, spherical: bool = True,
           device: str = "auto", dask: Any = None, init: np.ndarray | str | None = None,
           max_points_per_centroid: int | None = None, n_workers: int | None = None,
           method: str = "auto", refine: int = 1) -> KMeansResult:
    """k-means of the rows of ``x`` (spherical: unit-norm centroids, for cosine).

    ``init``: an array of ``k`` centroids, ``"kmeans++"`` (default) or ``"random"``
    (:func:`init_centroids`, ``seed``). ``max_points_per_centroid`` trains on a seeded sample of that many
    rows per centroid (as FAISS subsamples; every row is assigned at the end). ``method``: ``flat`` (every
    iteration over all ``k`` centroids), ``two-level`` (:mod:`~curate.engine.cluster.two_level`: coarse
    k-means, k-means inside each coarse cluster, then ``refine`` flat iterations; for thousands of
    centroids) or ``auto`` (two-level from :data:`TWO_LEVEL_MIN_K` centroids when neither ``init`` nor
    ``dask`` is given). ``dask`` (``"local"``, an address or a Client) runs the Dask trainer
    (:func:`~curate.engine.cluster.dask_lloyd.kmeans_dask`) on this in-memory array.
    ``info["method"]`` says which ran.
    """
    from curate.engine.devices import resolve_device

    x = np.ascontiguousarray(x, dtype=np.float32)
    n, d = x.shape
    check_k(k, n)
    if niter < 1:
        raise UsageError(f"niter must be at least 1 (got {niter})")
    bad = sum(int((~np.isfinite(x[s:s + 65_536]).all(axis=1)).sum()) for s in range(0, n, 65_536))
    if bad:  # checked a block at a time: no (n, d) mask
        raise InputError(f"{bad} vectors contain NaN or infinite values")
    meth = check_method(method, param="method")
    given = init is not None and not isinstance(init, str)
    if meth == "auto":
        meth = "two-level" if k >= TWO_LEVEL_MIN_K and not given and dask is None else "flat"
    if meth == "two-level":
        if given or dask is not None:
            raise UsageError("two-level k-means trains its own start on this machine: it takes no init "
                             "and no dask")
        if refine < 0:
            raise UsageError(f"refine must be 0 or more flat iterations (got {refine})")
        cent, how = two_level_kmeans(x, k, niter=niter, seed=seed, spherical=spherical, device=device,
                                     refine=refine, max_points_per_centroid=max_points_per_centroid or 256)
        labels, dist, inertia = assign(x, cent, spherical)
        return KMeansResult(cent, labels, dist, inertia, cent, how)
    if dask is None:
        return train_flat(x, k, niter=niter, seed=seed, spherical=spherical, device=resolve_device(device),
                          init=init, max_points_per_centroid=max_points_per_centroid)
    start = np.asarray(init, dtype=np.float32) if given else init_centroids(x, k, seed,
                                                                            method=init or "kmeans++")
    if start.shape != (k, d):
        raise UsageError(f"init must have shape ({k}, {d}), got {start.shape}")
    from curate.engine.dask_shards import dask_client

    with dask_client(dask, n_workers=n_workers) as client:
        return kmeans_dask(x, start, niter, spherical=spherical, client=client)
