"""Burned-in text check: frames per second of curate's OCR path against a plain ``image_to_data`` loop.

Both read the SAME decoded frames (display windowing applied) of a generated burned-in set
(:func:`curate.scan.pixels.synthetic.write_burned_in_demo`) in one run, on one core:

- **plain**: ``pytesseract.image_to_data(frame)`` on every whole frame, words matched against the header;
- **curate**: the text-region pre-filter (frames without text-like structure skip OCR), one Tesseract call
  per frame on the stacked, binarised line crops, a second grey-level reading of lines that matched nothing,
  then the same matching (:func:`curate.scan.pixels.check.check_frames`).

It prints frames/s of each, the speed-up, the share of frames the pre-filter skipped, and each path's
frame-level recall (planted frames where an identifier was matched) and clean frames flagged.

    python benchmarks/bench_pixels.py                 # 48 files (~64 frames), 256 px
    python benchmarks/bench_pixels.py --files 120 --size 512
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path


def frames_of(root: Path, files) -> list[tuple[object, int, object, bool]]:
    """(needles, frame index, 8-bit frame, planted?) for every frame of the set."""
    import pydicom

    from curate.scan.pixels.frames import dicom_frames, image_frames
    from curate.scan.pixels.match import Needles, needles_from_header

    out = []
    for f in files:
        path = root / f.rel
        if f.kind in ("PNG", "JPEG"):
            needles, frames = Needles(), image_frames(path)
        else:
            ds = pydicom.dcmread(path)
            needles, frames = needles_from_header(ds.get), dicom_frames(ds)
        planted = {p.frame for p in f.planted}
        out += [(needles, i, g, i in planted) for i, g in frames]
    return out


def run_plain(frames) -> tuple[float, list[bool]]:
    import pytesseract

    from curate.scan.pixels.match import match_line

    hits, t0 = [], time.perf_counter()
    for needles, _, gray, _ in frames:
        data = pytesseract.image_to_data(gray, output_type=pytesseract.Output.DICT)
        words = [w for w in data["text"] if (w or "").strip()]
        hits.append(bool(words) and bool(match_line(words, needles)))
    return time.perf_counter() - t0, hits


def run_curate(frames) -> tuple[float, list[bool], int]:
    from curate.scan.pixels.check import check_frames

    hits, skipped, t0 = [], 0, time.perf_counter()
    for needles, i, gray, _ in frames:
        rec = check_frames([(i, gray)], needles)
        skipped += rec["frames_skipped_prefilter"]
        hits.append(rec["frames_with_identifiers"] > 0)
    return time.perf_counter() - t0, hits, skipped


def _rates(frames, hits) -> tuple[float, float]:
    planted = [h for (_, _, _, p), h in zip(frames, hits) if p]
    clean = [h for (_, _, _, p), h in zip(frames, hits) if not p]
    return sum(planted) / max(len(planted), 1), sum(clean) / max(len(clean), 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=48)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # Tesseract on one core, like one scan worker
    from curate.scan.pixels.ocr import ensure_tesseract
    from curate.scan.pixels.synthetic import write_burned_in_demo

    ensure_tesseract("bench_pixels")
    with tempfile.TemporaryDirectory() as tmp:
        files = write_burned_in_demo(Path(tmp) / "d", n_files=args.files, seed=args.seed, size=args.size)
        frames = frames_of(Path(tmp) / "d", files)
    t_plain, h_plain = run_plain(frames)
    t_ours, h_ours, skipped = run_curate(frames)
    n = len(frames)
    res = {"frames": n, "planted_frames": sum(p for *_, p in frames), "size": args.size,
           "plain_frames_per_s": round(n / t_plain, 2), "curate_frames_per_s": round(n / t_ours, 2),
           "speedup": round(t_plain / t_ours, 2), "prefilter_skipped_share": round(skipped / n, 3),
           "plain_recall": round(_rates(frames, h_plain)[0], 3),
           "plain_clean_flagged": round(_rates(frames, h_plain)[1], 3),
           "curate_recall": round(_rates(frames, h_ours)[0], 3),
           "curate_clean_flagged": round(_rates(frames, h_ours)[1], 3),
           "machine": f"{platform.machine()} {os.cpu_count()} cores, python {platform.python_version()}"}
    if args.json:
        print(json.dumps(res, indent=2))
        return
    print(f"{n} frames ({res['planted_frames']} with planted text), {args.size} px, one core")
    print(f"plain image_to_data loop : {res['plain_frames_per_s']:7.2f} frames/s, frame recall "
          f"{res['plain_recall']:.3f}, clean frames flagged {res['plain_clean_flagged']:.3f}")
    print(f"curate (pre-filter + OCR): {res['curate_frames_per_s']:7.2f} frames/s, frame recall "
          f"{res['curate_recall']:.3f}, clean frames flagged {res['curate_clean_flagged']:.3f}")
    print(f"speed-up {res['speedup']:.2f}x; pre-filter skipped {100 * res['prefilter_skipped_share']:.1f} % "
          "of the frames")


if __name__ == "__main__":
    main()
