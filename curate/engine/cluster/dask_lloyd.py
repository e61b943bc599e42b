"""The Dask k-means trainer: the Lloyd iterations of :func:`curate.engine.cluster.kmeans.lloyd` over
partitions held in cluster memory.

Map: :func:`~curate.engine.cluster.kmeans.partial_sums` per partition; reduce: a fixed tree of pairwise
sums on the workers (:func:`_tree_sum`), then ``update_centroids`` on the client
(:func:`~curate.engine.cluster.kmeans.lloyd_loop`, the loop the local trainer runs). The start is the
local one: :func:`~curate.engine.cluster.kmeans.init_rows` picks the seeded rows, which the shard path
fetches from its workers, and ``seed_centroids`` (scikit-learn ``kmeans_plusplus``) runs on them in the
client. So a cluster of machines gives the single-machine answer: the same labels, centroids equal up to
float64 summation order (``tests/test_cluster_dask.py``). With shards on disk (:func:`kmeans_shards`) each
worker reads its own shards and keeps them in memory; the client only sees ids, centroids and labels.
Cluster set-up and shard loading live in :mod:`curate.engine.dask_shards`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from curate.engine.cluster.lloyd import (
    KMeansResult,
    assign,
    check_k,
    init_rows,
    lloyd_loop,
    partial_sums,
    seed_centroids,
)
from curate.errors import InputError, UsageError


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
    """Lloyd iterations over partitions (futures of float32 arrays): the final centroids (float64) and
    each partition's ``assign`` result, in order."""
    def sums_of(c: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        cf = client.scatter(c, broadcast=True, hash=False)  # one copy per worker, a fresh key each time
        return _tree_sum(client, client.map(partial_sums, parts, centroids=cf, spherical=spherical,
                                            pure=False))

    c = lloyd_loop(init, niter, spherical, sums_of)
    cf = client.scatter(c, broadcast=True, hash=False)
    return c, client.gather(client.map(assign, parts, centroids=cf, spherical=spherical, pure=False))


def _result(c: np.ndarray, final: list, init: np.ndarray) -> KMeansResult:
    return KMeansResult(c.astype(np.float32), np.concatenate([f[0] for f in final]),
                        np.concatenate([f[1] for f in final]), float(sum(f[2] for f in final)),
                        np.asarray(init, np.float32))


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
    return _result(c, final, init)


def kmeans_shards(source: Any, k: int, *, niter: int = 20, seed: int = 0, spherical: bool = True,
                  init: np.ndarray | None = None, dask: Any = "local", id_col: str = "id",
                  vector_col: str | None = None, n_workers: int | None = None,
                  processes: bool = True) -> tuple[np.ndarray, KMeansResult, dict[str, Any]]:
    """Lloyd k-means over embedding shards that the Dask workers read themselves.

    ``source``: glob / folder / list of ``.parquet`` or ``.npy`` shards, at paths every worker can read.
    ``dask``: ``"local"``, a scheduler address or a ``distributed.Client``
    (:func:`curate.engine.dask_shards.dask_client`).

    1. Client: shard metadata and id columns only — same dimension everywhere, unique ids, ``k <= n``.
    2. Workers: each shard is loaded once, checked for non-finite values and (``spherical``) L2-normalised
       exactly like :func:`~curate.engine.embeddings.load_embeddings`, then kept in worker memory.
    3. Initial centroids (unless ``init``): the same seeded rows as ``init_centroids`` on the
       concatenated shards (:func:`~curate.engine.cluster.kmeans.init_rows`) are fetched from the workers
       and ``seed_centroids`` (k-means++) runs on them in the client — the local start with that seed.
    4. Each iteration maps ``partial_sums`` over the shards and reduces in shard order.
    5. Labels and distances come back per shard, in shard order, matching the returned ids.

    Returns ``(ids, KMeansResult, info)``.
    """
    import time

    from curate.engine.dask_shards import dask_client, load_block, validate_shards
    from curate.engine.embeddings import list_shards

    if niter < 1:
        raise UsageError(f"niter must be at least 1 (got {niter})")
    shards = list_shards(source, id_col=id_col, vector_col=vector_col)
    n, d, ids = validate_shards(shards, id_col, vector_col)
    check_k(k, n)
    if init is not None:
        init = np.asarray(init, dtype=np.float32)
        if init.shape != (k, d):
            raise UsageError(f"init must have shape ({k}, {d}), got {init.shape}")
    offsets = np.concatenate([[0], np.cumsum([s.rows for s in shards])]).astype(np.int64)
    live = [i for i, s in enumerate(shards) if s.rows]
    with dask_client(dask, n_workers=n_workers, processes=processes) as client:
        from distributed import wait

        token = time.time_ns()
        loaded = [client.submit(load_block, shards[i].path, int(offsets[i]), id_col, vector_col,
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
            rows = init_rows(n, k, seed)
            where = np.searchsorted(offsets, rows, side="right") - 1
            pieces = [client.submit(_take, parts[j], rows[where == i] - offsets[i], pure=False)
                      for j, i in enumerate(live) if (where == i).any()]
            sample = np.concatenate(client.gather(pieces)).astype(np.float64)
            init = seed_centroids(sample, k, seed)
            init_note = f"k-means++ on {len(rows):,} seeded rows"
        c, final = _lloyd_futures(client, parts, init, niter, spherical)
        workers = len(client.scheduler_info().get("workers", {}))
        del parts
    res = _result(c, final, init)
    if len(res.labels) != n:  # pragma: no cover - a shard changed between validation and loading
        raise InputError(f"shards changed while clustering ({len(res.labels)} rows read, {n} expected)")
    info = {"workers": workers, "shards": len(shards), "init": init_note}
    return ids, res, info
