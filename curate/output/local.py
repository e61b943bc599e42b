"""Local working files: per-row tables keyed by the user's own row ids, written only on the user's machine.

Dedup pairs, groups and ``keep.txt``, leakage pairs, cluster tables, probe predictions and sampled rows are
the user's own rows, for the user's next command; they are never published (a hub folder is built by
:mod:`curate.publish`, which writes through :func:`curate.output.write_table` with roles). The rule:

- identifiers may appear ONLY in the declared ``ids`` columns (the user's own row ids, e.g. ``id``,
  ``id_a`` / ``id_b``), and in ``input`` columns: columns of the user's own input table copied unchanged
  into a row subset of it (``curate sample``);
- every other column has a role from the allow-list :data:`curate.output.ROLES` and is checked like a
  published table (an identifier-named column, a label value naming a person is refused);
- nothing in a local file is a count of individuals to protect: it holds rows, not tabulations.

:func:`write_local_parquet` applies the same rule to a parquet file streamed batch by batch.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curate.output.counts import GateError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: The roles only a local file may declare, on top of :data:`curate.output.ROLES`.
LOCAL_ROLES = {
    "id": "the user's own row id (local files only; never published)",
    "input": "a column of the user's own input table copied unchanged into a subset of its rows (local only)",
}


def write_local(frame: pd.DataFrame, path: str | os.PathLike, *, ids: Sequence[str],
                roles: Mapping[str, str] | None = None, input_columns: Iterable[str] = (),
                synthetic: bool = False, atomic: bool = True, where: str | None = None) -> Path:
    """A local per-row table (``.parquet``, ``.csv``, ``.tsv``): ``ids`` are its id columns (identifiers
    allowed there only), ``input_columns`` the user's own input columns copied unchanged, and every other
    column has a role in ``roles`` (checked as in :func:`curate.output.write_table`)."""
    from curate.output.files import _check_roles, _target
    from curate.synthetic import COLUMN

    path = Path(path)
    where = where or path.name
    ids, own = list(ids), set(map(str, input_columns))
    if not hasattr(frame, "to_parquet"):  # a pyarrow table (vectors kept as fixed-size lists, its metadata)
        return _write_arrow(frame, path, ids, own, dict(roles or {}), atomic, where)
    absent = [c for c in ids if c not in frame.columns]
    if absent:
        raise GateError(f"{where}: declared id column(s) {absent} are not in the table")
    roles = dict(roles or {})
    if synthetic and COLUMN not in frame.columns:
        frame = frame.assign(**{COLUMN: True})
    if COLUMN in frame.columns:
        roles.setdefault(COLUMN, "value")
    bad = [c for c, r in roles.items() if r in LOCAL_ROLES]
    if bad:
        raise GateError(f"{where}: declare id columns with ids= and input columns with input_columns=, "
                        f"not as roles ({bad})")
    rest = [c for c in frame.columns if str(c) not in ids and str(c) not in own]
    _check_roles(frame[rest], roles, where)
    with _target(path, atomic) as tmp:
        if path.suffix == ".csv":
            frame.to_csv(tmp, index=False)
        elif path.suffix == ".tsv":
            frame.to_csv(tmp, index=False, sep="\t")
        else:
            frame.to_parquet(tmp, index=False)
    return path


def write_local_ids(path: str | os.PathLike, ids: Iterable[object], *, atomic: bool = True) -> Path:
    """A local list of the user's own row ids, one per line (``keep.txt``)."""
    from curate.output.files import _target

    path = Path(path)
    text = "".join(f"{i}\n" for i in ids)
    with _target(path, atomic) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def write_local_parquet(path: str | os.PathLike, batches: Iterable[Any], *, schema: Any, ids: Sequence[str],
                        roles: Mapping[str, str] | None = None, atomic: bool = True,
                        where: str | None = None) -> Path:
    """A local parquet table written batch by batch (pyarrow ``Table`` or ``RecordBatch`` of ``schema``), for
    tables too large to hold twice in memory (``curate embed``'s ids and vectors).

    The rules of :func:`write_local`: identifiers only in the declared ``ids`` columns, every other column a
    role from :data:`curate.output.ROLES` (names checked once, label/text/count values in every batch).
    Atomic: a refused batch leaves no partial file (and any previous file unchanged).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from curate.output.files import _LABELLED, _check_roles, _target

    path = Path(path)
    where = where or path.name
    ids, roles = list(ids), dict(roles or {})
    absent = [c for c in ids if c not in schema.names]
    if absent:
        raise GateError(f"{where}: declared id column(s) {absent} are not in the table")
    bad = [c for c, r in roles.items() if r in LOCAL_ROLES]
    if bad:
        raise GateError(f"{where}: declare id columns with ids=, not as roles ({bad})")
    rest = [c for c in schema.names if c not in ids]
    _check_roles(schema.empty_table().select(rest).to_pandas(), roles, where)  # every name has a role
    valued = {c: roles[c] for c in rest if roles[c] in (*_LABELLED, "count")}
    with _target(path, atomic) as tmp, pq.ParquetWriter(tmp, schema) as writer:
        for batch in batches:
            if valued:
                _check_roles(batch.select(list(valued)).to_pandas(), valued, where)
            if isinstance(batch, pa.RecordBatch):
                writer.write_batch(batch)
            else:
                writer.write_table(batch)
    return path


def _write_arrow(table, path: Path, ids: list[str], own: set[str], roles: dict[str, str], atomic: bool,
                 where: str) -> Path:
    import pyarrow.parquet as pq

    from curate.output.files import _check_roles, _target

    absent = [c for c in ids if c not in table.column_names]
    if absent:
        raise GateError(f"{where}: declared id column(s) {absent} are not in the table")
    rest = [c for c in table.column_names if c not in ids and c not in own]
    _check_roles(table.select(rest).slice(0, 10_000).to_pandas(), roles, where)
    with _target(path, atomic) as tmp:
        pq.write_table(table, tmp)
    return path
