"""``build_map``: the whole of ``curate map`` as one library call (inputs checked before any drawing).

The counting is :mod:`curate.pipeline.geo`; this module draws and writes what it returns.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from curate.errors import InputError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from curate.catalog.store import Catalog
    from curate.pipeline.geo import Entry


#: The exit gate's role of each column of the map's CSV table.
_CSV_ROLES = {"datasets": "measure", "images": "measure", "patients": "count", "share": "value"}


@dataclass
class MapResult:
    table: pd.DataFrame
    entries: list[Entry]
    note: str
    out: Path | None
    csv: Path | None


def check_parent(path: str | os.PathLike | None, option: str) -> None:
    """Fail early (before loading or drawing anything) when an output's folder is missing."""
    if path is None:
        return
    parent = Path(path).parent
    if not parent.is_dir():
        raise InputError(f"{option}: output directory '{parent}' does not exist")


def build_map(out: str | os.PathLike | None = None, *, metric: str = "images", modality: str | None = None,
              access: str | None = None, collection: str | None = None,
              from_file: str | os.PathLike | None = None, scale: str = "log",
              split_multinational: bool = False,
              csv: str | os.PathLike | None = None, catalog: Catalog | None = None) -> MapResult:
    """Count per country, draw the choropleth to ``out`` (.png/.svg) and optionally write the ``csv`` table.

    >>> res = build_map("map.png", collection="queiroz2025-table1", csv="counts.csv")  # doctest: +SKIP
    """
    from curate.geo.map import SCALES, _check_out, save_map
    from curate.pipeline.geo import (
        METRICS,
        country_table,
        describe_source,
        load_entries,
        multinational_note,
        table_for_csv,
    )

    if metric not in METRICS:
        raise UsageError(f"--metric must be one of {', '.join(METRICS)} (got '{metric}')")
    if scale not in SCALES:
        raise UsageError(f"--scale must be log or linear (got '{scale}')")
    if out is None and csv is None:
        raise UsageError("nothing to write: give --out and/or --csv")
    from curate._paths import check_io

    check_io({"--from": from_file}, {"--out": out, "--csv": csv})
    _check_out(out)
    check_parent(out, "--out")
    check_parent(csv, "--csv")
    if csv is not None and Path(csv).suffix.lower() != ".csv":
        raise UsageError(f"--csv must end in .csv (got '{Path(csv).name}')")

    entries, _cat = load_entries(from_file=from_file, modality=modality, access=access, collection=collection,
                                 catalog=catalog)
    table = country_table(entries, split=split_multinational, metric=metric)
    note = multinational_note(entries, split=split_multinational, metric=metric)
    if _cat is not None:  # derived datasets: each image counted once (curate.catalog.lineage)
        from curate.catalog.lineage import lineage_short

        note = " ".join(x for x in (note, lineage_short(_cat)) if x)
    n = sum(e.weight for e in entries)
    if out is not None:
        save_map(table, out, metric=metric, scale=scale, note=note,
                 subtitle=describe_source(from_file, modality, access, collection, n))
    if csv is not None:
        from curate.output import write_table

        # catalog-level numbers from published papers: images and datasets count no one (measure); the
        # patients column is protected by table_for_csv (the disclosure layer) and checked again as counts
        shown = table_for_csv(table)
        roles = {c: _CSV_ROLES.get(c, "group") for c in map(str, shown.columns)}  # the rest: place names
        write_table(shown, csv, roles=roles)
    return MapResult(table=table, entries=entries, note=note, out=Path(out) if out else None,
                     csv=Path(csv) if csv else None)
