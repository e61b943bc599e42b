"""One set of groupings: `catalog stats`, the map's group tables and the report agree on every region."""

from __future__ import annotations

import pandas as pd
import pytest

import curate
from curate.catalog.stats import catalog_stats
from curate.fmt import share
from curate.geo import entries_from_catalog, group_table


@pytest.fixture(scope="module")
def cat():
    return curate.catalog.load()


@pytest.mark.parametrize("by", ["continent", "un_region", "income_group", "north_south"])
def test_stats_and_map_groups_agree(cat, by):
    """Same images and datasets per group in `catalog stats --by X` and the map/report table."""
    stats = catalog_stats(cat, by).set_index("key")
    groups = group_table(entries_from_catalog(cat), by).set_index("group")
    assert set(stats.index) == set(groups.index), by
    for key in stats.index:
        map_images = groups.loc[key, "images"]
        assert int(stats.loc[key, "images"]) == (0 if pd.isna(map_images) else int(map_images)), (by, key)
        assert int(stats.loc[key, "datasets"]) == int(groups.loc[key, "datasets"]), (by, key)


def test_americas_are_separate_everywhere(cat):
    """Brazil is South America and the USA North America in stats (it used to merge them as 'America')."""
    keys = set(catalog_stats(cat, "continent")["key"])
    assert {"North America", "South America"} <= keys
    assert "America" not in keys and "Americas" not in keys


@pytest.mark.parametrize("f, text", [(0.123, "12.3%"), (0.0004, "<0.1%"), (0.00099, "<0.1%"),
                                     (0.001, "0.1%"), (0.0, "0.0%"), (1.0, "100.0%"), (None, "—")])
def test_share_format(f, text):
    assert share(f) == text


def test_share_format_two_digits():
    assert share(0.00004, 2) == "<0.01%"
    assert share(0.5, 2) == "50.00%"


def test_small_shares_never_print_as_zero(cli):
    """A region with a non-zero share of images never prints 0.0% in `catalog stats`."""
    res = cli("catalog", "stats", "--by", "continent")
    assert res.exit_code == 0, res.stderr
    assert "0.0%" not in res.stdout
