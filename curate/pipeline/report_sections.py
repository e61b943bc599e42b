"""The report's catalog-only sections: licence openness, demographics, modality and language mixes, the
searches for under-represented regions, and the dataset table.

Computed here (the report's templates only format them) from the catalog's fields, which a user's
``--from`` file does not have; gathered by :func:`curate.pipeline.report.gather_report`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from curate.catalog.store import Catalog

REPORTED_DEMOGRAPHICS = ("age", "sex", "race", "ethnicity", "nationality")


def _language_name(code: str) -> str:
    import pycountry

    lang = pycountry.languages.get(alpha_2=code) or pycountry.languages.get(alpha_3=code)
    return f"{lang.name} ({code})" if lang else code


def _link_for(ds, field: str) -> dict:
    """The source of one fact as text + URL (the record's reference, a DOI, or the seed paper)."""
    fact = getattr(ds, field)
    if fact is None:
        return {"text": "Not reported by the source", "url": None}
    ref = ds.reference(fact.source)
    url = ref.url or (f"https://doi.org/{ref.doi}" if ref.doi else None)
    return {"text": ds.cite(field), "url": url, "title": ref.short()}


def catalog_sections(cat: Catalog, total_images: float) -> dict:
    """Licence openness, demographic reporting, modality mix, language: fields only the catalog has."""
    from curate.catalog.lineage import image_counts
    from curate.catalog.schema import ACCESS_CLASSES

    n = len(cat)
    counts = image_counts(cat)

    def img(d) -> int:  # each image counted once along stated and measured lineage
        return counts[d.id].images or 0

    def share(x: float, tot: float) -> float | None:
        return x / tot if tot else None

    access = []
    for cls in ACCESS_CLASSES:
        members = [d for d in cat if (d.access or "unknown") == cls]
        if not members:
            continue
        imgs = sum(img(d) for d in members)
        access.append({"label": cls, "datasets": len(members), "dataset_share": share(len(members), n),
                       "images": imgs, "share": share(imgs, total_images)})
    demo = []
    for attr in REPORTED_DEMOGRAPHICS:
        members = [d for d in cat if attr in d.demographics_reported.value]
        imgs = sum(img(d) for d in members)
        demo.append({"label": attr, "datasets": len(members), "dataset_share": share(len(members), n),
                     "images": imgs, "share": share(imgs, total_images)})
    none = [d for d in cat if not d.demographics_reported.value]
    demo_none = {"datasets": len(none), "dataset_share": share(len(none), n),
                 "images": sum(img(d) for d in none),
                 "share": share(sum(img(d) for d in none), total_images)}
    mods: dict[str, list] = {}
    for d in cat:
        for m in d.modalities:
            mods.setdefault(m, []).append(d)
    modality = sorted(({"label": m, "datasets": len(ds), "images": sum(img(x) for x in ds),
                        "share": share(sum(img(x) for x in ds), total_images)}
                       for m, ds in mods.items()), key=lambda r: (-r["images"], r["label"]))
    langs: dict[str, list] = {}
    for d in cat:
        for code in d.language or ["—"]:
            langs.setdefault(code, []).append(d)
    language = sorted(({"label": "Not reported by the source" if c == "—" else _language_name(c),
                        "datasets": len(ds), "dataset_share": share(len(ds), n),
                        "images": sum(img(x) for x in ds),
                        "share": share(sum(img(x) for x in ds), total_images)}
                       for c, ds in langs.items()), key=lambda r: (-r["datasets"], r["label"]))
    return {"access": access, "demographics": demo, "demographics_none": demo_none, "modality": modality,
            "language": language}


def searches() -> dict:
    """The searches for under-represented regions and what they found (``pipeline/data/searches.yaml``)."""
    import yaml

    doc = yaml.safe_load((Path(__file__).resolve().parent / "data" / "searches.yaml").read_text("utf-8"))
    rows = [{**r, "found": ", ".join(r["found"]) or "nothing public found"} for r in doc["searches"]]
    return {"checked": str(doc["checked"]), "rows": rows}


def dataset_rows(cat: Catalog) -> list[dict]:
    """One row per dataset (largest first), its patient counts through the one disclosure layer."""
    from curate.countries import name
    from curate.pipeline.geo import suppress_column

    rows = []
    patients = suppress_column([d.n_patients for d in cat])  # the one disclosure layer, as every table
    for d, shown in zip(cat, patients):
        countries = ", ".join(name(c) for c in d.countries.value)
        if d.multinational:
            countries = f"Multinational ({countries})" if countries else "Multinational"
        rows.append({
            "id": d.id, "name": d.name, "url": d.url or (f"https://doi.org/{d.doi}" if d.doi else None),
            "modality": ", ".join(d.modalities), "countries": countries, "images": d.n_images,
            "patients": shown, "access": d.access or "unknown",
            "licence": d.licence.value,
            "demographics": ", ".join(d.demographics_reported.value) or "none",
            "language": ", ".join(d.language) or "—",
            "source": _link_for(d, "images"),
        })
    rows.sort(key=lambda r: -(r["images"] or 0))
    return rows
