"""Embedding shards: the files one embeddings source is made of (.npy, parquet, Hugging Face dataset
folders), listed with their row counts (:func:`list_shards`) and read block by block (:func:`read_shard`).

:mod:`curate.engine.embeddings` assembles them into one validated
:class:`~curate.engine.embeddings.Embeddings`; :mod:`curate.engine.dask_shards` hands them to Dask workers.
"""

from __future__ import annotations

import glob as _glob
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from curate.errors import InputError

BLOCK = 16_384  # rows per block for in-place checks / normalisation


@dataclass
class Shard:
    """One input file (or a Hugging Face dataset) with its row count, known before reading vectors."""

    path: str
    kind: str  # "npy" | "parquet" | "hf"
    rows: int
    dataset: Any = None  # the datasets.Dataset for kind == "hf"

    @property
    def name(self) -> str:
        return os.path.basename(self.path.rstrip("/")) or self.path


def _is_hf_folder(p: Path) -> bool:
    marks = ("state.json", "dataset_info.json", "dataset_dict.json")
    return p.is_dir() and any((p / f).exists() for f in marks)


def list_shards(source: Any, *, id_col: str = "id", vector_col: str | None = None) -> list[Shard]:
    """Resolve ``source`` (path, glob, folder, list of paths, or ``datasets.Dataset``) to shards."""
    if type(source).__module__.startswith("datasets") and type(source).__name__ == "Dataset":
        return [Shard(f"<datasets.Dataset {len(source)} rows>", "hf", len(source), source)]
    if type(source).__module__.startswith("datasets") and type(source).__name__ == "DatasetDict":
        raise InputError(f"got a DatasetDict with splits {', '.join(source)}; pass one split (ds['train'])")
    if isinstance(source, (list, tuple)):
        paths = [str(p) for p in source]
    else:
        s = os.fspath(source)
        p = Path(s)
        if _is_hf_folder(p):
            return [_hf_shard(p)]
        if p.is_dir():
            paths = sorted(str(q) for q in p.iterdir() if q.suffix in (".npy", ".parquet"))
            if not paths:
                raise InputError(f"folder '{s}' holds no .npy or .parquet files")
        elif any(c in s for c in "*?["):
            paths = sorted(_glob.glob(s))
            paths = [q for q in paths if not q.endswith((".ids.txt", ".ids.parquet"))]
            if not paths:
                raise InputError(f"no files match '{s}'")
        else:
            paths = [s]
    shards = []
    for path in paths:
        if not os.path.exists(path):
            broken = " (a broken symbolic link)" if os.path.islink(path) else ""
            raise InputError(f"embeddings file '{path}' does not exist{broken}")
        if path.endswith(".npy"):
            shards.append(Shard(path, "npy", _npy_shape(path)[0]))
        elif path.endswith(".parquet"):
            shards.append(Shard(path, "parquet", _parquet_rows(path)))
        elif _is_hf_folder(Path(path)):
            shards.append(_hf_shard(Path(path)))
        else:
            raise InputError(f"'{path}': unsupported embeddings format (use .npy, .parquet or a "
                             "Hugging Face dataset folder)")
    kinds = {s.kind for s in shards}
    if len(kinds) > 1:
        raise InputError(f"mixed embedding formats ({', '.join(sorted(kinds))}); use one format")
    return shards


def _npy_shape(path: str) -> tuple[int, ...]:
    if os.path.getsize(path) == 0:
        raise InputError(f"embeddings file '{path}' is empty (0 bytes)")
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except EOFError:
        raise InputError(f"embeddings file '{path}' is truncated (not a complete .npy array)") from None
    except ValueError as exc:
        raise InputError(f"'{path}' is not a plain numeric .npy array ({exc})") from None
    except OSError as exc:
        raise InputError(f"cannot read '{path}': {exc}") from None
    _check_shape(arr, os.path.basename(path))
    return arr.shape


def _parquet_rows(path: str) -> int:
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path).metadata.num_rows
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise InputError(f"cannot read parquet file '{path}': {exc}") from None


def _hf_shard(p: Path) -> Shard:
    from curate.errors import require

    datasets = require("datasets", "hub")
    try:
        ds = datasets.load_from_disk(str(p))
    except Exception as exc:
        raise InputError(f"cannot load Hugging Face dataset from '{p}': {exc}") from None
    if type(ds).__name__ == "DatasetDict":
        raise InputError(f"'{p}' is a DatasetDict with splits {', '.join(ds)}; pass one split folder "
                         f"(e.g. {p / next(iter(ds))})")
    return Shard(str(p), "hf", len(ds), ds)


