"""`curate report --modality fundus,oct`: ophthalmic datasets by region beside Khan et al. 2021."""

from __future__ import annotations

import yaml

import curate

SRC = {"source": "queiroz2025", "locator": "generated test record"}
# id, countries, multinational, modality — expected Khan regions worked out by hand
RECORDS = [
    ("EYE-IR", ["IRN"], False, "fundus"),            # Iran: north Africa and the Middle East
    ("EYE-IN", ["IND"], False, "fundus"),            # south Asia
    ("EYE-BU", ["BRA", "USA"], True, "oct"),         # Latin America AND North America
    ("EYE-XX", [], True, "fundus"),                  # no country named
    ("EYE-AU", ["AUS"], False, "oct"),               # none of Khan's seven regions
    ("CXR-DE", ["DEU"], False, "cxr"),               # not ophthalmic: filtered out
]
EXPECTED = {"north Africa and the Middle East": 1, "south Asia": 1, "Latin America": 1, "North America": 1,
            "Europe": 0, "southeast or east Asia": 0, "sub-Saharan Africa": 0,
            "other (Central Asia, Oceania)": 1, "country not specified": 1}
# Khan et al. 2021's counts as printed (tests/data/sources/khan2021.md): region memberships
KHAN = {"Europe": 34, "southeast or east Asia": 21, "North America": 16,
        "north Africa and the Middle East": 9, "south Asia": 4, "Latin America": 2,
        "sub-Saharan Africa": 1, "country not specified": 13}


def _catalog(tmp_path):
    for rid, countries, multi, modality in RECORDS:
        rec = {"id": rid, "name": f"Generated {rid}", "modality": {"value": [modality], **SRC},
               "anatomy": {"value": "eye", **SRC}, "countries": {"value": countries, **SRC},
               "multinational": multi, "demographics_reported": {"value": [], **SRC},
               "licence": {"value": "CC-BY-4.0", **SRC}, "images": {"value": 100, **SRC},
               "collections": ["test-eye"]}
        (tmp_path / f"{rid}.yaml").write_text(yaml.safe_dump(rec), encoding="utf-8")
    (tmp_path / "collections").mkdir()
    (tmp_path / "collections" / "test-eye.yaml").write_text(yaml.safe_dump(
        {"id": "test-eye", "title": "generated", "source": "queiroz2025", "locator": "generated",
         "datasets": [r[0] for r in RECORDS]}), encoding="utf-8")
    return curate.catalog.load(tmp_path)


def test_ophthalmic_view_counts_region_memberships_like_khan(tmp_path):
    from curate.report.report import report_context

    cat = _catalog(tmp_path)
    ctx = report_context(catalog=cat, modality="fundus,OCT", collection="test-eye", fmt="md")
    rows = {r["region"]: r for r in ctx["ophthalmic"]["rows"]}
    assert {k: r["catalog"] for k, r in rows.items()} == EXPECTED
    assert {k: r["khan"] for k, r in rows.items() if r["khan"] is not None} == KHAN
    assert sum(KHAN.values()) - KHAN["country not specified"] == 87  # the note's arithmetic: 94 - 13 + 6
    assert ctx["ophthalmic"]["khan_total"] == 94 and ctx["ophthalmic"]["catalog_total"] == 5
    assert rows["Latin America"]["datasets"] == "EYE-BU" == rows["North America"]["datasets"]


def test_only_ophthalmic_selections_get_the_view(tmp_path):
    from curate.report.report import build_report, report_context

    cat = _catalog(tmp_path)
    assert report_context(catalog=cat, modality="cxr", collection="test-eye", fmt="md")["ophthalmic"] is None
    md = build_report(fmt="md", catalog=cat, modality="fundus,oct", collection="test-eye", map_link="m.svg")
    assert "## Ophthalmic datasets by region: Khan et al. 2021 and this catalog" in md
    assert "| north Africa and the Middle East | 9 | 1 | EYE-IR |" in md
    assert "secondary source" in md  # the per-region counts are not from the paper's own text
