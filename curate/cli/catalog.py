"""``curate catalog list|show|validate|stats``."""

from __future__ import annotations

import typer

from curate.cli._common import CatalogDir, catalog_app, load_catalog, print_json

#: Marks a listed value that the record itself keeps a conflicting source for.
CONFLICT_MARK = "†"


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
    from curate.pipeline.catalog import list_datasets

    cat = list_datasets(catalog_dir, modality=modality, country=country, access=access, collection=collection)
    if as_json:
        print_json(cat.records())
    else:
        _print_list(cat)


def _num(value, fmt: str = ",") -> str:
    """A catalog figure as shown: numbers reported by published sources about whole datasets count no one
    here (declared as :class:`curate.output.Measure`); "—" when the source gives none."""
    from curate.output import Measure, cell

    return "—" if value is None else cell("{n}", n=Measure(value, fmt))


def _print_list(cat) -> None:
    from rich import box

    from curate.output import Measure, cell, say, say_table, width

    one_line = {"no_wrap": True, "overflow": "ellipsis"}
    wide = width() >= 140  # the name column only where it fits; `show` has everything
    columns = [("ID", {"style": "bold", "no_wrap": True})]
    columns += [("Name", {"max_width": 36, **one_line})] if wide else []
    columns += [("Modality", {"max_width": 14, **one_line}), ("Countries", {"max_width": 16, **one_line}),
                ("Images", {"justify": "right", "no_wrap": True, "min_width": 10}),
                ("Patients", {"justify": "right", "no_wrap": True, "min_width": 9}),
                ("Access", {"min_width": 12, **one_line})]
    narrow = width() < 100  # 80-column terminals: patients are in `show` and `--json`
    if narrow:
        columns = [c for c in columns if c[0] != "Patients"]
    flagged = 0
    rows = []
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
        rows.append([ds.id, *([ds.name] if wide else []), mark(", ".join(ds.modalities), "modality"),
                     mark(countries, "countries"), mark(_num(ds.n_images), "images"),
                     *([] if narrow else [mark(_num(ds.n_patients), "patients")]),
                     mark(ds.access, "licence")])
    say_table(cell("{n} datasets", n=Measure(len(cat))), [c for c, _ in columns], rows,
              column_kw=dict(columns), box=box.SIMPLE_HEAD, pad_edge=False)
    if flagged:
        say("{mark} another source gives a different value (`curate catalog show ID` lists both, with their "
            "sources)", mark=CONFLICT_MARK)

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
        text = _num(v)
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
    from curate.catalog.collections import get_collection
    from curate.errors import UnknownDatasetError

    cat = load_catalog(catalog_dir)
    try:
        ds = cat.get(dataset_id)
    except UnknownDatasetError:
        col = get_collection(cat.collections, dataset_id)
        if col is None:
            raise
        _show_collection(cat, col, as_json)
        return
    if as_json:
        from curate.pipeline.catalog import dataset_record

        print_json(dataset_record(ds))
    else:
        _print_dataset(ds)


def _print_dataset(ds) -> None:
    from rich.markup import escape

    from curate.catalog.schema import FACT_FIELDS
    from curate.output import say, say_table

    say("[bold]{id}[/bold] — {name}", id=ds.id, name=ds.name)
    if ds.description:
        say("{text}", text=ds.description.strip())
    rows = [[field.replace("_", " "), _fact_line(ds, field)] for field in FACT_FIELDS]
    for path, _ in ds.facts():  # schema v2 sections, by dotted path
        if path not in FACT_FIELDS:
            label = "derived from (stated)" if path == "derived_from" else path.replace("_", " ")
            rows.append([escape(label.replace("attributes.", "")), _fact_line(ds, path)])
    for o in ds.overlaps or []:  # measured lineage: what a measurement found, never a stated source
        rows.append(["overlaps (measured)",
                     f"{escape(o.describe())}  [dim]— evidence {escape(o.evidence)}[/dim]"])
    rows.append(["access", f"{ds.access} (derived from the licence)"])
    from curate.pipeline.guard import decision_for

    decision = decision_for(ds)
    upload = {"allowed": "images may be uploaded", "refused": "card-only (images are never uploaded)",
              "needs-rights": "card-only unless --i-have-rights"}[decision.images]
    rows.append(["hub upload", f"{upload}: {escape(decision.reason)}"])
    if ds.licence_override is not None:
        statement = escape(ds.licence_override.statement())
        rows.append(["[red]licence conflict[/red]", f"[red]⚠ {statement}[/red]"])
    rows.append(["multinational", "yes" if ds.multinational else "no"])
    for field in ("institutions", "labels", "language", "collections"):
        val = getattr(ds, field)
        rows.append([field, escape(", ".join(val)) if val else "[dim]Not reported by the source[/dim]"])
    for field in ("url", "doi"):
        rows.append([field, escape(getattr(ds, field) or "—")])
    say_table(None, ["field", "value"], rows, markup=True, column_kw={"field": {"style": "bold"}},
              show_header=False, box=None, pad_edge=False)
    say("\n[bold]Sources[/bold]")
    used = dict.fromkeys([f.source for _, f in ds.facts()] + [c.source for c in ds.conflicts])
    for key in used:
        say("  \\[{key}] {ref}", key=key, ref=ds.reference(key).short())
    if ds.conflicts:
        rows = []
        for c in ds.conflicts:
            mine = ds.fact(c.field)
            rows.append([c.field, escape(str(mine.value if mine else "—")), escape(str(c.value)),
                         escape(c.source + (f", {c.locator}" if c.locator else "")), escape(c.note or "")])
        say_table("Conflicts between sources (the record keeps the first value)",
                  ["field", "this record", "other value", "other source", "note"], rows, markup=True)
    else:
        say("\nConflicts: none recorded")

