"""``curate scan``: walk a folder of DICOM / NIfTI files in parallel and write the metadata table + audit.

Outputs (written to a temporary folder and moved into place, so a failed scan leaves nothing behind):

- ``metadata.parquet`` — one row per DICOM instance or NIfTI volume; patient / study / series / site keys
  are keyed pseudonyms (:mod:`curate.policy.pseudonyms`), never raw values;
- ``deid.json`` / ``deid.md`` — the PS3.15 Annex E audit (:mod:`curate.scan.deid`), counts only;
- ``skipped.csv`` — files that are neither DICOM nor NIfTI or could not be read, with the reason;
- ``scan.json`` — counts and timings.

An interrupted scan resumes: finished blocks of files are checkpointed (already pseudonymised) next to the
output folder and not read again by the next run with the same key (:mod:`curate.scan.resume`).

Workers read headers only (``stop_before_pixels``) in chunks over a process pool; a file that fails is
recorded and skipped, never fatal.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curate.errors import CurateError, InputError, UsageError, require

if TYPE_CHECKING:  # pragma: no cover
    from curate.scan.resume import Checkpoint

#: Column order of ``metadata.parquet`` (NIfTI-only columns are empty for DICOM rows and vice versa).
COLUMNS = [
    "path", "format", "patient_key", "study_key", "series_key", "site", "modality", "body_part", "device",
    "manufacturer", "manufacturer_model", "patient_sex", "patient_age", "age_source", "rows", "columns",
    "frames", "slices", "pixel_spacing_row", "pixel_spacing_col", "slice_thickness", "bits_stored",
    "photometric", "transfer_syntax", "shape", "voxel_size", "orientation", "datatype",
]
#: The exit gate's role of each metadata.parquet column but ``path`` (the file's own path: its id).
METADATA_ROLES = {
    **{c: "pseudonym" for c in ("patient_key", "study_key", "series_key", "site")},
    "split": "group",
    **{c: "label" for c in ("modality", "body_part", "device", "manufacturer", "manufacturer_model",
                            "patient_sex")},
    **{c: "measure" for c in ("rows", "columns", "frames", "slices", "pixel_spacing_row", "pixel_spacing_col",
                              "slice_thickness", "bits_stored")},
    **{c: "value" for c in ("format", "patient_age", "age_source", "photometric", "transfer_syntax", "shape",
                            "voxel_size", "orientation", "datatype")},
}
CHUNK = 64
_INLINE_BELOW = 2 * CHUNK  # small trees: a pool costs more than it saves

ProgressFn = Callable[[str, int, int], None]
FinishFn = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


@dataclass
class ScanResult:
    out: Path
    n_files: int
    n_dicom: int
    n_nifti: int
    skipped: list[tuple[str, str]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    key_created: bool = False
    key_path: Path | None = None
    resumed: int = 0  # files taken from the checkpoint of an interrupted run
    warnings: list[str] = field(default_factory=list)  # counts only, never a value or a path

    @property
    def summary(self) -> dict[str, Any]:
        return {"files": self.n_files, "dicom": self.n_dicom, "nifti": self.n_nifti,
                "skipped": len(self.skipped), "resumed": self.resumed, "timings": self.timings}


def list_files(root: Path) -> list[tuple[str, str]]:
    """(absolute path, relative POSIX path) of every regular file under ``root``, sorted."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in filenames:
            full = os.path.join(dirpath, name)
            if os.path.isfile(full):
                out.append((full, Path(full).relative_to(root).as_posix()))
    out.sort(key=lambda t: t[1])
    return out


def read_one(path: str, rel: str, tags: list[int]) -> dict[str, Any]:
    """One file → a header record, or ``{"skip": reason}`` (never raises for a bad file)."""
    from curate.scan.dicom_header import NoImage, read_dicom
    from curate.scan.nifti import is_nifti, read_nifti

    if is_nifti(path):
        try:
            return read_nifti(path, rel)
        except Exception as exc:  # nibabel raises many kinds for a corrupt file
            return {"skip": f"unreadable NIfTI ({type(exc).__name__})"}
    from curate.scan.dicom_read import DicomReadAborted

    try:
        return read_dicom(path, rel, tags)
    except DicomReadAborted as exc:  # zero-filled / preallocated / runaway: stopped, never a stall
        return {"skip": f"unreadable DICOM: {exc}"}
    except NoImage:
        return {"skip": "DICOM file without an image (truncated, or not an image object)"}
    except Exception as exc:
        import pydicom

        if isinstance(exc, pydicom.errors.InvalidDicomError):
            return {"skip": "not DICOM or NIfTI"}
        return {"skip": f"unreadable DICOM ({type(exc).__name__})"}


def _read_chunk(items: list[tuple[str, str]], tags: list[int]) -> list[dict[str, Any]]:
    return [read_one(p, r, tags) for p, r in items]


