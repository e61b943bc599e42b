"""Choropleth world map of dataset volume per country (geopandas + matplotlib, Agg backend, offline).

Design choices for a policy audience:

* "No data" (no dataset from that country, or none that reports the metric) is hatched light grey and named
  in the legend; a reported 0 gets its own white swatch, so absence is never mistaken for zero.
* Multinational datasets are not silently dropped: a text box on the figure states their count and volume
  (or, with ``split``, that they were divided equally among their listed member countries).
* Equal Earth projection (areas are comparable) and a log colour scale by default (volumes span 4–5 orders
  of magnitude, a linear scale would show one dark country and a pale world).
"""

from __future__ import annotations

import io
import math
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from curate.catalog.stats import MULTINATIONAL
from curate.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure

SCALES = ("log", "linear")
FORMATS = (".png", ".svg")
NO_DATA_COLOUR = "#e3e3e3"
NO_DATA_EDGE = "#a8a8a8"
ZERO_COLOUR = "#ffffff"
CMAP = "viridis_r"
METRIC_LABELS = {"images": "Images", "datasets": "Datasets", "patients": "Patients"}
EQUAL_EARTH = "+proj=eqearth +lon_0=0 +datum=WGS84 +units=m +no_defs"


def human(n: float) -> str:
    """12_345_678 → ``12.3M``; small numbers stay whole."""
    n = float(n)
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= div:
            return f"{n / div:.3g}{suffix}"
    return f"{n:.0f}" if n == int(n) else f"{n:.2g}"


def _check_out(out: str | os.PathLike | None) -> str | None:
    if out is None:
        return None
    suffix = Path(out).suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(f"--out must end in .png or .svg (got '{Path(out).name}')")
    return suffix


def map_figure(table: pd.DataFrame, *, metric: str = "images", scale: str = "log", title: str | None = None,
               subtitle: str | None = None, note: str = "", simplify: float | None = None,
               figsize: tuple[float, float] = (12.0, 7.0)) -> Figure:
    """Build the choropleth figure from a :func:`curate.pipeline.geo.country_table` table."""
    from curate.errors import require

    require("geopandas", "geo")
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib import colors
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter

    from curate.geo.world import ATTRIBUTION, load_world

    if metric not in METRIC_LABELS:
        raise UsageError(f"--metric must be one of {', '.join(METRIC_LABELS)} (got '{metric}')")
    if scale not in SCALES:
        raise UsageError(f"--scale must be log or linear (got '{scale}')")

    world = load_world()
    if simplify:
        world["geometry"] = world.geometry.simplify(simplify, preserve_topology=True)
    world = world.to_crs(EQUAL_EARTH)
    values = {a: float(v) for a, v, c in zip(table["alpha3"], table[metric], table["country"])
              if c != MULTINATIONAL and v is not None and not (isinstance(v, float) and math.isnan(v))
              and str(v) != "<NA>"}
    world["value"] = [values.get(a, math.nan) if a else math.nan for a in world["alpha3"]]
    has = world["value"].notna()
    zero = has & (world["value"] == 0)
    pos = has & (world["value"] > 0)

    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.add_subplot()
    ax.set_axis_off()
    _globe(world.crs).plot(ax=ax, color="#f3f7fa", edgecolor="#9aa7b0", linewidth=0.6)
    world[~has].plot(ax=ax, color=NO_DATA_COLOUR, edgecolor=NO_DATA_EDGE, linewidth=0.25, hatch="////")
    if zero.any():
        world[zero].plot(ax=ax, color=ZERO_COLOUR, edgecolor="#555555", linewidth=0.4)
    cmap = matplotlib.colormaps[CMAP]
    vmax = max(values.values(), default=1.0) or 1.0
    positives = [v for v in values.values() if v > 0]
    if scale == "log":
        vmin = min(positives, default=1.0)
        if vmin >= vmax:
            vmin = vmax / 10
        norm: colors.Normalize = colors.LogNorm(vmin=vmin, vmax=vmax)
    else:
        norm = colors.Normalize(vmin=0, vmax=vmax)
    if pos.any():
        world[pos].plot(ax=ax, column="value", cmap=cmap, norm=norm, edgecolor="#333333", linewidth=0.3)
    # colour bar (always drawn, so the legend reads the same with one country or many)
    sm = matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap)
    label = f"{METRIC_LABELS[metric]} per country ({'log' if scale == 'log' else 'linear'} scale)"
    cbar = fig.colorbar(sm, ax=ax, orientation="horizontal", fraction=0.045, pad=0.02, shrink=0.55,
                        aspect=40)
    cbar.set_label(label, fontsize=10)
    cbar.ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: human(v)))
    handles = [Patch(facecolor=NO_DATA_COLOUR, edgecolor=NO_DATA_EDGE, hatch="////",
                     label="No data (no dataset, or metric not reported)")]
    if zero.any():
        handles.append(Patch(facecolor=ZERO_COLOUR, edgecolor="#555555", label="0 (reported)"))
    ax.legend(handles=handles, loc="lower left", fontsize=9, frameon=True, framealpha=0.9)
    total = sum(values.values())
    title = title or f"{METRIC_LABELS[metric]} in public medical-imaging datasets, by country of origin"
    fig.suptitle(title, fontsize=14, fontweight="bold")
    sub = subtitle or ""
    mapped = f"{len(values)} countries with data; {human(total)} {metric} mapped"
    ax.set_title(f"{sub + ' — ' if sub else ''}{mapped}", fontsize=10, color="#333333")
    if note:
        import textwrap

        note = "\n".join(textwrap.fill(line, 95) for line in note.splitlines())
        ax.text(0.995, 0.02, note, transform=ax.transAxes, ha="right", va="bottom", fontsize=8.5, wrap=True,
                bbox={"boxstyle": "round,pad=0.4", "facecolor": "#fff8e1", "edgecolor": "#c9a227"})
    fig.text(0.995, 0.003, ATTRIBUTION, ha="right", va="bottom", fontsize=7, color="#777777")
    return fig


