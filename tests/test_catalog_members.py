"""`catalog stats --members`: datasets *with* a country in each region, worked out by hand."""

from __future__ import annotations

import json

import curate
from tests.geo_fixtures import COLLECTION, write_catalog


def test_member_stats_count_multinational_datasets_under_each_member(tmp_path):
    from curate.catalog.stats import member_stats

    cat = curate.catalog.load(write_catalog(tmp_path / "cat")).filter(collection=COLLECTION)
    df = member_stats(cat, "continent").set_index("key")
    # by hand from tests/geo_fixtures.RECORDS: GEO-A, GEO-B in Brazil; GEO-C Norway; GEO-D USA+Canada
    # (multinational); GEO-E no listed country; GEO-F USA
    assert df["datasets"].to_dict() == {"North America": 2, "South America": 2, "Europe": 1,
                                        "Multinational": 1}
    assert df.loc["North America", "single_country"] == 1  # GEO-F; GEO-D lists two countries
    assert df.loc["North America", "countries"] == 2 and df.loc["North America", "images"] == 900
    wr = member_stats(cat, "world_region").set_index("key")
    assert wr.loc["Latin America and the Caribbean", "datasets"] == 2
    assert wr.loc["Northern America", "datasets"] == 2


def test_stats_cli_members_json(tmp_path, cli):
    folder = write_catalog(tmp_path / "cat")
    r = cli("catalog", "stats", "--catalog", folder, "--collection", COLLECTION, "--by", "continent",
            "--members", "--json")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["members"] is True and out["datasets"] == 6
    bad = cli("catalog", "stats", "--by", "modality", "--members")
    assert bad.exit_code == 2 and "--members needs a country grouping" in bad.stderr
