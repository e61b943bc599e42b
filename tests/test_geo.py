"""curate map: per-country totals (vs the review's Table 1 and a generated catalog), groupings, the map
file itself, the CSV round trip through --from, and clear errors without partial files."""

from __future__ import annotations

import csv
import math
import re

import numpy as np
import pytest
import seed_data
from geo_fixtures import COLLECTION, expected_by_country, write_catalog
from PIL import Image

from curate.countries import to_alpha3


@pytest.fixture(scope="module")
def catdir(tmp_path_factory):
    return write_catalog(tmp_path_factory.mktemp("geo-catalog"))


def read_csv(path) -> dict[str, dict]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    out = {}
    for r in rows:
        key = r["alpha3"] or r["country"]
        out[key] = r
    return out


def svg_text(svg: str) -> str:
    """All text drawn in a matplotlib SVG (fonttype none), lines joined by spaces."""
    import html

    parts = re.findall(r"<text[^>]*>(.*?)</text>", svg, flags=re.S)
    return re.sub(r"\s+", " ", " ".join(html.unescape(re.sub(r"<[^>]+>", "", p)) for p in parts))


def num(text: str) -> float | None:
    return None if text in ("", "<11") else float(text)


# ----------------------------------------------------------------------------- Table 1 of the review
def parse_table1() -> list[dict]:
    """The review's Table 1 as printed (``tests/data/seeds/queiroz2025_table1.csv``)."""
    return [{"name": r["Dataset"], "images": int(r["Images"].replace(",", "")), "origin": r["Origin"]}
            for r in seed_data.rows("queiroz2025_table1.csv")]


def test_table1_parsed_has_24_rows():
    rows = parse_table1()
    assert len(rows) == 24
    assert rows[0]["name"] == "Moorfields BioResource 001" and rows[0]["images"] == 26_548_820


def test_table1_country_totals_reproduced(cli, tmp_path):
    """Per-country image totals of the review's Table 1 ("Multiple" rows → the Multinational row)."""
    rows = parse_table1()
    expected: dict[str, dict] = {}
    for r in rows:
        key = "Multinational" if r["origin"] == "Multiple" else to_alpha3(r["origin"])
        e = expected.setdefault(key, {"images": 0, "datasets": 0})
        e["images"] += r["images"]
        e["datasets"] += 1
    out = tmp_path / "t1.csv"
    res = cli("map", "--collection", "queiroz2025-table1", "--csv", out)
    assert res.exit_code == 0, res.stderr
    got = read_csv(out)
    assert set(got) == set(expected)
    for key, e in expected.items():
        assert int(got[key]["images"]) == e["images"], key
        assert int(got[key]["datasets"]) == e["datasets"], key
    assert sum(int(r["images"]) for r in got.values()) == sum(r["images"] for r in rows)


def test_table1_all_rows_in_catalog():
    import curate

    cat = curate.catalog.load().filter(collection="queiroz2025-table1")
    assert len(cat) == 24
    for r in parse_table1():
        assert r["name"] in cat, r["name"]
        assert cat.get(r["name"]).n_images == r["images"]


# ----------------------------------------------------------------------------- groupings
@pytest.mark.parametrize(
    ("alpha3", "continent", "income", "ns"),
    [
        ("BRA", "South America", "Upper middle income", "Global South"),
        ("NOR", "Europe", "High income", "Global North"),
        ("IND", "Asia", "Lower middle income", "Global South"),
        ("USA", "North America", "High income", "Global North"),
        ("JPN", "Asia", "High income", "Global North"),
        ("KOR", "Asia", "High income", "Global North"),
        ("CHN", "Asia", "Upper middle income", "Global South"),
        ("SAU", "Asia", "High income", "Global South"),  # rich but "developing" for UNCTAD
        ("RUS", "Europe", "High income", "Global North"),  # WB FY2025 reclassification
        ("NAM", "Africa", "Lower middle income", "Global South"),  # WB FY2026 reclassification
        ("ETH", "Africa", "Low income", "Global South"),
        ("AUS", "Oceania", "High income", "Global North"),
    ],
)
def test_groupings_known_countries(alpha3, continent, income, ns):
    from curate.pipeline import geo as agg

    assert agg.continent(alpha3) == continent
    assert agg.income_group(alpha3) == income
    assert agg.north_south(alpha3) == ns


