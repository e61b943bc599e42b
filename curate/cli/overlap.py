"""``curate overlap``: which images and patients datasets share, tier by tier; benchmark contamination."""

from __future__ import annotations

from pathlib import Path

import typer

from curate.output import Measure, Shown, say, say_json


def overlap_cmd(
    inputs: list[Path] = typer.Argument(..., metavar="A B [C ...]",
                                        help="Datasets: image folders (PNG/JPEG/TIFF, DICOM, NIfTI), "
                                             "embeddings tables (.npy / .parquet, read as curate dedup) "
                                             "or hub folders written by curate publish. Named A, B, C ... in "
                                             "order."),
    out: Path = typer.Option(..., "--out", "-o", metavar="DIR",
                             help="Output folder (written atomically): summary.json, overlap.md, "
                                  "matrix_images.csv, matrix_patients.csv, pairs.csv, skipped.csv, "
                                  "gallery/."),
    meta: list[str] = typer.Option(None, "--meta", metavar="A=FILE",
                                   help="Metadata table of an input with a patient column (repeatable)."),
    catalog_ids: list[str] = typer.Option(None, "--id", metavar="A=ID",
                                          help="Catalog id naming an input in the outputs (repeatable; "
                                               "default: the letters A, B, ...)."),
    meta_id_col: str = typer.Option(None, "--id-col",
                                    help="Id column in --meta (default: id, image_id, file or path)."),
    patient_col: str = typer.Option(None, "--patient-col",
                                    help="Patient column in --meta (default: patient_id)."),
    emb_id_col: str = typer.Option("id", "--emb-id-col", help="Id column in the embeddings (parquet)."),
    vector_col: str = typer.Option(None, "--vector-col", help="Vector column in parquet (default: auto)."),
    train: str = typer.Option(None, "--train", metavar="A",
                              help="With --eval: the training set (letter or catalog id)."),
    eval_: str = typer.Option(None, "--eval", metavar="B",
                              help="With --train: the eval set; adds contamination.csv and "
                                   "drop_from_eval.csv (a LOCAL file with the eval set's own ids)."),
    tiers: str = typer.Option(None, "--tiers",
                              help="Comma list of bytes, pixels, perceptual, embedding (default: every tier "
                                   "the inputs allow)."),
    threshold: float = typer.Option(0.95, "--threshold", "-t",
                                    help="Tier embedding: cosine similarity in (0, 1] for a candidate pair."),
    max_distance: int = typer.Option(None, "--max-distance",
                                     help="Tier perceptual: hash Hamming distance for a candidate (default: "
                                          "the engine's)."),
    decisions: Path = typer.Option(None, "--decisions", metavar="FILE",
                                   help="decisions.csv saved from the review gallery: pairs marked not-copy "
                                        "are dropped, the others marked."),
    no_gallery: bool = typer.Option(False, "--no-gallery", help="Do not write the review gallery."),
    gallery_size: int = typer.Option(100, "--gallery-size", metavar="N",
                                     help="Pairs shown in gallery/ (strongest tier, then score)."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    device: str = typer.Option("auto", "--device", help="auto | cpu | gpu (FAISS GPU, tier embedding)."),
    dask: str = typer.Option(None, "--dask", metavar="ADDRESS|local",
                             help="Run the search on Dask: 'local' or tcp://host:8786."),
    key_file: Path = typer.Option(None, "--key-file", metavar="FILE",
                                  help="Pseudonym key for the image ids (as curate scan)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Measure which images (and patients) datasets share, tier by tier, with a review gallery.

    Tiers: identical bytes, identical decoded pixels, perceptual copies verified on the pixels, and
    embedding neighbours (candidates for review only). Image ids leave only as keyed pseudonyms.
    """
    from curate.cli._common import progress_bar
    from curate.report.overlap import overlap

    with progress_bar() as progress:
        run = overlap(inputs, out, meta=meta, catalog_ids=catalog_ids, meta_id_col=meta_id_col,
                      patient_col=patient_col, emb_id_col=emb_id_col, vector_col=vector_col, train=train,
                      eval=eval_, tiers=tiers, threshold=threshold, max_distance=max_distance,
                      decisions=decisions, gallery_size=0 if no_gallery else gallery_size, seed=seed,
                      device=device, dask=dask, key_file=key_file, progress=progress)
    if as_json:
        say_json(run.summary, counts=("patients", "eval_patients", "eval_patients_found"))
    else:
        _print(run.summary, out)


def _print(s: dict, out: Path) -> None:
    """Images and pairs are measures (rows of the user's own files); patients arrive protected."""
    for i in s["inputs"]:
        say("{d}: {kind}, {n} images, patients {p}", d=i["dataset"], kind=i["kind"],
            n=Measure(i["images"], ","), p=Shown(i["patients"]))
    by = ", ".join(f"{t} {n:,}" for t, n in s["pairs_by_tier"].items())
    say("overlap: {n} cross-dataset pairs ({by}); {k} unreadable files skipped", n=Measure(s["pairs"], ","),
        by=by, k=Measure(s["skipped"], ","))
    if "decisions" in s:
        d = s["decisions"]
        say("decisions: {x} pairs marked not a copy dropped, {c} confirmed, {u} met no pair",
            x=Measure(d["not_copy"], ","), c=Measure(d["copy"], ","), u=Measure(d["unmatched"], ","))
    c = s.get("contamination")
    if c:
        for r in c["rows"]:
            line = "contamination of {e} by {t} (up to {tier}): {n} eval images ({share} %)"
            tier = r["tiers"] + (" candidates, not copies" if r["tiers"] == "embedding" else "")
            fields = dict(e=c["eval"], t=c["train"], tier=tier, n=Measure(r["eval_images_found"], ","),
                          share=Measure(100 * r["share_of_eval_images"], ".1f"))
            if r.get("eval_patients_found") is not None:
                line += ", {p} eval patients"
                fields["p"] = Shown(r["eval_patients_found"])
            say(line, **fields)
        if "drop_from_eval" in c:
            say("  {n} eval images to drop: {out}/drop_from_eval.csv (LOCAL: the eval set's own ids; never "
                "share it)", n=Measure(c["drop_from_eval"], ","), out=str(out))
    say("wrote {out}/ (summary.json, overlap.md, matrix_images.csv, pairs.csv, gallery/ ...)", out=str(out))


def register(app: typer.Typer) -> None:
    app.command("overlap")(overlap_cmd)
