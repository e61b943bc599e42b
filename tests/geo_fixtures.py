"""A tiny generated catalog shared by the geo/report tests (collection ``test-geo``), with its truth.

Expected totals are computed here by brute force from the same record dicts that are written as YAML,
independently of curate.geo's pandas code.
"""

from __future__ import annotations

from pathlib import Path

import yaml

COLLECTION = "test-geo"

# id, countries, multinational, images, patients, modality, licence, demographics, language
RECORDS = [
    ("GEO-A", ["BRA"], False, 1000, 500, "fundus", "CC-BY-4.0", ["age", "sex"], ["pt"]),
    ("GEO-B", ["BRA"], False, 3000, 5, "cxr", "PhysioNet Credentialed Health Data License 1.5.0",
     ["age", "sex", "race"], ["pt", "en"]),
    ("GEO-C", ["NOR"], False, 20000, None, "cxr", "CC0-1.0", [], ["no"]),
    ("GEO-D", ["USA", "CAN"], True, 900, 90, "ct", "CC-BY-NC-4.0", ["ethnicity"], ["en"]),
    ("GEO-E", [], True, 7000, None, "mri", "CC-BY-4.0", ["nationality", "age"], []),
    ("GEO-F", ["USA"], False, None, 100, "cxr", "CC-BY-4.0", ["sex"], ["en"]),
]


def write_catalog(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for rid, countries, multi, images, patients, modality, licence, demo, lang in RECORDS:
        src = {"source": "queiroz2025", "locator": "generated test record"}
        rec = {
            "id": rid, "name": f"Generated {rid}", "modality": {"value": [modality], **src},
            "anatomy": {"value": "chest", **src}, "countries": {"value": countries, **src},
            "multinational": multi, "demographics_reported": {"value": demo, **src},
            "licence": {"value": licence, **src}, "language": lang, "collections": [COLLECTION],
            "url": f"https://example.org/{rid.lower()}",
        }
        if images is not None:
            rec["images"] = {"value": images, **src}
        if patients is not None:
            rec["patients"] = {"value": patients, **src}
        (folder / f"{rid}.yaml").write_text(yaml.safe_dump(rec, sort_keys=False), encoding="utf-8")
    return folder


def expected_by_country(split: bool) -> dict[str, dict]:
    """{alpha3 or 'Multinational': {datasets, images, patients}} by plain loops (None = not reported)."""
    out: dict[str, dict] = {}

    def add(key, rid, images, patients):
        row = out.setdefault(key, {"ids": set(), "images": None, "patients": None})
        row["ids"].add(rid)
        if images is not None:
            row["images"] = (row["images"] or 0) + images
        if patients is not None:
            row["patients"] = (row["patients"] or 0) + patients

    for rid, countries, multi, images, patients, *_ in RECORDS:
        if (multi or len(countries) != 1) and not (split and countries):
            add("Multinational", rid, images, patients)
            continue
        n = len(countries)
        for c in countries:
            add(c, rid, None if images is None else images / n, None if patients is None else patients / n)
    return {k: {"datasets": len(v["ids"]), "images": v["images"], "patients": v["patients"]}
            for k, v in out.items()}
