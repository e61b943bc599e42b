"""Geographic representation: per-country totals, groupings and choropleth maps (``curate map``).

>>> from curate.geo import country_table, entries_from_catalog, select_catalog
>>> table = country_table(entries_from_catalog(select_catalog(collection="queiroz2025-table1")))

geopandas and matplotlib are imported only when a map is drawn.
"""

from curate.geo.build import build_map
from curate.geo.map import map_figure, map_svg, save_map
from curate.pipeline.geo import (
    GROUPINGS,
    METRICS,
    Entry,
    concentration,
    continent,
    country_table,
    entries_from_catalog,
    entries_from_file,
    group_table,
    income_group,
    north_south,
    select_catalog,
    un_region,
)

__all__ = [
    "GROUPINGS",
    "METRICS",
    "Entry",
    "build_map",
    "concentration",
    "continent",
    "country_table",
    "entries_from_catalog",
    "entries_from_file",
    "group_table",
    "income_group",
    "map_figure",
    "map_svg",
    "north_south",
    "save_map",
    "select_catalog",
    "un_region",
]
