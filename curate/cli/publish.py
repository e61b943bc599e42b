"""``curate publish ID``: a hub-ready folder (parquet + card + croissant) and an optional upload."""

from __future__ import annotations

import typer


def publish_cmd(
    dataset_id: str = typer.Argument(..., metavar="ID", help="Catalog dataset id or alias."),
    metadata: str = typer.Option(
        None, "--meta", metavar="FILE",
        help="Per-image metadata: CSV, TSV, parquet or JSON lines (one row per image)."),
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
    from curate.publish.folder import publish

    res = publish(
        dataset_id, metadata=metadata, images=images, out=out, columns=column or None, split_col=split_col,
        patient_col=patient_col, image_col=image_col, splits=splits, seed=seed, stratify=stratify, keep=keep,
        resplit=resplit, keep_columns=keep_column or None, key_file=key_file, max_shard_size=max_shard_size,
        card_only=card_only, catalog_dir=catalog_dir,
        overwrite=overwrite, push=push, private=private, i_have_rights=i_have_rights, progress=not as_json,
    )
    _print_result(res, as_json)


def _print_result(res, as_json: bool) -> None:
    from curate.output import Count, Measure, Shown, say, say_json, say_table, warn

    if as_json:
        say_json(res.summary(), counts=("splits", "patients", "patients_across_splits"))
        return
    for w in res.warnings:
        warn("{w}", w=w)
    if not res.card_only:
        from curate.pipeline.publish import shown_splits

        rows = [[name, Shown(n_im), Shown(n_p) if res.patients else "—"]
                for name, (n_im, n_p) in shown_splits(res).items()]
        say_table(f"{res.dataset_id}: {sum(res.splits.values()):,} images in {len(res.shards)} shard(s)",
                  ["split", "images", "patients"], rows, right={"images", "patients"})
        say("splits: {m}", m=res.split_method)
        say("features: {f}, image: Image", f=", ".join(f"{k}: {v}" for k, v in res.features.items()))
        if res.pseudonymised:
            say("patient ids ('{c}') published as pseudonyms in 'patient'", c=res.pseudonymised)
        if res.identifier_columns:
            say("not published (identifiers): {c}", c=", ".join(res.identifier_columns))
        others = [c for c in res.dropped_columns if c not in res.identifier_columns]
        if others:
            say("not published (no role; add --keep-column COL to publish one): {c}", c=", ".join(others))
        if res.key_created:
            say("created the pseudonym key {k}: keep it secret and reuse it, so the same patient keeps the "
                "same pseudonym", k=res.key_created)
        if res.removed_by_keep is not None:
            say("keep-list: {n} of {m} images removed", n=Count(res.removed_by_keep, of=res.rows_in_metadata),
                m=Count(res.rows_in_metadata))
    files = ("" if res.card_only else "data/, ") + "README.md, croissant.json, datasheet"
    say("wrote {out}/ ({files})", out=str(res.out), files=files)
    if res.push is not None:
        say("pushed {n} file(s) to {url} in {c} commit(s)", n=Measure(len(res.push.files)), url=res.push.url,
            c=Measure(len(res.push.commits)))


def register(app: typer.Typer) -> None:
    app.command("publish")(publish_cmd)
