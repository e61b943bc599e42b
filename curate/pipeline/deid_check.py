"""``curate deid-check`` orchestration: OCR the pixels of a DICOM / PNG / JPEG folder for burned-in text.

:func:`run_deid_check` validates the inputs (and the output folder, before any work), samples files per
series, walks the chosen files with the scan's walker (:func:`curate.scan.walk.read_all`: same process
pool, blocks and resumable checkpoints, with :func:`curate.scan.pixels.check.check_chunk` as the reader),
pseudonymises file ids before anything is checkpointed, and gathers the counts, the answer-key score and
the masked gallery thumbnails into a :class:`DeidCheckResult`. Writing is the renderer's
(:func:`curate.report.pixels.deid_check`), which calls this.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curate.errors import InputError, UsageError, require

GALLERY_MAX = 48


@dataclass
class DeidCheckResult:
    """What a check found: per-file records (pseudonyms, counts, boxes, kinds), the counts, the score, and
    masked thumbnails ``(file pseudonym, frame, kinds, RGB array)`` for the gallery."""

    out: Path
    summary: dict[str, Any]
    score: dict[str, Any] | None = None
    records: list[dict[str, Any]] = field(default_factory=list)
    thumbnails: list[tuple[str, int, list[str], Any]] = field(default_factory=list)
    frames_with_text: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    key_created: bool = False
    resumed: int = 0
    release: Any = None  # call once the outputs are written: removes the resume checkpoint

    @property
    def file_rows(self) -> list[dict[str, Any]]:
        """One row per file for ``files.csv`` (pseudonym, verdict, counts; never a recognised text)."""
        from curate.scan.pixels.summary import file_rows

        return file_rows(self.records)


def _plan(files: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], int]:
    """Series sampling (:func:`curate.scan.pixels.frames.sample_series`) from a header-only read."""
    import pydicom

    from curate.scan.dicom_header import BURN_IN_PRONE
    from curate.scan.images import kind_of
    from curate.scan.pixels.frames import is_secondary_capture, sample_series

    items = []
    for k, (path, _) in enumerate(files):
        if kind_of(path) != "dicom":
            items.append((k, None, 0.0, True))
            continue
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=[
                "SeriesInstanceUID", "InstanceNumber", "Modality", "SOPClassUID"])
            number = float(ds.get("InstanceNumber") or 0)
            keep_all = (str(ds.get("Modality") or "") in BURN_IN_PRONE
                        or is_secondary_capture(ds.get("SOPClassUID")))
            items.append((k, str(ds.get("SeriesInstanceUID") or "") or None, number, keep_all))
        except Exception:  # the check itself lists it with its reason
            items.append((k, None, 0.0, True))
    keep = sample_series(items)
    return [files[k] for k in keep], len(files) - len(keep)


def _validate(root: Path, dest: Path, workers: int | None) -> None:
    if not root.is_dir():
        raise InputError(f"'{root}' does not exist or is not a folder")
    if workers is not None and workers < 1:
        raise UsageError(f"workers must be at least 1 (got {workers})")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise InputError(f"--out '{dest}' exists and is not empty; curate never overwrites "
                         "(choose a new folder)")
    if dest.resolve() == root.resolve() or root.resolve() in dest.resolve().parents:
        raise UsageError(f"--out '{dest}' is inside the checked folder '{root}'; choose a folder outside it")


def run_deid_check(folder: str | os.PathLike, out: str | os.PathLike, *,
                   answers: str | os.PathLike | None = None, uid_map: str | os.PathLike | None = None,
                   key_file: str | os.PathLike | None = None, context: str = "", workers: int | None = None,
                   prefilter: bool = True, sample: bool = True, gallery: bool = True,
                   progress: Any = None) -> DeidCheckResult:
    """Check ``folder`` (``out`` is only validated here). Every file is checked (no series sampling) when
    ``answers`` is given or ``sample`` is False."""
    require("pydicom", "dicom")
    from curate.policy.pseudonyms import load_key
    from curate.scan import resume
    from curate.scan.pixels.answers import load_answers
    from curate.scan.pixels.check import VERSION, check_chunk
    from curate.scan.pixels.ocr import ensure_tesseract
    from curate.scan.resume import Checkpoint, partial_folder
    from curate.scan.walk import list_files, read_all

    root, dest = Path(folder), Path(out)
    _validate(root, dest, workers)
    ensure_tesseract()
    require("rapidfuzz", "pixels")
    key_answers = load_answers(answers, uid_map) if answers is not None else None
    key = load_key(key_file)
    key.check_outside(dest)
    t0 = time.perf_counter()
    files = list_files(root)
    if not files:
        raise InputError(f"no files under '{root}'")
    chosen, not_sampled = (_plan(files) if sample and key_answers is None else (files, 0))
    paths = {key.pseudonym(rel, kind="file", context=context): path for path, rel in chosen}

    def finish(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Relative paths → keyed file pseudonyms, before anything is checkpointed."""
        for rec in records:
            rec["file"] = key.pseudonym(rec.pop("_rel"), kind="file", context=context)
        return records

    opts = {"prefilter": prefilter, "answers": key_answers}
    sig = hashlib.sha256(f"{VERSION}|{prefilter}|{answers and Path(answers).resolve()}".encode()).hexdigest()
    salt = "\x00".join([key.pseudonym("checkpoint", kind="checkpoint", context=context), str(root.resolve()),
                        sig])
    checkpoint = Checkpoint(partial_folder(dest), salt)
    big = len(chosen) > resume.BLOCK
    records = read_all(chosen, workers=workers, progress=progress, finish=finish,
                       checkpoint=checkpoint if big else None, reader=_tagged_chunk,
                       reader_arg=(check_chunk, opts), label="checking pixels")
    res = _gather(records, not_sampled, key_answers, key.created, checkpoint.resumed)
    res.out, res.release = dest, checkpoint.clear
    if gallery:
        res.thumbnails, res.frames_with_text = _thumbnails(records, paths)
    res.timings = {"check_s": round(time.perf_counter() - t0, 3)}
    return res


