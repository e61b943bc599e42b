"""One file → its burned-in-text record: frames checked, text boxes with the *kind* of what they hold.

:func:`check_file` never raises for a bad file and never returns text: the record holds counts, box
coordinates (in the frame's own pixels), the kinds matched (``name``, ``id``, ``date``, ``institution``,
``shape``, or ``text`` for text that matched nothing), the header's ``BurnedInAnnotation``, and, with an
answer key, (group, action, passed) triples. Header values and recognised words stay inside this function.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

#: Bump when the record changes (checkpoints of another version are not reused).
VERSION = "curate-pixels-1"


def plain_lines(gray: np.ndarray) -> list[Any]:
    """No pre-filter: the whole frame and its inverse through Tesseract (sparse text), words grouped in
    lines with their boxes (the reference the pre-filter is measured against)."""
    from curate.errors import require
    from curate.scan.pixels.ocr import Line

    pytesseract = require("pytesseract", "pixels")
    lines: dict[tuple, Line] = {}
    for k, img in enumerate((gray, 255 - gray)):
        d = pytesseract.image_to_data(img, config="--psm 11 --oem 1", output_type=pytesseract.Output.DICT)
        for i, text in enumerate(d["text"]):
            if not (text or "").strip() or float(d["conf"][i]) < 0:
                continue
            key = (k, d["block_num"][i], d["par_num"][i], d["line_num"][i])
            box = (d["left"][i], d["top"][i], d["width"][i], d["height"][i])
            ln = lines.setdefault(key, Line(box))
            x0, y0 = min(ln.box[0], box[0]), min(ln.box[1], box[1])
            x1 = max(ln.box[0] + ln.box[2], box[0] + box[2])
            y1 = max(ln.box[1] + ln.box[3], box[1] + box[3])
            ln.box = (x0, y0, x1 - x0, y1 - y0)
            ln.readings[0].append(text.strip())
    return list(lines.values())


def _frames(path: str, kind: str, ds: Any) -> Any:
    from curate.scan.pixels.frames import dicom_frames, image_frames

    return dicom_frames(ds) if kind == "dicom" else image_frames(path)


def _kinds(readings: list[list[str]], needles: Any) -> list[str]:
    """The kinds matched in any reading of a line, in :data:`~curate.scan.pixels.match.KINDS` order."""
    from curate.scan.pixels.match import KINDS, match_line

    seen = {k for r in readings for k in match_line(r, needles)}
    return [k for k in KINDS if k in seen]


def _scan_frames(rec: dict[str, Any], frames: Any, needles: Any, prefilter: bool) -> None:
    from curate.scan.pixels.frames import bound
    from curate.scan.pixels.ocr import SECOND, read_lines
    from curate.scan.pixels.prefilter import text_regions

    for i, gray in frames:
        if gray is None:
            rec["corrupt_frames"].append(i)
            continue
        rec["frames_checked"] += 1
        gray, f = bound(gray)
        if f > 1:
            rec["downsampled"] += 1
        if prefilter:
            regions = text_regions(gray)
            if not regions:
                rec["frames_skipped_prefilter"] += 1
                continue
            try:
                lines = read_lines(gray, regions)
            except Exception:  # Tesseract failed on this frame (its message is not kept): listed, go on
                rec["ocr_failed"].append(i)
                rec["frames_checked"] -= 1
                continue
        else:
            lines = plain_lines(gray)
        first = [_kinds(ln.readings, needles) for ln in lines]
        again = [k for k, kinds in enumerate(first) if not kinds] if prefilter else []
        if again:  # lines that matched nothing: read once more, as their top-hats
            try:
                more = read_lines(gray, [regions[k] for k in again], SECOND)
            except Exception:
                more = []
            for k, ln in zip(again, more):
                first[k] = _kinds(ln.readings, needles)
                lines[k].readings += ln.readings
        has_text = False
        for ln, found in zip(lines, first):
            if not (ln.has_text or found):
                continue
            has_text = True
            kinds = found or ["text"]
            x, y, w, h = ln.box
            rec["boxes"].append([i, x * f, y * f, w * f, h * f, kinds])
        rec["frames_with_text"] += has_text
        rec["frames_with_identifiers"] += any(b[0] == i and b[5] != ["text"] for b in rec["boxes"])


def new_record(rel: str = "", fmt: str = "image") -> dict[str, Any]:
    return {"file": rel, "format": fmt, "frames_checked": 0, "frames_skipped_prefilter": 0,
            "frames_with_text": 0, "frames_with_identifiers": 0, "downsampled": 0, "corrupt_frames": [],
            "ocr_failed": [],
            "boxes": [], "burned_in": None, "modality": None, "answers": None}


def check_frames(frames: Any, needles: Any = None, *, prefilter: bool = True) -> dict[str, Any]:
    """Already decoded frames ((index, 8-bit frame) pairs) → a record (the benchmark times this)."""
    from curate.scan.pixels.match import Needles

    rec = new_record()
    _scan_frames(rec, frames, needles or Needles(), prefilter)
    return rec


def check_file(path: str, rel: str, opts: dict[str, Any]) -> dict[str, Any]:
    """One file (DICOM or PNG/JPEG/...) → record, or ``{"skip": reason}`` (see the module docstring)."""
    from curate.scan.images import PIL_EXTENSIONS, kind_of
    from curate.scan.pixels.frames import NoDecoder
    from curate.scan.pixels.match import Needles, needles_from_header

    kind = kind_of(path)
    if kind == "nifti" or (kind == "pil" and not Path(path).name.lower().endswith(PIL_EXTENSIONS)):
        return {"skip": "not a DICOM or PNG/JPEG image"}
    rec = new_record(rel, "dicom" if kind == "dicom" else "image")
    ds = None
    needles = Needles()
    if kind == "dicom":
        import pydicom

        try:
            ds = pydicom.dcmread(path)
        except Exception as exc:
            if isinstance(exc, pydicom.errors.InvalidDicomError):
                return {"skip": "not DICOM"}
            return {"skip": f"unreadable DICOM ({type(exc).__name__})"}
        if "PixelData" not in ds and "FloatPixelData" not in ds:
            return {"skip": "DICOM file without pixel data"}
        needles = needles_from_header(ds.get)
        rec["burned_in"] = str(ds.get("BurnedInAnnotation") or "").strip().upper() or None
        rec["modality"] = str(ds.get("Modality") or "").strip() or None
    try:
        _scan_frames(rec, _frames(path, kind, ds), needles, opts.get("prefilter", True))
    except NoDecoder as exc:
        return {"skip": f"compressed pixel data without its decoder: pip install {exc.plugin}"}
    if rec["frames_checked"] == 0 and rec["corrupt_frames"]:
        return {"skip": "no frame could be decoded (corrupt pixel data)"}
    key = opts.get("answers")
    if key is not None and ds is not None:
        rec["answers"] = _answers(ds, key, rec["boxes"])
    return rec


def _answers(ds: Any, key: Any, boxes: list[list[Any]]) -> list[list[Any]] | None:
    from curate.scan.pixels.answers import evaluate

    actions = key.for_file(str(ds.get("SOPInstanceUID", "")), str(ds.get("SeriesInstanceUID", "")),
                           str(ds.get("StudyInstanceUID", "")))
    if actions is None:
        return None
    digest = None
    if any(a.action == "pixels_retained" for a in actions):
        from curate.scan.images import pixel_digest

        try:
            digest = pixel_digest(ds.pixel_array)
        except Exception:
            digest = None
    return evaluate(ds, actions, boxes, digest, key.uid_map)


def check_chunk(items: list[tuple[str, str]], opts: dict[str, Any]) -> list[dict[str, Any]]:
    """The worker function handed to :func:`curate.scan.walk.read_all` (top-level: picklable)."""
    return [check_file(p, r, opts) for p, r in items]
