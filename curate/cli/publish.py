"""``curate publish ID``: a hub-ready folder (parquet + card + croissant) and an optional upload."""

from __future__ import annotations

import typer

from curate.cli._common import alias, console, print_json


def publish_cmd(
    dataset_id: str = typer.Argument(..., metavar="ID", help="Catalog dataset id or alias."),
    metadata: str = typer.Option(
        None, "--meta", metavar="FILE",
        help="Per-image metadata: CSV, TSV, parquet or JSON lines (one row per image)."),
    metadata_old: str = typer.Option(None, "--metadata", hidden=True, help="Old spelling of --meta."),
    images: str = typer.Option(
        None, "--images", metavar="DIR", help="Folder with the images (searched recursively)."),
    out: str = typer.Option(..., "--out", "-o", metavar="DIR", help="Output folder (replaced atomically)."),
    column: list[str] = typer.Option(
        None, "--column", "-c", metavar="ROLE=COL",
        help="Set a column's role: image, patient, age, split, label (repeatable), sex, race, ethnicity, "
             "nationality, device, site. Default: inferred from common names."),
    split_col: str = typer.Option(
        None, "--split-col", metavar="COL", help="Use this column's splits as given."),
    patient_col: str = typer.Option(
        None, "--patient-col", metavar="COL", help="Patient id column (published only as a pseudonym)."),
    image_col: str = typer.Option(
        None, "--image-col", metavar="COL",
        help="Column naming each image (path, file name or name without extension)."),
    splits: str = typer.Option(
        "0.8,0.1,0.1", "--splits", metavar="F,F,F",
        help="Patient-level split fractions (train[,validation],test) when there is no split column."),
    seed: int = typer.Option(0, "--seed", help="Seed for the splits."),
    keep_column: list[str] = typer.Option(
        None, "--keep-column", metavar="COL",
        help="Also publish this column, which has no role, as it is (repeatable). It MAY PUBLISH IDENTIFYING "
             "DATA: only the roles' columns are published otherwise."),
    key_file: str = typer.Option(
        None, "--key-file", metavar="FILE",
        help="Secret key of the patient pseudonyms (HMAC-SHA256; 64 hex characters), kept outside --out. "
             "Default: $CURATE_PSEUDONYM_KEY, else ~/.config/curate/pseudonym.key (created on first use)."),
    stratify: str = typer.Option(
        None, "--stratify", metavar="COL", help="Keep this column's balance across splits."),
    keep: str = typer.Option(
        None, "--keep", metavar="FILE",
        help="Dedup keep-list (one image id per line, from curate dedup): publish only these."),
    resplit: bool = typer.Option(
        False, "--resplit",
        help="Discard the metadata's split column and draw patient-level splits (--splits, --stratify)."),
    max_shard_size: str = typer.Option(
        "500MB", "--max-shard-size", help="Largest parquet shard (images' bytes)."),
    card_only: bool = typer.Option(
        False, "--card-only", help="Only the documentation (README.md, croissant.json, datasheet): no data."),
    push: str = typer.Option(
        None, "--push", metavar="REPO_ID", help="Upload to this Hugging Face dataset repo."),
    private: bool = typer.Option(False, "--private", help="Create the hub repository as private."),
    i_have_rights: bool = typer.Option(
        False, "--i-have-rights",
        help="Confirm the structured use_terms of a record whose licence text curate cannot read "
             "(never unlocks credentialed, agreement, ND or built-in terms)."),
    overwrite: bool = typer.Option(
        True, "--overwrite/--no-overwrite", help="Replace an existing output folder."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary."),
    catalog_dir: str = typer.Option(None, "--catalog", metavar="DIR", help="Your own catalog folder."),
) -> None:
    """Build a hub-ready folder (parquet shards with images, dataset card, croissant.json, datasheet)
    and optionally upload it. Credentialed/restricted datasets upload only with --card-only."""
    from curate._paths import check_io
    from curate.publish.folder import publish

    metadata = alias(metadata, metadata_old, "--meta", "--metadata")

    check_io({"--meta": metadata, "--images": images, "--keep": keep, "--catalog": catalog_dir},
             {"--out": out}, folders=["--out"])
    res = publish(
        dataset_id, metadata=metadata, images=images, out=out, columns=column or None, split_col=split_col,
        patient_col=patient_col, image_col=image_col, splits=splits, seed=seed, stratify=stratify, keep=keep,
        resplit=resplit, keep_columns=keep_column or None, key_file=key_file, max_shard_size=max_shard_size,
        card_only=card_only, catalog_dir=catalog_dir,
        overwrite=overwrite, push=push, private=private, i_have_rights=i_have_rights, progress=not as_json,
    )
    if as_json:
        print_json(res.summary())
        return
    from rich.markup import escape
    from rich.table import Table

    for w in res.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(w)}")
    if not res.card_only:
        n = sum(res.splits.values())
        t = Table(title=f"{res.dataset_id}: {n:,} images in {len(res.shards)} shard(s)")
        for col in ("split", "images", "patients"):
            t.add_column(col, justify="left" if col == "split" else "right")
        for name, n in res.splits.items():
            t.add_row(name, f"{n:,}", str(res.patients.get(name, "—")))
        console.print(t)
        console.print(f"splits: {escape(res.split_method)}")
        console.print("features: " + ", ".join(f"{escape(k)}: {escape(v)}" for k, v in res.features.items())
                      + ", image: Image")
        if res.pseudonymised:
            console.print(f"patient ids ('{escape(res.pseudonymised)}') published as pseudonyms in 'patient'")
        if res.identifier_columns:
            console.print("not published (identifiers): " + ", ".join(map(escape, res.identifier_columns)))
        others = [c for c in res.dropped_columns if c not in res.identifier_columns]
        if others:
            console.print("not published (no role; add --keep-column COL to publish one): "
                          + ", ".join(map(escape, others)))
        if res.key_created:
            console.print(f"created the pseudonym key {escape(res.key_created)}: keep it secret and reuse "
                          "it, so the same patient keeps the same pseudonym")
        if res.removed_by_keep is not None:
            console.print(f"keep-list: {res.removed_by_keep:,} of {res.rows_in_metadata:,} images removed")
    files = ("" if res.card_only else "data/, ") + "README.md, croissant.json, datasheet"
    console.print(f"wrote {escape(str(res.out))}/ ({files})")
    if res.push is not None:
        console.print(f"pushed {len(res.push.files)} file(s) to {escape(res.push.url)} "
                      f"in {len(res.push.commits)} commit(s)")


def register(app: typer.Typer) -> None:
    app.command("publish")(publish_cmd)
