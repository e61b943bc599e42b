"""One input of :func:`~curate.engine.overlap.find_overlap` and its checks (done once, before any work)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from curate.engine.embeddings import _check_and_normalise, _check_ids
from curate.errors import InputError
from curate.validation import ParameterError


@dataclass
class OverlapInput:
    """One dataset: image ``files`` (tiers 1-3) and / or ``embeddings`` (tier 4), rows aligned with ``ids``.

    ``name`` is the dataset's label in outputs (a catalog id or ``"A"``, never a path). ``ids`` default to
    the files' paths relative to their common folder, or the embedding row numbers. ``patients`` gives a
    patient id per row (or None).
    """

    name: str
    files: list[Path] | None = None
    ids: list[str] | None = None
    embeddings: np.ndarray | None = None
    patients: list[str] | None = None


def _default_ids(files: list[Path] | None, rows: int) -> list[str]:
    if not files:
        return [str(k) for k in range(rows)]
    paths = [Path(f).resolve() for f in files]
    root = Path(os.path.commonpath([str(p) for p in paths])) if len(paths) > 1 else paths[0].parent
    if root in paths:  # a single file, or every path the same
        root = root.parent
    return [p.relative_to(root).as_posix() for p in paths]


def check_inputs(inputs: list[OverlapInput]) -> list[OverlapInput]:
    """Validated copies: at least two inputs, unique non-empty names, aligned ids / files / embeddings /
    patients, unique ids, one embedding dimension across inputs, L2-normalised float32 embeddings."""
    if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
        got = len(inputs) if isinstance(inputs, (list, tuple)) else repr(inputs)
        raise ParameterError("inputs", f"must hold at least two datasets (got {got})")
    seen: set[str] = set()
    out = []
    for inp in inputs:
        if not isinstance(inp, OverlapInput):
            raise ParameterError("inputs", f"must be OverlapInput objects (got {type(inp).__name__})")
        name = str(inp.name or "").strip()
        if not name:
            raise ParameterError("inputs", "every dataset needs a non-empty name")
        if name in seen:
            raise InputError(f"two inputs have the same name '{name}'; each dataset must appear once")
        seen.add(name)
        out.append(_check_one(inp, name))
    dims = {i.name: i.embeddings.shape[1] for i in out if i.embeddings is not None}
    if len(set(dims.values())) > 1:
        shown = ", ".join(f"'{k}' has dimension {v}" for k, v in dims.items())
        raise InputError(f"embedding dimensions differ between inputs ({shown}); embed them with one model")
    return out


def _named(name: str, check, *args, **kwargs) -> None:
    """Run one of the embeddings loader's checks, naming the input in its error."""
    try:
        check(*args, **kwargs)
    except InputError as e:
        raise InputError(f"'{name}': {e}") from None


def _check_one(inp: OverlapInput, name: str) -> OverlapInput:
    files = [Path(f) for f in inp.files] if inp.files is not None else None
    emb = None
    if inp.embeddings is not None:
        emb = np.array(inp.embeddings, dtype=np.float32, copy=True)
        if emb.ndim != 2 or not emb.shape[0] or not emb.shape[1]:
            raise InputError(f"'{name}': embeddings must be a non-empty 2-D array (got shape {emb.shape})")
        _named(name, _check_and_normalise, emb, True, writable=True)  # curate's one embeddings check
    if files is None and emb is None:
        raise InputError(f"'{name}': give image files, embeddings or both")
    if files is not None and not files:
        raise InputError(f"'{name}': no image files")
    rows = [len(files)] if files is not None else []
    rows += [len(emb)] if emb is not None else []
    if len(set(rows)) > 1:
        raise InputError(f"'{name}': {rows[0]} files but {rows[1]} embedding rows; rows must be aligned")
    ids = [str(i) for i in inp.ids] if inp.ids is not None else _default_ids(files, rows[0])
    if len(ids) != rows[0]:
        raise InputError(f"'{name}': {len(ids)} ids for {rows[0]} rows")
    _named(name, _check_ids, np.array(ids, dtype=str))
    patients = None
    if inp.patients is not None:
        patients = [str(p) for p in inp.patients]
        if len(patients) != len(ids):
            raise InputError(f"'{name}': {len(patients)} patient ids for {len(ids)} rows")
    return OverlapInput(name=name, files=files, ids=ids, embeddings=emb, patients=patients)
