"""Lineage: count each image once, and the datasets whose terms bind a record's images.

Two kinds, never mixed up, and every note says which it used:

- **stated** (schema v2 ``derived_from``): a set such as LUNA16 (from LIDC-IDRI) or PCam (from CAMELYON16)
  holds images its sources already hold. A dataset whose sources are *all* in the same selection adds no
  images of its own (it still counts as a dataset). A dataset built partly from sources outside the
  selection keeps its images, and :func:`lineage_notes` says that the overlap with the sources inside it is
  not measured — unless a measurement says how much it is (below).
- **measured** (``overlaps``, :mod:`curate.catalog.overlaps`): a record says which share of its images a
  measurement (``curate overlap``) found in another dataset, at a copy tier (bytes, pixels, perceptual;
  embedding candidates never count). Such a record adds its images *minus* ``floor(share × images)`` found in
  one other dataset of the selection that counts them (:func:`image_counts`).

Every total in curate (``catalog stats``, the map, its CSV, the report, the cards' catalog shares) uses
:func:`image_counts`; no image count is guessed either way.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from curate.catalog.overlaps import Overlap, measured

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
    """Attach each record's :func:`ancestors` (read by ``Dataset.lineage`` and the upload decision) and its
    :func:`measured_links` (``Dataset.measured_lineage``)."""
    group = list(datasets)
    index: dict[str, Dataset] = {}
    for d in group:
        for key in (d.id, *d.aliases):
            index.setdefault(key.upper(), d)
    for d in group:
        d._lineage = ancestors(d, index)
    for d in group:
        d._measured = measured_links(d, group, index)


def _how(o: Overlap, whose: str) -> str:
    return f"measured overlap: {o.describe(whose)}; evidence {o.evidence}"


def measured_links(ds: Dataset, group: list[Dataset], index: dict[str, Dataset]
                   ) -> tuple[tuple[tuple[Dataset, str], ...], tuple[str, ...]]:
    """The datasets ``ds`` *measurably shares images with* — each with a sentence saying how — and the names
    its own ``overlaps`` give that are not in the catalog.

    ``ds`` and another dataset X are linked when a measurement at a copy tier (bytes, pixels, perceptual)
    with a share above 0 joins them, recorded on either side: ``ds``'s record lists X (some of ``ds``'s
    images are X's) or X's record lists ``ds`` (some of X's images are in ``ds``). A shared image is an image
    of both, and a measurement does not say which dataset held it first, so the link binds both ways —
    except where a source *states* the direction: X stated (``derived_from``, transitively) to derive from
    ``ds`` does not bind ``ds`` (its images are ``ds``'s to begin with), and X already among ``ds``'s
    stated sources is not repeated.
    """
    stated = {s.id for s in ds.lineage[0]}
    best: dict[str, tuple[Overlap, str]] = {}
    missing: list[str] = []
    for o in measured(ds):
        other = index.get(o.dataset.upper())
        if not o.contains:
            continue
        if other is None:
            missing.append(o.dataset)
        elif other is not ds and (other.id not in best or o.share > best[other.id][0].share):
            best[other.id] = (o, _how(o, "this dataset's"))
    for other in group:
        if other is ds:
            continue
        for o in measured(other):
            if o.contains and index.get(o.dataset.upper()) is ds and (
                    other.id not in best or o.share > best[other.id][0].share):
                best[other.id] = (o, _how(o, f"{other.id}'s").replace(f"found in {o.dataset}",
                                                                     "found in this dataset"))
    links = []
    for other_id, (_, how) in best.items():
        other = index[other_id.upper()]
        if other_id in stated or ds.id in {s.id for s in other.lineage[0]}:
            continue
        links.append((other, how))
    return tuple(links), tuple(dict.fromkeys(missing))


def within(ds: Dataset, ids: set[str]) -> bool:
    """True when every source ``ds`` derives from is in ``ids``: its images are already counted there."""
    p = parents(ds)
    return bool(p) and all(x in ids for x in p)


@dataclass(frozen=True)
class Counted:
    """How one dataset's images enter a total: ``images`` added (None when it reports none), ``kind``
    (``"derived_from"`` stated, ``"overlaps"`` measured, None: counted in full), and for a measured
    overlap the dataset that counts the ``removed`` images and the entry that says so."""

    images: int | None
    kind: str | None = None
    into: str | None = None
    removed: int = 0
    overlap: Overlap | None = None


def image_counts(datasets: Iterable[Dataset]) -> dict[str, Counted]:
    """The images each of ``datasets`` adds to their total, each image counted once as far as lineage tells.

    1. Stated: a dataset whose ``derived_from`` sources are all in the selection adds none.
    2. Measured: a dataset B whose ``overlaps`` give a share ``s`` of its images found, at a copy tier, in a
       dataset A of the selection (A reports its images and is not itself counted as none by rule 1) adds
       ``images − floor(s × images)``: those images are counted in A. Shares measured in several datasets
       may be the same images, and the joint is not known, so B subtracts only its largest one: the total is
       never below the number of distinct images (at worst it still counts some twice). Each dataset is
       counted into at most one other, and no chain of them closes a cycle (B counted in A and A in B would
       count the shared images nowhere): the largest removals are taken first and a link that would close a
       cycle is skipped. Patients are not touched by measured overlap (it is measured on images).

    >>> # hand-worked in tests/test_catalog_overlaps.py
    """
    group = list(datasets)
    ids = {d.id for d in group}
    index: dict[str, Dataset] = {}
    for d in group:
        for key in (d.id, *d.aliases):
            index.setdefault(key.upper(), d)
    out: dict[str, Counted] = {}
    for d in group:
        if d.n_images is None:
            out[d.id] = Counted(None)
        elif within(d, ids):
            out[d.id] = Counted(0, "derived_from", removed=d.n_images)
        else:
            out[d.id] = Counted(d.n_images)
    edges = []
    for b in group:
        if out[b.id].images is None or out[b.id].kind is not None:
            continue
        for o in measured(b):
            a = index.get(o.dataset.upper())
            if (o.contains and a is not None and a is not b and out[a.id].images
                    and out[a.id].kind != "derived_from"):
                edges.append((-math.floor(o.share * b.n_images + 1e-9), b.id, a.id, o))
    into: dict[str, str] = {}
    for neg, b_id, a_id, o in sorted(edges, key=lambda e: e[:3]):
        if b_id in into or neg == 0:
            continue
        node: str | None = a_id
        while node is not None and node != b_id:
            node = into.get(node)
        if node == b_id:  # counting b into a would close a cycle
            continue
        into[b_id] = a_id
        out[b_id] = Counted(out[b_id].images + neg, "overlaps", a_id, -neg, o)
    return out


def counted_images(ds: Dataset, ids: set[str]) -> int | None:
    """The images ``ds`` adds to a total over the datasets ``ids`` by stated lineage alone (0 when its
    sources hold them); totals over a selection use :func:`image_counts`, which adds measured lineage."""
    if ds.n_images is None:
        return None
    return 0 if within(ds, ids) else ds.n_images


def counted_patients(ds: Dataset, ids: set[str]) -> int | None:
    """Patients ``ds`` adds to a total over ``ids``: none when its sources are all there (same people)."""
    if ds.n_patients is None:
        return None
    return 0 if within(ds, ids) else ds.n_patients


def unique_total(datasets: Iterable[Dataset]) -> int:
    """Images of ``datasets`` with each image counted once as far as lineage tells (:func:`image_counts`)."""
    return int(sum(c.images or 0 for c in image_counts(datasets).values()))


def _measured_note(d: Dataset, c: Counted) -> str:
    o = c.overlap
    assert o is not None
    return (f"{d.id} ~ {c.into}: {c.removed:,} of its {d.n_images:,} images ({o.share:.1%}".replace("%", " %")
            + f", {o.tier} tier) found in {c.into}, counted once, there ({o.method}, {o.date.isoformat()})")


def lineage_notes(datasets: Iterable[Dataset]) -> list[str]:
    """One line per dataset in the selection whose images lineage changes: how its images were counted."""
    group = list(datasets)
    ids = {d.id for d in group}
    counts = image_counts(group)
    out = []
    for d in group:
        p = parents(d)
        c = counts[d.id]
        inside = [x for x in p if x in ids]
        if c.kind == "derived_from":
            out.append(f"{d.id} ← {', '.join(p)}: images counted once, in {', '.join(p)}")
        elif c.kind == "overlaps":
            out.append(_measured_note(d, c))
        elif inside:
            out.append(f"{d.id} ← {', '.join(p)}: images counted in full; its overlap with "
                       f"{', '.join(inside)} is not measured")
    return out


def lineage_kinds(datasets: Iterable[Dataset]) -> tuple[str, ...]:
    """Which kinds of lineage changed the total: ``derived_from`` (stated), ``overlaps`` (measured)."""
    kinds = {c.kind for c in image_counts(datasets).values()}
    return tuple(k for k in ("derived_from", "overlaps") if k in kinds)


def lineage_summary(datasets: Iterable[Dataset]) -> str | None:
    """A one-sentence note for totals naming the kind of lineage used, or None when none applies."""
    group = list(datasets)
    notes = lineage_notes(group)
    if not notes:
        return None
    stated = [n for n in notes if " ← " in n]
    measured_ = [n for n in notes if " ~ " in n]
    parts = []
    if stated:
        parts.append("Derived datasets (derived_from) count each image once (lineage stated by sources): "
                     + "; ".join(stated) + ".")
    if measured_:
        parts.append("Measured overlap (overlaps) counts shared images once (lineage measured at a copy "
                     "tier, not stated): " + "; ".join(measured_) + ".")
    return " ".join(parts)


def lineage_short(datasets: Iterable[Dataset]) -> str:
    """The map's one-line version: which derived datasets add no images, and which add fewer because a
    measurement found some of them in another (empty when none)."""
    counts = image_counts(datasets)
    inside = sorted(k for k, c in counts.items() if c.kind == "derived_from")
    less = sorted(k for k, c in counts.items() if c.kind == "overlaps")
    parts = []
    if inside:
        n = len(inside)
        parts.append(f"{n} derived dataset{'s' if n != 1 else ''} ({', '.join(inside)}) "
                     f"add{'s' if n == 1 else ''} no images: "
                     f"{'its images are counted in its' if n == 1 else 'their images are counted in their'} "
                     "sources (derived_from, stated).")
    if less:
        n = len(less)
        parts.append(f"{n} dataset{'s' if n != 1 else ''} ({', '.join(less)}) add{'s' if n == 1 else ''} "
                     "only the images a measurement did not find in another dataset (overlaps, measured).")
    return " ".join(parts)
