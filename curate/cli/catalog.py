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


#: Marks a listed value that the record itself keeps a conflicting source for.
CONFLICT_MARK = "†"


def _load(catalog_dir: str | None):
    from curate.catalog import load

    return load(catalog_dir)


@catalog_app.command("list")
def list_(
    modality: str = typer.Option(None, "--modality", "-m", help="e.g. fundus, cxr, mammography"),
    country: str = typer.Option(None, "--country", help="name, alpha-2 or alpha-3 (e.g. BRA)"),
    access: str = typer.Option(None, "--access", "-a", help="open, open-noncommercial, credentialed, ..."),
    collection: str = typer.Option(None, "--collection", help="e.g. queiroz2025-table1"),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array of full records."),
    catalog_dir: str = CatalogDir,
) -> None:
    """List datasets as a table (or JSON), optionally filtered."""
    from rich.table import Table

    from curate.catalog.schema import ACCESS_CLASSES
    from curate.errors import UsageError
    from curate.geo.aggregate import parse_modalities

    modality = parse_modalities(modality)
    if access and access.lower() not in ACCESS_CLASSES:
        raise UsageError(f"unknown access class '{access}' (choose from {', '.join(ACCESS_CLASSES)})")
    cat = _load(catalog_dir).filter(modality=modality, country=country, access=access, collection=collection)
    if as_json:
        print_json(cat.records())
        return
    from rich import box

    table = Table(title=f"{len(cat)} datasets", box=box.SIMPLE_HEAD, pad_edge=False)
    one_line = {"no_wrap": True, "overflow": "ellipsis"}
    wide = console.width >= 140  # the name column only where it fits; `show` has everything
    columns = [("ID", {"style": "bold", "no_wrap": True})]
    columns += [("Name", {"max_width": 36, **one_line})] if wide else []
    columns += [("Modality", {"max_width": 14, **one_line}), ("Countries", {"max_width": 16, **one_line}),
                ("Images", {"justify": "right", "no_wrap": True, "min_width": 10}),
                ("Patients", {"justify": "right", "no_wrap": True, "min_width": 9}),
                ("Access", {"min_width": 12, **one_line})]
    narrow = console.width < 100  # 80-column terminals: patients are in `show` and `--json`
    if narrow:
        columns = [c for c in columns if c[0] != "Patients"]
    for col, kw in columns:
        table.add_column(col, **kw)
    flagged = 0
    for ds in cat:

        def mark(text: str, field: str, ds=ds) -> str:
            """Values another source disagrees with carry a dagger (the record keeps them as conflicts)."""
            nonlocal flagged
            if not ds.conflicts_for(field):
                return text
            flagged += 1
            return f"{text} {CONFLICT_MARK}"

        countries = ", ".join(ds.countries.value) or "—"
        if ds.multinational:
            countries = f"multi ({countries})" if ds.countries.value else "multinational"
        row = [ds.id, *([ds.name] if wide else []), mark(", ".join(ds.modalities), "modality"),
               mark(countries, "countries"), mark(fmt_int(ds.n_images), "images"),
               *([] if narrow else [mark(fmt_int(ds.n_patients), "patients")]), mark(ds.access, "licence")]
        table.add_row(*row)
    console.print(table)
    if flagged:
        console.print(f"{CONFLICT_MARK} another source gives a different value (`curate catalog show ID` "
                      "lists both, with their sources)", markup=False, highlight=False)


def _fact_line(ds, field: str) -> str:
    from rich.markup import escape

    fact = ds.fact(field)
    if fact is None and field == "use_terms":
        return (f"{escape(ds.terms.describe())}  "
                f"[dim]— derived from the licence ({escape(ds.cite('licence'))})[/dim]")
    if fact is None:
        return "[dim]Not reported by the source[/dim]"
    v = fact.value
    if field == "use_terms":
        text = escape(v.describe())
    elif isinstance(v, list):
        text = ", ".join(map(str, v)) or "none"
    elif isinstance(v, int):
        text = f"{v:,}"
    else:
        text = str(v)
    if field != "use_terms":
        text = escape(text)
    printed = f' (printed "{escape(fact.as_printed)}")' if fact.as_printed else ""
    conflict = " [yellow]⚠ conflict[/yellow]" if ds.conflicts_for(field) else ""
    return f"{text}{printed}  [dim]— {escape(ds.cite(field))}[/dim]{conflict}"


