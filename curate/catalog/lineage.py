"""Derived and repackaged datasets (schema v2 ``derived_from``): count each image once.

A set such as LUNA16 (from LIDC-IDRI) or PCam (from CAMELYON16) holds images its sources already hold.
Adding both to a total counts those images twice, so every total in curate (``catalog stats``, the map,
its CSV, the report, the cards' catalog shares) uses :func:`counted_images`: a dataset whose sources are
*all* in the same selection adds no images of its own (it still counts as a dataset). A dataset built
partly from sources outside the selection keeps its images, and :func:`lineage_notes` says that the
overlap with the sources inside it is not measured — no image count is guessed either way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from curate.catalog.schema import Dataset


def parents(ds: Dataset) -> list[str]:
    return list(ds.derived_from.value) if ds.derived_from is not None else []


def ancestors(ds: Dataset, index: dict[str, Dataset]) -> tuple[tuple[Dataset, ...], tuple[str, ...]]:
    """Every dataset ``ds`` derives from, transitively (breadth first, each once, cycles cut), looked up by
    id or alias (case-insensitive) in ``index``; and the names of sources not found there."""
    found: list[Dataset] = []
    missing: list[str] = []
    seen = {ds.id.upper()}
    queue = parents(ds)
    while queue:
        name = queue.pop(0)
        key = str(name).upper()
        if key in seen:
            continue
        seen.add(key)
        src = index.get(key)
        if src is None:
            missing.append(str(name))
            continue
        seen.add(src.id.upper())
        found.append(src)
        queue += parents(src)
    return tuple(found), tuple(missing)


def resolve_lineage(datasets: Iterable[Dataset]) -> None:
    """Attach each record's :func:`ancestors` (read by ``Dataset.lineage`` and the upload decision)."""
    group = list(datasets)
    index: dict[str, Dataset] = {}
    for d in group:
        for key in (d.id, *d.aliases):
            index.setdefault(key.upper(), d)
    for d in group:
        d._lineage = ancestors(d, index)


def within(ds: Dataset, ids: set[str]) -> bool:
    """True when every source ``ds`` derives from is in ``ids``: its images are already counted there."""
    p = parents(ds)
    return bool(p) and all(x in ids for x in p)


def counted_images(ds: Dataset, ids: set[str]) -> int | None:
    """The images ``ds`` adds to a total over the datasets ``ids`` (0 when its sources hold them)."""
    if ds.n_images is None:
        return None
    return 0 if within(ds, ids) else ds.n_images


def counted_patients(ds: Dataset, ids: set[str]) -> int | None:
    """Patients ``ds`` adds to a total over ``ids``: none when its sources are all there (same people)."""
    if ds.n_patients is None:
        return None
    return 0 if within(ds, ids) else ds.n_patients


def unique_total(datasets: Iterable[Dataset]) -> int:
    """Images of ``datasets`` with each derived set's images counted once (in its sources)."""
    group = list(datasets)
    ids = {d.id for d in group}
    return int(sum(counted_images(d, ids) or 0 for d in group))


def lineage_notes(datasets: Iterable[Dataset]) -> list[str]:
    """One line per derived dataset in the selection: how its images were counted."""
    group = list(datasets)
    ids = {d.id for d in group}
    out = []
    for d in group:
        p = parents(d)
        if not p:
            continue
        inside = [x for x in p if x in ids]
        if within(d, ids):
            out.append(f"{d.id} ← {', '.join(p)}: images counted once, in {', '.join(p)}")
        elif inside:
            out.append(f"{d.id} ← {', '.join(p)}: images counted in full; its overlap with "
                       f"{', '.join(inside)} is not measured")
    return out


def lineage_summary(datasets: Iterable[Dataset]) -> str | None:
    """A one-sentence note for totals, or None when no dataset in the selection is derived."""
    notes = lineage_notes(datasets)
    if not notes:
        return None
    return ("Derived datasets (derived_from) count each image once: " + "; ".join(notes) + ".")


def lineage_short(datasets: Iterable[Dataset]) -> str:
    """The map's one-line version: which derived datasets add no images (empty when none)."""
    group = list(datasets)
    ids = {d.id for d in group}
    inside = [d.id for d in group if within(d, ids)]
    if not inside:
        return ""
    n = len(inside)
    return (f"{n} derived dataset{'s' if n != 1 else ''} ({', '.join(sorted(inside))}) "
            f"add{'s' if n == 1 else ''} no images: "
            f"{'its images are counted in its' if n == 1 else 'their images are counted in their'} sources.")