def _globe(crs, south: float = -58.0):
    """The outline of the projected world (lon ±180°, lat ``south``..90°) as a one-row GeoSeries."""
    import geopandas as gpd
    import numpy as np
    from shapely.geometry import Polygon

    lats = np.linspace(south, 90, 80)
    lons = np.linspace(-180, 180, 160)
    ring = ([(-180, y) for y in lats] + [(x, 90) for x in lons] + [(180, y) for y in lats[::-1]]
            + [(x, south) for x in lons[::-1]])
    return gpd.GeoSeries([Polygon(ring)], crs="EPSG:4326").to_crs(crs)


#: Default polygon simplification for SVG output, in degrees (the 1:50m polygons make a 2.3 MB SVG).
SVG_SIMPLIFY = 0.2
_NUMBER = re.compile(r"-?\d+\.\d+")
_PATH_DATA = re.compile(r'(\sd=")([^"]*)"')


def compact_svg(text: str) -> str:
    """Round path coordinates to 0.1 pt and drop redundant ``L`` commands (an implicit lineto follows).

    At the figure's 864 × 504 pt a tenth of a point is far below what a screen or a printer shows, and the
    file shrinks to a fraction: an SVG map in a report should not weigh megabytes.
    """
    def fix(m: re.Match) -> str:
        body = _NUMBER.sub(lambda x: f"{float(x.group()):.1f}".rstrip("0").rstrip("."), m.group(2))
        out, last = [], ""
        for tok in body.split():
            if tok.isalpha():
                # bare pairs repeat the previous command, and after M or L that is a lineto; after a curve
                # (Q, C) an `L` must stay
                if tok == "L" and last in ("M", "L"):
                    continue
                last = tok
            out.append(tok)
        return f'{m.group(1)}{" ".join(out)}"'

    return _PATH_DATA.sub(fix, text)


def _save(fig: Figure, target, fmt: str) -> None:
    """Render through the exit gate (:func:`curate.output.figure_bytes`: every text of the map checked)."""
    import matplotlib

    from curate.output import figure_bytes, write_bytes, write_text

    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "curate"}):
        if fmt == ".svg":
            text = compact_svg(figure_bytes(fig, "svg", where="map", metadata={"Date": None}).decode("utf-8"))
            if isinstance(target, io.StringIO):
                target.write(text)
            else:
                write_text(target, text, atomic=False)
        else:
            data = figure_bytes(fig, "png", where="map", dpi=150, metadata={"Software": "curate"})
            write_bytes(target, data, atomic=False)


def save_map(table: pd.DataFrame, out: str | os.PathLike, **kwargs) -> Path:
    """Draw and write the map to ``out`` (``.png`` or ``.svg``) atomically; returns the path."""
    from curate._io import atomic_file

    fmt = _check_out(out)
    if fmt == ".svg":
        kwargs.setdefault("simplify", SVG_SIMPLIFY)
    fig = map_figure(table, **kwargs)
    with atomic_file(out) as tmp:
        _save(fig, tmp, fmt or ".png")
    return Path(out)


def map_svg(table: pd.DataFrame, **kwargs) -> str:
    """The map as an SVG string (XML prolog removed) for inlining in an HTML page."""
    kwargs.setdefault("simplify", SVG_SIMPLIFY)
    fig = map_figure(table, **kwargs)
    buf = io.StringIO()
    _save(fig, buf, ".svg")
    text = buf.getvalue()
    start = text.find("<svg")
    return text[start:] if start >= 0 else text
