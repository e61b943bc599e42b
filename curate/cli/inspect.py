"""``curate inspect``: shortcuts and label issues before training (docs/inspect.md)."""

from __future__ import annotations

import typer

from curate.output import Measure, Shown, say
from curate.pipeline.inspect_gallery import GALLERY_TOP


def register(app: typer.Typer) -> None:
    app.command("inspect")(inspect_cmd)


def inspect_cmd(
    emb: str = typer.Argument(None, metavar="[EMB]", help="Embeddings (.npy, .parquet, shards)."),
    meta: str = typer.Option(None, "--meta", help="Metadata table with the id column (with EMB)."),
    dicom: str = typer.Option(None, "--dicom", metavar="DIR", help="DICOM folder: image quality checks."),
    images: str = typer.Option(None, "--images", metavar="DIR", help="Image folder: CleanVision's checks."),
    out: str = typer.Option(..., "--out", "-o", help="Output folder."),
    label_col: str = typer.Option(None, "--label-col", help="Label column."),
    attributes: str = typer.Option(None, "--attributes", help="Attributes to test: site,camera."),
    patient_col: str = typer.Option(None, "--patient-col", help="Patient column (grouped folds)."),
    annotators: str = typer.Option(None, "--annotators", help="Several annotators' label columns: kappa."),
    checks: str = typer.Option(None, "--checks",
                               help="shortcut,label,outlier,near_duplicate,quality,cleanvision (default: by "
                                    "inputs)."),
    id_col: str = typer.Option("id", "--id-col", help="META's id column."),
    emb_id_col: str = typer.Option(None, "--emb-id-col", help="EMB's id column (default: --id-col)."),
    folds: int = typer.Option(5, "--folds", min=2, help="Patient-grouped cross-validation folds."),
    permutations: int = typer.Option(None, "--permutations", min=1,
                                     help="Permutations (shortcut p-value; default: enough, ≥ 49)."),
    seed: int = typer.Option(0, "--seed"),
    gallery_top: int = typer.Option(GALLERY_TOP, "--gallery-top", min=0, metavar="N",
                                    help="Images per issue type in gallery/ (image folders; 0: none)."),
    key_file: str = typer.Option(None, "--key-file", metavar="FILE", help="Pseudonym key (docs/privacy)."),
) -> None:
    """Look for shortcuts (site/camera readable from embeddings and linked to the label), label issues and
    DICOM image-quality issues (docs/inspect.md)."""
    from curate.pipeline.inspect import run_inspect
    from curate.report.inspect import write_inspect

    report = run_inspect(emb, meta, out, key_file=key_file, gallery_top=gallery_top, label_col=label_col,
                         attributes=attributes, patient_col=patient_col, dicom=dicom, images=images,
                         annotators=annotators, checks=checks, id_col=id_col, emb_id_col=emb_id_col,
                         n_splits=folds, permutations=permutations, seed=seed)
    _print(write_inspect(report, out), out)
    if report.gallery:
        say("gallery: {n} images in {out}/gallery/index.html (a local working file)",
            n=Measure(len(report.gallery)), out=str(out))


def _shown(value) -> Shown:
    """A protected count of summary.json (an int, or its ``{"shown": "<11"}`` marker)."""
    return Shown(value["shown"] if isinstance(value, dict) else value)


def _print(summ: dict, out: str) -> None:
    """Console summary: verdicts per attribute, flagged totals (protected in the summary), nothing per row."""
    if summ.get("synthetic"):
        say("SYNTHETIC DATA: not a real dataset")
    for row in summ.get("shortcut", {}).get("table", []):
        say("shortcut  {a}: {v} (within-label AUC {auc}, p = {p})", a=row["attribute"], v=row["verdict"],
            auc=Measure(row["within_label_auc"], ".2f"), p=Measure(row["permutation_p"], ".3f"))
    lab = summ.get("label")
    if lab is not None and "flagged" in lab["summary"]:
        say("label     suspected label errors: {n}", n=_shown(lab["summary"]["flagged"]))
    for name, what in (("outlier", "outliers (far from other patients' images)"),
                       ("near_duplicate", "images in near-duplicate groups")):
        entry = summ.get(name)
        if entry is not None and "flagged" in entry["summary"]:
            say("{name}  {what}: {n}", name=name.ljust(8), what=what, n=_shown(entry["summary"]["flagged"]))
    for name in ("quality", "cleanvision"):
        for issue, n in summ.get(name, {}).get("flagged_by_issue", {}).items():
            say("{name}  {issue}: {n} image(s)", name=name.ljust(8), issue=issue, n=_shown(n))
    for name, entry in summ.items():
        for text in entry["notes"] if isinstance(entry, dict) and "notes" in entry else ():
            say("note ({name}): {text}", name=name, text=text)
    say("wrote {out}", out=str(out))
