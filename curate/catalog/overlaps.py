"""Measured lineage (issue 28): ``overlaps``, the share of a record's images a measurement found in another
catalog dataset.

``derived_from`` is lineage *stated* by sources ("LUNA16 is built from LIDC-IDRI"); ``overlaps`` is lineage
*measured* by a tool such as ``curate overlap``: for each other dataset, the share of THIS record's images
found there, at a detection tier, with the method, the date and the evidence (the overlap summary's path,
URL or DOI). The two never stand in for each other: totals and the licence guard say which kind they used.

Tiers (``curate overlap``): ``bytes`` (identical files), ``pixels`` (identical decoded pixels),
``perceptual`` (a robust hash verified on the decoded pixels) prove copies; ``embedding`` near-neighbours are
candidates for review only, and never count as containment. A share at a tier counts the images found at
that tier **or any stronger one** (cumulative, as ``curate overlap`` reports it).

This module holds the record model, the checks ``catalog validate`` adds across records, and the reader of
an overlap ``summary.json``; writing entries into a user's record is :mod:`curate.catalog.overlap_edit`.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from curate.catalog.facts import CatalogId, _Strict

#: Detection tiers, strongest first (the order of ``curate overlap``).
OVERLAP_TIERS: tuple[str, ...] = ("bytes", "pixels", "perceptual", "embedding")
#: Tiers that prove a copy: only these count as containment (totals, licence guard).
CONTAINMENT_TIERS: tuple[str, ...] = OVERLAP_TIERS[:3]
Tier = Literal["bytes", "pixels", "perceptual", "embedding"]


class Overlap(_Strict):
    """One measurement: the share of this record's images found in ``dataset`` at ``tier`` (or stronger)."""

    dataset: CatalogId = Field(description="the catalog id of the dataset the images were found in")
    share: float = Field(ge=0, le=1, allow_inf_nan=False,
                         description="share of THIS record's images found in `dataset`, 0-1")
    tier: Tier = Field(description="bytes, pixels, perceptual (copies) or embedding (candidates only)")
    method: str = Field(min_length=1, description="the tool and version, e.g. 'curate overlap 0.9'")
    date: _dt.date = Field(description="when the measurement was made")
    evidence: str = Field(min_length=1, description="the overlap summary: a path, URL or DOI")
    images: int | None = Field(None, ge=0, description="how many of this record's images were found")
    note: str | None = None

    @property
    def contains(self) -> bool:
        """True when the measurement proves shared images: a copy tier (1-3) and a share above 0."""
        return self.tier in CONTAINMENT_TIERS and self.share > 0

    def describe(self, of: str = "its") -> str:
        """``12.0 % of its images found in A (perceptual tier; curate overlap 0.9, 2026-12-07)``."""
        kind = "" if self.tier in CONTAINMENT_TIERS else ", candidates for review, not copies"
        return (f"{self.share:.1%} of {of} images found in {self.dataset} ({self.tier} tier{kind}; "
                f"{self.method}, {self.date.isoformat()})").replace("%", " %", 1)


def measured(ds: Any) -> list[Overlap]:
    """A record's measurements (``ds`` is a :class:`curate.catalog.schema.Dataset`; the schema imports this
    module, so it is not named here)."""
    return list(ds.overlaps or [])


def overlap_problems(records: Iterable[Any], known: Iterable[Any]) -> list[str]:
    """``catalog validate``'s checks across records: each ``overlaps`` entry names a dataset of the catalog
    (``known``: the built-in records and the folder's own), not the record itself, and each
    ``(dataset, tier)`` once. One line per problem."""
    ids: dict[str, str] = {}
    for d in known:
        for key in (d.id, *d.aliases):
            ids.setdefault(key.upper(), d.id)
    out = []
    for ds in records:
        own = {k.upper() for k in (ds.id, *ds.aliases)}
        seen: set[tuple[str, str]] = set()
        for i, o in enumerate(measured(ds)):
            where = f"{ds.id}: overlaps[{i}].dataset"
            key = o.dataset.upper()
            if key in own:
                out.append(f"{where}: '{o.dataset}' is the record itself")
            elif key not in ids:
                out.append(f"{where}: '{o.dataset}' is not a dataset in the catalog (overlaps name "
                           "catalog ids; add a record for it first)")
            pair = (ids.get(key, key), o.tier)
            if pair in seen:
                out.append(f"{ds.id}: overlaps[{i}]: {o.dataset} at the {o.tier} tier is given twice")
            seen.add(pair)
    return out


# ------------------------------------------------------------------------------------ overlap summary.json
def shares_from_summary(path: str | Path, record: str) -> list[dict[str, Any]]:
    """The entries an overlap ``summary.json`` gives for ``record`` (its images found in each other dataset,
    per tier), as dicts for :class:`Overlap` (``evidence`` = the summary's path).

    The shape read (written by ``curate overlap``; extra keys ignored)::

        {"method": "curate overlap 0.9", "date": "2026-12-07", "sizes": {"A": 1000, "B": 200},
         "shares": [{"dataset": "B", "in": "A", "tier": "perceptual", "images": 24, "share": 0.12}, ...]}
    """
    from curate.errors import InputError

    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"cannot read the overlap summary '{p}': {exc}") from None
    rows = doc.get("shares") if isinstance(doc, dict) else None
    if not isinstance(rows, list):
        raise InputError(f"the overlap summary '{p}' has no 'shares' list (is it curate overlap's "
                         "summary.json?)")
    out = []
    for row in rows:
        if not isinstance(row, dict) or str(row.get("dataset", "")).upper() != record.upper():
            continue
        out.append({"dataset": str(row.get("in", "")), "share": row.get("share"), "tier": row.get("tier"),
                    "images": row.get("images"), "method": doc.get("method") or "curate overlap",
                    "date": doc.get("date"), "evidence": str(p)})
    if not out:
        names = sorted({str(r.get("dataset")) for r in rows if isinstance(r, dict)})
        raise InputError(f"the overlap summary '{p}' measures no images of {record} (its datasets: "
                         f"{', '.join(names) or 'none'}); name the dataset as the summary does")
    return out
