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

GROUPINGS: tuple[str, ...] = ("country", "continent", "world_region", "un_region", "income_group",
                               "north_south")
GROUPING_LABELS = {
    "country": "Country",
    "continent": "Continent",
    "world_region": "World region (UN M49, Americas split)",
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
    "world_region": "UN M49 regions (Africa, Asia, Europe, Oceania) with the Americas split into its M49 "
    "intermediate regions Latin America and the Caribbean / Northern America (country_converter "
    "'UNregion')",
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


_WORLD_OF_M49 = {
    **dict.fromkeys(("Northern Africa", "Western Africa", "Eastern Africa", "Middle Africa",
                     "Southern Africa"), "Africa"),
    **dict.fromkeys(("South America", "Central America", "Caribbean"), "Latin America and the Caribbean"),
    "Northern America": "Northern America",
    **dict.fromkeys(("Eastern Asia", "South-eastern Asia", "Southern Asia", "Western Asia", "Central Asia"),
                    "Asia"),
    **dict.fromkeys(("Northern Europe", "Western Europe", "Southern Europe", "Eastern Europe"), "Europe"),
    **dict.fromkeys(("Australia and New Zealand", "Melanesia", "Micronesia", "Polynesia"), "Oceania"),
}


def world_region(alpha3: str) -> str:
    """UN M49 region with the Americas split (``MEX`` → ``Latin America and the Caribbean``)."""
    return _WORLD_OF_M49.get(un_region(alpha3), NOT_CLASSIFIED)


_GROUP_FUNCS = {"continent": continent, "world_region": world_region, "un_region": un_region,
                "income_group": income_group, "north_south": north_south}


def group_of(alpha3: str, by: str) -> str:
    """The group of one country under a grouping (``country`` returns the code itself)."""
    if by == "country":
        return alpha3
    if by not in _GROUP_FUNCS:
        raise UsageError(f"grouping must be one of {', '.join(GROUPINGS)} (got '{by}')")
    return _GROUP_FUNCS[by](alpha3)


#: Khan et al. 2021's seven world regions (ophthalmic datasets), as printed, from UN M49 sub-regions.
#: Iran (M49: Southern Asia) is put with the Middle East, as that region's name says; Central Asia and
#: Oceania are in none of the seven and are reported as "other".
KHAN_REGIONS: tuple[str, ...] = ("Europe", "southeast or east Asia", "North America",
                                 "north Africa and the Middle East", "south Asia", "Latin America",
                                 "sub-Saharan Africa")
_KHAN_OF_M49 = {
    "Northern Europe": "Europe", "Western Europe": "Europe", "Southern Europe": "Europe",
    "Eastern Europe": "Europe", "Eastern Asia": "southeast or east Asia",
    "South-eastern Asia": "southeast or east Asia", "Northern America": "North America",
    "Northern Africa": "north Africa and the Middle East", "Western Asia": "north Africa and the Middle East",
    "Southern Asia": "south Asia", "South America": "Latin America", "Central America": "Latin America",
    "Caribbean": "Latin America", "Western Africa": "sub-Saharan Africa",
    "Eastern Africa": "sub-Saharan Africa", "Middle Africa": "sub-Saharan Africa",
    "Southern Africa": "sub-Saharan Africa",
}
KHAN_OTHER = "other (Central Asia, Oceania)"


def khan_region(alpha3: str) -> str:
    """The Khan et al. 2021 region of a country (``IRN`` → ``north Africa and the Middle East``)."""
    if alpha3 == "IRN":
        return "north Africa and the Middle East"
    return _KHAN_OF_M49.get(un_region(alpha3), KHAN_OTHER)