def _tagged_chunk(items: list[tuple[str, str]], arg: tuple[Any, dict[str, Any]]) -> list[dict[str, Any]]:
    """The pixel reader, each record tagged with its relative path for ``finish`` (removed there)."""
    fn, opts = arg
    recs = fn(items, opts)
    for (_, rel), r in zip(items, recs):
        r["_rel"] = rel
        r.pop("file", None)
    return recs


def _gather(records: list[dict[str, Any]], not_sampled: int, key_answers: Any, created: bool,
            resumed: int) -> DeidCheckResult:
    from curate.scan.pixels.answers import score
    from curate.scan.pixels.summary import summarize

    summary = summarize(records, not_sampled=not_sampled)
    sc = None
    if key_answers is not None:
        results = [a for r in records if r.get("answers") for a in r["answers"]]
        found = sum(1 for r in records if r.get("answers") is not None)
        sc = score(results, instances_in_key=key_answers.n_instances, instances_found=found)
    return DeidCheckResult(Path("."), summary, sc, records=records, key_created=created, resumed=resumed)


def _thumbnails(records: list[dict[str, Any]], paths: dict[str, str]
                ) -> tuple[list[tuple[str, int, list[str], Any]], int]:
    """Masked thumbnails of up to :data:`GALLERY_MAX` frames with text, and how many frames had text."""
    from curate.scan.pixels.frames import masked_thumbnail

    frames = [(r["file"], f, [b for b in r["boxes"] if b[0] == f]) for r in records if "skip" not in r
              for f in sorted({b[0] for b in r["boxes"]})]
    out = []
    for fid, f, boxes in frames[:GALLERY_MAX]:
        thumb = masked_thumbnail(paths[fid], f, boxes)
        if thumb is not None:
            out.append((fid, f, sorted({k for b in boxes for k in b[5]}), thumb))
    return out, len(frames)


def write_burned_in_demo(out: str | os.PathLike, *, seed: int = 0) -> int:
    """``curate demo-dicom --burned-in``: the synthetic burned-in set in ``out/images`` and its answer key
    (MIDI-B layout, CSV) in ``out/answer_key.csv``; returns the number of files."""
    from curate.scan.pixels import synthetic

    root = Path(out)
    if root.exists() and any(root.iterdir()):
        raise InputError(f"--out '{root}' exists and is not empty; curate never overwrites")
    files = synthetic.write_burned_in_demo(root / "images", seed=seed)
    synthetic.write_answer_key(files, root / "answer_key.csv")
    return len(files)
