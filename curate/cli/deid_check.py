"""``curate deid-check``: burned-in identifiers in pixels (OCR), optionally scored against an answer key."""

from __future__ import annotations

from pathlib import Path

import typer

from curate.output import Measure, say, say_json


def deid_check_cmd(
    folder: Path = typer.Argument(..., metavar="DIR", help="Folder of DICOM / PNG / JPEG files (recursive)."),
    out: Path = typer.Option(..., "--out", "-o", metavar="OUT",
                             help="New folder for pixels.json, pixels.md, files.csv, boxes.csv, skipped.csv "
                                  "and gallery/."),
    answers: Path = typer.Option(None, "--answers", metavar="FILE",
                                 help="Answer key in the MIDI-B layout (SQLite table answer_data, or it as "
                                      "CSV): score %% correct actions for headers and pixels."),
    uid_map: Path = typer.Option(None, "--uid-map", metavar="FILE",
                                 help="CSV id_old,id_new: the UIDs the de-identification changed (MIDI-B "
                                      "uid_mapping_file)."),
    key_file: Path = typer.Option(None, "--key-file", metavar="FILE",
                                  help="Pseudonym key for the file ids (as curate scan)."),
    context: str = typer.Option("", "--context", help="Pseudonym namespace (as curate scan)."),
    workers: int = typer.Option(None, "--workers", help="Processes running OCR (default: all cores)."),
    all_files: bool = typer.Option(False, "--all-files",
                                   help="Check every file (default: first, middle and last of each "
                                        "cross-sectional series; every burn-in-prone file)."),
    no_gallery: bool = typer.Option(False, "--no-gallery", help="Do not write the masked review gallery."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """OCR the frames of DIR for burned-in text and match it against each file's own header values.

    Writes counts, pseudonymised file ids and box coordinates only: no recognised text is written or
    printed. Needs Debian's tesseract-ocr.
    """
    from curate.cli._common import progress_bar
    from curate.report.pixels import deid_check

    with progress_bar() as progress:
        res = deid_check(folder, out, answers=answers, uid_map=uid_map, key_file=key_file, context=context,
                         workers=workers, sample=not all_files, gallery=not no_gallery, progress=progress)
    _print(res, out, as_json)


def _print(res, out: Path, as_json: bool) -> None:
    """The console summary: counts of files and frames (``Measure``: they count files, not people) and the
    answer-key score; never a recognised text."""
    s = res.summary
    if as_json:
        say_json({"summary": s, "score": res.score})
        return
    v = s["verdicts"]

    def n(x: int) -> Measure:
        return Measure(x, ",")

    say("deid-check: {checked} files checked ({frames} frames, {pre} skipped by the pre-filter): "
        "{ident} with identifiers in pixels, {text} with other text, {clean} clean; "
        "{skipped} skipped (skipped.csv)",
        checked=n(s["files_checked"]), frames=n(s["frames_checked"]), pre=n(s["frames_skipped_by_prefilter"]),
        ident=n(v["identifier"]), text=n(v["text"]), clean=n(v["clean"]), skipped=n(s["files_skipped"]))
    for flag, k in sorted(s["burned_in_annotation"].items()):
        say("BurnedInAnnotation {flag}: {k} files", flag=flag, k=n(k))
    if s["frames_downsampled"]:
        say("{k} frames were larger than the size bound and were downsampled before OCR",
            k=n(s["frames_downsampled"]))
    if res.score:
        for g in ("headers", "pixels"):
            d = res.score.get(g)
            if d and d["percent_correct"] is not None:
                say("answer key, {g}: {pct} % correct actions ({passed} of {total})", g=g,
                    pct=Measure(d["percent_correct"], ".2f"), passed=n(d["passed"]),
                    total=n(d["passed"] + d["failed"]))
        r = res.score.get("residual_phi_recall")
        if r is not None:
            say("residual-PHI recall: {r}", r=Measure(r, ".3f"))
    say("wrote {out}/ (pixels.json, pixels.md, files.csv, boxes.csv, skipped.csv, gallery/)", out=str(out))


def register(app: typer.Typer) -> None:
    app.command("deid-check")(deid_check_cmd)
