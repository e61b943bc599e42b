"""``curate catalog add-overlap``: record a measurement (:class:`~curate.catalog.overlaps.Overlap`) in a
record of the user's own catalog folder, by editing its text (the rest of the file kept byte for byte).

Why a text edit: records are hand-written and reviewed line by line (as :mod:`curate.catalog.migrate`
argues); a re-dump would reformat every line. Only the top-level ``overlaps:`` block is replaced (or
appended), and the edit is checked: the new text must parse to exactly the old record with the new
``overlaps`` and validate as a record, or nothing is written.

A record not yet in the user's folder (a built-in record, say) is copied there first, unchanged but for
``overlaps``: the user's copy replaces the built-in record with the same terms. The built-in folder itself is
edited only when asked (``builtin=True``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from curate.catalog.overlaps import Overlap


@dataclass(frozen=True)
class AddedOverlaps:
    """What :func:`add_overlaps` did: the file written, whether it was created (copied from ``copied_from``),
    and the record's ``overlaps`` after the edit."""

    path: Path
    record: str
    overlaps: tuple[Overlap, ...]
    created: bool = False
    copied_from: Path | None = None


def _block_span(lines: list[str]) -> tuple[int, int] | None:
    """Lines ``[start, end)`` of the top-level ``overlaps:`` block (its key, nested lines, and list items
    written at column 0 under it), or None."""
    for i, line in enumerate(lines):
        if line.startswith("overlaps:"):
            j = i + 1
            while j < len(lines) and (not lines[j].strip() or lines[j][0] in " \t-#"):
                j += 1
            while j > i + 1 and not lines[j - 1].strip():  # leave trailing blank lines to what follows
                j -= 1
            return i, j
    return None


def with_overlaps(text: str, overlaps: list[Overlap]) -> str:
    """``text`` (a record's YAML) with its top-level ``overlaps`` replaced by ``overlaps``; checked."""
    from curate.catalog._yaml import parse_checked

    block = yaml.safe_dump({"overlaps": [o.model_dump(mode="python", exclude_none=True) for o in overlaps]},
                           sort_keys=False, allow_unicode=True, width=100)
    lines = text.splitlines(keepends=True)
    span = _block_span(lines)
    if span is None:
        body = text if text.endswith("\n") or not text else text + "\n"
        new = body + block
    else:
        new = "".join(lines[:span[0]]) + block + "".join(lines[span[1]:])
    old, got = parse_checked(text.encode("utf-8")), parse_checked(new.encode("utf-8"))
    want = {**old, "overlaps": [o.model_dump(mode="python", exclude_none=True) for o in overlaps]}
    if got != want:  # pragma: no cover - the oracle of the edit; a layout it cannot edit safely
        raise ValueError("the record's overlaps block could not be edited without changing other fields")
    return new


def merged(existing: list[Overlap], new: list[Overlap]) -> list[Overlap]:
    """``existing`` with each new measurement replacing the one for the same dataset and tier."""
    keys = {(o.dataset.upper(), o.tier) for o in new}
    return [o for o in existing if (o.dataset.upper(), o.tier) not in keys] + list(new)


def _entries(cat: Any, record: str, entries: list[dict[str, Any]]) -> list[Overlap]:
    from pydantic import ValidationError

    from curate.errors import InputError, UnknownDatasetError

    out = []
    for e in entries:
        try:
            other = cat.get(str(e.get("dataset", "")))
        except UnknownDatasetError as exc:
            raise InputError(f"dataset '{e.get('dataset')}' (for --dataset) is not in the catalog: an "
                             f"overlap names a catalog id ({exc})") from None
        if other.id == record:
            raise InputError(f"dataset '{e.get('dataset')}' (for --dataset) is {record} itself")
        try:
            out.append(Overlap.model_validate({k: v for k, v in {**e, "dataset": other.id}.items()
                                               if v is not None}))
        except ValidationError as err:
            first = err.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise InputError(f"overlap {field}: {first['msg'].removeprefix('Value error, ')} "
                             f"(got {first.get('input')!r})") from None
    return out


def add_overlaps(record: str, entries: list[dict[str, Any]], *, catalog_dir: str | os.PathLike,
                 builtin: bool = False) -> AddedOverlaps:
    """Add measured ``entries`` (dicts of :class:`Overlap` fields) to ``record`` in ``catalog_dir``.

    ``catalog_dir`` is the user's catalog folder; the built-in folder is refused unless ``builtin``. A
    measurement for a dataset and tier the record already has replaces it.
    """
    from curate.catalog.files import builtin_dir
    from curate.catalog.schema import Dataset
    from curate.catalog.store import load
    from curate.errors import UsageError
    from curate.output import write_text

    folder = Path(catalog_dir)
    if folder.resolve() == builtin_dir().resolve() and not builtin:
        raise UsageError(f"'{folder}' is the built-in catalog: add-overlap writes into your own catalog "
                         "folder (pass --builtin to edit the built-in records)")
    if not folder.is_dir():
        raise UsageError(f"catalog folder '{folder}' does not exist (create it: add-overlap writes there)")
    has_records = any(p.suffix in (".yaml", ".yml") for p in folder.iterdir())
    cat = load(folder) if has_records else load()
    ds = cat.get(record)
    new = _entries(cat, ds.id, entries)
    origin = cat.origins.get(ds.id)
    in_folder = origin is not None and origin.resolve().parent == folder.resolve()
    path = origin if in_folder else folder / f"{ds.id}.yaml"
    text = Path(origin).read_text(encoding="utf-8") if origin is not None else ""
    overlaps = merged(list(ds.overlaps or []), new)
    out = with_overlaps(text, overlaps)
    Dataset.model_validate(yaml.safe_load(out))  # the edited record is still a valid record
    write_text(path, out)  # a catalog record (sourced facts about datasets): no counts of individuals
    return AddedOverlaps(path, ds.id, tuple(overlaps), created=not in_folder,
                         copied_from=None if in_folder else origin)