def test_un_region_and_unclassified():
    from curate.pipeline import geo as agg

    assert agg.un_region("BRA") == "South America"
    assert agg.un_region("NOR") == "Northern Europe"
    assert agg.income_group("VEN") == agg.NOT_CLASSIFIED  # unclassified by the World Bank since 2021


def test_income_table_group_sizes():
    """The vendored FY2026 table has the World Bank's group sizes (minus Kosovo and Channel Islands)."""
    from collections import Counter

    from curate.groupings import _income_table

    counts = Counter(_income_table().values())
    assert counts == {"High income": 86, "Upper middle income": 53, "Lower middle income": 50,
                      "Low income": 26}


# ----------------------------------------------------------------------------- generated catalog totals
@pytest.mark.parametrize("split", [False, True])
def test_country_totals_generated(cli, catdir, tmp_path, split):
    out = tmp_path / "c.csv"
    args = ["--catalog", catdir, "map", "--collection", COLLECTION, "--csv", out]
    res = cli(*args, *(["--split-multinational"] if split else []))
    assert res.exit_code == 0, res.stderr
    got = read_csv(out)
    exp = expected_by_country(split)
    assert set(got) == set(exp)
    total_images = sum(e["images"] or 0 for e in exp.values())
    for key, e in exp.items():
        row = got[key]
        assert int(row["datasets"]) == e["datasets"], key
        for col in ("images", "patients"):
            if e[col] is None:
                assert row[col] == "", (key, col)  # "no data", not zero
            elif 0 < e[col] < 11 and col == "patients":
                assert row[col] == "<11"
            else:
                assert num(row[col]) == pytest.approx(e[col]), (key, col)
        share = (e["images"] or 0) / total_images
        if e["images"] is not None:
            assert float(row["share"]) == pytest.approx(share, abs=1e-6)
    if not split:
        assert got["BRA"]["continent"] == "South America"
        assert got["BRA"]["income_group"] == "Upper middle income"
        assert got["NOR"]["global_north_south"] == "Global North"
        assert got["Multinational"]["alpha3"] == ""


def test_group_table_partitions_images(catdir):
    """Continent/income/north-south tables add up to the total (no split: every dataset in one group)."""
    import curate
    from curate.geo import entries_from_catalog, group_table

    cat = curate.catalog.load(catdir).filter(collection=COLLECTION)
    entries = entries_from_catalog(cat)
    total = sum(d.n_images or 0 for d in cat)
    for by in ("continent", "un_region", "income_group", "north_south"):
        t = group_table(entries, by)
        assert int(t["images"].fillna(0).sum()) == total, by
        assert int(t["datasets"].sum()) == len(cat), by
    ns = group_table(entries, "north_south").set_index("group")
    assert int(ns.loc["Global South", "images"]) == 4000  # Brazil
    assert int(ns.loc["Global North", "images"]) == 20000  # Norway (USA's dataset reports no images)


def test_concentration_hand_worked(catdir):
    import curate
    from curate.geo import concentration, country_table, entries_from_catalog

    cat = curate.catalog.load(catdir).filter(collection=COLLECTION)
    c = concentration(country_table(entries_from_catalog(cat)))
    # single-country images: BRA 4000, NOR 20000 → shares 1/6, 5/6
    assert c["hhi"] == pytest.approx((100 / 6) ** 2 + (500 / 6) ** 2)
    assert c["top3_share"] == pytest.approx(1.0)
    assert c["countries"] == 2


# ----------------------------------------------------------------------------- the map file
@pytest.fixture(scope="module")
def png_map(catdir, tmp_path_factory):
    from conftest import invoke

    out = tmp_path_factory.mktemp("png") / "map.png"
    res = invoke("--catalog", str(catdir), "map", "--collection", COLLECTION, "--out", str(out))
    assert res.exit_code == 0, res.stderr
    return out


