"""curate report: numbers against independent computations, self-containment, formats, errors."""

from __future__ import annotations

import re

import pytest
import seed_data
from geo_fixtures import COLLECTION, RECORDS, write_catalog


@pytest.fixture(scope="module")
def catdir(tmp_path_factory):
    return write_catalog(tmp_path_factory.mktemp("report-catalog"))


@pytest.fixture(scope="module")
def context(catdir):
    import curate
    from curate.report import report_context

    cat = curate.catalog.load(catdir).filter(collection=COLLECTION)
    return report_context(catalog=cat, collection=COLLECTION, command="test")


@pytest.fixture(scope="module")
def html(catdir, tmp_path_factory):
    from conftest import invoke

    out = tmp_path_factory.mktemp("rep") / "report.html"
    res = invoke("--catalog", str(catdir), "report", "--collection", COLLECTION, "--out", str(out))
    assert res.exit_code == 0, res.stderr
    return out.read_text(encoding="utf-8")


def test_totals(context):
    images = [r[3] for r in RECORDS if r[3] is not None]
    patients = [r[4] for r in RECORDS if r[4] is not None]
    t = context["totals"]
    assert t["datasets"] == len(RECORDS)
    assert t["images"] == sum(images) and t["images_reported"] == len(images)
    assert t["patients"] == sum(patients) and t["patients_reported"] == len(patients)
    assert t["multinational_datasets"] == sum(1 for r in RECORDS if r[2])
    assert t["countries"] == 3  # BRA, NOR, USA


def test_access_demographics_modality_language(context):
    total = sum(r[3] or 0 for r in RECORDS)
    sec = context["catalog"]
    from curate.catalog import access_for_licence

    for row in sec["access"]:
        members = [r for r in RECORDS if access_for_licence(r[6]) == row["label"]]
        assert row["datasets"] == len(members)
        assert row["images"] == sum(r[3] or 0 for r in members)
        assert row["share"] == pytest.approx(row["images"] / total)
    assert sum(r["datasets"] for r in sec["access"]) == len(RECORDS)
    for row in sec["demographics"]:
        members = [r for r in RECORDS if row["label"] in r[7]]
        assert row["datasets"] == len(members), row["label"]
        assert row["dataset_share"] == pytest.approx(len(members) / len(RECORDS))
        assert row["share"] == pytest.approx(sum(r[3] or 0 for r in members) / total)
    assert sec["demographics_none"]["datasets"] == sum(1 for r in RECORDS if not r[7])
    mods = {r["label"]: r for r in sec["modality"]}
    assert mods["cxr"]["datasets"] == 3 and mods["cxr"]["images"] == 23000
    langs = {r["label"]: r["datasets"] for r in sec["language"]}
    assert langs["Portuguese (pt)"] == 2 and langs["English (en)"] == 3
    assert langs["Not reported by the source"] == 1


def test_groups_and_concentration(context):
    groups = {g["key"]: {r["label"]: r for r in g["rows"]} for g in context["groups"]}
    assert groups["north_south"]["Global South"]["images"] == 4000
    assert groups["north_south"]["Global North"]["images"] == 20000
    assert groups["income_group"]["Upper middle income"]["datasets"] == 2
    assert groups["continent"]["South America"]["share"] == pytest.approx(4000 / 31900)
    c = context["concentration"]
    assert c["hhi"] == pytest.approx((100 / 6) ** 2 + (500 / 6) ** 2)
    assert c["top3"][:2] == ["Norway", "Brazil"]


def test_compute_table_matches_review_text(context):
    q = seed_data.facts()["queiroz2025"]
    printed = q["top500_share_pct"]
    rows = {r["region"]: r for r in context["compute"]["rows"]}
    for region, pct in printed.items():
        assert rows[region]["share_pct"] == float(pct)
        assert rows[region]["as_printed"] == f"{pct}%"
    assert "Africa" in q["top500_absent"] and rows["Africa"]["share_pct"] == 0
    assert context["compute"]["source"] == "queiroz2025"


def test_html_is_self_contained(html):
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"<script[^>]*\ssrc=", html)
    assert not re.search(r"<link[^>]*stylesheet", html)
    assert not re.search(r"<(img|iframe|source|video|audio)[^>]*\ssrc=\"?https?:", html)
    assert "@import" not in html and "url(http" not in html
    assert html.count("<svg") >= 4  # map + 3 charts
    assert 'id="map"' in html and "document.body.dataset.ready" in html


def test_html_sections_links_and_provenance(html, catdir):
    import curate
    from curate._version import __version__
    from curate.report import catalog_hash

    for heading in ("Totals", "Shares by country", "Concentration", "Licence openness",
                    "Demographic reporting", "Modality mix", "Language of reports", "Compute context",
                    "Datasets", "Provenance"):
        assert heading in html, heading
    for label in ("World Bank income group", "Global North / South (UNCTAD)", "UN region", "Continent"):
        assert label in html
    assert "UNCTADstat" in html and "FY2026" in html
    for rid, *_ in RECORDS:
        assert f'href="https://example.org/{rid.lower()}"' in html
    cat = curate.catalog.load(catdir).filter(collection=COLLECTION)
    assert catalog_hash(cat) in html
    assert f"curate version: {__version__}" in html
    assert "Herfindahl" in html


