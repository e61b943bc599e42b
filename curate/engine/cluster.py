"""Clustering of embeddings: FAISS k-means, hierarchical k-means, balanced sampling, proxy evaluation.

Hierarchical k-means and balanced sampling follow Vo et al. 2024, "Automatic data curation for
self-supervised learning: a clustering-based approach" (§3 "Hierarchical k-means" and "Hierarchical
sampling"): level 1 clusters the points, level l+1 clusters the centroids of level l; a sample is spread
evenly over the top-level clusters, then evenly over each one's children, down to level 1, where points
are drawn at random.

The Dask path runs the same Lloyd iterations as :func:`lloyd` (map: per-shard assignment and partial
sums; reduce: new centroids), from the same initial centroids as the FAISS path, so a cluster of machines
gives the single-machine answer. With shards on disk (:func:`kmeans_shards`) each worker reads its own
shards and keeps them in memory; the client only sees ids, centroids and the final labels.

``evaluate`` says how well clusters stand in for a real attribute (sex, age group, camera, site) with
NMI, ARI, AMI and purity, and a plain-words verdict from documented thresholds (:data:`VERDICTS`) on the
chance-adjusted mutual information (AMI): plain NMI grows with the number of clusters even for unrelated
labels, AMI does not.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from curate.errors import InputError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

METRICS = ("cosine", "l2")
# AMI thresholds for the verdict (lower bound, word). AMI is 0 for unrelated labels whatever k is, and 1
# when clusters reproduce the attribute; >= 0.5 means a cluster label alone tells the value most of the time.
VERDICTS: tuple[tuple[float, str], ...] = ((0.5, "strongly"), (0.2, "moderately"), (0.05, "weakly"),
                                           (-float("inf"), "not"))  # AMI can be slightly negative


@dataclass
class KMeansResult:
    """One k-means run: centroids (k, d), labels (n,), distance of each point to its centroid."""

    centroids: np.ndarray
    labels: np.ndarray
    distances: np.ndarray
    inertia: float  # sum of squared L2 distances to the assigned centroid
    init: np.ndarray


@dataclass
class ClusterResult:
    """Hierarchical clustering: ``table`` has ``id, cluster_l1..cluster_lL, distance`` (level 1 finest)."""

    table: pd.DataFrame
    ks: list[int]
    centroids: list[np.ndarray]
    metric: str
    inertia: float
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def level_columns(self) -> list[str]:
        return [f"cluster_l{i + 1}" for i in range(len(self.ks))]

    def to_parquet(self, path: str | os.PathLike) -> None:
        from curate._io import atomic_file

        with atomic_file(path) as tmp:
            self.table.to_parquet(tmp, index=False)


# --------------------------------------------------------------------------------------- validation
def level_sizes(k: int | Sequence[int] | str, levels: int = 1) -> list[int]:
    """Clusters per level, finest first: a list as given, or ``k`` shrinking geometrically over ``levels``.

    ``level_sizes(1000, 3) == [1000, 100, 10]``; ``level_sizes("500,50") == [500, 50]``.
    """
    if isinstance(k, str):
        try:
            k = [int(v) for v in k.split(",")] if "," in k else int(k)
        except ValueError:
            raise UsageError(f"--k must be an integer or a comma-separated list (got '{k}')") from None
    if levels < 1:
        raise UsageError(f"--levels must be at least 1 (got {levels})")
    if isinstance(k, (int, np.integer)):
        if k < 1:
            raise UsageError(f"--k must be at least 1 (got {k})")
        ks = [max(1, round(k ** ((levels - i) / levels))) for i in range(levels)]
    else:
        ks = [int(v) for v in k]
        if levels not in (1, len(ks)):
            raise UsageError(f"--k gives {len(ks)} levels but --levels is {levels}")
    if any(v < 1 for v in ks):
        raise UsageError(f"every k must be at least 1 (got {', '.join(map(str, ks))})")
    from curate.limits import check_range

    check_range("--levels", len(ks))
    for v in ks:
        check_range("--k", v)
    if any(b >= a for a, b in zip(ks, ks[1:])):
        raise UsageError(f"clusters per level must shrink from level 1 upwards (got "
                         f"{', '.join(map(str, ks))}); use fewer levels or a larger k")
    return ks


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


# ---------------------------------------------------------------------------------------- Dask path
# At most this many (row, centroid) float64 cells per assignment block on a worker (32 MiB per array), so
# a 200k-row shard with k = 10,000 never builds a 16 GB distance matrix.
CHUNK_CELLS = 1 << 22


def _row_step(k: int) -> int:
    return max(1, CHUNK_CELLS // max(1, k))


def block_sums(x: np.ndarray, centroids: np.ndarray, spherical: bool) -> tuple[np.ndarray, np.ndarray, float]:
    """Worker side: :func:`partial_sums` of one partition, computed over row blocks to bound memory."""
    k, d = centroids.shape
    sums, counts, inertia = np.zeros((k, d), dtype=np.float64), np.zeros(k, dtype=np.int64), 0.0
    step = _row_step(k)
    for s in range(0, len(x), step):
        a, b, c = partial_sums(x[s:s + step], centroids, spherical)
        sums += a
        counts += b
        inertia += c
    return sums, counts, inertia


def block_assign(x: np.ndarray, centroids: np.ndarray,
                 spherical: bool) -> tuple[np.ndarray, np.ndarray, float]:
    """Worker side: :func:`assign` of one partition over row blocks (same per-row result)."""
    step = _row_step(len(centroids))
    if len(x) <= step:
        return assign(x, centroids, spherical)
    parts = [assign(x[s:s + step], centroids, spherical) for s in range(0, len(x), step)]
    return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
            float(sum(p[2] for p in parts)))


def _add_sums(a: tuple, b: tuple) -> tuple:
    return a[0] + b[0], a[1] + b[1], a[2] + b[2]


def _take(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    return np.array(x[rows])


def _second(block: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    return block[1]


def _tree_sum(client: Any, futures: list) -> tuple[np.ndarray, np.ndarray, float]:
    """Pairwise sums on the workers in a fixed tree over partition order: the client receives one (k, d)
    array per iteration whatever the number of shards, and the order of additions never depends on which
    worker finishes first (so reruns give identical centroids)."""
    while len(futures) > 1:
        nxt = [client.submit(_add_sums, futures[i], futures[i + 1], pure=False)
               for i in range(0, len(futures) - 1, 2)]
        if len(futures) % 2:
            nxt.append(futures[-1])
        futures = nxt
    return futures[0].result()


def _lloyd_futures(client: Any, parts: list, init: np.ndarray, niter: int,
                   spherical: bool) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray, float]]]:
    """Lloyd iterations over partitions held in cluster memory (futures of float32 arrays).

    Map: :func:`block_sums` per partition; reduce: :func:`_tree_sum` then :func:`update_centroids` on the
    client. Returns the final centroids (float64) and each partition's ``assign`` result, in order.
    """
    c = np.asarray(init, dtype=np.float64)
    for _ in range(niter):
        cf = client.scatter(c, broadcast=True, hash=False)  # one copy per worker, a fresh key each time
        sums, counts, _ = _tree_sum(client, client.map(block_sums, parts, centroids=cf, spherical=spherical,
                                                       pure=False))
        c = update_centroids(sums, counts, c, spherical)
    cf = client.scatter(c, broadcast=True, hash=False)
    final = client.gather(client.map(block_assign, parts, centroids=cf, spherical=spherical, pure=False))
    return c, final


def kmeans_dask(x: np.ndarray, init: np.ndarray, niter: int, *, spherical: bool, client: Any,
                partitions: int | None = None) -> KMeansResult:
    """Distributed Lloyd iterations on an array already in the client's memory (scattered once).

    For data that does not fit one machine use :func:`kmeans_shards`: there each worker reads its shards.
    """
    n = len(x)
    nparts = partitions or max(2, 2 * len(client.scheduler_info().get("workers", {})))
    bounds = np.linspace(0, n, min(nparts, n) + 1).astype(int)
    futures = client.scatter([np.ascontiguousarray(x[a:b]) for a, b in zip(bounds, bounds[1:])],
                             hash=False)  # unique keys: never shares (or cancels) another run's data
    c, final = _lloyd_futures(client, futures, init, niter, spherical)
    del futures  # released on the cluster
    labels = np.concatenate([f[0] for f in final])
    dist = np.concatenate([f[1] for f in final])
    return KMeansResult(c.astype(np.float32), labels, dist, float(sum(f[2] for f in final)),
                        np.asarray(init, np.float32))


def kmeans_shards(source: Any, k: int, *, niter: int = 20, seed: int = 0, spherical: bool = True,
                  init: np.ndarray | None = None, dask: Any = "local", id_col: str = "id",
                  vector_col: str | None = None, n_workers: int | None = None,
                  processes: bool = True) -> tuple[np.ndarray, KMeansResult, dict[str, Any]]:
    """Lloyd k-means over embedding shards that the Dask workers read themselves.

    ``source``: glob / folder / list of ``.parquet`` or ``.npy`` shards, at paths every worker can read.
    ``dask``: ``"local"``, a scheduler address or a ``distributed.Client``
    (:func:`curate.engine.distributed.dask_client`).

    1. Client: shard metadata and id columns only — same dimension everywhere, unique ids, ``k <= n``.
    2. Workers: each shard is loaded once, checked for non-finite values and (``spherical``) L2-normalised
       exactly like :func:`~curate.engine.embeddings.load_embeddings`, then kept in worker memory.
    3. Initial centroids (unless ``init``): the same seeded rows as :func:`init_centroids` on the
       concatenated shards (``max(10_000, 50 k)`` rows drawn uniformly) are fetched from the workers and
       k-means++ runs on them in the client — the same centroids as the single-machine path with that seed.
    4. Each iteration maps :func:`block_sums` over the shards and reduces in shard order.
    5. Labels and distances come back per shard, in shard order, matching the returned ids.

    Returns ``(ids, KMeansResult, info)``.
    """
    import time

    from curate.engine.distributed import _load_block, _validate, dask_client
    from curate.engine.embeddings import list_shards

    if niter < 1:
        raise UsageError(f"--niter must be at least 1 (got {niter})")
    shards = list_shards(source, id_col=id_col, vector_col=vector_col)
    n, d, ids = _validate(shards, id_col, vector_col)
    _check_k(k, n)
    if init is not None:
        init = np.asarray(init, dtype=np.float32)
        if init.shape != (k, d):
            raise UsageError(f"init must have shape ({k}, {d}), got {init.shape}")
    offsets = np.concatenate([[0], np.cumsum([s.rows for s in shards])]).astype(np.int64)
    live = [i for i, s in enumerate(shards) if s.rows]
    with dask_client(dask, n_workers=n_workers, processes=processes) as client:
        from distributed import wait

        token = time.time_ns()
        loaded = [client.submit(_load_block, shards[i].path, int(offsets[i]), id_col, vector_col,
                                normalize=spherical, key=f"curate-kmeans-load-{i}-{token}", pure=False)
                  for i in live]
        wait(loaded)
        for f in loaded:  # the first bad shard in shard order, as one error line, before any iteration
            if f.status == "error":
                f.result()
        parts = [client.submit(_second, f, pure=False) for f in loaded]  # vectors only; ids are released
        del loaded
        init_note = "given"
        if init is None:
            rng, rows = _init_rows(n, k, seed)
            where = np.searchsorted(offsets, rows, side="right") - 1
            pieces = [client.submit(_take, parts[j], rows[where == i] - offsets[i], pure=False)
                      for j, i in enumerate(live) if (where == i).any()]
            sample = np.concatenate(client.gather(pieces)).astype(np.float64)
            init = _kmeanspp(sample, k, rng)
            init_note = f"k-means++ on {len(rows):,} seeded rows"
        c, final = _lloyd_futures(client, parts, init, niter, spherical)
        workers = len(client.scheduler_info().get("workers", {}))
        del parts
    labels = np.concatenate([f[0] for f in final])
    dist = np.concatenate([f[1] for f in final])
    if len(labels) != n:  # pragma: no cover - a shard changed between validation and loading
        raise InputError(f"shards changed while clustering ({len(labels)} rows read, {n} expected)")
    res = KMeansResult(c.astype(np.float32), labels, dist, float(sum(f[2] for f in final)), init)
    info = {"workers": workers, "shards": len(shards), "init": init_note}
    return ids, res, info


# --------------------------------------------------------------------------------------- FAISS path
def kmeans(x: np.ndarray, k: int, *, niter: int = 20, seed: int = 0, spherical: bool = True,
           device: str = "auto", dask: Any = None, init: np.ndarray | None = None,
           max_points_per_centroid: int | None = None, n_workers: int | None = None) -> KMeansResult:
    """k-means with FAISS (``faiss.Kmeans``; spherical = unit-norm centroids, for cosine) or Dask.

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
    init = init_centroids(x, k, seed) if init is None else np.asarray(init, dtype=np.float32)
    if dask is not None:
        from curate.engine.distributed import dask_client

        with dask_client(dask, n_workers=n_workers) as client:
            return kmeans_dask(x, init, niter, spherical=spherical, client=client)
    faiss = faiss_module()
    dev = resolve_device(device)
    km = faiss.Kmeans(d, k, niter=niter, seed=seed, spherical=spherical, gpu=dev == "gpu", verbose=False,
                      min_points_per_centroid=1,
                      max_points_per_centroid=max_points_per_centroid or (n // k + 1))
    km.train(x, init_centroids=init)
    cent = np.ascontiguousarray(km.centroids, dtype=np.float32)
    index = faiss.IndexFlatIP(d) if spherical else faiss.IndexFlatL2(d)
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
    return KMeansResult(cent, labels, dist, float(d2.sum()), init)


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


def _is_shard_source(emb: Any) -> bool:
    """A path, glob or list of paths (read by Dask workers), as opposed to vectors in memory."""
    if isinstance(emb, (str, os.PathLike)):
        return True
    return isinstance(emb, (list, tuple)) and bool(emb) and all(isinstance(p, (str, os.PathLike))
                                                                    for p in emb)


def cluster(emb: Any, *, k: int | Sequence[int] | str, levels: int = 1, niter: int = 20, seed: int = 0,
            metric: str = "cosine", device: str = "auto", dask: Any = None, id_col: str = "id",
            vector_col: str | None = None, max_points_per_centroid: int | None = None,
            init: np.ndarray | None = None, n_workers: int | None = None) -> ClusterResult:
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
    ``init`` (``(k1, d)``) replaces the seeded k-means++ start of level 1; ``n_workers`` sizes
    ``dask="local"``.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = np.r_[rng.normal(size=(50, 4)) + 5, rng.normal(size=(50, 4)) - 5]
    >>> cluster(x, k=2, metric="l2").table["cluster_l1"].nunique()
    2
    """
    import pandas as pd

    from curate.engine.embeddings import Embeddings, from_array, load_embeddings

    if metric not in METRICS:
        raise UsageError(f"--metric must be cosine or l2 (got '{metric}')")
    normalize = metric == "cosine"
    ks = level_sizes(k, levels)
    dask_info: dict[str, Any] | None = None
    if dask is not None and _is_shard_source(emb):
        ids, first, dask_info = kmeans_shards(emb, ks[0], niter=niter, seed=seed, spherical=normalize,
                                              init=init, dask=dask, id_col=id_col, vector_col=vector_col,
                                              n_workers=n_workers)
        results = upper_levels(first, ks, niter=niter, seed=seed, spherical=normalize, device=device)
        n, d = len(ids), first.centroids.shape[1]
    else:
        if isinstance(emb, Embeddings):
            e = from_array(emb.vectors, emb.ids, normalize=True) if normalize and not emb.normalized else emb
        elif _is_shard_source(emb):
            e = load_embeddings(emb, id_col=id_col, vector_col=vector_col, normalize=normalize)
        else:
            e = from_array(emb, None, normalize=normalize)
        _check_k(ks[0], e.n)
        results = hierarchical_kmeans(e.vectors, ks, niter=niter, seed=seed, spherical=normalize,
                                      device=device, dask=dask, init=init, n_workers=n_workers,
                                      max_points_per_centroid=max_points_per_centroid)
        ids, n, d = e.ids, e.n, e.d
    table = pd.DataFrame({"id": ids.astype(str)})
    labels = results[0].labels
    for level, res in enumerate(results):
        if level:
            labels = res.labels[labels]
        table[f"cluster_l{level + 1}"] = labels.astype(np.int64)
    table["distance"] = results[0].distances
    info: dict[str, Any] = {"k": ks, "metric": metric, "niter": niter, "seed": seed, "n": n, "d": d,
                            "backend": "dask" if dask is not None else "faiss"}
    if dask_info is not None:
        info["dask"] = dask_info
    return ClusterResult(table, ks, [r.centroids for r in results], metric, results[0].inertia, info)


# ----------------------------------------------------------------------------------- balanced sampling
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
    table = clusters.table if isinstance(clusters, ClusterResult) else clusters
    if hasattr(table, "columns"):
        cols = sorted((c for c in table.columns if str(c).startswith("cluster_l")),
                      key=lambda c: int(str(c)[9:]))
        if not cols:
            raise InputError("no cluster_l1.. columns in the clusters table")
        idx = hierarchical_select(table[cols].to_numpy(), n, seed)
        return table.iloc[idx]
    return hierarchical_select(np.asarray(table), n, seed)


# -------------------------------------------------------------------------------------- evaluation
def purity(clusters: Sequence[Any], truth: Sequence[Any]) -> float:
    """Share of items whose cluster's most common true value is their own: (1/N) sum_k max_j |c_k ∩ t_j|."""
    import pandas as pd

    if len(clusters) == 0:
        raise InputError("purity of an empty labelling")
    tab = pd.crosstab(np.asarray(clusters), np.asarray(truth))
    return float(tab.max(axis=1).sum() / tab.to_numpy().sum())


def verdict_word(ami: float) -> str:
    """The :data:`VERDICTS` word for a chance-adjusted mutual information value."""
    return next(word for lo, word in VERDICTS if ami >= lo)


def _prepared_attr(values: pd.Series) -> tuple[pd.Series, str | None]:
    """Categorical values; numeric columns with many values are cut into 5 quantile bins (noted)."""
    import pandas as pd

    v = values.dropna()
    if pd.api.types.is_numeric_dtype(v) and v.nunique() > 20:
        return pd.qcut(v, 5, duplicates="drop").astype(str), "numeric: cut into quantile bins"
    return v.astype(str), None


def _join_meta(table: pd.DataFrame, meta: pd.DataFrame, id_col: str) -> pd.DataFrame:
    if id_col not in meta.columns:
        raise InputError(f"id column '{id_col}' not in the metadata "
                         f"(columns: {', '.join(map(str, meta.columns))})")
    m = meta.assign(**{id_col: meta[id_col].astype(str)})
    if m[id_col].duplicated().any():
        raise InputError(f"metadata column '{id_col}' has {int(m[id_col].duplicated().sum())} duplicate ids")
    missing = ~table["id"].astype(str).isin(m[id_col])
    if missing.all():
        raise InputError(f"no embedding id is in the metadata column '{id_col}' (wrong --id-col?)")
    if missing.any():
        raise InputError(f"{int(missing.sum())} of {len(table)} embedding ids are not in the metadata "
                         f"column '{id_col}'")
    return table.merge(m, left_on="id", right_on=id_col, how="left", suffixes=("", "_meta"))


def check_attrs(meta: pd.DataFrame, attrs: Sequence[str], *, patient_col: str | None = None) -> list[str]:
    """``--attr`` columns: present, and not identifier-like (their values go into reports; the policy)."""
    from curate.policy.roles import check_columns, resolve_columns

    attrs = resolve_columns(meta, attrs)
    if not attrs:
        raise UsageError("--attr needs at least one column name")
    missing = [a for a in attrs if a not in meta.columns]
    if missing:
        raise InputError(f"attribute column(s) {', '.join(missing)} not in the metadata "
                         f"(columns: {', '.join(map(str, meta.columns))})")
    return check_columns(meta, attrs, option="--attr", patient_col=patient_col)


def evaluate(clusters: Any, meta: pd.DataFrame, attrs: Sequence[str], *,
             id_col: str = "id") -> dict[str, Any]:
    """How well do clusters act as proxies for real attributes? NMI, ARI, AMI, purity per attribute and level.

    ``nmi``/``ari``/``ami`` are scikit-learn's ``normalized_mutual_info_score`` / ``adjusted_rand_score`` /
    ``adjusted_mutual_info_score`` on rows where the attribute is known; ``baseline_purity`` is the purity
    of putting everything in one cluster (the majority share), so purity is read against it. The verdict
    uses the level with the highest AMI and the thresholds in :data:`VERDICTS` on AMI (>= 0.5 strongly,
    >= 0.2 moderately, >= 0.05 weakly, else not). ``distribution`` is the cluster x value count table at
    that level, small cells shown as ``<11`` and their complements as ``*`` (:func:`curate.privacy.suppress`).
    """
    from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score, normalized_mutual_info_score

    from curate.privacy import suppress

    table = clusters.table if isinstance(clusters, ClusterResult) else clusters
    cols = sorted((c for c in table.columns if str(c).startswith("cluster_l")), key=lambda c: int(str(c)[9:]))
    if not cols:
        raise InputError("no cluster_l1.. columns in the clusters table")
    attrs = check_attrs(meta, attrs)
    joined = _join_meta(table, meta, id_col)
    report: dict[str, Any] = {"n": len(joined), "verdict_on": "ami",
                              "thresholds": {w: lo for lo, w in VERDICTS if lo > -1}, "attributes": {}}
    import pandas as pd

    for attr in attrs:
        values, note = _prepared_attr(joined[attr])
        rows = joined.loc[values.index]
        if values.nunique() < 2:
            report["attributes"][attr] = {"n": len(values), "verdict": f"{attr} has fewer than two values: "
                                          "nothing to evaluate", "strength": "n/a", "levels": {}}
            continue
        per_level = {}
        for col in cols:
            lab = rows[col].to_numpy()
            per_level[col] = {
                "k": int(rows[col].nunique()),
                "nmi": round(float(normalized_mutual_info_score(values, lab)), 4),
                "ari": round(float(adjusted_rand_score(values, lab)), 4),
                "ami": round(float(adjusted_mutual_info_score(values, lab)), 4),
                "purity": round(purity(lab, values.to_numpy()), 4),
            }
        best = max(per_level, key=lambda c: per_level[c]["ami"])
        m = per_level[best]
        base = float(values.value_counts(normalize=True).iloc[0])
        word = verdict_word(m["ami"])
        level_txt = f"level {best[9:]}, k={m['k']}"
        if word == "not":
            text = (f"clusters do not capture {attr} (AMI {m['ami']:.2f}, NMI {m['nmi']:.2f}; {level_txt}): "
                    f"do not use them as a proxy for {attr}")
        else:
            text = (f"clusters capture {attr} {word} (AMI {m['ami']:.2f}, NMI {m['nmi']:.2f}, "
                    f"ARI {m['ari']:.2f}, purity {m['purity']:.2f} vs {base:.2f} from the majority value "
                    f"alone; {level_txt})")
        dist = pd.crosstab(rows[best], values).sort_index()
        shown = suppress(dist)
        report["attributes"][attr] = {
            "n": int(len(values)), "n_missing": int(len(joined) - len(values)),
            "n_values": int(values.nunique()),
            "note": note, "levels": per_level, "best_level": best, "baseline_purity": round(base, 4),
            "strength": word, "verdict": text,
            "distribution": {str(c): {str(v): (x if isinstance(x, str) else int(x)) for v, x in r.items()}
                             for c, r in shown.iterrows()},
        }
    return report


# ------------------------------------------------------------------------------------- summaries
def _protected_shares(counts: pd.Series, listed: list[str], size: int) -> list[str]:
    """Which of the ``listed`` values may show their share of a cluster of published ``size``.

    Every value of the cluster is a cell (unlisted ones are never printed), adding up to ``size``.
    """
    from curate.policy.disclosure import Disclosure

    d = Disclosure()
    cells = {v: d.cell(int(n), publish=v in listed) for v, n in counts.items()}
    d.equal({i: 1 for i in cells.values()}, size)
    marks = d.solve()
    return [] if d.withheld else [v for v in listed if not marks[cells[v]]]


def summarize(clusters: Any, meta: pd.DataFrame | None = None, *, attrs: Sequence[str] = (), level: int = 1,
              top: int = 3, nearest: int = 3, public: bool = False, id_col: str = "id"
              ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per-cluster summary at ``level``: size, mean distance, top attribute values, nearest examples.

    ``nearest`` lists the ids closest to their level-1 centroid (only for level 1, and only when
    ``public=False``: ids of a user's own files may go in their reports, never in public cards).
    ``public=True`` protects what a card prints (:mod:`curate.policy.disclosure`): sizes below 11 are
    ``<11``, with complements ``*`` so no hidden size follows from the total; a top value's share is printed
    only where its count and the cluster's other values cannot be solved (a share whose complement is under
    11 gives a small count away); the size minimum, median and maximum only when no size is hidden.
    Returns a DataFrame (one row per cluster) and a JSON-able dict.
    """
    import pandas as pd

    from curate.policy.disclosure import COMPLEMENT, SUPPRESSED, protect_table

    table = clusters.table if isinstance(clusters, ClusterResult) else clusters
    col = f"cluster_l{level}"
    if col not in table.columns:
        raise UsageError(f"no level {level} in the clusters table")
    data = table
    if meta is not None and attrs:
        attrs = check_attrs(meta, attrs)
        data = _join_meta(table, meta, id_col)
    sizes = data.groupby(col).size()
    size_marks = dict(zip(sizes.index, protect_table(sizes.to_numpy())[0])) if public else {}
    rows = []
    for c, grp in data.groupby(col, sort=True):
        row: dict[str, Any] = {"cluster": int(c), "size": size_marks.get(c) or int(len(grp))}
        row["mean_distance"] = round(float(grp["distance"].mean()), 4) if level == 1 else None
        for a in attrs:
            vc = grp[a].astype(object).where(grp[a].notna(), None).astype(str).value_counts()
            top_values = [v for v in grp[a].dropna().astype(str).value_counts().head(top).index]
            if public:
                shown = _protected_shares(vc, top_values, len(grp)) if not size_marks.get(c) else []
            else:
                shown = top_values
            parts = [f"{v} {vc[v] / len(grp):.0%}" for v in top_values if v in shown]
            row[f"top_{a}"] = ", ".join(parts) if parts else (COMPLEMENT if public else "—")
        if level == 1 and not public and nearest:
            row["nearest_ids"] = grp.nsmallest(nearest, "distance")["id"].astype(str).tolist()
        rows.append(row)
    df = pd.DataFrame(rows)
    info = {"level": level, "k": int(len(sizes)), "public": public, "clusters": rows,
            "size_min": int(sizes.min()), "size_median": float(sizes.median()), "size_max": int(sizes.max())}
    if public and any(size_marks.values()):  # an order statistic could be a hidden size
        for key in ("size_min", "size_median", "size_max"):
            info[key] = SUPPRESSED if key == "size_min" else COMPLEMENT
    return df, info
