"""``curate build-card ID|--all``: datasheet, Hugging Face dataset card and Croissant RAI record."""

from __future__ import annotations

from pathlib import Path

import typer


def build_card_cmd(
    dataset_id: str = typer.Argument(None, metavar="ID",
                                     help="Dataset id or alias (case-insensitive); omit with --all."),
    all_: bool = typer.Option(False, "--all", help="Build every catalog dataset into --out DIR/<ID>/ "
                              "(default cards/) plus an index.md."),
    metadata: Path = typer.Option(None, "--meta", metavar="FILE",
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
    embeddings: str = typer.Option(None, "--embeddings", "-e", metavar="EMB", rich_help_panel="Curation",
                                   help="Embeddings (.parquet/.npy) of the metadata's images: adds a "
                                        "Curation section (duplicates, leakage, clusters as attribute "
                                        "proxies)."),
    split_col: str = typer.Option(None, "--split-col", metavar="COL", rich_help_panel="Curation",
                                  help="Split column (default: the metadata's split role)."),
    patient_col: str = typer.Option(None, "--patient-col", metavar="COL", rich_help_panel="Curation",
                                    help="Patient column (default: the metadata's patient role)."),
    meta_id_col: str = typer.Option(None, "--id-col", metavar="COL", rich_help_panel="Curation",
                               help="Metadata column matching the embedding ids (default: the image role)."),
    emb_id_col: str = typer.Option("id", "--emb-id-col", metavar="COL", rich_help_panel="Curation",
                                   help="Id column of parquet embeddings."),
    threshold: float = typer.Option(0.95, "--threshold", "-t", rich_help_panel="Curation",
                                    help="Duplicate if cosine similarity >= this, in (0, 1]."),
    method: str = typer.Option("auto", "--method", rich_help_panel="Curation",
                               help="Dedup search: auto | exact | ivf | semantic."),
    k: str = typer.Option(None, "--k", rich_help_panel="Curation",
                          help="Level-1 clusters, or one k per level (default: sqrt(n/2), 2 to 100)."),
    levels: int = typer.Option(1, "--levels", rich_help_panel="Curation",
                               help="Hierarchical k-means levels."),
    attr: str = typer.Option(None, "--attr", metavar="COLS", rich_help_panel="Curation",
                             help="Attributes to test clusters against: columns or roles, e.g. sex,camera "
                                  "(default: the demographic, device and site columns)."),
    sample: Path = typer.Option(None, "--sample", metavar="FILE", rich_help_panel="Curation",
                                help="Output of `curate sample`: report its per-split counts."),
    seed: int = typer.Option(0, "--seed", rich_help_panel="Curation", help="Seed of k-means and dedup."),
    inspect: Path = typer.Option(None, "--inspect", metavar="DIR",
                                 help="Output folder of `curate inspect`: adds a Known issues section."),
    overlap: Path = typer.Option(None, "--overlap", metavar="FILE",
                                 help="summary.json of `curate overlap` naming this dataset (--id A=ID): "
                                      "adds the section Overlap with other datasets."),
) -> None:
    """Write datasheet.md/.html, README.md (hub card) and croissant.json for a catalog dataset.

    With --embeddings the curation engine runs once on them and the cards get a Curation section.
    """
    _check_target(dataset_id, all_, one=metadata is not None or bool(column) or embeddings is not None
                  or inspect is not None or overlap is not None)
    from curate.pipeline.curation import curation_options

    options = curation_options(embeddings, threshold=threshold, method=method, k=k, levels=levels, attrs=attr,
                               split_col=split_col, patient_col=patient_col, meta_id_col=meta_id_col,
                               emb_id_col=emb_id_col, sample=sample, seed=seed)
    if all_:
        from curate.cards.build import DEFAULT_GALLERY, build_all
        from curate.output import Measure, say, say_json

        target = out if out is not None else DEFAULT_GALLERY
        builds = build_all(target, catalog_dir=catalog_dir, overwrite=not no_overwrite)
        if as_json:
            say_json({"out": str(target), "datasets": {k: str(b.out) for k, b in builds.items()}})
        else:
            say("wrote {n} cards and index.md to {target}/", n=Measure(len(builds)), target=str(target))
        return
    from curate.cards.build import build_card

    build = build_card(dataset_id, metadata=metadata, out=out, columns=column or None,
                       catalog_dir=catalog_dir, overwrite=not no_overwrite, embeddings=embeddings,
                       curation=options, inspect=inspect, overlap=overlap)
    _print_build(build, as_json)


def _check_target(dataset_id: str | None, all_: bool, *, one: bool) -> None:
    """ID or --all (one of them); the per-dataset inputs only with an ID."""
    from curate.errors import UsageError

    if all_ and dataset_id:
        raise UsageError("give a dataset ID or --all, not both")
    if not all_ and not dataset_id:
        raise UsageError("give a dataset ID (see `curate catalog list`) or --all")
    if all_ and one:
        raise UsageError("--metadata, --column, --embeddings, --inspect and --overlap apply to one dataset; "
                         "they cannot be used with --all")


def _print_build(build, as_json: bool) -> None:
    from curate.output import Count, Measure, say, say_json

    if as_json:
        say_json({"out": str(build.out), "files": {k: str(p) for k, p in build.paths.items()}})
        return
    names = ", ".join(p.name for p in build.paths.values())
    say("wrote {out}/: {names}", out=str(build.out), names=names)
    if build.composition is not None:
        c = build.composition
        say("measured {n} images from {src} ({k} small cells suppressed)", n=Count(c.n_images),
            src=c.source, k=Measure(c.suppressed_cells))
    if build.curation is not None:
        _print_curation(build.curation)
    if build.known_issues is not None:
        say("known issues: {n} issue type(s) from {src}", n=Measure(len(build.known_issues.rows)),
            src=build.known_issues.source)


def _print_curation(cur) -> None:
    """One line per finding of the Curation section (counts only), through the exit gate."""
    from curate.output import Counts, Measure, Shown, protect_leakage, say

    s = cur.dedup.summary
    say("curation: {pairs} duplicate pairs (cosine >= {t}, {m}), {r} of {n} images removed by dedup",
        pairs=Measure(s["pairs"], ","), t=Measure(s["threshold"], "g"), m=s["method"],
        r=Measure(s["removed"], ","), n=Measure(s["n"], ","))
    if cur.leakage is not None:
        lk = protect_leakage(cur.leakage.summary)
        if "patients" in lk:
            say("curation: {c} duplicate pairs cross splits, {p} patients in several splits",
                c=Measure(lk["cross_split_pairs"], ","), p=Shown(lk["patients"]["in_multiple_splits"]))
        else:
            say("curation: {c} duplicate pairs cross splits", c=Measure(lk["cross_split_pairs"], ","))
    say("curation: k-means k={ks}", ks=",".join(map(str, cur.clusters.ks)))
    for r in (cur.evaluation or {}).get("attributes", {}).values():
        say("  - {v}", v=r["verdict"])
    if cur.sample is not None:
        say("curation: sample {name}: {counts} images", name=cur.sample["name"],
            counts=Counts(cur.sample["images"], protected=True, item="{label} {count}"))


def register(app: typer.Typer) -> None:
    app.command("build-card")(build_card_cmd)