def test_small_patient_counts_suppressed(html):
    # GEO-B reports 5 patients: shown as <11 in the dataset table, never as 5
    row = re.search(r"GEO-B</a>.*?</tr>", html, flags=re.S).group(0)
    assert "&lt;11" in row
    assert not re.search(r">\s*5\s*<", row)


def test_markdown_report(cli, catdir, tmp_path):
    out = tmp_path / "report.md"
    res = cli("--catalog", catdir, "report", "--collection", COLLECTION, "--out", out)
    assert res.exit_code == 0, res.stderr
    md = out.read_text(encoding="utf-8")
    assert md.startswith("# Geographic representation")
    assert "](report-map.svg)" in md and "base64" not in md  # the map is linked, not inlined
    svg = (tmp_path / "report-map.svg").read_text(encoding="utf-8")
    assert "<svg" in svg and len(svg) < 400_000
    assert "| Brazil | BRA | 2 | 4,000 |" in md
    assert "| North America | 55.6% |" in md
    assert len(md) < 60_000


def test_markdown_report_inline_map_and_foreign_map_file(cli, catdir, tmp_path):
    out = tmp_path / "r.md"
    res = cli("--catalog", catdir, "report", "--collection", COLLECTION, "--out", out, "--inline-map")
    assert res.exit_code == 0, res.stderr
    assert "](data:image/svg+xml;base64," in out.read_text(encoding="utf-8")
    assert not (tmp_path / "r-map.svg").exists()
    # a file of the user's where the map would go is never replaced
    mine = tmp_path / "q-map.svg"
    mine.write_text("<svg>mine</svg>", encoding="utf-8")
    res = cli("--catalog", catdir, "report", "--collection", COLLECTION, "--out", tmp_path / "q.md")
    assert res.exit_code == 2 and res.stderr.startswith("error: ")
    assert mine.read_text(encoding="utf-8") == "<svg>mine</svg>" and not (tmp_path / "q.md").exists()
    # a map curate wrote is replaced on the next run
    for _ in range(2):
        res = cli("--catalog", catdir, "report", "--collection", COLLECTION, "--out", tmp_path / "p.md")
        assert res.exit_code == 0, res.stderr


def test_svg_map_is_compact_and_valid(cli, tmp_path):
    """`curate map --out m.svg` stays small (was 2.3 MB) and is still well-formed SVG with every country."""
    import xml.dom.minidom

    out = tmp_path / "m.svg"
    res = cli("map", "--out", out)
    assert res.exit_code == 0, res.stderr
    assert out.stat().st_size < 400_000
    doc = xml.dom.minidom.parse(str(out))
    paths = doc.getElementsByTagName("path")
    assert len(paths) > 150  # the world's countries are all still drawn


def test_report_from_file(cli, tmp_path):
    src = tmp_path / "mine.csv"
    src.write_text("country,images,patients,dataset\nKenya,100,40,a\nBrazil,300,,b\nMultinational,50,,c\n",
                   encoding="utf-8")
    out = tmp_path / "r.html"
    res = cli("report", "--from", src, "--out", out)
    assert res.exit_code == 0, res.stderr
    html = out.read_text(encoding="utf-8")
    assert "Not reported by the input file" in html
    assert "input file sha256" in html
    assert "Kenya" in html and "Global South" in html


@pytest.mark.parametrize(
    ("args", "code", "msg"),
    [
        (["--format", "pdf"], 2, "--format must be html or md"),
        (["--collection", "nothing-here"], 2, "unknown collection 'nothing-here' (collections: "),
    ],
)
def test_report_errors(cli, tmp_path, args, code, msg):
    out = tmp_path / "r.html"
    res = cli("report", "--out", out, *args)
    assert res.exit_code == code and msg in res.stderr
    assert not out.exists()


def test_report_missing_directory(cli, tmp_path):
    res = cli("report", "--out", tmp_path / "missing" / "r.html")
    assert res.exit_code == 1 and "does not exist" in res.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("name", "args", "msg"), [
    ("r.txt", [], "--out for a html report must end in .html or .htm"),
    ("r", [], "must end in .html or .htm"),
    ("r.html", ["--format", "md"], "--out for a md report must end in .md or .markdown"),
    ("r.md", ["--format", "html"], "must end in .html or .htm"),
])
def test_report_out_suffix_must_match_format(cli, tmp_path, name, args, msg):
    res = cli("report", "--out", tmp_path / name, *args)
    assert res.exit_code == 2 and msg in res.stderr and res.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_report_htm_suffix_is_html(cli, catdir, tmp_path):
    out = tmp_path / "r.htm"
    res = cli("--catalog", catdir, "report", "--collection", COLLECTION, "--out", out)
    assert res.exit_code == 0, res.stderr
    assert out.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")
