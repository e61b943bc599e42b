"""Every number of the policy report, gathered once: :func:`gather_report` returns a :class:`ReportData`
that the renderer (:mod:`curate.report.report`) only lays out.

The totals, per-group and per-country rows come from the same tables as ``curate map``
(:mod:`curate.pipeline.geo`); images per million inhabitants from UN WPP 2024
(:func:`curate.engine.represent.reference.per_million`); the catalog-only sections from
:mod:`curate.pipeline.report_sections` and :mod:`curate.pipeline.report_ophthalmic`.

The compute context the review cites (regional shares of Top500 supercomputer capacity, November 2024) is
sourced data, not computed: the figures are reproduced exactly as printed in queiroz2025, Section 5.2
"Resource Allocation", paragraph "Computing" (which in turn analyses the November 2024 Top500 list).
Africa is listed with 0 because the review states its absence from the rankings.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from curate.catalog.store import Catalog
    from curate.pipeline.geo import Entry

#: Year of the populations behind "images per million inhabitants".
POPULATION_YEAR = 2020

SOURCE = "queiroz2025"
LOCATOR = "Section 5.2 (Resource Allocation), paragraph 'Computing'"
LIST_EDITION = "Top500, November 2024"
QUOTE = (
    "Analysis of the November 2024 Top500 supercomputer rankings demonstrates pronounced regional "
    "disparities: North America holds 55.6% of capacity, Europe 27.4%, and Asia 15.9%, while South America "
    "and Oceania represent just 0.6% and 0.5% respectively."
)
NOTE = (
    "The review adds that in the Global South only Brazil, Australia and Argentina maintain Top500-listed "
    "facilities, and that Africa is absent from the rankings."
)


@dataclass(frozen=True)
class ComputeShare:
    region: str
    share_pct: float
    as_printed: str
    note: str = ""


#: Regional share of Top500 capacity, as printed in the review.
TOP500_NOV2024: tuple[ComputeShare, ...] = (
    ComputeShare("North America", 55.6, "55.6%"),
    ComputeShare("Europe", 27.4, "27.4%"),
    ComputeShare("Asia", 15.9, "15.9%"),
    ComputeShare("South America", 0.6, "0.6%"),
    ComputeShare("Oceania", 0.5, "0.5%"),
    ComputeShare("Africa", 0.0, "absent", "the review: \"Africa's absence from these rankings\""),
)


def compute_context() -> dict:
    """The table plus its citation, ready for a template."""
    from curate.catalog.schema import SEEDS

    ref = SEEDS[SOURCE]
    return {
        "rows": [r.__dict__ for r in TOP500_NOV2024],
        "source": SOURCE,
        "citation": f"{ref['authors']} ({ref['year']}). {ref['title']}",
        "locator": LOCATOR,
        "edition": LIST_EDITION,
        "quote": QUOTE,
        "note": NOTE,
    }


@dataclass
class ReportData:
    """What the report shows, every number already computed (the renderer draws and lays it out)."""

    source: str  # the selection, in words
    from_file: str | None  # the user's file name (never its folder)
    split: bool  # multinational datasets divided among their members
    totals: dict[str, Any]
    note: str  # multinational datasets and derived ones (each image counted once), in words
    lineage: Any
    countries: list[dict]  # one row per country, with images per million inhabitants
    country_table: pd.DataFrame  # the map's table
    population_note: str
    groups: list[dict]  # continent, UN region, income group, North/South
    members: dict | None
    concentration: dict
    catalog_sections: dict | None
    searches: dict | None
    ophthalmic: dict | None
    datasets: list[dict]
    compute: dict
    provenance: dict[str, str]
    catalog: Catalog | None  # the selected records (the renderer's documentation coverage reads them)


def _num(v: Any) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _rows(table: pd.DataFrame, *, label_col: str = "group") -> list[dict]:
    """Rows of a group or country table, patients through the one disclosure layer."""
    from curate.pipeline.geo import suppress_column

    records = table.to_dict(orient="records")
    patients = suppress_column([_num(r["patients"]) for r in records])  # the one disclosure layer
    return [{"label": r[label_col], "datasets": int(r["datasets"]), "images": _num(r["images"]),
             "patients": p, "share": _num(r["share"])} for r, p in zip(records, patients)]


def _members(cat: Catalog) -> dict:
    """Datasets *with* a country in each world region (multinational ones under each member's region)."""
    from curate.catalog.stats import member_stats
    from curate.groupings import GROUPING_SOURCES

    rows = member_stats(cat, "world_region").to_dict(orient="records")
    return {"rows": rows, "n": len(cat), "source": GROUPING_SOURCES["world_region"]}


def _groups(entries: list[Entry], split: bool) -> list[dict]:
    """Image shares by continent, UN region, income group (in its order) and North/South."""
    from curate.pipeline.geo import GROUPING_LABELS, GROUPING_SOURCES, INCOME_ORDER, group_table

    groups = []
    for by in ("continent", "un_region", "income_group", "north_south"):
        rows = _rows(group_table(entries, by, split=split))
        if by == "income_group":
            order = {g: i for i, g in enumerate(INCOME_ORDER)}
            rows.sort(key=lambda r: order.get(r["label"], len(order)))
        groups.append({"key": by, "title": GROUPING_LABELS[by], "source": GROUPING_SOURCES[by], "rows": rows})
    return groups


def _countries(ctable: pd.DataFrame) -> list[dict]:
    """Country rows with images per million inhabitants (UN WPP 2024; None: no population figure)."""
    from curate.engine.represent.reference import per_million

    rows = _rows(ctable, label_col="country")
    for r, a3 in zip(rows, ctable["alpha3"]):
        r["alpha3"] = a3
    dens = per_million({r["alpha3"]: r["images"] for r in rows if r["alpha3"]}, POPULATION_YEAR)
    for r in rows:
        r["per_million"] = dens.get(r["alpha3"])
    return rows


def _totals(entries: list[Entry], ctable: pd.DataFrame) -> dict[str, Any]:
    images = [e.images for e in entries if e.images is not None]
    patients = [e.patients for e in entries if e.patients is not None]
    multi = [e for e in entries if e.is_multi]
    return {"datasets": sum(e.weight for e in entries), "images": float(sum(images)),
            "images_reported": len(images), "patients": sum(patients), "patients_reported": len(patients),
            "countries": int((ctable["country"] != "Multinational").sum()),
            "multinational_datasets": sum(e.weight for e in multi),
            "multinational_images": float(sum(e.images or 0 for e in multi))}


def _file_datasets(entries: list[Entry], from_file: str | os.PathLike) -> list[dict]:
    """The dataset table of a ``--from`` file (patients through the one disclosure layer)."""
    from curate.pipeline.geo import suppress_column

    shown = suppress_column([e.patients for e in entries])
    return [{"id": e.key, "name": e.key, "url": None, "modality": "", "images": e.images,
             "patients": p, "access": "", "licence": "", "demographics": "",
             "language": "", "source": {"text": Path(from_file).name, "url": None},
             "countries": ", ".join(e.countries) or ("Multinational" if e.is_multi else "")}
            for e, p in zip(entries, shown)]


def _provenance(cat: Catalog | None, from_file: str | os.PathLike | None, command: str | None) -> dict:
    import datetime as _dt

    from curate._io import sha256_file
    from curate._version import __version__
    from curate.catalog.store import catalog_hash

    if cat is not None:
        data_hash, hash_label = catalog_hash(cat), "catalog hash (sha256 of record hashes)"
    else:
        data_hash, hash_label = sha256_file(from_file), "input file sha256"
    return {"version": __version__, "hash": data_hash, "hash_label": hash_label,
            "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "command": command or "curate.report.build_report() (Python API)"}


def gather_report(*, from_file: str | os.PathLike | None = None, modality: str | None = None,
                  collection: str | None = None, split_multinational: bool = False,
                  catalog: Catalog | None = None, command: str | None = None) -> ReportData:
    """Every number of the report, computed once from the catalog (or the user's ``--from`` file)."""
    from curate.engine.represent.reference import POPULATION_NOTE
    from curate.pipeline.geo import (
        concentration,
        country_table,
        describe_source,
        load_entries,
        multinational_note,
    )

    entries, cat = load_entries(from_file=from_file, modality=modality, collection=collection,
                                catalog=catalog)
    split = split_multinational
    ctable = country_table(entries, split=split)
    totals = _totals(entries, ctable)
    countries = _countries(ctable)
    note = multinational_note(entries, split=split)
    lineage = sections = ophthalmic = None
    if cat is not None:  # derived datasets: each image counted once (curate.catalog.lineage)
        from curate.catalog.lineage import lineage_short, lineage_summary
        from curate.pipeline.geo import parse_modalities
        from curate.pipeline.report_ophthalmic import is_ophthalmic, khan_comparison
        from curate.pipeline.report_sections import catalog_sections, dataset_rows

        note = " ".join(x for x in (note, lineage_short(cat)) if x)
        lineage = lineage_summary(cat)
        sections = catalog_sections(cat, totals["images"])
        if is_ophthalmic(parse_modalities(modality)):
            ophthalmic = khan_comparison(cat)
        datasets = dataset_rows(cat)
    else:
        datasets = _file_datasets(entries, from_file)
    from curate.pipeline.report_sections import searches

    return ReportData(
        source=describe_source(from_file, modality, None, collection, totals["datasets"]),
        from_file=Path(from_file).name if from_file else None, split=split, totals=totals,
        note=note, lineage=lineage, countries=countries, country_table=ctable,
        population_note=POPULATION_NOTE.format(year=POPULATION_YEAR), groups=_groups(entries, split),
        members=_members(cat) if cat is not None else None,
        concentration={**concentration(ctable),
                       "top3": [r["label"] for r in countries if r["label"] != "Multinational"][:3]},
        catalog_sections=sections, searches=searches() if cat is not None else None, ophthalmic=ophthalmic,
        datasets=datasets, compute=compute_context(), provenance=_provenance(cat, from_file, command),
        catalog=cat)