def test_png_map_is_a_real_drawing(png_map):
    assert png_map.stat().st_size > 50_000
    img = Image.open(png_map)
    assert img.size == (1800, 1050)
    arr = np.asarray(img.convert("RGB")).astype(float)
    assert arr.std() > 20  # not blank
    colours = {tuple(c) for c in arr.reshape(-1, 3)[::7].astype(int)}
    assert len(colours) > 50
    # the no-data hatch: many light-grey pixels (#e3e3e3) and many darker hatch-line pixels
    grey = np.all(np.abs(arr - 0xE3) < 4, axis=2).mean()
    assert grey > 0.05


def test_svg_map_states_multinational_and_no_data(cli, catdir, tmp_path):
    out = tmp_path / "map.svg"
    res = cli("--catalog", catdir, "map", "--collection", COLLECTION, "--out", out, "--metric", "datasets",
              "--scale", "linear")
    assert res.exit_code == 0, res.stderr
    svg = out.read_text(encoding="utf-8")
    assert svg.count("<path") > 200
    text = svg_text(svg)
    assert "No data" in text
    assert "multinational datasets: 2 datasets, 7,900 images" in text
    assert "Datasets per country (linear scale)" in text
    # split: one multinational dataset is spread, one (no members) stays off the map, both stated
    out2 = tmp_path / "split.svg"
    res = cli("--catalog", catdir, "map", "--collection", COLLECTION, "--out", out2, "--split-multinational")
    assert res.exit_code == 0, res.stderr
    svg2 = svg_text(out2.read_text(encoding="utf-8"))
    assert "split equally among their listed member countries: 1 dataset, 900 images" in svg2
    assert "without listed members: 1 dataset, 7,000 images" in svg2


# ----------------------------------------------------------------------------- --from
def test_from_round_trip(cli, catdir, tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert cli("--catalog", catdir, "map", "--collection", COLLECTION, "--csv", a).exit_code == 0
    res = cli("map", "--from", a, "--csv", b)
    assert res.exit_code == 0, res.stderr
    ra, rb = read_csv(a), read_csv(b)
    assert set(ra) == set(rb)
    for key in ra:
        for col in ("datasets", "images", "patients", "share", "income_group"):
            assert ra[key][col] == rb[key][col], (key, col)


def test_from_accepts_codes_and_names(cli, tmp_path):
    src = tmp_path / "mine.csv"
    src.write_text("Country,images,dataset\nBrazil,10,x\nBR,5,y\n076,1,z\nNOR,7,w\n578,3,v\n",
                   encoding="utf-8")
    out = tmp_path / "out.csv"
    res = cli("map", "--from", src, "--csv", out, "--metric", "datasets")
    assert res.exit_code == 0, res.stderr
    got = read_csv(out)
    assert (int(got["BRA"]["images"]), int(got["BRA"]["datasets"])) == (16, 3)
    assert (int(got["NOR"]["images"]), int(got["NOR"]["datasets"])) == (10, 2)
    assert float(got["BRA"]["share"]) == pytest.approx(3 / 5)


def test_from_parquet(cli, tmp_path):
    import pandas as pd

    src = tmp_path / "mine.parquet"
    pd.DataFrame({"country": ["India", "IND", "Kenya"], "images": [100, 50, 25]}).to_parquet(src)
    out = tmp_path / "out.csv"
    res = cli("map", "--from", src, "--csv", out)
    assert res.exit_code == 0, res.stderr
    got = read_csv(out)
    assert int(got["IND"]["images"]) == 150 and int(got["KEN"]["images"]) == 25
    assert got["KEN"]["income_group"] == "Lower middle income"


# ----------------------------------------------------------------------------- errors
def test_unknown_country_names_listed_with_suggestions(cli, tmp_path):
    src = tmp_path / "bad.csv"
    src.write_text("country,images\nBrasil,1\nNorway,2\nAtlantis,3\n", encoding="utf-8")
    out = tmp_path / "m.png"
    res = cli("map", "--from", src, "--out", out)
    assert res.exit_code == 1
    assert res.stderr.startswith("error: unknown country names")
    assert "Brasil" in res.stderr and "Atlantis" in res.stderr and "Brazil" in res.stderr
    assert "Traceback" not in res.stderr and res.stderr.count("\n") == 1
    assert not out.exists()


def test_from_without_country_column(cli, tmp_path):
    src = tmp_path / "nocountry.csv"
    src.write_text("place,images\nBrazil,1\n", encoding="utf-8")
    res = cli("map", "--from", src, "--out", tmp_path / "m.png")
    assert res.exit_code == 1
    assert "no country column" in res.stderr and "place" in res.stderr
    assert not (tmp_path / "m.png").exists()


def test_empty_filter(cli, tmp_path):
    res = cli("map", "--collection", "no-such-collection", "--out", tmp_path / "m.png")
    assert res.exit_code == 2  # an unknown collection is a usage error listing the collections
    assert res.stderr.startswith("error: unknown collection 'no-such-collection' (collections: ")
    assert "queiroz2025-table1" in res.stderr and res.stderr.count("\n") == 1
    assert not (tmp_path / "m.png").exists()


def test_missing_output_directory_no_partial_files(cli, catdir, tmp_path):
    out = tmp_path / "nope" / "m.png"
    res = cli("--catalog", catdir, "map", "--collection", COLLECTION, "--out", out)
    assert res.exit_code == 1 and "does not exist" in res.stderr
    ok_out = tmp_path / "m.png"
    res = cli("--catalog", catdir, "map", "--collection", COLLECTION, "--out", ok_out,
              "--csv", tmp_path / "missing" / "c.csv")
    assert res.exit_code == 1 and "--csv" in res.stderr
    assert not ok_out.exists()  # checked before drawing: no half of the outputs
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "msg"),
    [
        (["--out", "m.jpg"], "--out must end in .png or .svg"),
        (["--out", "m.png", "--metric", "pixels"], "--metric must be one of"),
        (["--out", "m.png", "--scale", "sqrt"], "--scale must be log or linear"),
        (["--out", "m.png", "--modality", "xray"], "unknown modality"),
    ],
)
def test_bad_options(cli, tmp_path, args, msg):
    args = [str(tmp_path / a) if a.startswith("m.") else a for a in args]
    res = cli("map", *args)
    assert res.exit_code == 2 and msg in res.stderr


