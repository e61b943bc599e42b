"""``curate catalog stats`` and ``curate catalog coverage``: totals and documentation coverage.

Thin wrappers over :mod:`curate.catalog.stats` and :mod:`curate.cards.coverage`, on the same
``catalog_app`` as the other catalog commands (split out to keep each CLI module short).
"""

from __future__ import annotations

import typer

from curate.cli._common import CatalogDir, catalog_app, load_catalog, print_json


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


def _num(v) -> str:
    """A catalog figure (reported by published sources about whole datasets: counts no one here, so a
    :class:`curate.output.Measure`)."""
    from curate.output import Measure, cell

    return cell("{n}", n=Measure(v, ",")) if isinstance(v, int) else str(v)


def _print_totals(df, total: dict, by: str) -> None:
    from rich import box

    from curate.fmt import share
    from curate.output import Measure, say, say_table, width

    if "name" in df.columns and width() < 100:  # 80-column terminals: the code says enough
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
                vals.append(_num(v))
        rows.append(vals)
    names = [headers.get(col, col) for col in df.columns]
    kw = {}
    for i, col in enumerate(df.columns):
        if col in numeric:  # numbers are never truncated
            width_ = max([len(r[i]) for r in rows] + [len(names[i])])
            kw[names[i]] = {"justify": "right", "no_wrap": True, "min_width": width_}
        else:
            kw[names[i]] = {"no_wrap": True, "overflow": "ellipsis",
                            "max_width": 16 if col == "name" else None}
    say_table(f"Catalog totals by {by}", names, rows, column_kw=kw, box=box.SIMPLE_HEAD, pad_edge=False)
    say("[dim]patients: summed over the datasets whose sources report it ('reporting'); "
        "— when none does[/dim]")
    patients = "not reported" if total["patients"] is None else _num(total["patients"])
    say("Total: {datasets} datasets, {images} images, {patients} patients (in the {reported} datasets whose "
        "sources report it)", datasets=Measure(total["datasets"]), images=Measure(total["images"], ","),
        patients=patients, reported=Measure(total["patients_reported"]))
    if total["lineage"]:
        say("[dim]{lineage}[/dim]", lineage=total["lineage"])


def _print_members(df, by: str, n: int, as_json: bool) -> None:
    if as_json:
        print_json({"by": by, "members": True, "groups": df.to_dict(orient="records"), "datasets": n})
        return
    from rich import box

    from curate.output import Measure, say, say_table

    cols = (("key", by), ("datasets", "datasets"), ("single_country", "single"), ("countries", "countries"),
            ("images", "images"))
    kw = {head: ({"no_wrap": True, "overflow": "ellipsis", "max_width": 32} if col == "key" else
                 {"justify": "right", "no_wrap": True, "min_width": len(head)}) for col, head in cols}
    rows = [[str(r["key"]), *(_num(r[c]) for c, _ in cols[1:])] for r in df.to_dict(orient="records")]
    say_table(f"Datasets with a country in each {by}", [h for _, h in cols], rows, column_kw=kw,
              box=box.SIMPLE_HEAD, pad_edge=False)
    say("[dim]{n} datasets. datasets: with a country in the group (a multinational dataset counts "
        "under every group of its listed countries, so rows add up to more); single: of them, "
        "single-country; images: of those datasets, not split by country (no source does), "
        "a derived set's counted once in its sources. "
        "Multinational: datasets that list no country.[/dim]", n=Measure(n))


@catalog_app.command("coverage")
def coverage(
    as_json: bool = typer.Option(False, "--json"),
    catalog_dir: str = CatalogDir,
) -> None:
    """Per dataset: how many datasheet questions and STANDING Together, TRIPOD+AI and MINIMAR items its
    sources answer."""
    from rich import box

    from curate.cards.coverage import catalog_coverage
    from curate.fmt import share
    from curate.output import Measure, say, say_table

    cov = catalog_coverage(load_catalog(catalog_dir))
    if as_json:
        print_json(cov)
        return
    names = {"datasheet": "datasheet", "standing": "STANDING Together", "tripod_ai": "TRIPOD+AI",
             "minimar": "MINIMAR"}
    cols = ["dataset", *names.values(), "auditable"]
    rows = []
    for r in cov["datasets"]:  # questions a record answers: they count no one (Measure)
        cells = [_num(r[k + "_answered"]) + "/" + _num(r[k + "_total"]) + f" ({share(r[k + '_fraction'])})"
                 for k in names]
        rows.append([r["id"], *cells, "yes" if r["auditable"] else "no"])
    say_table("Documentation coverage (answered with a cited source)", cols, rows,
              right=set(names.values()), column_kw={c: {"no_wrap": True} for c in cols},
              box=box.SIMPLE_HEAD, pad_edge=False)
    if cov["datasets"]:
        n = Measure(len(cov["datasets"]))
        medians = ", ".join(f"{name} {share(cov[f'median_{k}_fraction'])}" for k, name in names.items())
        say("Catalog median: {medians} ({n} datasets)", medians=medians, n=n)
        say("Auditable: {a} of {n} — {rule}.", a=Measure(cov["auditable"]), n=n, rule=cov["audit_rule"])