def read_all(files: list[tuple[str, str]], *, workers: int | None = None,
             progress: ProgressFn | None = None, finish: FinishFn | None = None,
             checkpoint: Checkpoint | None = None, reader: Callable[[list[tuple[str, str]], Any],
                                                                    list[dict[str, Any]]] | None = None,
             reader_arg: Any = None, label: str = "reading headers") -> list[dict[str, Any]]:
    """Header records for ``files`` in their order: in-process for small trees, else a process pool.

    Files go in blocks of :data:`curate.scan.resume.BLOCK`; ``finish`` (pseudonymisation) is applied to each
    block as it completes, which is then saved to ``checkpoint``; blocks already there are not read again.
    ``reader(chunk, reader_arg)`` (a top-level, picklable function) replaces the header reader: the pixel
    check (:mod:`curate.scan.pixels.check`) walks with the same blocks, pool and checkpoints.
    """
    from curate.scan.resume import BLOCK

    if reader is None:
        from curate.scan.deid import annex_tags

        reader, tags = _read_chunk, annex_tags()
    else:
        tags = reader_arg
    n = len(files)
    workers = workers or os.cpu_count() or 1
    blocks = [files[i:i + BLOCK] for i in range(0, n, BLOCK)]
    done: list[list[dict[str, Any]] | None] = [
        checkpoint.load(k * BLOCK, b) if checkpoint else None for k, b in enumerate(blocks)]
    jobs = [(k, b[i:i + CHUNK]) for k, b in enumerate(blocks) if done[k] is None
            for i in range(0, len(b), CHUNK)]
    buffers: dict[int, list[dict[str, Any]]] = {}
    count = sum(len(d) for d in done if d is not None)

    def collect(k: int, part: list[dict[str, Any]]) -> None:
        nonlocal count
        buf = buffers.setdefault(k, [])
        buf.extend(part)
        count += len(part)
        if len(buf) == len(blocks[k]):
            recs = finish(buffers.pop(k)) if finish else buffers.pop(k)
            if checkpoint:
                checkpoint.save(k * BLOCK, blocks[k], recs)
            done[k] = recs
        if progress:
            progress(label, count, n)

    pending = sum(len(c) for _, c in jobs)
    if workers == 1 or pending < _INLINE_BELOW:
        for k, c in jobs:
            collect(k, reader(c, tags))
    else:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers) as pool:
            parts = pool.map(reader, [c for _, c in jobs], [tags] * len(jobs))
            for (k, _), part in zip(jobs, parts):
                collect(k, part)
    return [r for d in done for r in (d or [])]


def _prepare_out(out: Path) -> None:
    if out.is_symlink():
        raise InputError(f"--out '{out}' is a symbolic link; curate does not replace links: give the real "
                         f"path ('{os.path.realpath(out)}')")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"--out '{out}' exists and is not empty; curate never overwrites "
                         "(choose a new folder)")


