"""Curation-engine commands: ``curate dedup`` (+ ``embed``, ``cluster``, ``sample`` in their own sections).

Only typer/rich are imported at module level; numpy, FAISS, pandas and Dask load inside the commands.
"""

from __future__ import annotations

from pathlib import Path

import typer


# ============================================================================================ dedup
def dedup_cmd(
    emb: str = typer.Argument(None, metavar="EMB",
                              help="Embeddings: .npy / .parquet file, glob or folder of shards, or a Hugging "
                                   "Face dataset folder. Omit with --images."),
    out: Path = typer.Option(..., "--out", "-o", metavar="DIR", help="Output folder (written atomically)."),
    threshold: float = typer.Option(0.95, "--threshold", "-t", help="Cosine similarity in (0, 1]."),
    method: str = typer.Option(
        "auto", "--method",
        help="auto | exact | semantic | ivf. exact: every pair (ground truth; fine below ~20,000 vectors or "
             "on a GPU). semantic: k-means clusters with a triangle-inequality band, complete (recall 1) and "
             "fast on clustered embeddings such as real images. ivf: inverted lists (two-level lists of 256 "
             "rows on large inputs), nprobe tuned for --target-recall and the recall bounded on a held-out "
             "sample; for loosely clustered data with many duplicates, and for millions of vectors (falls "
             "back to exact when the bound cannot be certified). auto: exact below 20,000 vectors, else "
             "semantic when its band prunes enough, else ivf; ivf first from 500,000 vectors."),
    device: str = typer.Option("auto", "--device", help="auto | cpu | gpu (FAISS GPU)."),
    meta: Path = typer.Option(None, "--meta", metavar="FILE",
                              help="Metadata (.csv/.tsv/.parquet/.jsonl) with id, split, patient columns: "
                                   "adds leakage.json + leakage_pairs.parquet."),
    split_col: str = typer.Option("split", "--split-col", help="Split column in --meta."),
    patient_col: str = typer.Option(None, "--patient-col",
                                    help="Patient column in --meta (default: patient_id, if present)."),
    images: Path = typer.Option(None, "--images", metavar="DIR",
                                help="Deduplicate an image folder by SHA-256 and perceptual hash instead "
                                     "(ids: relative paths, with or without the extension to match --meta)."),
    max_distance: int = typer.Option(4, "--max-distance",
                                     help="With --images: pHash Hamming distance counted as near-duplicate."),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="With --images: leave out files that cannot be "
                                  "read as images and list them in skipped.csv (as `curate embed "
                                  "--skip-bad`; `curate scan` always lists them)."),
    emb_id_col: str = typer.Option("id", "--emb-id-col",
                                   help="Id column in the embeddings (parquet / dataset)."),
    meta_id_col: str = typer.Option(None, "--id-col",
                                    help="Id column in --meta (default: the --emb-id-col value)."),
    vector_col: str = typer.Option(None, "--vector-col", help="Vector column in parquet (default: auto)."),
    quality_col: str = typer.Option(None, "--quality-col",
                                    help="Column in --meta: keep the highest value of each group."),
    dask: str = typer.Option(None, "--dask", metavar="ADDRESS|local",
                             help="Exact search on Dask: 'local' (LocalCluster) or tcp://host:8786."),
    workers: int = typer.Option(None, "--workers", help="With --dask local: number of workers."),
    seed: int = typer.Option(0, "--seed", help="Random seed (k-means, recall sample)."),
    nlist: int = typer.Option(None, "--nlist", min=1,
                              help="ivf lists / semantic clusters (default about sqrt(n); ivf: n/256 "
                                   "two-level lists once that is 1,024 or more)."),
    nprobe: int = typer.Option(None, "--nprobe", min=1,
                               help="ivf: fix the lists scanned per vector (default: tuned for "
                                    "--target-recall; a fixed value is reported with its recall bound)."),
    neighbors: int = typer.Option(None, "--neighbors", min=1,
                                  help="semantic: compare each cluster with only its N nearest clusters "
                                       "(approximate, recall bounded) instead of the complete band search."),
    target_recall: float = typer.Option(0.99, "--target-recall",
                                        help="ivf: the one-sided 95 percent recall lower bound to "
                                             "certify, in (0, 1)."),
    keep_rule: str = typer.Option("components", "--keep-rule",
                                  help="components: one image per connected group of duplicates; "
                                       "greedy (SemDeDup): best first, drop images within the threshold of a "
                                       "kept one (a chain A~B~C keeps A and C when they are far apart)."),
    gallery: bool = typer.Option(False, "--gallery", help="With --images: write gallery/, the groups as an "
                                 "offline review page that saves decisions.csv (docs/review-gallery)."),
    decisions: Path = typer.Option(None, "--decisions", metavar="FILE", help="A reviewer's decisions.csv: "
                                   "pairs marked not-copy are removed before groups are formed."),
    key_file: Path = typer.Option(None, "--key-file", metavar="FILE", help="Pseudonym key (docs/privacy)."),
) -> None:
    """Find near-duplicates (cosine >= threshold) and train/test leakage; write pairs, groups, keep list."""
    from curate.cli._common import progress_bar
    from curate.report.gallery import dedup_with_gallery

    with progress_bar() as progress:
        run = dedup_with_gallery(
            emb, out, threshold=threshold, method=method, device=device, meta=meta, split_col=split_col,
            patient_col=patient_col, images=images, max_distance=max_distance, emb_id_col=emb_id_col,
            meta_id_col=meta_id_col, vector_col=vector_col, quality_col=quality_col, dask=dask,
            workers=workers, seed=seed, nlist=nlist, nprobe=nprobe, neighbors=neighbors,
            target_recall=target_recall, keep_rule=keep_rule, skip_bad=skip_bad, decisions=decisions,
            gallery=gallery, key_file=key_file, progress=progress)
    from curate.output import protect_leakage

    _print_summary(run.summary, protect_leakage(run.leakage) if run.leakage else None, out, run.key_created)


