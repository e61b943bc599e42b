"""Derive ``curate/engine/represent/data/wpp2024_population.csv.gz`` from the ``starsim-data`` wheel.

A maintainer's script, run once by hand (see that folder's SOURCES.md); not part of the curate package, so
not an output of curate (it writes a shipped data file, never user data).

    pip download --no-deps starsim-data==2.0.0 && unzip starsim_data-2.0.0-py3-none-any.whl -d whl
    pip install --target /tmp/h5 h5py
    PYTHONPATH=/tmp/h5 python scripts/derive_wpp2024.py whl/starsim_data/data  # writes the shipped table

Input: ``demographics-2024.h5``, group ``/population``: one ``(year, sex, age)`` float32 array per location
(16 decades 1950..2100 × Female, Male × 21 five-year groups 0..100+), and ``locations.csv`` (ISO 3166-1
codes).
Output: one row per (ISO3, decade); columns ``F0 .. F100`` and ``M0 .. M100`` hold persons (rounded to whole
persons), the column's number being the first age of the 5-year group (``100`` = 100 and over).
"""

from __future__ import annotations

import csv
import gzip
import json
import sys
from pathlib import Path

#: The shipped table this script (re)writes.
OUT = Path(__file__).resolve().parents[1] / "curate/engine/represent/data/wpp2024_population.csv.gz"


def main(src: str) -> None:
    import h5py

    data = Path(src)
    with open(data / "locations.csv", newline="", encoding="utf-8") as fh:  # csv module: Namibia is "NA"
        iso3 = {r["location"]: r["iso3"] for r in csv.DictReader(fh) if r["level"] == "0"}
    out = OUT
    with h5py.File(data / "demographics-2024.h5") as f:
        spec = json.loads(f["population"].attrs["spec"])
        years, sexes, ages = spec["years"], spec["sexes"], spec["ages"]
        assert sexes == ["Female", "Male"], sexes
        header = ["iso3", "location", "year"] + [f"{s[0]}{a}" for s in sexes for a in ages]
        rows = []
        for loc in sorted(f["population"], key=lambda k: iso3[k]):
            arr = f["population"][loc][()]
            for y, year in enumerate(years):
                rows.append([iso3[loc], loc, year] + [round(float(v)) for v in arr[y].ravel()])
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    with open(out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as gz:
        gz.write(buf.getvalue().encode("utf-8"))  # mtime=0: the same input gives the same bytes
    print(f"{out.name}: {len(rows)} rows, {out.stat().st_size:,} bytes")


if __name__ == "__main__":
    main(sys.argv[1])
