"""What the ``curate catalog`` commands compute: filtered listings, one record with its decisions, totals,
validation. The CLI prints what these return."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def list_datasets(catalog_dir: str | os.PathLike | None = None, *, modality: str | None = None,
                  country: str | None = None, access: str | None = None, collection: str | None = None):
    """The catalog filtered as ``curate catalog list`` filters it (unknown access classes refused)."""
    from curate.catalog import load
    from curate.catalog.schema import ACCESS_CLASSES
    from curate.errors import UsageError
    from curate.pipeline.geo import parse_modalities

    modality = parse_modalities(modality)
    if access and access.lower() not in ACCESS_CLASSES:
        raise UsageError(f"unknown access class '{access}' (choose from {', '.join(ACCESS_CLASSES)})")
    return load(catalog_dir).filter(modality=modality, country=country, access=access, collection=collection)


def dataset_record(ds: Any) -> dict[str, Any]:
    """One record as JSON (``catalog show --json``): every field, the upload decision, the licence
    conflict and the sources it cites."""
    from curate.pipeline.guard import decision_for

    rec = ds.record()
    decision = decision_for(ds)
    rec["upload"] = {"images": decision.images, "reason": decision.reason,
                     "terms": (decision.terms or ds.terms).model_dump(),
                     "decided_by": decision.decided_by}
    links, unknown = ds.measured_lineage
    rec["lineage"] = {"stated": {"derived_from": [s.id for s in ds.lineage[0]], "not_in_catalog":
                                 list(ds.lineage[1])},
                      "measured": {"overlaps": [{"dataset": o.id, "how": how} for o, how in links],
                                   "not_in_catalog": list(unknown)}}
    override = ds.licence_override
    rec["licence_conflict"] = None if override is None else {**override.model_dump(mode="json"),
                                                             "statement": override.statement()}
    rec["sources"] = {k: ds.reference(k).model_dump(exclude_none=True)
                      for k in dict.fromkeys([f.source for _, f in ds.facts()]
                                             + [c.source for c in ds.conflicts])}
    return rec


def catalog_totals(cat: Any, by: str) -> tuple[Any, dict[str, Any]]:
    """``catalog stats``: the per-group table and the catalog's totals (each image counted once)."""
    from curate.catalog.lineage import counted_patients, lineage_kinds, lineage_summary, unique_total
    from curate.catalog.stats import catalog_stats

    df = catalog_stats(cat, by)
    ids = {d.id for d in cat}
    reported = [counted_patients(d, ids) for d in cat if d.n_patients is not None]
    total = {"datasets": len(cat), "images": unique_total(cat),
             "patients": int(sum(reported)) if reported else None, "patients_reported": len(reported),
             "lineage": lineage_summary(cat), "lineage_kinds": list(lineage_kinds(cat))}
    return df, total


def validate_catalog(catalog_dir: str | os.PathLike | None = None) -> tuple[list[str], int, int, list[str]]:
    """``catalog validate``: (problems, record files, collection files, schema notes) of the folder (default:
    the built-in catalog). A collection may list built-in datasets as well as the folder's own."""
    from curate.catalog import builtin_dir, validate_dir
    from curate.catalog.collections import collection_files, validate_collections
    from curate.catalog.overlaps import overlap_problems
    from curate.catalog.store import Catalog, records_in, schema_notes

    folders = [Path(catalog_dir)] if catalog_dir else [builtin_dir()]
    problems = [p for folder in folders for p in validate_dir(folder)]
    for folder in folders:
        known = [*(records_in(builtin_dir()) if folder.resolve() != builtin_dir().resolve() else []),
                 *records_in(folder)]
        problems += validate_collections(folder, Catalog(known))
        problems += overlap_problems(records_in(folder), known)  # overlaps name catalog datasets
    n = sum(1 for f in folders for _ in [*f.glob("*.yaml"), *f.glob("*.yml")])
    m = sum(len(collection_files(f)) for f in folders)
    notes = [line for folder in folders for line in schema_notes(folder)]
    return problems, n, m, notes


#: ``method`` of an overlap entered by hand without one (the tool that measured it is then not named).
HAND_METHOD = "entered by hand (curate catalog add-overlap)"


def add_overlap(record: str, *, catalog_dir: str | os.PathLike | None, dataset: str | None = None,
                share: float | None = None, tier: str | None = None, evidence: str | None = None,
                method: str | None = None, date: str | None = None, images: int | None = None,
                summary: str | os.PathLike | None = None, builtin: bool = False):
    """``catalog add-overlap``: record measured lineage in ``record`` of the user's catalog folder, from one
    measurement (``dataset``, ``share``, ``tier``, ``evidence``) or from an overlap ``summary`` (every
    dataset it found ``record``'s images in, per tier).

    Returns :class:`curate.catalog.overlap_edit.AddedOverlaps`."""
    import datetime as dt

    from curate.catalog.overlap_edit import add_overlaps
    from curate.catalog.overlaps import shares_from_summary
    from curate.errors import UsageError

    if catalog_dir is None:
        raise UsageError("add-overlap writes into your own catalog folder: pass --catalog DIR")
    manual = {"dataset": dataset, "share": share, "tier": tier, "evidence": evidence}
    if summary is not None:
        given = [k for k, v in manual.items() if v is not None]
        if given:
            raise UsageError(f"--summary gives every measurement; drop --{', --'.join(given)}")
        entries = shares_from_summary(summary, record)
    else:
        missing = [k for k, v in manual.items() if v is None]
        if missing:
            raise UsageError(f"give --{', --'.join(missing)} (or --summary FILE from curate overlap)")
        entries = [{**manual, "images": images}]
    today = dt.date.today().isoformat()
    for e in entries:
        e["method"] = method or e.get("method") or HAND_METHOD
        e["date"] = date or e.get("date") or today
    return add_overlaps(record, entries, catalog_dir=catalog_dir, builtin=builtin)