@catalog_app.command("show")
def show(
    dataset_id: str = typer.Argument(..., metavar="ID", help="Dataset id or alias (case-insensitive)."),
    as_json: bool = typer.Option(False, "--json", help="Print the full record as JSON."),
    catalog_dir: str = CatalogDir,
) -> None:
    """Show one dataset with the source of every figure and any conflicts between sources."""
    from rich.markup import escape
    from rich.table import Table

    from curate.catalog.collections import get_collection
    from curate.catalog.schema import FACT_FIELDS
    from curate.errors import UnknownDatasetError

    cat = _load(catalog_dir)
    try:
        ds = cat.get(dataset_id)
    except UnknownDatasetError:
        col = get_collection(cat.collections, dataset_id)
        if col is None:
            raise
        _show_collection(cat, col, as_json)
        return
    if as_json:
        from curate.publish.guard import decision_for

        rec = ds.record()
        decision = decision_for(ds)
        rec["upload"] = {"images": decision.images, "reason": decision.reason,
                         "terms": (decision.terms or ds.terms).model_dump(),
                         "decided_by": decision.decided_by}
        override = ds.licence_override
        rec["licence_conflict"] = None if override is None else {**override.model_dump(mode="json"),
                                                                 "statement": override.statement()}
        rec["sources"] = {k: ds.reference(k).model_dump(exclude_none=True)
                          for k in dict.fromkeys([f.source for _, f in ds.facts()]
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
    for path, _ in ds.facts():  # schema v2 sections, by dotted path
        if path not in FACT_FIELDS:
            t.add_row(escape(path.replace("_", " ").replace("attributes.", "")), _fact_line(ds, path))
    t.add_row("access", f"{ds.access} (derived from the licence)")
    from curate.publish.guard import decision_for

    decision = decision_for(ds)
    upload = {"allowed": "images may be uploaded", "refused": "card-only (images are never uploaded)",
              "needs-rights": "card-only unless --i-have-rights"}[decision.images]
    t.add_row("hub upload", f"{upload}: {escape(decision.reason)}")
    if ds.licence_override is not None:
        t.add_row("[red]licence conflict[/red]", f"[red]⚠ {escape(ds.licence_override.statement())}[/red]")
    t.add_row("multinational", "yes" if ds.multinational else "no")
    for field in ("institutions", "labels", "language", "collections"):
        val = getattr(ds, field)
        t.add_row(field, escape(", ".join(val)) if val else "[dim]Not reported by the source[/dim]")
    for field in ("url", "doi"):
        t.add_row(field, escape(getattr(ds, field) or "—"))
    console.print(t)
    console.print("\n[bold]Sources[/bold]")
    used = dict.fromkeys([f.source for _, f in ds.facts()] + [c.source for c in ds.conflicts])
    for key in used:
        console.print(f"  \\[{escape(key)}] {escape(ds.reference(key).short())}")
    if ds.conflicts:
        ct = Table(title="Conflicts between sources (the record keeps the first value)")
        for col in ("field", "this record", "other value", "other source", "note"):
            ct.add_column(col)
        for c in ds.conflicts:
            mine = ds.fact(c.field)
            ct.add_row(c.field, escape(str(mine.value if mine else "—")), escape(str(c.value)),
                       escape(c.source + (f", {c.locator}" if c.locator else "")), escape(c.note or ""))
        console.print(ct)
    else:
        console.print("\nConflicts: none recorded")


def _show_collection(cat, col, as_json: bool) -> None:
    """``curate catalog show <collection id>``: stated totals vs totals recomputed from the member rows."""
    from rich.markup import escape
    from rich.table import Table

    members = col.members(cat)
    computed, diffs = col.computed(cat), col.differences(cat)
    used = list(dict.fromkeys([col.source, *(f.source for f in col.totals.values()),
                               *(c.source for c in col.conflicts)]))
    if as_json:
        rec = col.record()
        rec["computed"] = computed
        rec["differences"] = diffs
        rec["members"] = [{"id": ds.id, "name": ds.name, "images": ds.n_images, "patients": ds.n_patients,
                           "countries": list(ds.countries.value), "multinational": ds.multinational,
                           "modality": ds.modalities, "access": ds.access} for ds in members]
        rec["sources"] = {k: col.reference(k).model_dump(exclude_none=True) for k in used}
        print_json(rec)
        return
    where = col.source + (f", {col.locator}" if col.locator else "")
    console.print(f"[bold]{escape(col.id)}[/bold] — {escape(col.title)}  [dim]({escape(where)})[/dim]")
    t = Table(title="Totals: stated by the source vs recomputed from the listed datasets")
    for name, kw in (("quantity", {}), ("stated", {"justify": "right"}), ("stated where", {}),
                     ("sum of rows", {"justify": "right"}), ("difference", {"justify": "right"})):
        t.add_column(name, **kw)
    for name in [n for n in ("datasets", "images", "patients") if n in col.totals or n != "patients"]:
        fact = col.totals.get(name)
        stated = f"{fact.value:,}" if fact else "—"
        src = escape(fact.source + (f", {fact.locator}" if fact.locator else "")) if fact else "not stated"
        diff = f"{diffs[name]:+,}" if name in diffs else "—"
        t.add_row(name, stated, src, f"{computed[name]:,}", diff)
    console.print(t)
    mt = Table(title=f"{len(members)} datasets, in the source's order")
    for name, kw in (("ID", {"style": "bold"}), ("Images", {"justify": "right"}), ("Modality", {}),
                     ("Countries", {}), ("Access", {})):
        mt.add_column(name, **kw)
    for ds in members:
        countries = ", ".join(ds.countries.value)
        if ds.multinational:
            countries = f"multinational ({countries})" if countries else "multinational"
        mt.add_row(escape(ds.id), fmt_int(ds.n_images), ", ".join(ds.modalities), countries, ds.access)
    console.print(mt)
    console.print("\n[bold]Sources[/bold]")
    for key in used:
        console.print(f"  \\[{escape(key)}] {escape(col.reference(key).short())}")
    if col.conflicts:
        ct = Table(title="Conflicts (the record keeps the stated value)")
        for name in ("field", "stated", "other value", "other source", "note"):
            ct.add_column(name)
        for c in col.conflicts:
            mine = col.totals.get(c.field)
            other = f"{c.value:,}" if isinstance(c.value, int) else str(c.value)
            where = escape(c.source + (f", {c.locator}" if c.locator else ""))
            ct.add_row(c.field, f"{mine.value:,}" if mine else "—", escape(other), where,
                       escape(" ".join((c.note or "").split())))
        console.print(ct)
    else:
        console.print("\nConflicts: none recorded")
    if col.notes:
        console.print("\n" + escape(" ".join(col.notes.split())))


@catalog_app.command("validate")
def validate(
    catalog_dir: str = typer.Option(
        None, "--catalog", metavar="DIR", help="Folder to validate (default: the built-in catalog)."
    ),
) -> None:
    """Check catalog files against the schema: exit 0 when valid, else one line per problem and exit 1."""
    from pathlib import Path

    from curate.catalog import builtin_dir, validate_dir
    from curate.catalog.collections import collection_files, validate_collections
    from curate.catalog.store import Catalog, _scan

    folders = [Path(catalog_dir)] if catalog_dir else [builtin_dir()]
    problems = [p for folder in folders for p in validate_dir(folder)]
    for folder in folders:
        # a collection may list built-in datasets as well as the folder's own
        known = [*(_scan(builtin_dir())[0] if folder.resolve() != builtin_dir().resolve() else []),
                 *_scan(folder)[0]]
        problems += validate_collections(folder, Catalog(known))
    if problems:
        for p in problems:
            sys.stdout.write(p + "\n")
        raise typer.Exit(1)
    n = sum(1 for f in folders for _ in [*f.glob("*.yaml"), *f.glob("*.yml")])
    m = sum(len(collection_files(f)) for f in folders)
    console.print(f"ok: {n} catalog files valid" + (f", {m} collection{'s' * (m != 1)}" if m else ""))
    from curate.catalog.store import schema_notes

    for folder in folders:
        for line in schema_notes(folder):
            console.print(f"note: {line}")


def register(app: typer.Typer) -> None:
    from curate.cli import catalog_totals  # noqa: F401  (registers `catalog stats` and `catalog coverage`)

    app.add_typer(catalog_app, name="catalog")
