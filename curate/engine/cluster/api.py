"""``cluster``: (hierarchical) k-means of embeddings into a table ``id, cluster_l1..cluster_lL, distance``.

Level 1 is trained by the local trainer (:func:`~curate.engine.cluster.kmeans.kmeans`) or, with ``dask``,
by the Dask trainer (:mod:`~curate.engine.cluster.dask_lloyd`; with shards on disk the workers read them);
levels 2 and up and the resampling of Vo et al. 2024 §3 by :mod:`~curate.engine.cluster.hierarchy`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from curate.engine.cluster.dask_lloyd import kmeans_shards
from curate.engine.cluster.hierarchy import hierarchical_kmeans, resampling_plan, upper_levels
from curate.engine.cluster.kmeans import check_method
from curate.engine.cluster.lloyd import check_k
from curate.engine.cluster.result import ClusterResult
from curate.errors import UsageError

METRICS = ("cosine", "l2")


# --------------------------------------------------------------------------------------- validation
def level_sizes(k: int | Sequence[int] | str, levels: int = 1) -> list[int]:
    """Clusters per level, finest first: a list as given, or ``k`` shrinking geometrically over ``levels``.

    ``level_sizes(1000, 3) == [1000, 100, 10]``; ``level_sizes("500,50") == [500, 50]``.
    """
    if isinstance(k, str):
        try:
            k = [int(v) for v in k.split(",")] if "," in k else int(k)
        except ValueError:
            raise UsageError(f"k must be an integer or a comma-separated list (got '{k}')") from None
    if levels < 1:
        raise UsageError(f"levels must be at least 1 (got {levels})")
    if isinstance(k, (int, np.integer)):
        if k < 1:
            raise UsageError(f"k must be at least 1 (got {k})")
        ks = [max(1, round(k ** ((levels - i) / levels))) for i in range(levels)]
    else:
        ks = [int(v) for v in k]
        if levels not in (1, len(ks)):
            raise UsageError(f"k gives {len(ks)} levels but levels is {levels}")
    if any(v < 1 for v in ks):
        raise UsageError(f"every k must be at least 1 (got {', '.join(map(str, ks))})")
    from curate.limits import check_range

    check_range("levels", len(ks))
    for v in ks:
        check_range("k", v)
    if any(b >= a for a, b in zip(ks, ks[1:])):
        raise UsageError(f"clusters per level must shrink from level 1 upwards (got "
                         f"{', '.join(map(str, ks))}); use fewer levels or a larger k")
    return ks


def _is_shard_source(emb: Any) -> bool:
    """A path, glob or list of paths (read by Dask workers), as opposed to vectors in memory."""
    if isinstance(emb, (str, os.PathLike)):
        return True
    return isinstance(emb, (list, tuple)) and bool(emb) and all(isinstance(p, (str, os.PathLike))
                                                                    for p in emb)


def cluster(emb: Any, *, k: int | Sequence[int] | str, levels: int = 1, niter: int = 20, seed: int = 0,
            metric: str = "cosine", device: str = "auto", dask: Any = None, emb_id_col: str = "id",
            vector_col: str | None = None, max_points_per_centroid: int | None = None,
            init: np.ndarray | None = None, n_workers: int | None = None,
            resampling_steps: int | Sequence[int] | None = None,
            resample_points: int | Sequence[int] | None = None, kmeans_method: str = "auto",
            refine: int = 1) -> ClusterResult:
    """Cluster embeddings (an :class:`~curate.engine.embeddings.Embeddings`, a path, or an array).

    ``k`` is the number of level-1 clusters (with ``levels`` > 1 each level shrinks geometrically:
    ``k=1000, levels=3`` gives 1000, 100, 10) or an explicit list. ``metric="cosine"`` L2-normalises
    the vectors and runs spherical k-means. ``max_points_per_centroid`` lets FAISS train level 1 on a
    random subsample of that many points per cluster (faster on millions of rows; default: all points).
    Returns a table ``id, cluster_l1..cluster_lL, distance``
    (distance to the level-1 centroid: cosine distance, or Euclidean for ``l2``).

    ``dask`` (``"local"``, ``tcp://host:8786`` or a ``distributed.Client``) with a path / glob / list of
    ``.parquet`` or ``.npy`` shards runs level 1 with :func:`kmeans_shards`: the workers read the shards,
    the client never holds the vectors. With vectors in memory it scatters them (:func:`kmeans_dask`).
    ``emb_id_col`` names the embeddings' id column (parquet / shards); ``init`` (``(k1, d)``) replaces the
    seeded k-means++ start of level 1; ``n_workers`` sizes
    ``dask="local"``.

    ``resampling_steps`` / ``resample_points`` (per level, or one int for all): the resampling-clustering
    step of Vo et al. 2024 §3 (:mod:`curate.engine.cluster.hierarchy`); default 10 steps on levels 2 and
    up, none on level 1, half the mean cluster size per cluster. ``info["resampling"]`` records what was done.

    ``kmeans_method`` trains level 1 ``flat``, ``two-level`` (coarse clusters, then clusters inside each, then
    ``refine`` flat iterations: :mod:`curate.engine.cluster.two_level`) or ``auto`` (two-level from
    :data:`~curate.engine.cluster.kmeans.TWO_LEVEL_MIN_K` clusters); ``info["kmeans"]`` records which ran.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = np.r_[rng.normal(size=(50, 4)) + 5, rng.normal(size=(50, 4)) - 5]
    >>> cluster(x, k=2, metric="l2").table["cluster_l1"].nunique()
    2
    """
    if metric not in METRICS:
        raise UsageError(f"metric must be cosine or l2 (got '{metric}')")
    normalize = metric == "cosine"
    ks = level_sizes(k, levels)
    steps, points = resampling_plan(ks, resampling_steps, resample_points)
    check_method(kmeans_method, dask)
    dask_info: dict[str, Any] | None = None
    rs_info: dict[str, Any] = {}
    if dask is not None and _is_shard_source(emb):
        if steps[0]:
            raise UsageError("resampling_steps on level 1 needs the vectors on this machine; with shards "
                             "read by Dask workers resample levels 2 and up only (resampling_steps=[0, ...])")
        ids, first, dask_info = kmeans_shards(emb, ks[0], niter=niter, seed=seed, spherical=normalize,
                                              init=init, dask=dask, id_col=emb_id_col, vector_col=vector_col,
                                              n_workers=n_workers)
        results = upper_levels(first, ks, niter=niter, seed=seed, spherical=normalize, device=device,
                               resampling_steps=steps, resample_points=points, info=rs_info)
        n, d = len(ids), first.centroids.shape[1]
    else:
        e = _vectors(emb, normalize, emb_id_col, vector_col)
        check_k(ks[0], e.n)
        results = hierarchical_kmeans(e.vectors, ks, niter=niter, seed=seed, spherical=normalize,
                                      device=device, dask=dask, init=init, n_workers=n_workers,
                                      max_points_per_centroid=max_points_per_centroid,
                                      resampling_steps=steps, resample_points=points, info=rs_info,
                                      method=kmeans_method, refine=refine)
        ids, n, d = e.ids, e.n, e.d
    info: dict[str, Any] = {"k": ks, "metric": metric, "niter": niter, "seed": seed, "n": n, "d": d,
                            "backend": "dask" if dask is not None else "local"}
    info["resampling"] = rs_info.get("resampling", [])
    info["kmeans"] = rs_info.get("kmeans", {"method": "flat"})
    if dask_info is not None:
        info["dask"] = dask_info
    return ClusterResult(_table(ids, results), ks, [r.centroids for r in results], metric,
                         results[0].inertia, info)


def _vectors(emb: Any, normalize: bool, id_col: str, vector_col: str | None) -> Any:
    """The embeddings on this machine (L2-normalised for cosine)."""
    from curate.engine.embeddings import Embeddings, from_array, load_embeddings

    if isinstance(emb, Embeddings):
        return from_array(emb.vectors, emb.ids, normalize=True) if normalize and not emb.normalized else emb
    if _is_shard_source(emb):
        return load_embeddings(emb, id_col=id_col, vector_col=vector_col, normalize=normalize)
    return from_array(emb, None, normalize=normalize)


def _table(ids: np.ndarray, results: list) -> Any:
    """``id, cluster_l1..cluster_lL, distance``: level l's labels index level l-1's centroids."""
    import pandas as pd

    table = pd.DataFrame({"id": ids.astype(str)})
    labels = results[0].labels
    for level, res in enumerate(results):
        if level:
            labels = res.labels[labels]
        table[f"cluster_l{level + 1}"] = labels.astype(np.int64)
    table["distance"] = results[0].distances
    return table
