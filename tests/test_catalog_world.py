"""Issue 20's targets on the built-in catalog, counted straight from the YAML files (not via curate's
aggregation code), and the report's account of the searches for under-represented regions."""

from __future__ import annotations

from pathlib import Path

import yaml

import curate
from curate.catalog import builtin_dir

EYE = {"fundus", "oct", "slo"}
LATAM = {"South America", "Central America", "Caribbean"}


def _records() -> list[dict]:
    return [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(Path(builtin_dir()).glob("*.yaml"))
            if not p.name.startswith(".")]


def _regions(codes: list[str]) -> tuple[set[str], set[str]]:
    """(continents, UN sub-regions) of a list of alpha-3 codes: country_converter's table lookups."""
    from curate.countries import convert

    conts = {convert(c, "Continent_7") for c in codes}
    subs = {convert(c, "UNregion") for c in codes}
    return conts, subs


def test_the_catalog_shows_the_whole_world():
    recs = _records()
    assert len(recs) >= 120
    with_region: dict[str, set[str]] = {}
    latam_countries = set()
    for r in recs:
        codes = r["countries"]["value"]
        conts, subs = _regions(codes)
        for c in conts:
            with_region.setdefault(c, set()).add(r["id"])
        if subs & LATAM:
            with_region.setdefault("Latin America", set()).add(r["id"])
            latam_countries |= {c for c in codes if _regions([c])[1] & LATAM}
    assert len(with_region["Africa"]) >= 8, sorted(with_region["Africa"])
    assert len(with_region["Latin America"]) >= 8 and len(latam_countries) >= 3, latam_countries
    assert len(with_region["Asia"]) >= 20 and len(with_region["Europe"]) >= 20
    assert len(with_region["Oceania"]) >= 2, sorted(with_region.get("Oceania", ()))
    eye = [r["id"] for r in recs if set(r["modality"]["value"]) & EYE]
    assert len(eye) >= 25
    assert len({m for r in recs for m in r["modality"]["value"]} - {"other", "multimodal"}) >= 15


def test_member_stats_agree_with_the_plain_count():
    from curate.catalog.stats import member_stats

    df = member_stats(curate.catalog.load(), "continent").set_index("key")
    plain: dict[str, int] = {}
    for r in _records():
        for c in _regions(r["countries"]["value"])[0]:
            plain[c] = plain.get(c, 0) + 1
    for cont, n in plain.items():
        assert df.loc[cont, "datasets"] == n, cont


def test_report_prints_the_searches_and_their_absences():
    from curate.report.report import build_report

    cat = curate.catalog.load()
    doc = yaml.safe_load((Path(curate.__file__).parent / "pipeline" / "data" / "searches.yaml").read_text())
    for s in doc["searches"]:
        for rid in s["found"]:
            assert rid in cat.ids, rid  # every dataset a search found is in the catalog
    md = build_report(fmt="md", map_link="m.svg")
    sec = md.split("## Where public datasets were searched for", 1)[1].split("\n## ", 1)[0]
    assert sec.count("\n| ") - 1 == len(doc["searches"])
    absent = [s for s in doc["searches"] if not s["found"]]
    assert absent and sec.count("nothing public found") == len(absent)


def test_report_shows_datasets_with_a_country_in_each_region():
    from curate.report.report import build_report

    md = build_report(fmt="md", map_link="m.svg")
    sec = md.split("### Datasets with a country in each world region", 1)[1].split("\n## ", 1)[0]
    rows = {ln.split("|")[1].strip(): int(ln.split("|")[2]) for ln in sec.splitlines()
            if ln.startswith("| ") and not ln.startswith("| World region")}
    recs = _records()
    africa = [r for r in recs if "Africa" in _regions(r["countries"]["value"])[0]]
    assert rows["Africa"] == len(africa) >= 8
    assert rows["Oceania"] >= 2 and rows["Latin America and the Caribbean"] >= 8
