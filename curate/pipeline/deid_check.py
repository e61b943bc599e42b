"""``curate deid-check``: OCR the pixels of a DICOM / PNG / JPEG folder for burned-in identifiers.

Reads inputs and validates them, samples files per series, walks the chosen files with the scan's walker
(:func:`curate.scan.walk.read_all`: same process pool, blocks and resumable checkpoints, with
:func:`curate.scan.pixels.check.check_chunk` as the reader), pseudonymises file ids before anything is
checkpointed, then gathers the counts, the answer-key score and the masked gallery, and writes everything
into a temporary folder that is moved into place (all or nothing).

Outputs: ``pixels.json`` (counts and, with ``answers``, the score), ``pixels.md``, ``files.csv`` (one row
per checked file: pseudonym, verdict, counts, kinds, BurnedInAnnotation flag), ``boxes.csv`` (pseudonym,
frame, x, y, w, h, kinds), ``skipped.csv`` (pseudonym, reason) and ``gallery/`` (``index.html`` + masked
PNG thumbnails of up to :data:`GALLERY_MAX` frames with text).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curate.errors import InputError, UsageError, require

GALLERY_MAX = 48
OUTPUTS = ("pixels.json", "pixels.md", "files.csv", "boxes.csv", "skipped.csv", "gallery/")


@dataclass
class DeidCheckResult:
    out: Path
    summary: dict[str, Any]
    score: dict[str, Any] | None = None
    timings: dict[str, float] = field(default_factory=dict)
    key_created: bool = False
    resumed: int = 0


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


def deid_check(folder: str | os.PathLike, out: str | os.PathLike, *, answers: str | os.PathLike | None = None,
               uid_map: str | os.PathLike | None = None, key_file: str | os.PathLike | None = None,
               context: str = "", workers: int | None = None, prefilter: bool = True, sample: bool = True,
               gallery: bool = True, progress: Any = None) -> DeidCheckResult:
    """Check ``folder`` and write ``out`` (see the module docstring). Every file is checked (no series
    sampling) when ``answers`` is given or ``sample`` is False."""
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
    t1 = time.perf_counter()
    res = _gather(records, not_sampled, key_answers, key.created, checkpoint.resumed)
    res.out = dest
    res.timings = {"check_s": round(t1 - t0, 3)}
    _write(dest, res, records, paths if gallery else None)
    checkpoint.clear()
    res.timings["total_s"] = round(time.perf_counter() - t0, 3)
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
    return DeidCheckResult(Path("."), summary, sc, key_created=created, resumed=resumed)


def _write(dest: Path, res: DeidCheckResult, records: list[dict[str, Any]],
           paths: dict[str, str] | None) -> None:
    """Every output into a temporary sibling folder, then moved into place (all or nothing)."""
    from curate.report.pixels import render_markdown
    from curate.scan.pixels.summary import file_rows

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        doc = {"summary": res.summary, "score": res.score}
        (tmp / "pixels.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        (tmp / "pixels.md").write_text(render_markdown(res.summary, res.score), encoding="utf-8")
        rows = file_rows(records)
        _csv(tmp / "files.csv", list(rows[0]) if rows else ["file"], [list(r.values()) for r in rows])
        _csv(tmp / "boxes.csv", ["file", "frame", "x", "y", "w", "h", "kinds"],
             [[r["file"], *b[:5], ";".join(b[5])] for r in records if "skip" not in r for b in r["boxes"]])
        _csv(tmp / "skipped.csv", ["file", "reason"],
             [[r["file"], r["skip"]] for r in records if "skip" in r])
        if paths is not None:
            _gallery(tmp / "gallery", records, paths)
        if dest.exists():
            dest.rmdir()  # checked empty before the work
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def _gallery(folder: Path, records: list[dict[str, Any]], paths: dict[str, str]) -> None:
    from curate.report.pixels import render_gallery, write_thumbnail
    from curate.scan.pixels.frames import masked_thumbnail

    folder.mkdir()
    frames = [(r["file"], f, [b for b in r["boxes"] if b[0] == f]) for r in records if "skip" not in r
              for f in sorted({b[0] for b in r["boxes"]})]
    items = []
    for n, (fid, f, boxes) in enumerate(frames[:GALLERY_MAX]):
        thumb = masked_thumbnail(paths[fid], f, boxes)
        if thumb is None:
            continue
        name = f"frame{n:03d}.png"
        write_thumbnail(folder / name, thumb)
        kinds = sorted({k for b in boxes for k in b[5]})
        items.append({"src": name, "w": thumb.shape[1], "label": f"{fid} · frame {f} · {', '.join(kinds)}"})
    (folder / "index.html").write_text(render_gallery(items, len(frames)), encoding="utf-8")


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
