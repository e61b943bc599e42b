"""Derived datasets count each image once: stats, map entries, report and card shares (hand-worked)."""

from __future__ import annotations

import yaml

import curate

SRC = {"source": "queiroz2025", "locator": "generated test record"}
# id, country, images, patients, derived_from
RECORDS = [
    ("LIN-P", "BRA", 1000, 100, None),          # a source dataset
    ("LIN-C", "BRA", 300, 30, ["LIN-P"]),       # repackages LIN-P only: adds nothing
    ("LIN-M", "BRA", 250, None, ["LIN-P", "CQ500"]),  # partly from a dataset outside the selection
    ("LIN-Q", "NOR", 500, 50, None),
]


def _catalog(tmp_path):
    for rid, country, images, patients, parents in RECORDS:
        rec = {"id": rid, "name": f"Generated {rid}", "modality": {"value": ["fundus"], **SRC},
               "anatomy": {"value": "eye", **SRC}, "countries": {"value": [country], **SRC},
               "demographics_reported": {"value": [], **SRC}, "licence": {"value": "CC-BY-4.0", **SRC},
               "images": {"value": images, **SRC}, "collections": []}
        if patients is not None:
            rec["patients"] = {"value": patients, **SRC}
        if parents:
            rec["derived_from"] = {"value": parents, **SRC}
        (tmp_path / f"{rid}.yaml").write_text(yaml.safe_dump(rec), encoding="utf-8")
    cat = curate.catalog.load(tmp_path)
    return cat.filter(where=lambda d: d.id.startswith("LIN-"))


def test_stats_count_each_image_once(tmp_path):
    from curate.catalog.lineage import lineage_notes, unique_total
    from curate.catalog.stats import catalog_stats

    sub = _catalog(tmp_path)
    # by hand: LIN-C adds 0 (its only source is here); LIN-M adds 250 (CQ500 is not in the selection)
    assert unique_total(sub) == 1000 + 0 + 250 + 500
    df = catalog_stats(sub, "country").set_index("key")
    assert df.loc["BRA", "images"] == 1250 and df.loc["BRA", "datasets"] == 3
    assert df.loc["BRA", "patients"] == 100  # LIN-C's 30 patients are LIN-P's
    assert abs(df.loc["NOR", "image_share"] - 500 / 1750) < 1e-12
    notes = lineage_notes(sub)
    assert any(n.startswith("LIN-C ← LIN-P: images counted once") for n in notes)
    assert any(n.startswith("LIN-M ← LIN-P, CQ500: images counted in full") for n in notes)


def test_a_derived_set_alone_keeps_its_images(tmp_path):
    from curate.catalog.lineage import unique_total

    only_child = _catalog(tmp_path).filter(where=lambda d: d.id == "LIN-C")
    assert unique_total(only_child) == 300  # its source is not in this selection


def test_map_entries_and_report_use_the_same_rule(tmp_path):
    from curate.pipeline.geo import country_table, entries_from_catalog
    from curate.report.report import report_context

    sub = _catalog(tmp_path)
    table = country_table(entries_from_catalog(sub), split=False).set_index("alpha3")
    assert table.loc["BRA", "images"] == 1250
    ctx = report_context(catalog=sub, fmt="md")
    assert ctx["totals"]["images"] == 1750
    assert "LIN-C" in ctx["note"] and "its images are counted in its sources" in ctx["note"]
    assert "LIN-C ← LIN-P: images counted once" in ctx["lineage"]


def test_stats_cli_prints_how_it_counted(tmp_path):
    from typer.testing import CliRunner

    from curate.cli import app

    _catalog(tmp_path)
    res = CliRunner().invoke(app, ["catalog", "stats", "--catalog", str(tmp_path), "--json"])
    assert res.exit_code == 0, res.output
    import json

    total = json.loads(res.output)["total"]
    assert "LIN-C ← LIN-P: images counted once, in LIN-P" in total["lineage"]
    plain = CliRunner().invoke(app, ["catalog", "stats", "--catalog", str(tmp_path)])
    assert "Derived datasets (derived_from) count each image once" in " ".join(plain.output.split())
