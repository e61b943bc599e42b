"""``curate map`` and ``curate report``: thin wrappers over :mod:`curate.geo` and :mod:`curate.report`."""

from __future__ import annotations

import sys

import typer

_METRIC_HELP = "What to map: images, datasets or patients."


def map_cmd(
    out: str = typer.Option(None, "--out", "-o", metavar="FILE", help="Map file: .png or .svg."),
    metric: str = typer.Option("images", "--metric", help=_METRIC_HELP),
    modality: str = typer.Option(None, "--modality", "-m",
                                 help="Only these modalities (e.g. fundus, or fundus,oct)."),
    access: str = typer.Option(None, "--access", "-a", help="Only this access class (e.g. open)."),
    collection: str = typer.Option(None, "--collection", help="e.g. queiroz2025-table1"),
    from_file: str = typer.Option(
        None, "--from", metavar="FILE",
        help="Your own list (CSV/parquet): column country (name, alpha-2/3 or numeric), optional images, "
        "patients, dataset.",
    ),
    scale: str = typer.Option("log", "--scale", help="Colour scale: log or linear."),
    split_multinational: bool = typer.Option(
        False, "--split-multinational",
        help="Spread multinational datasets equally over their listed member countries.",
    ),
    csv: str = typer.Option(None, "--csv", metavar="FILE", help="Also write the per-country table (.csv)."),
) -> None:
    """Choropleth world map of dataset volume per country of origin (offline polygons)."""
    from curate.errors import UsageError, need
    from curate.geo.build import build_map

    if out is None and csv is None:
        raise UsageError("give --out map.png|map.svg (and/or --csv counts.csv)")
    if out is not None:  # the CSV alone needs no extra
        need("geo")
    res = build_map(out, metric=metric, modality=modality, access=access, collection=collection,
                    from_file=from_file, scale=scale, split_multinational=split_multinational, csv=csv)
    countries = int((res.table["country"] != "Multinational").sum())
    written = " and ".join(str(p) for p in (res.out, res.csv) if p is not None)
    from curate.output import Measure, say

    # catalog figures (countries and datasets of published sources) count no one: Measure
    say("wrote {written}: {countries} countries, {datasets} datasets", written=written,
        countries=Measure(countries), datasets=Measure(sum(e.weight for e in res.entries)))
    if res.note:
        say("{note}", note=res.note)


def report_cmd(
    out: str = typer.Option(..., "--out", "-o", metavar="FILE",
                            help="Report file: .html/.htm (html) or .md (md); must match --format."),
    fmt: str = typer.Option(None, "--format", help="html or md (default: from the --out suffix)."),
    from_file: str = typer.Option(None, "--from", metavar="FILE", help="Your own list (CSV/parquet)."),
    modality: str = typer.Option(None, "--modality", "-m",
                                 help="Only these modalities (e.g. fundus,oct: the ophthalmic view)."),
    collection: str = typer.Option(None, "--collection", help="Only this collection."),
    split_multinational: bool = typer.Option(
        False, "--split-multinational", help="Spread multinational datasets over their member countries."
    ),
    inline_map: bool = typer.Option(False, "--inline-map",
                                    help="Markdown only: embed the map in the .md file instead of writing "
                                         "it beside it as NAME-map.svg."),
) -> None:
    """One policy report: self-contained HTML (inline SVG map and charts), or Markdown + its map file."""
    from curate.errors import need

    need("geo")
    from curate.report import write_report
    from curate.report.report import map_file_for

    command = "curate " + " ".join(sys.argv[1:]) if sys.argv and sys.argv[0].endswith("curate") else None
    path = write_report(out, fmt=fmt, from_file=from_file, modality=modality, collection=collection,
                        split_multinational=split_multinational, command=command, inline_map=inline_map)
    linked = path.suffix.lower() in (".md", ".markdown") and not inline_map
    extra = f" and {map_file_for(path)}" if linked else ""
    from curate.output import say

    say("wrote {path}{extra}", path=path, extra=extra)


def register(app: typer.Typer) -> None:
    app.command("map")(map_cmd)
    app.command("report")(report_cmd)
