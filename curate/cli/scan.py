"""``curate scan`` (DICOM / NIfTI folder → metadata.parquet + de-identification audit) and ``demo-dicom``."""

from __future__ import annotations

from pathlib import Path

import typer

from curate.cli._common import print_json


def scan_cmd(
    folder: Path = typer.Argument(..., metavar="DIR",
                                  help="Folder of DICOM / NIfTI files (searched recursively)."),
    out: Path = typer.Option(..., "--out", "-o", metavar="OUT",
                             help="New folder for metadata.parquet, deid.json, deid.md, skipped.csv, "
                                  "scan.json."),
    key_file: Path = typer.Option(None, "--key-file", metavar="FILE",
                                  help="Pseudonym key (default: $CURATE_PSEUDONYM_KEY or "
                                       "~/.config/curate/pseudonym.key, created on first use)."),
    context: str = typer.Option("", "--context", help="Pseudonym namespace (e.g. the dataset id): the same "
                                                      "patient gets different keys in different contexts."),
    workers: int = typer.Option(None, "--workers", help="Processes reading headers (default: all cores)."),
    splits: str = typer.Option(None, "--splits", metavar="FRACTIONS",
                               help="Add a patient-level split column, e.g. 0.8,0.1,0.1 "
                                    "(train/validation/test)."),
    seed: int = typer.Option(0, "--seed", help="Seed of --splits."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Read every DICOM / NIfTI header under DIR: one row per image, keyed pseudonyms, Annex E audit.

    Nothing identifying is copied: patient, study, series and site keys are keyed pseudonyms; the
    de-identification audit (deid.json, deid.md) holds counts only. Other files are listed in skipped.csv.
    """
    from curate.cli._common import progress_bar
    from curate.scan import scan

    with progress_bar() as progress:
        res = scan(folder, out, key_file=key_file, context=context, workers=workers,
                   splits=splits, seed=seed, progress=progress)
    if as_json:
        print_json(res.summary)
        return
    from curate.output import Measure, say, warn

    s = res.summary  # files of the user's own folder, on the user's console: they count files, no one
    say("scan: {files} files → {dicom} DICOM, {nifti} NIfTI, {skipped} skipped (listed in skipped.csv) "
        "in {secs} s", files=Measure(s["files"], ","), dicom=Measure(s["dicom"], ","),
        nifti=Measure(s["nifti"], ","), skipped=Measure(s["skipped"], ","),
        secs=Measure(s["timings"]["total_s"], ".2f"))
    if res.resumed:
        say("resumed: {n} files came from the checkpoint of an interrupted run", n=Measure(res.resumed, ","))
    if res.key_created:
        say("created a new pseudonym key in curate's config folder (see --key-file): keep it "
            "private, and keep it to get the same keys next time")
    for line in res.warnings:
        warn("{line}", line=line)
    say("wrote {out}/ (metadata.parquet, deid.json, deid.md, skipped.csv, scan.json)", out=out)


def demo_dicom_cmd(
    out: Path = typer.Option(..., "--out", "-o", help="New folder for the generated files."),
    n_patients: int = typer.Option(60, "--n-patients", min=1, help="Synthetic patients."),
    seed: int = typer.Option(0, "--seed", help="Random seed: same seed, same files."),
    burned_in: bool = typer.Option(False, "--burned-in",
                                   help="Instead: frames with fake identifiers burned into the pixels "
                                        "(OUT/images) and their MIDI-B answer key (OUT/answer_key.csv), "
                                        "for `curate deid-check`."),
) -> None:
    """Write a SYNTHETIC DICOM folder (several vendors, sites, ages; a duplicate in another transfer
    syntax; identifying-looking fake values a de-identification audit should flag), a NIfTI volume and a
    README: something for `curate scan` to read."""
    from curate.output import Measure, say

    if burned_in:
        from curate.pipeline.deid_check import write_burned_in_demo

        n = write_burned_in_demo(out, seed=seed)
        say("wrote {n} synthetic files with burned-in text to {out}/images/ and their answer key to "
            "{out}/answer_key.csv", n=Measure(n), out=str(out))  # synthetic files: they count no one
        say("[yellow]All of it is synthetic: not real patients, not for clinical use.[/yellow]")
        return
    from curate.scan.synthetic import write_dicom_demo

    info = write_dicom_demo(out, n_patients=n_patients, seed=seed)

    # synthetic files: they count no one
    say("wrote {d} synthetic DICOM files, {n} NIfTI volume and a README to {out}/",
        d=Measure(info["dicom_files"]), n=Measure(info["nifti_files"]), out=out)
    say("[yellow]All of it is synthetic: not real patients, not for clinical use.[/yellow]")


def register(app: typer.Typer) -> None:
    app.command("scan")(scan_cmd)
    app.command("demo-dicom")(demo_dicom_cmd)