def _check_shape(arr: np.ndarray, name: str) -> None:
    if arr.ndim != 2:
        raise InputError(f"embeddings in '{name}' must be a 2-D (n, d) array, got shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise InputError(f"embeddings in '{name}' must be numeric, got dtype {arr.dtype}")


# ----------------------------------------------------------------------------------- shard readers
def read_shard(shard: Shard, *, offset: int = 0, id_col: str = "id",
               vector_col: str | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(ids, vectors)`` blocks of one shard. Missing ids become global row numbers."""
    if shard.kind == "npy":
        arr = np.load(shard.path, mmap_mode="r", allow_pickle=False)
        ids = _npy_ids(shard, id_col)
        for s in range(0, shard.rows, BLOCK * 4):
            blk_ids = ids[s:s + BLOCK * 4] if ids is not None else \
                np.arange(offset + s, offset + min(s + BLOCK * 4, shard.rows)).astype(str)
            yield blk_ids, arr[s:s + BLOCK * 4]
        return
    if shard.kind == "parquet":
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(shard.path)
        vcol = _pick_vector_col(pf.schema_arrow, vector_col, shard)
        has_id = _has_id(pf.schema_arrow.names, id_col, shard)
        cols = [vcol, id_col] if has_id else [vcol]
        row = 0
        for rg in range(pf.num_row_groups):
            tbl = pf.read_row_group(rg, columns=cols)
            yield _table_block(tbl, vcol, id_col if has_id else None, offset + row, shard)
            row += tbl.num_rows
        return
    if shard.kind == "hf":
        ds = shard.dataset
        vcol = _pick_vector_col(ds.data.schema, vector_col, shard)
        has_id = _has_id(ds.column_names, id_col, shard)
        cols = [vcol, id_col] if has_id else [vcol]
        row = 0
        for tbl in ds.select_columns(cols).with_format("arrow").iter(batch_size=BLOCK * 4):
            yield _table_block(tbl, vcol, id_col if has_id else None, offset + row, shard)
            row += tbl.num_rows
        return
    raise InputError(f"unknown shard kind {shard.kind}")  # pragma: no cover


def _has_id(names: list[str], id_col: str, shard: Shard) -> bool:
    """The default ``id`` column is optional (row numbers instead); a named one must exist."""
    if id_col in names:
        return True
    if id_col != "id":
        raise InputError(f"'{shard.name}' has no id column '{id_col}' (columns: {', '.join(names)})")
    return False


def _npy_ids(shard: Shard, id_col: str) -> np.ndarray | None:
    base = shard.path[: -len(".npy")]
    txt, pqt = base + ".ids.txt", base + ".ids.parquet"
    if os.path.exists(txt):
        with open(txt, encoding="utf-8") as f:
            ids = np.array([line.rstrip("\r\n") for line in f if line.strip()], dtype=str)
        src = txt
    elif os.path.exists(pqt):
        import pyarrow.parquet as pq

        tbl = pq.read_table(pqt)
        col = id_col if id_col in tbl.column_names else tbl.column_names[0]
        ids = np.asarray(tbl.column(col).to_pylist(), dtype=object).astype(str)
        src = pqt
    else:
        return None
    if len(ids) != shard.rows:
        raise InputError(f"'{os.path.basename(src)}' lists {len(ids)} ids for {shard.rows} vectors "
                         f"in '{shard.name}'")
    return ids


def _pick_vector_col(schema: Any, vector_col: str | None, shard: Shard) -> str:
    import pyarrow as pa

    def is_list(t: Any) -> bool:
        return pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)

    if vector_col is not None:
        if vector_col not in schema.names:
            raise InputError(f"'{shard.name}' has no column '{vector_col}' "
                             f"(columns: {', '.join(schema.names)})")
        if not is_list(schema.field(vector_col).type):
            raise InputError(f"column '{vector_col}' in '{shard.name}' is not a list of numbers")
        return vector_col
    if "embedding" in schema.names and is_list(schema.field("embedding").type):
        return "embedding"
    lists = [f.name for f in schema if is_list(f.type)]
    if len(lists) == 1:
        return lists[0]
    if not lists:
        raise InputError(f"'{shard.name}' has no list-of-numbers column to read vectors from")
    raise InputError(f"'{shard.name}' has several vector columns ({', '.join(lists)}); pass vector_col")


def _table_block(tbl: Any, vcol: str, id_col: str | None, row0: int,
                 shard: Shard) -> tuple[np.ndarray, np.ndarray]:
    import pyarrow as pa

    col = tbl.column(vcol).combine_chunks()
    if isinstance(col, pa.ChunkedArray):  # empty table
        col = pa.concat_arrays(col.chunks) if col.num_chunks else pa.array([], col.type)
    if col.null_count:
        raise InputError(f"'{shard.name}' has {col.null_count} missing (null) vectors in column '{vcol}'")
    n = len(col)
    if pa.types.is_fixed_size_list(col.type):
        d = col.type.list_size
    else:
        lengths = np.diff(np.asarray(col.offsets))
        if n and (lengths != lengths[0]).any():
            raise InputError(f"'{shard.name}': vectors in column '{vcol}' have different lengths "
                             f"({lengths.min()} to {lengths.max()})")
        d = int(lengths[0]) if n else 0
    flat = col.flatten()
    vt = flat.type
    if not (pa.types.is_floating(vt) or pa.types.is_integer(vt)):
        raise InputError(f"column '{vcol}' in '{shard.name}' holds {vt}, not numbers")
    values = flat.to_numpy(zero_copy_only=False)
    vec = values.reshape(n, d) if n else np.zeros((0, d), np.float32)
    if id_col is not None:
        ids_col = tbl.column(id_col)
        if ids_col.null_count:
            raise InputError(f"'{shard.name}' has {ids_col.null_count} missing ids in column '{id_col}'")
        ids = np.asarray(ids_col.to_pylist(), dtype=object).astype(str)
    else:
        ids = np.arange(row0, row0 + n).astype(str)
    return ids, vec