def _print_summary(s: dict, leak: dict | None, out: Path, key_created: bool = False) -> None:
    """The dedup lines, through the exit gate. Images, vectors, pairs and groups of the user's own files
    are declared :class:`curate.output.Measure` (rows and pairs, not individuals; local like the files);
    patients go through :func:`curate.output.protect_leakage` and are printed as protected counts."""
    from curate.output import Counts, Measure, Shown, say

    def m(key: str, default=None) -> Measure:
        return Measure(s.get(key, default), ",")

    if s.get("method") == "image-hash":
        say("dedup: {n} images, {hash} (max distance {dist}) → {exact} identical-file pairs, {pixel} "
            "pixel-identical pairs, {perc} perceptual pairs", n=m("n"), hash=s["hash"],
            dist=Measure(s["max_distance"]), exact=m("exact_pairs"), pixel=m("pixel_identical_pairs", 0),
            perc=m("perceptual_pairs"))
        if s.get("skipped"):
            say("  skipped {k} unreadable file(s): listed in {out}/skipped.csv", k=m("skipped"), out=str(out))
    else:
        from curate.engine.dedup import describe_recall

        extra = ""
        if "nprobe" in s:
            extra = f", nprobe {s['nprobe']}/{s['nlist']}"
        elif "neighbors" in s:
            extra = f", {s['neighbors']} neighbouring clusters of {s['clusters']}"
        elif "clusters" in s:
            extra = f", {s['clusters']} clusters"
        where = f" on Dask ({s['dask']['workers']} workers)" if "dask" in s else f" on {s['device']}"
        say("dedup: {n} vectors (d={d}), method {method}{where}{extra}, threshold {t}, {recall}", n=m("n"),
            d=Measure(s["d"]), method=s["method"], where=where, extra=extra, t=Measure(s["threshold"], "g"),
            recall=describe_recall(s))
        if "fallback" in s:
            say("  {fallback}: {reason}", fallback=s["fallback"], reason=s.get("fallback_reason", ""))
        say("  {n} pairs", n=m("pairs"))
    if "review" in s:
        r = s["review"]
        say("  review: {a} of {d} decisions applied ({nc} pairs marked not a copy removed, {c} confirmed); "
            "{u} name no pair of this run", a=Measure(r["applied"], ","), d=Measure(r["decisions"], ","),
            nc=Measure(r["not_copy"], ","), c=Measure(r["copy"], ","), u=Measure(r["unmatched"], ","))
    rule = f", keep rule {s['keep_rule']}" if "keep_rule" in s else ""
    say("  {g} duplicate groups{rule}, {r} removed, {k} kept  [{t} s]", g=m("groups"), rule=rule,
        r=m("removed"), k=m("kept"), t=Measure(s["timings"]["total_s"], ".2f"))
    if leak is not None:
        by = ", ".join(f"{k}: {v}" for k, v in leak["cross_split_pairs_by_split"].items()) or "none"
        say("leakage: {n} duplicate pairs cross splits ({by})", n=Measure(leak["cross_split_pairs"], ","),
            by=by)
        if "patients" in leak:  # protected by the gate (protect_leakage); printed through it
            p = leak["patients"]
            by_pair = p["in_multiple_splits_by_split"]
            say("leakage: {n} patients in more than one split ({byp})", n=Shown(p["in_multiple_splits"]),
                byp=Counts(by_pair, protected=True) if by_pair else "none")
    files = ", leakage.json, leakage_pairs.parquet" if leak else ""
    if "gallery" in s:
        files += f", gallery/ ({s['gallery']['groups_shown']:,} of {s['gallery']['groups']:,} groups)"
    say("wrote {out}/ (pairs.parquet, groups.parquet, keep.txt, summary.json{files})", out=out, files=files)
    if key_created:
        say("created a new pseudonym key in curate's config folder (see --key-file): keep it private, and "
            "use it again with --decisions (the gallery's pseudonyms are made with it)")


# ============================================================================ register (all sections)
def register(app: typer.Typer) -> None:
    app.command("dedup")(dedup_cmd)
    # <more engine commands>