def _show_collection(cat, col, as_json: bool) -> None:
    """``curate catalog show <collection id>``: stated totals vs totals recomputed from the member rows."""
    from rich.markup import escape

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
    from curate.output import Measure, cell, say, say_table

    where = col.source + (f", {col.locator}" if col.locator else "")
    say("[bold]{id}[/bold] — {title}  [dim]({where})[/dim]", id=col.id, title=col.title, where=where)
    names = [n for n in ("datasets", "images", "patients") if n in col.totals or n != "patients"]
    rows = []
    for name in names:  # totals printed by the source (a paper's table): catalog figures, Measure
        fact = col.totals.get(name)
        src = escape(fact.source + (f", {fact.locator}" if fact.locator else "")) if fact else "not stated"
        rows.append([name, _num(fact.value if fact else None), src, _num(computed[name]),
                     _num(diffs[name], "+,") if name in diffs else "—"])
    say_table("Totals: stated by the source vs recomputed from the listed datasets",
              ["quantity", "stated", "stated where", "sum of rows", "difference"], rows, markup=True,
              right={"stated", "sum of rows", "difference"})
    rows = []
    for ds in members:
        countries = ", ".join(ds.countries.value)
        if ds.multinational:
            countries = f"multinational ({countries})" if countries else "multinational"
        rows.append([escape(ds.id), _num(ds.n_images), ", ".join(ds.modalities), countries, ds.access])
    say_table(cell("{n} datasets, in the source's order", n=Measure(len(members))),
              ["ID", "Images", "Modality", "Countries", "Access"], rows, markup=True, right={"Images"},
              column_kw={"ID": {"style": "bold"}})
    say("\n[bold]Sources[/bold]")
    for key in used:
        say("  \\[{key}] {ref}", key=key, ref=col.reference(key).short())
    if col.conflicts:
        rows = []
        for c in col.conflicts:
            mine = col.totals.get(c.field)
            other = _num(c.value) if isinstance(c.value, int) else str(c.value)
            where = escape(c.source + (f", {c.locator}" if c.locator else ""))
            rows.append([c.field, _num(mine.value if mine else None), escape(other), where,
                         escape(" ".join((c.note or "").split()))])
        say_table("Conflicts (the record keeps the stated value)",
                  ["field", "stated", "other value", "other source", "note"], rows, markup=True)
    else:
        say("\nConflicts: none recorded")
    if col.notes:
        say("\n{notes}", notes=" ".join(col.notes.split()))

@catalog_app.command("validate")
def validate(
    catalog_dir: str = typer.Option(
        None, "--catalog", metavar="DIR", help="Folder to validate (default: the built-in catalog)."
    ),
) -> None:
    """Check catalog files against the schema: exit 0 when valid, else one line per problem and exit 1."""
    from curate.output import Measure, say, say_plain
    from curate.pipeline.catalog import validate_catalog

    problems, n, m, notes = validate_catalog(catalog_dir)
    if problems:
        for p in problems:
            say_plain("{problem}", problem=p)  # one line a script may parse
        raise typer.Exit(1)
    more = f", {m} collection{'s' * (m != 1)}" if m else ""  # catalog files count no one: Measure
    say("ok: {n} catalog files valid{more}", n=Measure(n), more=more)
    for line in notes:
        say("note: {line}", line=line)


def register(app: typer.Typer) -> None:
    from curate.cli import (
        catalog_overlap,  # noqa: F401  (registers `catalog add-overlap`)
        catalog_totals,  # noqa: F401  (registers `catalog stats` and `catalog coverage`)
    )

    app.add_typer(catalog_app, name="catalog")
