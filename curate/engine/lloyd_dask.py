"""Distributed Lloyd k-means on Dask: the same iterations as :func:`curate.engine.kmeans.lloyd`.

Map: per-shard assignment and partial sums; reduce: new centroids, from the same initial centroids as the
FAISS path, so a cluster of machines gives the single-machine answer. With shards on disk
(:func:`kmeans_shards`) each worker reads its own shards and keeps them in memory; the client only sees
ids, centroids and the final labels.
Cluster set-up and shard loading live in :mod:`curate.engine.distributed`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from curate.engine.kmeans import (
    KMeansResult,
    _check_k,
    _init_rows,
    _kmeanspp,
    assign,
    partial_sums,
    update_centroids,
)
from curate.errors import InputError, UsageError

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
