"""The policy report: one self-contained HTML page (or Markdown) on where medical-imaging data comes from.

Everything shown is computed once by :func:`curate.pipeline.report.gather_report` from the same tables as
``curate map`` (:mod:`curate.pipeline.geo`); ``report_context`` lays it out beside the drawn map and charts,
and the templates only format it. The HTML page makes no external request:
the map and charts are matplotlib SVG inlined, the sorting script is inline, links are plain anchors.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curate.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from curate.catalog.store import Catalog

FORMATS = ("html", "md")
SUFFIXES = {"html": (".html", ".htm"), "md": (".md", ".markdown")}
TEMPLATES = Path(__file__).resolve().parent / "templates"


def _bar_svg(rows: list[dict], title: str, *, value: str = "share") -> str:
    """A small horizontal bar chart (image share per group) as inline SVG."""
    import matplotlib

    from curate.fmt import share

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    rows = [r for r in rows if r[value] is not None][:12]
    fig = Figure(figsize=(6.4, 0.42 * max(len(rows), 2) + 0.9), layout="constrained")
    ax = fig.add_subplot()
    labels = [r["label"] for r in rows][::-1]
    vals = [100 * r[value] for r in rows][::-1]
    bars = ax.barh(labels, vals, color="#3b6e8f")
    for b, v in zip(bars, vals):
        ax.text(b.get_width(), b.get_y() + b.get_height() / 2, f" {share(v / 100)}", va="center", fontsize=8)
    ax.set_xlim(0, max(vals + [1]) * 1.18)
    ax.set_xlabel("share of images (%)", fontsize=9)
    ax.set_title(title, fontsize=10, loc="left")
    ax.tick_params(labelsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    from curate.output import figure_bytes

    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "curate"}):
        text = figure_bytes(fig, "svg", where=title, metadata={"Date": None}).decode("utf-8")
    return text[text.find("<svg"):]


def report_context(*, from_file: str | os.PathLike | None = None, modality: str | None = None,
                   collection: str | None = None, split_multinational: bool = False,
                   catalog: Catalog | None = None, command: str | None = None, fmt: str = "html") -> dict:
    """The template's context: the numbers :func:`curate.pipeline.report.gather_report` computed, laid out
    with the map, the charts and the documentation coverage (the renderer computes nothing)."""
    from curate.geo.map import map_svg
    from curate.pipeline.report import gather_report

    data = gather_report(from_file=from_file, modality=modality, collection=collection,
                         split_multinational=split_multinational, catalog=catalog, command=command)
    charts = []
    if fmt == "html":
        charts = [_bar_svg(data.groups[0]["rows"], "Share of images by continent"),
                  _bar_svg(data.groups[2]["rows"], "Share of images by World Bank income group"),
                  _bar_svg(data.groups[3]["rows"], "Share of images: Global North / South")]
    svg = map_svg(data.country_table, metric="images", scale="log", note=data.note, subtitle=data.source,
                  figsize=(11.0, 6.4))
    return {
        "title": "Geographic representation of public medical-imaging datasets",
        "source": data.source,
        "from_file": data.from_file,
        "split": data.split,
        "totals": data.totals,
        "note": data.note,
        "lineage": data.lineage,
        "map_svg": svg,
        "charts": charts,
        "countries": data.countries,
        "population_note": data.population_note,
        "groups": data.groups,
        "members": data.members,
        "concentration": data.concentration,
        "catalog": data.catalog_sections,
        "documentation": _documentation(data.catalog) if data.catalog is not None else None,
        "searches": data.searches,
        "ophthalmic": data.ophthalmic,
        "datasets": data.datasets,
        "compute": data.compute,
        "provenance": data.provenance,
    }


def _documentation(cat: Catalog) -> dict:
    """Which datasets are documented well enough to audit (``curate catalog coverage``, same counts)."""
    from curate.cards.coverage import catalog_coverage

    cov = catalog_coverage(cat)
    names = {d.id: d.name for d in cat}
    rows = [{"id": r["id"], "name": names[r["id"]],
             "datasheet": f"{r['datasheet_answered']}/{r['datasheet_total']}",
             "datasheet_share": r["datasheet_fraction"],
             "standing": f"{r['standing_answered']}/{r['standing_total']}",
             "auditable": r["auditable"], "missing": ", ".join(r["audit_missing"])}
            for r in cov["datasets"]]
    rows.sort(key=lambda r: (not r["auditable"], -r["datasheet_share"], r["id"]))
    return {"rows": rows, "auditable": cov["auditable"], "n": len(rows), "rule": cov["audit_rule"],
            "median_datasheet": cov["median_datasheet_fraction"],
            "median_standing": cov["median_standing_fraction"]}



def _fmt_int(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if isinstance(v, str):
        return v
    return f"{v:,.0f}"


def _fmt_pct(v: Any, digits: int = 1) -> str:
    from curate.fmt import share

    return share(v, digits)


def _env(fmt: str):
    import jinja2

    from curate.policy.html import jinja_env

    # report.html.j2 is autoescaped (by its name) and links only allow-listed URL schemes (safe_url)
    env = jinja_env(jinja2.FileSystemLoader(TEMPLATES), trim_blocks=True, lstrip_blocks=True,
                    undefined=jinja2.StrictUndefined)
    env.filters["int"] = _fmt_int
    env.filters["pct"] = _fmt_pct
    env.filters["num"] = lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else v
    return env


#: First bytes of a map file written beside a Markdown report: only such a file is ever replaced.
MAP_HEADER = '<?xml version="1.0" encoding="utf-8" standalone="no"?>\n<!-- curate report map -->\n'


def map_file_for(out: str | os.PathLike) -> Path:
    """Where a Markdown report's map goes: ``report.md`` → ``report-map.svg`` beside it."""
    out = Path(out)
    return out.with_name(f"{out.stem}-map.svg")


