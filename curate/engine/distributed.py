"""Exact dedup spread over a Dask cluster: one task per (shard, shard) block of the pair matrix.

The embedding shards (parquet or .npy files that every worker can read, e.g. on a shared file system)
are each loaded and normalised once on a worker; then for every shard pair ``a <= b`` a task runs the
same FAISS flat range search as the single-machine ``exact`` method between the two blocks. The client
gathers the pairs (row numbers), canonicalises them and builds groups exactly as :func:`curate.dedup`
does, so the result equals ``dedup(..., method="exact")`` on the concatenated shards.

Work: ``S(S+1)/2`` block tasks for ``S`` shards; memory per worker: the two shards of a task (plus the
FAISS copy of one), so shard size, not dataset size, bounds worker memory. See ``docs/scale-out.md``.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Any

import numpy as np

from curate.engine._faiss import ProgressFn
from curate.engine.dedup import (
    DedupResult,
    _quality_array,
    build_result,
    canonical_pairs,
    check_threshold,
    search_threshold,
)
from curate.engine.embeddings import Embeddings, Shard, _check_ids, list_shards
from curate.errors import InputError, UsageError, require


def _load_block(path: str, offset: int, id_col: str, vector_col: str | None, *,
                normalize: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Worker side: load one shard, validated and (unless ``normalize=False``, for L2 k-means)
    L2-normalised exactly as :func:`~curate.engine.embeddings.load_embeddings` does; ids default to
    global row numbers."""
    from curate.engine.embeddings import list_shards as _ls
    from curate.engine.embeddings import read_shard

    shard = _ls(path, id_col=id_col, vector_col=vector_col)[0]
    ids, vecs = [], []
    for i, v in read_shard(shard, offset=offset, id_col=id_col, vector_col=vector_col):
        ids.append(i)
        vecs.append(np.asarray(v, dtype=np.float32))
    x = np.ascontiguousarray(np.concatenate(vecs))
    emb = Embeddings(np.concatenate(ids), x)
    from curate.engine.embeddings import _check_and_normalise

    try:
        _check_and_normalise(x, normalize, writable=True)
    except InputError as exc:
        raise InputError(f"shard '{shard.name}': {exc}") from None
    return emb.ids, x


def _block_pairs(qa: tuple[np.ndarray, np.ndarray], qb: tuple[np.ndarray, np.ndarray], off_a: int, off_b: int,
                 threshold: float, same: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Worker side: all pairs >= threshold between two loaded shards, as global row numbers."""
    from curate.engine.dedup import exact_pairs

    xa, xb = qa[1], qb[1]
    if same:
        return exact_pairs(xa, threshold, device="cpu", query_offset=off_a, base_offset=off_a)
    return exact_pairs(xa, threshold, device="cpu", base=xb, query_offset=off_a, base_offset=off_b)


@contextmanager
def dask_client(address: Any, *, n_workers: int | None = None, processes: bool = True):
    """The one Dask client helper of curate (dedup and k-means).

    ``"local"`` starts a LocalCluster of ``n_workers`` single-threaded workers (default: the CPU count,
    between 2 and 4; closed afterwards); a ``distributed.Client`` is used as is (left open); anything else
    is a scheduler address such as ``tcp://host:8786`` (one error line if it cannot be reached in 10 s).
    """
    require("distributed", "dask")
    from distributed import Client, LocalCluster

    if isinstance(address, Client):
        yield address
        return
    if address == "local":
        import os

        workers = n_workers or max(2, min(4, os.cpu_count() or 2))
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=processes,
                          dashboard_address=":0") as cluster, Client(cluster) as client:
            yield client
        return
    try:
        client = Client(str(address), timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsageError(f"cannot connect to the Dask scheduler at '{address}': {exc}") from None
    try:
        yield client
    finally:
        client.close()


def _validate(shards: list[Shard], id_col: str, vector_col: str | None) -> tuple[int, int, np.ndarray]:
    """Client side, before any work: kinds, dimensions (named shard), non-empty, unique ids."""
    n = sum(s.rows for s in shards)
    if n == 0:
        raise InputError(f"no embeddings in {len(shards)} shards (0 rows)")
    d0, first = None, None
    all_ids = []
    offset = 0
    for s in shards:
        if s.kind == "hf":
            raise UsageError("the Dask path reads .npy or parquet shards; save the dataset as parquet first")
        d, ids = _peek(s, id_col, vector_col, offset)
        if s.rows:
            if d0 is None:
                d0, first = d, s.name
            elif d != d0:
                raise InputError(f"shard '{s.name}' has dimension {d}, but '{first}' has {d0}")
        all_ids.append(ids)
        offset += s.rows
    ids = np.concatenate(all_ids)
    _check_ids(ids)
    return n, int(d0 or 0), ids


def _peek(s: Shard, id_col: str, vector_col: str | None, offset: int) -> tuple[int | None, np.ndarray]:
    """Dimension and ids of a shard without reading its vectors (reads only the id column)."""
    if s.kind == "npy":
        from curate.engine.embeddings import _npy_ids

        arr = np.load(s.path, mmap_mode="r", allow_pickle=False)
        ids = _npy_ids(s, id_col)
        return arr.shape[1], (np.arange(offset, offset + s.rows).astype(str) if ids is None else ids)
    import pyarrow as pa
    import pyarrow.parquet as pq

    from curate.engine.embeddings import _has_id, _pick_vector_col

    pf = pq.ParquetFile(s.path)
    vcol = _pick_vector_col(pf.schema_arrow, vector_col, s)
    typ = pf.schema_arrow.field(vcol).type
    if pa.types.is_fixed_size_list(typ):
        d = typ.list_size
    else:
        first = pf.read_row_group(0, columns=[vcol]).column(0) if pf.num_row_groups else None
        d = len(first[0].as_py()) if first is not None and len(first) else None
    if _has_id(pf.schema_arrow.names, id_col, s):
        ids = np.asarray(pf.read(columns=[id_col]).column(0).to_pylist(), dtype=object).astype(str)
    else:
        ids = np.arange(offset, offset + s.rows).astype(str)
    return d, ids


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
    n, d, ids = _validate(shards, id_col, vector_col)
    offsets = np.concatenate([[0], np.cumsum([s.rows for s in shards])]).astype(int)
    if client is None:
        with dask_client(address, n_workers=n_workers, processes=processes) as c:
            return dedup_dask(source, t, client=c, id_col=id_col, vector_col=vector_col, quality=quality,
                              progress=progress, keep_rule=keep_rule)
    from distributed import as_completed

    live = [k for k, s in enumerate(shards) if s.rows]
    loaded = {k: client.submit(_load_block, shards[k].path, int(offsets[k]), id_col, vector_col,
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
    qual = _quality_array(quality, Embeddings(ids, np.zeros((n, 0), np.float32))) if quality is not None \
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

