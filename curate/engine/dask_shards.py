"""Dask plumbing shared by the sharded dedup and the Dask k-means: the client, shard checks and loading.

- :func:`dask_client` — the one Dask client helper of curate (``"local"``, an address or a Client);
- :func:`validate_shards` — client side, before any work: kinds, dimensions, non-empty, unique ids
  (reads only shard metadata and id columns);
- :func:`load_block` — worker side: one shard loaded, checked and normalised like ``load_embeddings``.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

import numpy as np

from curate.engine.embedding_shards import Shard
from curate.engine.embeddings import Embeddings, _check_ids
from curate.errors import InputError, UsageError, require


def load_block(path: str, offset: int, id_col: str, vector_col: str | None, *,
                normalize: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Worker side: load one shard, validated and (unless ``normalize=False``, for L2 k-means)
    L2-normalised exactly as :func:`~curate.engine.embeddings.load_embeddings` does; ids default to
    global row numbers."""
    from curate.engine.embedding_shards import list_shards as _ls
    from curate.engine.embedding_shards import read_shard

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


def validate_shards(shards: list[Shard], id_col: str, vector_col: str | None) -> tuple[int, int, np.ndarray]:
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
        from curate.engine.embedding_shards import _npy_ids

        arr = np.load(s.path, mmap_mode="r", allow_pickle=False)
        ids = _npy_ids(s, id_col)
        return arr.shape[1], (np.arange(offset, offset + s.rows).astype(str) if ids is None else ids)
    import pyarrow as pa
    import pyarrow.parquet as pq

    from curate.engine.embedding_shards import _has_id, _pick_vector_col

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