def test_antimeridian_fixed():
    """Russia, Fiji, Kiribati: no ring may jump across the map (which draws a band over the world)."""
    from curate.geo.world import load_world

    w = load_world()
    for geom in w.geometry:
        polys = geom.geoms if hasattr(geom, "geoms") else [geom]
        for p in polys:
            xs = [x for x, _ in p.exterior.coords]
            assert max(abs(b - a) for a, b in zip(xs, xs[1:])) < 180
    assert not math.isnan(w[w.alpha3 == "RUS"].geometry.iloc[0].area)
    assert {"BRA", "NOR", "USA", "SGP"} <= set(w.alpha3)


def test_help_stays_light():
    import subprocess
    import sys

    code = ("import sys, curate.cli; heavy = [m for m in ('geopandas', 'matplotlib', 'pandas', 'shapely') "
            "if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_compact_svg_keeps_geometry():
    """Rounded path data denote the same points within 0.05 pt; implicit linetos replace `L`."""
    from curate.geo.map import compact_svg

    src = '<path id="a" d="M 42.000218 -225.568252 \nL 42.106914 -231.011768 \nL 0.04 7 \nz\n"/>'
    out = compact_svg(src)
    assert out == '<path id="a" d="M 42 -225.6 42.1 -231 0 7 z"/>'
    pts = [float(x) for x in out.split(' d="')[1].rstrip('"/>').replace("M", "").replace("z", "").split()]
    orig = [42.000218, -225.568252, 42.106914, -231.011768, 0.04, 7]
    assert all(abs(a - b) <= 0.05 for a, b in zip(pts, orig))
    # after a curve an explicit L stays (bare pairs would repeat the curve command)
    curve = '<path d="M 0 0 Q 1 1 2 2 L 3 3 L 4 4 z"/>'
    assert compact_svg(curve) == '<path d="M 0 0 Q 1 1 2 2 L 3 3 4 4 z"/>'
