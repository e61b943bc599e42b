"""``curate build-card ID|--all``: datasheet, Hugging Face dataset card and Croissant RAI record."""

from __future__ import annotations

from pathlib import Path

import typer

from curate.cli._common import console, print_json


def build_card_cmd(
    dataset_id: str = typer.Argument(None, metavar="ID",
                                     help="Dataset id or alias (case-insensitive); omit with --all."),
    all_: bool = typer.Option(False, "--all", help="Build every catalog dataset into --out DIR/<ID>/ "
                              "(default cards/) plus an index.md."),
    metadata: Path = typer.Option(None, "--metadata", "-m", metavar="FILE",
                                  help="Per-image metadata (CSV, TSV or parquet) for measured composition."),
    column: list[str] = typer.Option(None, "--column", "-c", metavar="ROLE=COLUMN",
                                     help="Set a column role (repeatable): patient, image, age, sex, race, "
                                          "ethnicity, nationality, device, site, split, label."),
    out: Path = typer.Option(None, "--out", "-o", metavar="DIR",
                             help="Output folder (default cards/ID, or cards/ with --all)."),
    no_overwrite: bool = typer.Option(False, "--no-overwrite", help="Fail if the output folder exists."),
    catalog_dir: str = typer.Option(None, "--catalog", metavar="DIR",
                                    help="Your own catalog folder, merged over the built-in one."),
    as_json: bool = typer.Option(False, "--json", help="Print the written paths as JSON."),
) -> None:
    """Write datasheet.md/.html, README.md (hub card) and croissant.json for a catalog dataset."""
    from curate.errors import UsageError

    if all_ and dataset_id:
        raise UsageError("give a dataset ID or --all, not both")
    if not all_ and not dataset_id:
        raise UsageError("give a dataset ID (see `curate catalog list`) or --all")
    if all_ and (metadata is not None or column):
        raise UsageError("--metadata and --column apply to one dataset; they cannot be used with --all")
    if all_:
        from curate.cards.build import DEFAULT_GALLERY, build_all

        target = out if out is not None else DEFAULT_GALLERY
        builds = build_all(target, catalog_dir=catalog_dir, overwrite=not no_overwrite)
        if as_json:
            print_json({"out": str(target), "datasets": {k: str(b.out) for k, b in builds.items()}})
        else:
            console.print(f"wrote {len(builds)} cards and index.md to {target}/")
        return
    from curate.cards.build import build_card

    build = build_card(dataset_id, metadata=metadata, out=out, columns=column or None,
                       catalog_dir=catalog_dir, overwrite=not no_overwrite)
    if as_json:
        print_json({"out": str(build.out), "files": {k: str(p) for k, p in build.paths.items()}})
        return
    names = ", ".join(p.name for p in build.paths.values())
    console.print(f"wrote {build.out}/: {names}")
    if build.composition is not None:
        c = build.composition
        console.print(f"measured {c.n_images:,} images from {c.source} ({c.suppressed_cells} small cells "
                      "suppressed)")


def register(app: typer.Typer) -> None:
    app.command("build-card")(build_card_cmd)
