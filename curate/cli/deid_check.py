"""``curate deid-check``: burned-in identifiers in pixels (OCR), optionally scored against an answer key."""

from __future__ import annotations

from pathlib import Path

import typer

from curate.cli._common import console, fmt_int, print_json


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
    from curate.cli.engine import _progress_bar
    from curate.report.pixels import deid_check

    with _progress_bar() as progress:
        res = deid_check(folder, out, answers=answers, uid_map=uid_map, key_file=key_file, context=context,
                         workers=workers, sample=not all_files, gallery=not no_gallery, progress=progress)
    _print(res, out, as_json)


def _print(res, out: Path, as_json: bool) -> None:
    """The console summary (counts only)."""
    s = res.summary
    if as_json:
        print_json({"summary": s, "score": res.score})
        return
    v = s["verdicts"]
    console.print(f"deid-check: {fmt_int(s['files_checked'])} files checked ({fmt_int(s['frames_checked'])} "
                  f"frames, {fmt_int(s['frames_skipped_by_prefilter'])} skipped by the pre-filter): "
                  f"{fmt_int(v['identifier'])} with identifiers in pixels, {fmt_int(v['text'])} with other "
                  f"text, {fmt_int(v['clean'])} clean; {fmt_int(s['files_skipped'])} skipped (skipped.csv)")
    for flag, n in sorted(s["burned_in_annotation"].items()):
        console.print(f"BurnedInAnnotation {flag}: {fmt_int(n)} files")
    if s["frames_downsampled"]:
        console.print(f"{fmt_int(s['frames_downsampled'])} frames were larger than the size bound and were "
                      "downsampled before OCR")
    if res.score:
        for g in ("headers", "pixels"):
            d = res.score.get(g)
            if d and d["percent_correct"] is not None:
                console.print(f"answer key, {g}: {d['percent_correct']:.2f} % correct actions "
                              f"({fmt_int(d['passed'])} of {fmt_int(d['passed'] + d['failed'])})")
        r = res.score.get("residual_phi_recall")
        if r is not None:
            console.print(f"residual-PHI recall: {r:.3f}")
    console.print(f"wrote {out}/ (pixels.json, pixels.md, files.csv, boxes.csv, skipped.csv, gallery/)")


def register(app: typer.Typer) -> None:
    app.command("deid-check")(deid_check_cmd)
