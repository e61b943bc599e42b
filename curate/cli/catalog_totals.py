"""``curate catalog stats`` and ``curate catalog coverage``: totals and documentation coverage.

Thin wrappers over :mod:`curate.catalog.stats` and :mod:`curate.cards.coverage`, on the same
``catalog_app`` as the other catalog commands (split out to keep each CLI module short).
"""

from __future__ import annotations

import typer

from curate.cli._common import CatalogDir, catalog_app, console, load_catalog, print_json


@catalog_app.command("stats")
def stats(
    by: str = typer.Option("country", "--by", help="country, continent, world_region, un_region, "
                           "income_group, north_south, modality or access (regions as in `curate map`)"),
    modality: str = typer.Option(None, "--modality", "-m"),
    collection: str = typer.Option(None, "--collection", help="e.g. queiroz2025-table1"),
    members: bool = typer.Option(False, "--members", help="Count a multinational dataset under every group "
                                 "of its listed countries (datasets *with* an African country, ...)."),
    as_json: bool = typer.Option(False, "--json"),
    catalog_dir: str = CatalogDir,
) -> None:
    """Image and dataset totals grouped by country, continent, modality or access class."""
    from curate.catalog.stats import member_stats
    from curate.pipeline.catalog import catalog_totals
    from curate.pipeline.geo import parse_modalities

    cat = load_catalog(catalog_dir).filter(modality=parse_modalities(modality), collection=collection)
    if members:
        return _print_members(member_stats(cat, by), by, len(cat), as_json)
    df, total = catalog_totals(cat, by)
    if as_json:
        print_json({"by": by, "groups": df.to_dict(orient="records"), "total": total})
    else:
        _print_totals(df, total, by)


def _print_totals(df, total: dict, by: str) -> None:
    from rich import box
    from rich.table import Table

    from curate.fmt import share

    if "name" in df.columns and console.width < 100:  # 80-column terminals: the code says enough
        df = df.drop(columns="name")
    numeric = ("datasets", "images", "patients", "patients_reported", "image_share")
    headers = {"key": by, "patients_reported": "reporting", "image_share": "share"}
    rows = []
    for row in df.to_dict(orient="records"):
        vals = []
        for col in df.columns:
            v = row[col]
            if col == "image_share":
                vals.append(share(v))
            elif col == "patients" and (v is None or v != v or str(v) == "<NA>"):
                vals.append("—")
            else:
                vals.append(f"{v:,}" if isinstance(v, int) else str(v))
        rows.append(vals)
    t = Table(title=f"Catalog totals by {by}", box=box.SIMPLE_HEAD, pad_edge=False)
    for i, col in enumerate(df.columns):
        if col in numeric:  # numbers are never truncated
            width = max([len(r[i]) for r in rows] + [len(headers.get(col, col))])
            t.add_column(headers.get(col, col), justify="right", no_wrap=True, min_width=width)
        else:
            t.add_column(headers.get(col, col), no_wrap=True, overflow="ellipsis",
                         max_width=16 if col == "name" else None)
    for vals in rows:
        t.add_row(*vals)
    console.print(t)
    console.print("[dim]patients: summed over the datasets whose sources report it ('reporting'); "
                  "— when none does[/dim]")
    patients = "not reported" if total["patients"] is None else f"{total['patients']:,}"
    console.print(f"Total: {total['datasets']} datasets, {total['images']:,} images, {patients} patients "
                  f"(in the {total['patients_reported']} datasets whose sources report it)")
    if total["lineage"]:
        console.print(f"[dim]{total['lineage']}[/dim]", markup=True, highlight=False)


def _print_members(df, by: str, n: int, as_json: bool) -> None:
    if as_json:
        print_json({"by": by, "members": True, "groups": df.to_dict(orient="records"), "datasets": n})
        return
    from rich import box
    from rich.table import Table

    t = Table(title=f"Datasets with a country in each {by}", box=box.SIMPLE_HEAD, pad_edge=False)
    for col, head in (("key", by), ("datasets", "datasets"), ("single_country", "single"),
                      ("countries", "countries"), ("images", "images")):
        if col == "key":
            t.add_column(head, no_wrap=True, overflow="ellipsis", max_width=32)
        else:
            t.add_column(head, justify="right", no_wrap=True, min_width=len(head))
    for r in df.to_dict(orient="records"):
        t.add_row(str(r["key"]), f"{r['datasets']:,}", f"{r['single_country']:,}", f"{r['countries']:,}",
                  f"{r['images']:,}")
    console.print(t)
    console.print(f"[dim]{n} datasets. datasets: with a country in the group (a multinational dataset counts "
                  "under every group of its listed countries, so rows add up to more); single: of them, "
                  "single-country; images: of those datasets, not split by country (no source does), "
                  "a derived set's counted once in its sources. "
                  "Multinational: datasets that list no country.[/dim]")


@catalog_app.command("coverage")
def coverage(
    as_json: bool = typer.Option(False, "--json"),
    catalog_dir: str = CatalogDir,
) -> None:
    """Per dataset: how many datasheet questions and STANDING Together, TRIPOD+AI and MINIMAR items its
    sources answer."""
    from rich import box
    from rich.table import Table

    from curate.cards.coverage import catalog_coverage
    from curate.fmt import share

    cov = catalog_coverage(load_catalog(catalog_dir))
    if as_json:
        print_json(cov)
        return
    t = Table(title="Documentation coverage (answered with a cited source)", box=box.SIMPLE_HEAD,
              pad_edge=False)
    cols = {"datasheet": "datasheet", "standing": "STANDING Together", "tripod_ai": "TRIPOD+AI",
            "minimar": "MINIMAR"}
    for col in ("dataset", *cols.values(), "auditable"):
        t.add_column(col, justify="left" if col in ("dataset", "auditable") else "right", no_wrap=True)
    for r in cov["datasets"]:
        t.add_row(r["id"], *[f"{r[k + '_answered']}/{r[k + '_total']} ({share(r[k + '_fraction'])})"
                             for k in cols], "yes" if r["auditable"] else "no")
    console.print(t)
    if cov["datasets"]:
        medians = ", ".join(f"{name} {share(cov[f'median_{k}_fraction'])}" for k, name in cols.items())
        console.print(f"Catalog median: {medians} ({len(cov['datasets'])} datasets)")
        console.print(f"Auditable: {cov['auditable']} of {len(cov['datasets'])} — {cov['audit_rule']}.",
                      highlight=False)
