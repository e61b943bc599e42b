"""Per-file verdicts and per-dataset counts of a burned-in-text check (raw numbers; renderers format them).

Verdicts: ``identifier`` (a text region matched a header value or an identifier shape), ``text`` (text was
read but matched nothing), ``clean`` (no text), ``skipped``. ``BurnedInAnnotation`` consistency: a file that
says ``NO`` (or says nothing) but has text, and a file that says ``YES`` (burned-in text declared, so it
should not be published without cleaning).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from curate.scan.pixels.match import KINDS


def verdict(rec: dict[str, Any]) -> str:
    if "skip" in rec:
        return "skipped"
    if rec["frames_with_identifiers"]:
        return "identifier"
    return "text" if rec["frames_with_text"] else "clean"


def burned_in_flag(rec: dict[str, Any]) -> str | None:
    """``says NO, text found`` / ``absent, text found`` / ``says YES`` / None (consistent or unknown)."""
    if "skip" in rec or rec.get("format") != "dicom":
        return None
    b = rec.get("burned_in")
    text = bool(rec["frames_with_text"])
    if b == "YES":
        return "says YES"
    if text:
        return "says NO, text found" if b == "NO" else "absent, text found"
    return None


def file_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per checked file (pseudonymised id, counts, kinds, flags); skipped files apart."""
    rows = []
    for r in records:
        if "skip" in r:
            continue
        kinds = Counter(k for b in r["boxes"] for k in b[5])
        rows.append({"file": r["file"], "format": r["format"], "modality": r.get("modality") or "",
                     "verdict": verdict(r), "frames_checked": r["frames_checked"],
                     "frames_skipped_prefilter": r["frames_skipped_prefilter"],
                     "frames_with_text": r["frames_with_text"],
                     "frames_with_identifiers": r["frames_with_identifiers"],
                     "kinds": ";".join(k for k in KINDS if kinds.get(k)),
                     "burned_in_annotation": r.get("burned_in") or "",
                     "burned_in_flag": burned_in_flag(r) or "",
                     "downsampled_frames": r["downsampled"], "corrupt_frames": len(r["corrupt_frames"]),
                     "ocr_failed_frames": len(r.get("ocr_failed", []))})
    return rows


def summarize(records: list[dict[str, Any]], *, not_sampled: int = 0) -> dict[str, Any]:
    """Counts over the whole check (files, frames, kinds, BurnedInAnnotation, skipped reasons)."""
    done = [r for r in records if "skip" not in r]
    frames_by_kind: Counter = Counter()
    for r in done:
        seen: dict[int, set[str]] = {}
        for b in r["boxes"]:
            seen.setdefault(b[0], set()).update(b[5])
        for kinds in seen.values():
            frames_by_kind.update(kinds)
    return {
        "files": len(records) + not_sampled,
        "files_checked": len(done),
        "files_not_sampled": not_sampled,
        "files_skipped": len(records) - len(done),
        "skipped_reasons": dict(Counter(r["skip"] for r in records if "skip" in r)),
        "verdicts": {v: sum(1 for r in done if verdict(r) == v) for v in ("identifier", "text", "clean")},
        "frames_checked": sum(r["frames_checked"] for r in done),
        "frames_skipped_by_prefilter": sum(r["frames_skipped_prefilter"] for r in done),
        "frames_with_text": sum(r["frames_with_text"] for r in done),
        "frames_with_identifiers": sum(r["frames_with_identifiers"] for r in done),
        "frames_by_kind": {k: frames_by_kind.get(k, 0) for k in (*KINDS, "text")},
        "frames_downsampled": sum(r["downsampled"] for r in done),
        "frames_corrupt": sum(len(r["corrupt_frames"]) for r in done),
        "frames_ocr_failed": sum(len(r.get("ocr_failed", [])) for r in done),
        "burned_in_annotation": dict(Counter(f for f in (burned_in_flag(r) for r in done) if f)),
    }
