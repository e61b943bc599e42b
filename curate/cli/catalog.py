"""``curate catalog list|show|validate|stats``."""

from __future__ import annotations

import sys

import typer

from curate.cli._common import console, fmt_int, print_json

catalog_app = typer.Typer(
    help="Browse, validate and summarise the sourced dataset catalog.", no_args_is_help=True
)

CatalogDir = typer.Option(
    None, "--catalog", metavar="DIR", help="Your own catalog folder, merged over the built-in one."
)


def _load(catalog_dir: str | None):
    from curate.catalog import load

    return load(catalog_dir)


@catalog_app.command("list")
def list_(
    modality: str = typer.Option(None, "--modality", "-m", help="e.g. fundus, cxr, mammography"),
    country: str = typer.Option(None, "--country", "-c", help="name, alpha-2 or alpha-3 (e.g. BRA)"),
    access: str = typer.Option(None, "--access", "-a", help="open, open-noncommercial, credentialed, ..."),
    collection: str = typer.Option(None, "--collection", help="e.g. queiroz2025-table1"),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array of full records."),
    catalog_dir: str = CatalogDir,
) -> None:
    """List datasets as a table (or JSON), optionally filtered."""
    from rich.table import Table

    from curate.catalog.schema import ACCESS_CLASSES, MODALITIES
    from curate.errors import UsageError

    if modality and modality.lower() not in MODALITIES:
        raise UsageError(f"unknown modality '{modality}' (choose from {', '.join(MODALITIES)})")
    if access and access.lower() not in ACCESS_CLASSES:
        raise UsageError(f"unknown access class '{access}' (choose from {', '.join(ACCESS_CLASSES)})")
    cat = _load(catalog_dir).filter(modality=modality, country=country, access=access, collection=collection)
    if as_json:
        print_json(cat.records())
        return
    table = Table(title=f"{len(cat)} datasets", show_lines=False)
    for col, kw in (("ID", {"style": "bold"}), ("Name", {"max_width": 40}), ("Modality", {}),
                    ("Countries", {}), ("Images", {"justify": "right"}), ("Patients", {"justify": "right"}),
                    ("Access", {})):
        table.add_column(col, **kw)
    for ds in cat:
        countries = ", ".join(ds.countries.value) or "—"
        if ds.multinational:
            countries = f"multinational ({countries})" if ds.countries.value else "multinational"
        table.add_row(ds.id, ds.name, ", ".join(ds.modalities), countries, fmt_int(ds.n_images),
                      fmt_int(ds.n_patients), ds.access)
    console.print(table)


def _fact_line(ds, field: str) -> str:
    fact = getattr(ds, field)
    if fact is None:
        return "[dim]Not reported by the source[/dim]"
    v = fact.value
    if isinstance(v, list):
        text = ", ".join(map(str, v)) or "none"
    elif isinstance(v, int):
        text = f"{v:,}"
    else:
        text = str(v)
    printed = f' (printed "{fact.as_printed}")' if fact.as_printed else ""
    conflict = " [yellow]⚠ conflict[/yellow]" if ds.conflicts_for(field) else ""
    return f"{text}{printed}  [dim]— {ds.cite(field)}[/dim]{conflict}"