def build_report(*, fmt: str = "html", map_link: str | None = None, **kwargs) -> str:
    """The report as a string (``fmt`` html or md); other keywords as :func:`report_context`.

    HTML inlines the SVG map. Markdown links the map file ``map_link`` (written beside the report by
    :func:`write_report`); with ``map_link=None`` it inlines the map as a data URI instead, which makes the
    Markdown file about as large as the SVG.
    """
    return _build(fmt=fmt, map_link=map_link, **kwargs)[0]


def _build(*, fmt: str, map_link: str | None, **kwargs) -> tuple[str, str]:
    """``(text, map_svg)``: the report and the map it shows, from one context."""
    if fmt not in FORMATS:
        raise UsageError(f"--format must be html or md (got '{fmt}')")
    ctx = report_context(fmt=fmt, **kwargs)
    if fmt == "md":
        if map_link is None:
            import base64

            ctx["map_data_uri"] = "data:image/svg+xml;base64," + base64.b64encode(
                ctx["map_svg"].encode("utf-8")).decode("ascii")
        else:
            ctx["map_data_uri"] = map_link
    ctx["sort_script"] = SORT_SCRIPT
    return _env(fmt).get_template(f"report.{fmt}.j2").render(**ctx), ctx["map_svg"]


#: The report page's one script (sortable tables). Fixed text, no data; its SHA-256 is allow-listed in
#: :data:`curate.policy.html.ALLOWED_SCRIPTS` (change both together; a test checks they agree).
SORT_SCRIPT = """
(function () {
  "use strict";
  function key(cell) {
    var v = cell.getAttribute("data-value");
    if (v !== null && v !== "" && !isNaN(Number(v))) { return {num: true, v: Number(v)}; }
    return {num: false, v: cell.textContent.trim().toLowerCase()};
  }
  function sortBy(table, col, th) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var asc = th.getAttribute("aria-sort") !== "ascending";
    rows.sort(function (a, b) {
      var x = key(a.cells[col]), y = key(b.cells[col]);
      var r = (x.num && y.num) ? x.v - y.v : String(x.v).localeCompare(String(y.v));
      return asc ? r : -r;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable-table"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      th.addEventListener("click", function () { sortBy(table, i, th); });
    });
  });
  document.body.dataset.ready = "1";
})();
"""


def write_report(out: str | os.PathLike, *, fmt: str | None = None, inline_map: bool = False,
                 **kwargs) -> Path:
    """Check the output path, build the report and write it atomically; returns the path.

    A Markdown report links its map, written beside it as ``<name>-map.svg`` (:func:`map_file_for`);
    ``inline_map=True`` embeds it in the Markdown instead (one file, but a large one).
    """
    from curate._paths import check_io
    from curate.geo.build import check_parent
    from curate.output import write_text

    check_io({"--from": kwargs.get("from_file")}, {"--out": out})
    out = Path(out)
    suffix = out.suffix.lower()
    if fmt is None:
        fmt = "md" if suffix in SUFFIXES["md"] else "html"
    if fmt not in FORMATS:
        raise UsageError(f"--format must be html or md (got '{fmt}')")
    if suffix not in SUFFIXES[fmt]:  # report.txt, or --format md with report.html, would mislead
        raise UsageError(f"--out for a {fmt} report must end in {' or '.join(SUFFIXES[fmt])} (got '{out}')")
    check_parent(out, "--out")
    if out.is_dir():
        raise UsageError(f"--out '{out}' is a folder; give a file name such as report.{fmt}")
    map_file = map_file_for(out) if fmt == "md" and not inline_map else None
    text, svg = _build(fmt=fmt, map_link=map_file.name if map_file else None, **kwargs)
    if map_file is not None:
        if map_file.exists() and not map_file.read_bytes().startswith(MAP_HEADER.encode()):
            raise UsageError(f"'{map_file}' exists and was not written by `curate report`; choose another "
                             "--out, or pass --inline-map")
        write_text(map_file, MAP_HEADER + svg)
    return write_text(out, text)