def scan(folder: str | os.PathLike, out: str | os.PathLike, *, key_file: str | os.PathLike | None = None,
         context: str = "", workers: int | None = None, splits: str | None = None, seed: int = 0,
         progress: ProgressFn | None = None) -> ScanResult:
    """Scan ``folder`` and write ``out`` (see the module docstring). Refuses a non-empty ``out``.

    ``splits`` (``"0.8,0.1,0.1"``) adds a patient-level ``split`` column (train / validation / test;
    :func:`curate.engine.splits.patient_splits` over the patient keys, ``seed``); files without a
    patient key (NIfTI) are their own patient.
    """
    require("pydicom", "dicom")
    from curate.policy.pseudonyms import load_key
    from curate.scan import resume
    from curate.scan.dicom_header import KEYED
    from curate.scan.resume import Checkpoint, partial_folder

    root, dest = Path(folder), Path(out)
    if not root.is_dir():
        raise InputError(f"'{root}' does not exist or is not a folder")
    if workers is not None and workers < 1:
        raise UsageError(f"--workers must be at least 1 (got {workers})")
    if splits is not None:
        from curate.engine.splits import parse_fractions

        parse_fractions(splits)
    _prepare_out(dest)
    if dest.resolve() == root.resolve() or root.resolve() in dest.resolve().parents:
        raise UsageError(f"--out '{dest}' is inside the scanned folder '{root}'; choose a folder outside it")
    key = load_key(key_file)
    key.check_outside(dest)
    t0 = time.perf_counter()
    files = list_files(root)
    if not files:
        raise InputError(f"no files under '{root}'")
    t1 = time.perf_counter()

    def finish(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Raw identifiers → keyed pseudonyms, before anything is checkpointed."""
        for rec in records:
            raw = rec.pop("raw", None)
            if raw is not None:
                for col, (_, kind) in KEYED.items():
                    v = raw[col]
                    rec["row"][col] = None if v is None else key.pseudonym(v, kind=kind, context=context)
        return records

    salt = "\x00".join([key.pseudonym("checkpoint", kind="checkpoint", context=context),
                        str(root.resolve())])
    checkpoint = Checkpoint(partial_folder(dest), salt)
    big = len(files) > resume.BLOCK  # small trees are not worth a checkpoint
    records = read_all(files, workers=workers, progress=progress, finish=finish,
                       checkpoint=checkpoint if big else None)
    try:
        res = _finish_scan(root, dest, files, records, key, checkpoint.resumed, (t0, t1),
                           splits=splits, seed=seed)
    except CurateError:  # a verdict on the data, not an interruption: nothing to resume
        checkpoint.clear()
        raise
    checkpoint.clear()
    return res


def _finish_scan(root: Path, dest: Path, files: list[tuple[str, str]], records: list[dict[str, Any]],
                 key: Any, resumed: int, times: tuple[float, float], *, splits: str | None,
                 seed: int) -> ScanResult:
    """Records → table, audit and outputs (all or nothing)."""
    import pandas as pd

    from curate.scan.deid import audit, render_markdown

    t0, t1 = times
    t2 = time.perf_counter()
    rows, deid, skipped, synthetic = [], [], [], []
    n_dicom = n_nifti = 0
    for (_, rel), rec in zip(files, records):
        if "skip" in rec:
            skipped.append((rel, rec["skip"]))
            continue
        row = rec["row"]
        synthetic.append(bool(rec.get("synthetic", False)))
        if row["format"] == "dicom":
            n_dicom += 1
            deid.append(rec["deid"])
        else:
            n_nifti += 1
        rows.append(row)
    if not rows:
        raise InputError(f"no DICOM or NIfTI files under '{root}' ({len(skipped):,} other files)")
    df = pd.DataFrame(rows).reindex(columns=COLUMNS)
    model = df["manufacturer_model"].fillna("")
    df["device"] = (df["manufacturer"].fillna("") + " " + model).str.strip().replace("", None)
    if splits is not None:
        from curate.engine.splits import patient_splits

        who = pd.DataFrame({"p": df["patient_key"].where(df["patient_key"].notna(), "file:" + df["path"])})
        df["split"] = patient_splits(who, patient_col="p", fractions=splits, seed=seed).to_numpy()
    for c in ("patient_age", "rows", "columns", "frames", "slices", "pixel_spacing_row", "pixel_spacing_col",
              "slice_thickness", "bits_stored"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
    for c in COLUMNS:
        if df[c].dtype == object:
            df[c] = df[c].astype("string")
    if any(synthetic):  # files of `curate demo-dicom`: the marker every later output reads (curate.synthetic)
        from curate.synthetic import COLUMN

        df[COLUMN] = synthetic
    report = audit(deid)
    report["nifti_files"] = n_nifti
    report["nifti_files_with_header_text"] = sum(1 for r in records if r.get("nifti_text"))
    res = ScanResult(out=dest, n_files=len(files), n_dicom=n_dicom, n_nifti=n_nifti, skipped=skipped,
                     key_created=key.created, key_path=key.path, resumed=resumed)
    t3 = time.perf_counter()
    res.timings = {"list_s": round(t1 - t0, 3), "read_s": round(t2 - t1, 3), "total_s": round(t3 - t0, 3)}
    res.warnings = _warnings(report)
    _write(dest, df, report, render_markdown(report), skipped, res.summary)
    return res


def _warnings(report: dict[str, Any]) -> list[str]:
    """What the user must look at before sharing the table (counts only: no path, no value)."""
    out = []
    n = report.get("files_whose_path_looks_like_a_name_or_date", 0)
    if n:
        out.append(f"{n:,} file(s) have a folder or file name that looks like a person's name or a date; "
                   "their paths are in metadata.parquet and skipped.csv: rename them before sharing")
    n = report.get("files_with_copied_values_withheld", 0)
    if n:
        out.append(f"{n:,} file(s) had a Manufacturer, model or body part value that looked like a name, a "
                   "record number or a date: withheld from metadata.parquet")
    return out


def _write(dest: Path, df: Any, report: dict, md: str, skipped: list[tuple[str, str]],
           summary: dict) -> None:
    """Write every output into a temporary sibling folder, then move it into place (all or nothing)."""
    import pandas as pd

    from curate.output import write_json, write_local, write_text

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:  # through the exit gate: one row per file of the user's own folder, keyed by its path (local)
        write_local(df, tmp / "metadata.parquet", ids=["path"], roles=METADATA_ROLES, atomic=False)
        write_json(tmp / "deid.json", report, atomic=False)
        write_text(tmp / "deid.md", md, atomic=False)
        write_local(pd.DataFrame(skipped, columns=["path", "reason"]), tmp / "skipped.csv", ids=["path"],
                    roles={"reason": "value"}, atomic=False)
        write_json(tmp / "scan.json", summary, atomic=False)
        if dest.exists():
            dest.rmdir()  # checked empty by _prepare_out
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