@catalog_app.command("show")
def show(
    dataset_id: str = typer.Argument(..., metavar="ID", help="Dataset id or alias (case-insensitive)."),
    as_json: bool = typer.Option(False, "--json", help="Print the full record as JSON."),
    catalog_dir: str = CatalogDir,
) -> None:
    """Show one dataset with the source of every figure and any conflicts between sources."""
    from rich.markup import escape
    from rich.table import Table

    from curate.catalog.schema import FACT_FIELDS

    cat = _load(catalog_dir)
    ds = cat.get(dataset_id)
    if as_json:
        rec = ds.record()
        rec["sources"] = {k: ds.reference(k).model_dump(exclude_none=True)
                          for k in dict.fromkeys([getattr(ds, f).source for f in FACT_FIELDS
                                                  if getattr(ds, f) is not None]
                                                 + [c.source for c in ds.conflicts])}
        print_json(rec)
        return
    console.print(f"[bold]{escape(ds.id)}[/bold] — {escape(ds.name)}")
    if ds.description:
        console.print(escape(ds.description.strip()))
    t = Table(show_header=False, box=None, pad_edge=False)
    t.add_column(style="bold")
    t.add_column()
    for field in FACT_FIELDS:
        t.add_row(field.replace("_", " "), _fact_line(ds, field))
    t.add_row("access", f"{ds.access} (derived from the licence)")
    t.add_row("multinational", "yes" if ds.multinational else "no")
    for field in ("institutions", "labels", "language", "collections"):
        val = getattr(ds, field)
        t.add_row(field, escape(", ".join(val)) if val else "[dim]Not reported by the source[/dim]")
    for field in ("url", "doi"):
        t.add_row(field, escape(getattr(ds, field) or "—"))
    console.print(t)
    console.print("\n[bold]Sources[/bold]")
    used = dict.fromkeys([getattr(ds, f).source for f in FACT_FIELDS if getattr(ds, f) is not None]
                         + [c.source for c in ds.conflicts])
    for key in used:
        console.print(f"  \\[{escape(key)}] {escape(ds.reference(key).short())}")
    if ds.conflicts:
        ct = Table(title="Conflicts between sources (the record keeps the first value)")
        for col in ("field", "this record", "other value", "other source", "note"):
            ct.add_column(col)
        for c in ds.conflicts:
            mine = getattr(ds, c.field)
            ct.add_row(c.field, escape(str(mine.value if mine else "—")), escape(str(c.value)),
                       escape(c.source + (f", {c.locator}" if c.locator else "")), escape(c.note or ""))
        console.print(ct)
    else:
        console.print("\nConflicts: none recorded")


@catalog_app.command("validate")
def validate(
    catalog_dir: str = typer.Option(
        None, "--catalog", metavar="DIR", help="Folder to validate (default: the built-in catalog)."
    ),
) -> None:
    """Check catalog files against the schema: exit 0 when valid, else one line per problem and exit 1."""
    from pathlib import Path

    from curate.catalog import builtin_dir, validate_dir

    folders = [Path(catalog_dir)] if catalog_dir else [builtin_dir()]
    problems = [p for folder in folders for p in validate_dir(folder)]
    if problems:
        for p in problems:
            sys.stdout.write(p + "\n")
        raise typer.Exit(1)
    n = sum(1 for f in folders for _ in [*f.glob("*.yaml"), *f.glob("*.yml")])
    console.print(f"ok: {n} catalog files valid")


@catalog_app.command("stats")
def stats(
    by: str = typer.Option("country", "--by", help="country, continent, modality or access"),
    modality: str = typer.Option(None, "--modality", "-m"),
    collection: str = typer.Option(None, "--collection", help="e.g. queiroz2025-table1"),
    as_json: bool = typer.Option(False, "--json"),
    catalog_dir: str = CatalogDir,
) -> None:
    """Image and dataset totals grouped by country, continent, modality or access class."""
    from rich.table import Table

    from curate.catalog.stats import catalog_stats

    cat = _load(catalog_dir).filter(modality=modality, collection=collection)
    df = catalog_stats(cat, by)
    total = {"datasets": len(cat), "images": int(sum(d.n_images or 0 for d in cat)),
             "patients": int(sum(d.n_patients or 0 for d in cat))}
    if as_json:
        print_json({"by": by, "groups": df.to_dict(orient="records"), "total": total})
        return
    t = Table(title=f"Catalog totals by {by}")
    for col in df.columns:
        t.add_column(col, justify="right" if col in ("datasets", "images", "patients", "image_share") else "left")
    for row in df.itertuples(index=False):
        vals = []
        for col, v in zip(df.columns, row):
            vals.append(f"{v:.1%}" if col == "image_share" else (f"{v:,}" if isinstance(v, int) else str(v)))
        t.add_row(*vals)
    console.print(t)
    console.print(f"Total: {total['datasets']} datasets, {total['images']:,} images")


def register(app: typer.Typer) -> None:
    app.add_typer(catalog_app, name="catalog")
