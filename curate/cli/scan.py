"""``curate scan`` (DICOM / NIfTI folder → metadata.parquet + de-identification audit) and ``demo-dicom``."""

from __future__ import annotations

from pathlib import Path

import typer

from curate.cli._common import console, fmt_int, print_json


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
    from curate.cli.engine import _progress_bar
    from curate.scan import scan

    with _progress_bar() as progress:
        res = scan(folder, out, key_file=key_file, context=context, workers=workers,
                   splits=splits, seed=seed, progress=progress)
    if as_json:
        print_json(res.summary)
        return
    s = res.summary
    console.print(f"scan: {fmt_int(s['files'])} files → {fmt_int(s['dicom'])} DICOM, "
                  f"{fmt_int(s['nifti'])} NIfTI, {fmt_int(s['skipped'])} skipped (listed in skipped.csv) "
                  f"in {s['timings']['total_s']:.2f} s")
    if res.resumed:
        console.print(f"resumed: {fmt_int(res.resumed)} files came from the checkpoint of an interrupted run")
    if res.key_created:
        console.print("created a new pseudonym key in curate's config folder (see --key-file): keep it "
                      "private, and keep it to get the same keys next time")
    for line in res.warnings:
        console.print(f"[yellow]warning:[/yellow] {line}")
    console.print(f"wrote {out}/ (metadata.parquet, deid.json, deid.md, skipped.csv, scan.json)")


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
    if burned_in:
        from curate.pipeline.deid_check import write_burned_in_demo

        n = write_burned_in_demo(out, seed=seed)
        console.print(f"wrote {n} synthetic files with burned-in text to {out}/images/ and their answer "
                      f"key to {out}/answer_key.csv")
        console.print("[yellow]All of it is synthetic: not real patients, not for clinical use.[/yellow]")
        return
    from curate.scan.synthetic import write_dicom_demo

    info = write_dicom_demo(out, n_patients=n_patients, seed=seed)
    console.print(f"wrote {info['dicom_files']} synthetic DICOM files, {info['nifti_files']} NIfTI volume "
                  f"and a README to {out}/")
    console.print("[yellow]All of it is synthetic: not real patients, not for clinical use.[/yellow]")


def register(app: typer.Typer) -> None:
    app.command("scan")(scan_cmd)
    app.command("demo-dicom")(demo_dicom_cmd)
