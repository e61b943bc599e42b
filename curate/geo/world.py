"""Offline world polygons: the vendored world-atlas 2.0.2 TopoJSON (Natural Earth 1:50m, ISC licence).

No network: the file ships inside the package (``curate/geo/data``). Each polygon carries its ISO 3166-1
numeric code, which we turn into alpha-3 with pycountry so it joins the catalog's country codes.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

DATA_DIR = Path(__file__).resolve().parent / "data"
WORLD_FILE = DATA_DIR / "countries-50m.json"
#: Shown under every map (the licence asks for attribution of the polygons).
ATTRIBUTION = "Boundaries: Natural Earth via world-atlas 2.0.2 (ISC)"


def numeric_to_alpha3(code: object) -> str | None:
    """ISO 3166-1 numeric (``"076"``, ``76``) → alpha-3 (``"BRA"``); ``None`` for missing/unknown codes."""
    import pycountry

    if code is None or (isinstance(code, float) and code != code):
        return None
    text = str(code).strip()
    if not text.isdigit():
        return None
    c = pycountry.countries.get(numeric=text.zfill(3))
    return c.alpha_3 if c else None


def _unwrap_ring(coords: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Make longitudes continuous along a ring (a jump of more than 180° is a crossing of ±180°)."""
    out = [coords[0]]
    shift = 0.0
    for (x0, _y0), (x1, y1) in zip(coords, coords[1:]):
        if x1 - x0 > 180:
            shift -= 360
        elif x0 - x1 > 180:
            shift += 360
        out.append((x1 + shift, y1))
    return out


def fix_antimeridian(geom):
    """Split polygons that cross ±180° (TopoJSON stores them as spherical rings).

    Read as planar shapes they would draw a band across the whole map (Russia, Fiji, Kiribati, the
    Aleutians): unwrap each ring's longitudes, then cut the shape at ±180° and shift the outer pieces back.
    """
    from shapely.affinity import translate
    from shapely.geometry import MultiPolygon, Polygon, box
    from shapely.ops import unary_union

    polys = list(geom.geoms) if isinstance(geom, MultiPolygon) else [geom]
    rings = [list(p.exterior.coords) for p in polys]
    if not any(abs(b[0] - a[0]) > 180 for r in rings for a, b in zip(r, r[1:])):
        return geom
    pieces = []
    for p in polys:
        shell = _unwrap_ring(list(p.exterior.coords))
        holes = [_unwrap_ring(list(r.coords)) for r in p.interiors]
        q = Polygon(shell, holes).buffer(0)
        for lo, dx in ((-540, 360), (-180, 0), (180, -360)):
            part = q.intersection(box(lo, -90, lo + 360, 90))
            pieces += [translate(x, xoff=dx) for x in _polygonal(part)]
    return unary_union(pieces)


def _polygonal(geom) -> list:
    """The polygon parts of a clipping result (cutting at ±180° can also leave stray edge lines)."""
    if geom.is_empty:
        return []
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return [geom]
    return [p for g in getattr(geom, "geoms", []) for p in _polygonal(g)]


@lru_cache(maxsize=1)
def _world() -> gpd.GeoDataFrame:
    from curate.errors import require

    gpd = require("geopandas", "geo")
    world = gpd.read_file(WORLD_FILE, layer="countries")
    world = world.set_crs("EPSG:4326", allow_override=True)
    world["alpha3"] = [numeric_to_alpha3(v) for v in world["id"]]
    world["geometry"] = [fix_antimeridian(g) for g in world.geometry]
    return world[["alpha3", "name", "geometry"]]


def load_world(*, antarctica: bool = False) -> gpd.GeoDataFrame:
    """Country polygons with columns ``alpha3`` (None for a few disputed areas), ``name``, ``geometry``.

    Antarctica is dropped by default: it takes a sixth of a world map and holds no imaging data.
    """
    world = _world().copy()
    if not antarctica:
        world = world[world["alpha3"] != "ATA"]
    return world.reset_index(drop=True)
