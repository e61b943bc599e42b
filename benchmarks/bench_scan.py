"""Benchmark: ``curate scan`` vs a plain ``pydicom.dcmread`` loop over the same generated DICOM files.

Data: ``--n`` generated DICOM files (``--size`` x ``--size`` uint16 pixels, a realistic header with the
identifying attributes a de-identification audit looks at, one private tag), written once to a temporary
folder (deleted afterwards) and read from the page cache by both contenders.

Peers, measured in the same run:

- ``plain loop``: ``for p in files: ds = pydicom.dcmread(p)`` reading the same fields curate writes, in one
  process (what a script written by hand does);
- ``header-only loop``: the same with ``stop_before_pixels=True`` (what curate does per file, one process);
- ``curate scan``: the whole command (listing, both cores, pseudonyms, Annex E audit, parquet + reports).

    python benchmarks/bench_scan.py --n 10000

Ratios > 1 mean curate is faster.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

FIELDS = ("Modality", "BodyPartExamined", "Manufacturer", "ManufacturerModelName", "PatientSex", "PatientAge",
          "Rows", "Columns", "PixelSpacing", "BitsStored", "PhotometricInterpretation", "PatientID",
          "StudyInstanceUID", "SeriesInstanceUID", "InstitutionName")


def generate(root: Path, n: int, size: int, seed: int = 0) -> list[Path]:
    from curate.scan.synthetic import make_dicom

    rng = np.random.default_rng(seed)
    px = rng.integers(0, 4096, (size, size)).astype(np.uint16)
    files = []
    for i in range(n):
        attrs = {"PatientName": f"BENCH^P{i % 997}", "PatientID": f"B{i % 997:06d}",
                 "PatientSex": "FM"[i % 2], "PatientAge": f"{20 + i % 70:03d}Y",
                 "PatientBirthDate": "19600101", "StudyDate": "20200101",
                 "InstitutionName": f"BENCH SITE {i % 5}", "ReferringPhysicianName": "BENCH^DOC",
                 "Manufacturer": "SIEMENS", "ManufacturerModelName": "Skyra", "BodyPartExamined": "CHEST",
                 "PixelSpacing": [0.7, 0.7], "AccessionNumber": f"A{i}", "StationName": "ST1",
                 "StudyDescription": "bench", "SeriesDescription": "bench"}
        files.append(make_dicom(root / f"{i // 1000:03d}" / f"{i:06d}.dcm", px, attrs=attrs,
                                private={0x01: "bench"}))
    return files


def plain_loop(files: list[Path], stop_before_pixels: bool) -> float:
    import pydicom

    t = time.perf_counter()
    rows = []
    for p in files:
        ds = pydicom.dcmread(p, stop_before_pixels=stop_before_pixels)
        rows.append({k: ds.get(k) for k in FIELDS})
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000, help="generated DICOM files")
    ap.add_argument("--size", type=int, default=128, help="image side in pixels (uint16)")
    ap.add_argument("--workers", type=int, default=None, help="curate scan workers (default: all cores)")
    args = ap.parse_args()
    import pandas  # noqa: F401 - imports are not what is measured (the plain loop builds no table)
    import pyarrow.parquet  # noqa: F401

    from curate.scan import scan

    tmp = Path(tempfile.mkdtemp(prefix="curate-bench-scan-"))
    try:
        t = time.perf_counter()
        files = generate(tmp / "in", args.n, args.size)
        mb = sum(p.stat().st_size for p in files) / 1e6
        print(f"# {args.n:,} generated DICOM files, {args.size}x{args.size} uint16, {mb:,.0f} MB "
              f"(written in {time.perf_counter() - t:.1f} s); Python {platform.python_version()}, "
              f"{os.cpu_count()} CPUs, {platform.machine()}")
        key = tmp / "bench.key"
        key.write_text("0" * 64)
        plain_loop(files[: min(200, len(files))], False)  # warm imports and the page cache
        t_plain = plain_loop(files, False)
        t_header = plain_loop(files, True)
        t = time.perf_counter()
        res = scan(tmp / "in", tmp / "out", key_file=key, workers=args.workers)
        t_scan = time.perf_counter() - t
        assert res.n_dicom == args.n, res.summary
        print(f"plain pydicom.dcmread loop        {t_plain:7.2f} s   {args.n / t_plain:8,.0f} files/s")
        print(f"dcmread(stop_before_pixels) loop  {t_header:7.2f} s   {args.n / t_header:8,.0f} files/s")
        print(f"curate scan (all outputs)         {t_scan:7.2f} s   {args.n / t_scan:8,.0f} files/s")
        print(f"  curate scan timings: {res.timings}")
        print(f"ratio plain loop / curate scan: {t_plain / t_scan:.2f}x   "
              f"header-only loop / curate scan: {t_header / t_scan:.2f}x")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
