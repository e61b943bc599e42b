"""The policy report: one self-contained HTML page (or Markdown) on where medical-imaging data comes from.

Everything shown is computed here once (``report_context``) from the same tables as ``curate map``
(:mod:`curate.pipeline.geo`); the templates only lay it out. The HTML page makes no external request:
the map and charts are matplotlib SVG inlined, the sorting script is inline, links are plain anchors.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curate.catalog.store import catalog_hash
from curate.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from curate.catalog.store import Catalog

FORMATS = ("html", "md")
SUFFIXES = {"html": (".html", ".htm"), "md": (".md", ".markdown")}
TEMPLATES = Path(__file__).resolve().parent / "templates"


#: Year of the populations behind "images per million inhabitants".
POPULATION_YEAR = 2020


def _num(v: Any) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _rows(table, *, label_col: str = "group") -> list[dict]:
    from curate.pipeline.geo import suppress_column

    records = table.to_dict(orient="records")
    patients = suppress_column([_num(r["patients"]) for r in records])  # the one disclosure layer
    out = []
    for r, p in zip(records, patients):
        out.append({"label": r[label_col], "datasets": int(r["datasets"]), "images": _num(r["images"]),
                    "patients": p, "share": _num(r["share"])})
    return out


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
    """Every number of the report, computed once (templates only format them)."""
    from curate._io import sha256_file
    from curate._version import __version__
    from curate.geo.map import map_svg, multinational_note
    from curate.pipeline.geo import (
        GROUPING_LABELS,
        GROUPING_SOURCES,
        INCOME_ORDER,
        concentration,
        country_table,
        describe_source,
        group_table,
        load_entries,
    )
    from curate.pipeline.report import compute_context

    entries, cat = load_entries(from_file=from_file, modality=modality, collection=collection,
                                catalog=catalog)
    split = split_multinational
    ctable = country_table(entries, split=split)
    n_datasets = sum(e.weight for e in entries)
    images = [e.images for e in entries if e.images is not None]
    patients = [e.patients for e in entries if e.patients is not None]
    total_images = float(sum(images))
    multi = [e for e in entries if e.is_multi]
    note = multinational_note(entries, split=split)
    lineage = None
    if cat is not None:  # derived datasets: each image counted once (curate.catalog.lineage)
        from curate.catalog.lineage import lineage_short, lineage_summary

        note = " ".join(x for x in (note, lineage_short(cat)) if x)
        lineage = lineage_summary(cat)
    source = describe_source(from_file, modality, None, collection, n_datasets)

    groups = []
    for by in ("continent", "un_region", "income_group", "north_south"):
        rows = _rows(group_table(entries, by, split=split))
        if by == "income_group":
            order = {g: i for i, g in enumerate(INCOME_ORDER)}
            rows.sort(key=lambda r: order.get(r["label"], len(order)))
        groups.append({"key": by, "title": GROUPING_LABELS[by], "source": GROUPING_SOURCES[by], "rows": rows})
    country_rows = _rows(ctable, label_col="country")
    for r, a3 in zip(country_rows, ctable["alpha3"]):
        r["alpha3"] = a3
    from curate.pipeline.report import POPULATION_NOTE, per_million

    dens = per_million({r["alpha3"]: r["images"] for r in country_rows if r["alpha3"]}, POPULATION_YEAR)
    for r in country_rows:  # images per million inhabitants (UN WPP 2024); None: no population figure
        r["per_million"] = dens.get(r["alpha3"])
    conc = concentration(ctable)
    top3 = [r["label"] for r in country_rows if r["label"] != "Multinational"][:3]

    charts = []
    if fmt == "html":
        charts = [_bar_svg(groups[0]["rows"], "Share of images by continent"),
                  _bar_svg(groups[2]["rows"], "Share of images by World Bank income group"),
                  _bar_svg(groups[3]["rows"], "Share of images: Global North / South")]
    svg = map_svg(ctable, metric="images", scale="log", note=note, subtitle=source,
                  figsize=(11.0, 6.4))

    documentation = ophthalmic = None
    if cat is not None:
        from curate.pipeline.geo import parse_modalities
        from curate.report.ophthalmic import is_ophthalmic, khan_comparison
        from curate.report.sections import _catalog_sections, _dataset_rows, _documentation, _searches

        extra = _catalog_sections(cat, total_images)
        documentation = _documentation(cat)
        if is_ophthalmic(parse_modalities(modality)):
            ophthalmic = khan_comparison(cat)
        datasets = _dataset_rows(cat)
        data_hash = catalog_hash(cat)
        hash_label = "catalog hash (sha256 of record hashes)"
    else:
        extra = None
        from curate.pipeline.geo import suppress_column

        shown = suppress_column([e.patients for e in entries])
        datasets = [{"id": e.key, "name": e.key, "url": None, "modality": "", "images": e.images,
                     "patients": p, "access": "", "licence": "", "demographics": "",
                     "language": "", "source": {"text": Path(from_file).name, "url": None},
                     "countries": ", ".join(e.countries) or ("Multinational" if e.is_multi else "")}
                    for e, p in zip(entries, shown)]
        data_hash = sha256_file(from_file)
        hash_label = "input file sha256"

    return {
        "title": "Geographic representation of public medical-imaging datasets",
        "source": source,
        "from_file": Path(from_file).name if from_file else None,
        "split": split,
        "totals": {"datasets": n_datasets, "images": total_images, "images_reported": len(images),
                   "patients": sum(patients), "patients_reported": len(patients),
                   "countries": int((ctable["country"] != "Multinational").sum()),
                   "multinational_datasets": sum(e.weight for e in multi),
                   "multinational_images": float(sum(e.images or 0 for e in multi))},
        "note": note,
        "lineage": lineage,
        "map_svg": svg,
        "charts": charts,
        "countries": country_rows,
        "population_note": POPULATION_NOTE.format(year=POPULATION_YEAR),
        "groups": groups,
        "members": _members(cat) if cat is not None else None,
        "concentration": {**conc, "top3": top3},
        "catalog": extra,
        "documentation": documentation,
        "searches": _searches() if cat is not None else None,
        "ophthalmic": ophthalmic,
        "datasets": datasets,
        "compute": compute_context(),
        "provenance": {
            "version": __version__, "hash": data_hash, "hash_label": hash_label,
            "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "command": command or "curate.report.build_report() (Python API)",
        },
    }


def _members(cat) -> dict:
    """Datasets *with* a country in each world region (multinational ones under each member's region)."""
    from curate.catalog.stats import member_stats
    from curate.groupings import GROUPING_SOURCES

    rows = member_stats(cat, "world_region").to_dict(orient="records")
    return {"rows": rows, "n": len(cat), "source": GROUPING_SOURCES["world_region"]}


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
