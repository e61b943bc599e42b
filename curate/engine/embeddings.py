"""Load embedding vectors (+ their ids) from .npy files, parquet shards or Hugging Face datasets.

Everything downstream (dedup, leakage, clustering) works on one validated :class:`Embeddings` object:
float32 ``(n, d)`` vectors, unique string ids, L2-normalised for cosine unless asked otherwise.

Memory: the loader allocates the output array once and fills it shard by shard / row group by row group,
then checks and normalises it in place block by block, so 1M x 768 float32 (2.9 GiB) needs about one
copy of the data. A single float32 ``.npy`` loaded with ``normalize=False`` stays memory-mapped (no copy).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from curate.engine.embedding_shards import (  # noqa: F401 - re-exported: the shards live there
    BLOCK,
    Shard,
    _check_shape,
    _has_id,
    _npy_ids,
    _pick_vector_col,
    list_shards,
    read_shard,
)
from curate.errors import InputError, UsageError


@dataclass
class Embeddings:
    """Vectors and their ids. ``normalized`` is True when every row has unit L2 norm (cosine = dot)."""

    ids: np.ndarray
    vectors: np.ndarray
    normalized: bool = False
    source: str = field(default="array", repr=False)

    @property
    def n(self) -> int:
        return int(self.vectors.shape[0])

    @property
    def d(self) -> int:
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return self.n

    def subset(self, idx: Any) -> Embeddings:
        """Rows ``idx`` (integer indices or a boolean mask) as a new object (a copy of those rows)."""
        idx = np.asarray(idx)
        return Embeddings(self.ids[idx], np.ascontiguousarray(self.vectors[idx]), self.normalized,
                          self.source)

    def save_parquet(self, path: str | os.PathLike, *, row_group_size: int = 65_536) -> Path:
        """Write ``id`` (string) + ``embedding`` (fixed-size list of float32), atomically, one row group of
        ``row_group_size`` rows at a time through the exit gate (:func:`curate.output.write_local_parquet`:
        the user's ids in the declared id column only)."""
        import pyarrow as pa

        from curate.output import write_local_parquet

        schema = pa.schema([("id", pa.string()), ("embedding", pa.list_(pa.float32(), self.d))])

        def batches():
            for s in range(0, self.n, row_group_size):
                block = np.ascontiguousarray(self.vectors[s:s + row_group_size], dtype=np.float32)
                vec = pa.FixedSizeListArray.from_arrays(pa.array(block.reshape(-1)), self.d)
                ids = pa.array(self.ids[s:s + row_group_size].astype(str).tolist(), pa.string())
                yield pa.table([ids, vec], schema=schema)

        return write_local_parquet(path, batches(), schema=schema, ids=["id"], roles={"embedding": "value"})


def from_array(vectors: Any, ids: Sequence[Any] | np.ndarray | None = None, *, normalize: bool = True,
               copy: bool = True) -> Embeddings:
    """Wrap an in-memory ``(n, d)`` array (validated like a file; normalised on a float32 copy)."""
    x = np.asarray(vectors)
    _check_shape(x, "array")
    x = np.array(x, dtype=np.float32, order="C", copy=True) if copy or x.dtype != np.float32 \
        else np.ascontiguousarray(x)
    n = x.shape[0]
    id_arr = np.arange(n).astype(str) if ids is None else np.asarray(ids).astype(str)
    if id_arr.shape != (n,):
        raise InputError(f"{len(id_arr)} ids given for {n} vectors")
    _check_ids(id_arr)
    _check_and_normalise(x, normalize, writable=True)
    return Embeddings(id_arr, x, normalized=normalize, source="array")


# ------------------------------------------------------------------------------------------- loader
def load_embeddings(source: Any, *, id_col: str = "id", vector_col: str | None = None,
                    normalize: bool = True, mmap: bool = True) -> Embeddings:
    """Load and validate embeddings from ``source``.

    ``source``: a ``.npy`` file (ids from a sibling ``<name>.ids.txt`` / ``<name>.ids.parquet`` if present,
    else row numbers as strings), a parquet file with a list / fixed-size-list vector column (``vector_col``,
    default ``embedding`` or the only list column) and an ``id_col`` column (optional only when it is the
    default ``id``: row numbers then), a glob / folder / list of
    shards of either, a Hugging Face dataset folder (``datasets.save_to_disk``) or a ``datasets.Dataset``.

    Checks: 2-D, same dimension in every shard (the error names the shard), finite values (the error gives
    the count of bad rows), unique ids, at least one row. Rows are L2-normalised (cosine = dot product)
    unless ``normalize=False``. With ``mmap=True`` a single float32 ``.npy`` loaded without normalisation
    is returned memory-mapped and read-only.
    """
    shards = list_shards(source, id_col=id_col, vector_col=vector_col)
    n = sum(s.rows for s in shards)
    label = shards[0].path if len(shards) == 1 else f"{len(shards)} shards"
    if n == 0:
        raise InputError(f"no embeddings in {label} (0 rows)")

    # Fast path: one float32 .npy, no normalisation wanted -> keep the memory map (no copy).
    if len(shards) == 1 and shards[0].kind == "npy" and not normalize:
        arr = np.load(shards[0].path, mmap_mode="r" if mmap else None, allow_pickle=False)
        if arr.dtype == np.float32 and arr.flags.c_contiguous:
            ids = _npy_ids(shards[0], id_col)
            ids = np.arange(n).astype(str) if ids is None else ids
            _check_ids(ids)
            _check_and_normalise(arr, False, writable=False)
            return Embeddings(ids, arr, normalized=False, source=label)

    out: np.ndarray | None = None
    all_ids: list[np.ndarray] = []
    row = 0
    d0, first = None, None
    for shard in shards:
        start = row
        for ids, vec in read_shard(shard, offset=start, id_col=id_col, vector_col=vector_col):
            if vec.ndim != 2:
                raise InputError(f"vectors in '{shard.name}' are not 2-D")
            if d0 is None:
                d0, first = vec.shape[1], shard.name
                if d0 == 0:
                    raise InputError(f"vectors in '{shard.name}' have dimension 0")
                out = np.empty((n, d0), dtype=np.float32)
            elif vec.shape[1] != d0:
                raise InputError(f"shard '{shard.name}' has dimension {vec.shape[1]}, but '{first}' has {d0}")
            out[row:row + len(vec)] = vec
            all_ids.append(ids)
            row += len(vec)
        if row - start != shard.rows:  # pragma: no cover - file changed while reading
            raise InputError(f"'{shard.name}' changed while reading")
    assert out is not None
    ids = np.concatenate(all_ids) if len(all_ids) > 1 else all_ids[0]
    _check_ids(ids)
    _check_and_normalise(out, normalize, writable=True)
    return Embeddings(ids, out, normalized=normalize, source=label)


def _check_ids(ids: np.ndarray) -> None:
    if len(ids) == 0:
        return
    if (ids == "").any():
        raise InputError(f"{int((ids == '').sum())} ids are empty strings")
    if ids.dtype.kind == "U" and np.array_equal(ids, np.arange(len(ids)).astype(str)):
        return  # the row numbers (no ids given): unique, and far cheaper to see than to sort
    uniq, first_rows, counts = np.unique(ids, return_index=True, return_counts=True)
    if len(uniq) != len(ids):
        repeats = np.setdiff1d(np.arange(len(ids)), first_rows)
        # a row number, never the id itself
        raise InputError(f"ids must be unique: {int((counts > 1).sum())} ids occur more than once "
                         f"(first repeat at row {int(repeats.min())})")


def _check_and_normalise(x: np.ndarray, normalize: bool, *, writable: bool) -> None:
    """Count non-finite rows and (optionally) L2-normalise ``x`` in place, one block at a time."""
    bad = zero = 0
    for s in range(0, x.shape[0], BLOCK):
        blk = x[s:s + BLOCK]
        finite = np.isfinite(blk).all(axis=1)
        bad += int((~finite).sum())
        if bad or not normalize:
            continue
        norms = np.sqrt(np.einsum("ij,ij->i", blk, blk, dtype=np.float64))
        zero += int((norms == 0).sum())
        if zero:
            continue
        blk /= norms.astype(np.float32)[:, None]
    if bad:
        raise InputError(f"{bad} of {x.shape[0]} embedding rows contain NaN or infinite values")
    if zero:
        raise InputError(f"{zero} embedding rows are all zeros and cannot be L2-normalised")
    if normalize and not writable:  # pragma: no cover - guarded by callers
        raise UsageError("cannot normalise a read-only array")


def as_embeddings(emb: Any, ids: Sequence[Any] | np.ndarray | None = None) -> Embeddings:
    """Accept an :class:`Embeddings` or a raw array (+ ``ids``) and return unit-norm embeddings."""
    if isinstance(emb, Embeddings):
        if ids is not None:
            raise UsageError("pass ids only with a raw array, not with an Embeddings object")
        if emb.normalized:
            return emb
        norms = np.sqrt(np.einsum("ij,ij->i", emb.vectors[:BLOCK], emb.vectors[:BLOCK], dtype=np.float64))
        if np.allclose(norms, 1.0, atol=1e-3) and _all_unit(emb.vectors):
            return Embeddings(emb.ids, emb.vectors, True, emb.source)
        return from_array(emb.vectors, emb.ids, normalize=True)
    return from_array(emb, ids, normalize=True)


def _all_unit(x: np.ndarray) -> bool:
    for s in range(0, x.shape[0], BLOCK):
        blk = x[s:s + BLOCK]
        if not np.allclose(np.einsum("ij,ij->i", blk, blk, dtype=np.float64), 1.0, atol=2e-3):
            return False
    return True
