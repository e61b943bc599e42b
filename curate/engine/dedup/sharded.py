"""Exact dedup spread over a Dask cluster: one task per (shard, shard) block of the pair matrix.

The embedding shards (parquet or .npy files that every worker can read, e.g. on a shared file system)
are each loaded and normalised once on a worker; then for every shard pair ``a <= b`` a task runs the
same blocked exact search as the single-machine ``exact`` method between the two blocks. The client
gathers the pairs (row numbers), canonicalises them and builds groups exactly as :func:`curate.dedup`
does, so the result equals ``dedup(..., method="exact")`` on the concatenated shards.

Work: ``S(S+1)/2`` block tasks for ``S`` shards; memory per worker: the two shards of a task (plus the
FAISS copy of one), so shard size, not dataset size, bounds worker memory. See ``docs/scale-out.md``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from curate.engine.dask_shards import dask_client, load_block, validate_shards
from curate.engine.dedup.api import check_threshold, quality_array, search_threshold
from curate.engine.dedup.exact import exact_pairs
from curate.engine.dedup.groups import DedupResult, build_result
from curate.engine.dedup.kernel import ProgressFn, canonical_pairs
from curate.engine.embeddings import Embeddings, list_shards


def _block_pairs(qa: tuple[np.ndarray, np.ndarray], qb: tuple[np.ndarray, np.ndarray], off_a: int, off_b: int,
                 threshold: float, same: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Worker side: all pairs >= threshold between two loaded shards, as global row numbers."""
    xa, xb = qa[1], qb[1]
    if same:
        return exact_pairs(xa, threshold, device="cpu", query_offset=off_a, base_offset=off_a)
    return exact_pairs(xa, threshold, device="cpu", base=xb, query_offset=off_a, base_offset=off_b)


def dedup_dask(source: Any, threshold: float = 0.95, *, address: str = "local", client: Any = None,
               id_col: str = "id", vector_col: str | None = None, quality: Any = None,
               n_workers: int | None = None, processes: bool = True,
               progress: ProgressFn | None = None, keep_rule: str = "components") -> DedupResult:
    """Exact dedup of many shards on Dask; same pairs, groups and keep list as the local ``exact`` method.

    ``source``: glob / folder / list of .npy or parquet shards (paths the workers can read). Pass a
    ``distributed.Client`` as ``client``, or ``address`` (``local`` or ``tcp://host:8786``).
    """
    t0 = time.perf_counter()
    t = check_threshold(threshold)
    ts = search_threshold(t)
    shards = list_shards(source, id_col=id_col, vector_col=vector_col)
    n, d, ids = validate_shards(shards, id_col, vector_col)
    offsets = np.concatenate([[0], np.cumsum([s.rows for s in shards])]).astype(int)
    if client is None:
        with dask_client(address, n_workers=n_workers, processes=processes) as c:
            return dedup_dask(source, t, client=c, id_col=id_col, vector_col=vector_col, quality=quality,
                              progress=progress, keep_rule=keep_rule)
    from distributed import as_completed

    live = [k for k, s in enumerate(shards) if s.rows]
    loaded = {k: client.submit(load_block, shards[k].path, int(offsets[k]), id_col, vector_col,
                               key=f"curate-load-{k}-{time.time_ns()}", pure=False) for k in live}
    futs = []
    for ai, a in enumerate(live):
        for b in live[ai:]:
            futs.append(client.submit(_block_pairs, loaded[a], loaded[b], int(offsets[a]), int(offsets[b]),
                                      ts, a == b, pure=False))
    qs, js, ds = [], [], []
    t1 = time.perf_counter()
    for k, fut in enumerate(as_completed(futs)):
        q, j, dd = fut.result()
        qs.append(q)
        js.append(j)
        ds.append(dd)
        if progress:
            progress("dask block search", k + 1, len(futs))
    t2 = time.perf_counter()
    i, j, c = canonical_pairs(np.concatenate(qs), np.concatenate(js), np.concatenate(ds))
    qual = quality_array(quality, Embeddings(ids, np.zeros((n, 0), np.float32))) if quality is not None \
        else None
    res = build_result(ids, i, j, c, quality=qual, keep_rule=keep_rule)
    t3 = time.perf_counter()
    workers = len(client.scheduler_info().get("workers", {}))
    res.summary = {
        "n": n, "d": d, "pairs": len(res.pairs), "groups": int(res.groups["group"].nunique()),
        "removed": n - len(res.keep), "kept": len(res.keep), "method": "exact", "threshold": t,
        "device": "cpu", "keep_rule": keep_rule, "recall_lower_bound": 1.0, "recall_confidence": 1.0,
        "recall_basis": "exact search",
        "dask": {"workers": workers, "shards": len(shards), "block_tasks": len(futs)},
        "timings": {"search_s": round(t2 - t1, 3), "groups_s": round(t3 - t2, 3),
                    "total_s": round(t3 - t0, 3)},
    }
    return res

