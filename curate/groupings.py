"""The one set of country groupings used by ``catalog stats``, the map, its CSV, the report and the cards.

Why one module: the same catalog must never show the Americas merged in one output and split in another.

* continent: country_converter's ``Continent_7`` (North America and South America separate);
* UN region: country_converter's ``UNregion`` (UN M49 sub-regions);
* World Bank income group: FY2026 classification, vendored in ``curate/geo/data/wb_income_fy2026.csv`` (see
  the README there; country_converter carries no income classification);
* Global North / South: UNCTAD's development-status grouping (UNCTADstat "Classifications"): developed
  economies are Northern America and Europe (UN M49), Israel, Japan, the Republic of Korea, Australia and New
  Zealand; every other economy is "developing", reported here as Global South.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from curate.errors import UsageError

GROUPINGS: tuple[str, ...] = ("country", "continent", "un_region", "income_group", "north_south")
GROUPING_LABELS = {
    "country": "Country",
    "continent": "Continent",
    "un_region": "UN region (M49)",
    "income_group": "World Bank income group (FY2026)",
    "north_south": "Global North / South (UNCTAD)",
}
NOT_CLASSIFIED = "Not classified"
NORTH, SOUTH = "Global North", "Global South"
INCOME_ORDER = ("High income", "Upper middle income", "Lower middle income", "Low income", NOT_CLASSIFIED)

#: Source lines printed in the report and the docs next to each grouping.
GROUPING_SOURCES = {
    "continent": "country_converter 'Continent_7' classification",
    "un_region": "UN M49 sub-regions via country_converter 'UNregion'",
    "income_group": "World Bank Country and Lending Groups, FY2026 (1 July 2025), CC BY 4.0",
    "north_south": "UNCTADstat classification of economies by development status: developed = Northern "
    "America and Europe, Israel, Japan, Republic of Korea, Australia, New Zealand (Global North); all "
    "other economies = developing (Global South)",
}

_NORTH_EXTRA = frozenset({"ISR", "JPN", "KOR", "AUS", "NZL"})
_NORTH_REGIONS = frozenset({"Northern America", "Northern Europe", "Western Europe", "Southern Europe",
                            "Eastern Europe"})

def continent(alpha3: str) -> str:
    """Seven-continent name (``BRA`` → ``South America``, ``NOR`` → ``Europe``)."""
    from curate.countries import convert

    return convert(alpha3, "Continent_7")


def un_region(alpha3: str) -> str:
    """UN M49 sub-region (``BRA`` → ``South America``, ``NOR`` → ``Northern Europe``)."""
    from curate.countries import un_region as _un_region

    return _un_region(alpha3)


@lru_cache(maxsize=1)
def _income_table() -> dict[str, str]:
    import csv

    path = Path(__file__).resolve().parent / "geo" / "data" / "wb_income_fy2026.csv"
    with open(path, encoding="utf-8", newline="") as f:
        return {row["alpha3"]: row["income_group"] for row in csv.DictReader(f)}


def income_group(alpha3: str) -> str:
    """World Bank income group, FY2026 (``NOR`` → ``High income``); ``Not classified`` when absent."""
    return _income_table().get(alpha3, NOT_CLASSIFIED)


def north_south(alpha3: str) -> str:
    """``Global North`` for UNCTAD's developed economies, else ``Global South`` (see the module docstring)."""
    if alpha3 in _NORTH_EXTRA or un_region(alpha3) in _NORTH_REGIONS:
        return NORTH
    return SOUTH


_GROUP_FUNCS = {"continent": continent, "un_region": un_region, "income_group": income_group,
                "north_south": north_south}


def group_of(alpha3: str, by: str) -> str:
    """The group of one country under a grouping (``country`` returns the code itself)."""
    if by == "country":
        return alpha3
    if by not in _GROUP_FUNCS:
        raise UsageError(f"grouping must be one of {', '.join(GROUPINGS)} (got '{by}')")
    return _GROUP_FUNCS[by](alpha3)
