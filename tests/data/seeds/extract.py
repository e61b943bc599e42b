"""Extract, once, the figures the tests check from the seed papers' text (``shared/seeds/*.txt``).

Run from the repository root with the seed papers beside it (or ``CURATE_SEEDS=DIR``)::

    python tests/data/seeds/extract.py            # rewrite the data files
    python tests/data/seeds/extract.py --check    # exit 1 if a data file differs from the papers

Only figures (counts, codes, names of tables' cells) are written, never the papers' prose. Where each
figure is printed is recorded in ``SOURCES.md``. The tests read the files written here; the optional test
``tests/test_seed_data.py::test_data_files_match_seed_papers`` re-runs this extraction when the papers are
present and checks that the committed files are what the papers say.
"""

from __future__ import annotations

import csv
import io
import os
import re
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
SEEDS = Path(os.environ.get("CURATE_SEEDS", REPO.parent / "shared" / "seeds"))

QUEIROZ = "queiroz2025-fair-foundation-models-review.txt"
GERMANI = "germani2025-mammography-fm-bias.txt"
LUO = "luo2024-fairclip-harvard-fairvlmed.txt"
BAHRE = "bahre2025-embedding-vs-image-fairness-cxr.txt"


def _read(seeds: Path, name: str) -> str:
    return (seeds / name).read_text(encoding="utf-8")


def _csv(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def queiroz_table1(text: str) -> str:
    """Table 1 as printed (cells verbatim, the reference superscript dropped from the name)."""
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("Dataset\tModel\tRegion"))
    cols = lines[header].split("\t")
    rows = []
    for line in lines[header + 1:]:
        if not line.strip():
            break
        cells = [c.strip() for c in line.split("\t")]
        assert len(cells) == len(cols), line
        cells[0] = re.sub(r"\s*<sup>\d+</sup>\s*$", "", cells[0])
        rows.append(cells)
    assert len(rows) == 24, len(rows)
    return _csv(cols, rows)


def germani_table2(text: str) -> str:
    """Table 2, rows Country (the column header), Sites, Patients, Scans, Age (y): one row per dataset."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Table 2:"))
    rows: dict[str, list[str]] = {}
    for line in lines[start + 1:]:
        if not line.strip():
            if rows:
                break
            continue
        cells = line.split("\t")
        rows[cells[0].strip()] = [c.strip() for c in cells[1:]]
    keep = ["Sites", "Patients", "Scans", "Age (y)"]
    names = rows["Country"]
    return _csv(["Dataset", *keep], [[n, *(rows[k][i] for k in keep)] for i, n in enumerate(names)])


def luo_table1(text: str) -> str:
    """Table 1 rows: the nine image-only rows (parsed as the old test did) and the three CXR rows."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Dataset Data Modality"))
    row_start = re.compile(r"^(?P<name>[A-Za-z][\w.\- ]*?)\s*\[(?P<ref>\d+)\]\s*(?P<rest>.*)$")
    raw: list[list[str]] = []
    for line in lines[start + 1:]:
        if line.startswith("CheXpert"):
            break
        m = row_start.match(line)
        if m:
            raw.append([m["name"], m["rest"]])
        else:
            raw[-1][1] += " " + line.strip()
    cell = re.compile(
        r"^(?P<modality>.+?)\s(?P<images>\d[\d,]*)\s+(?:(?P<patients>\d[\d,]*|-)\s+)?"
        r"(?P<attrs>[A-Za-z][^✓✗]*?)\s*✓"
    )
    out = []
    for name, rest in raw:
        m = cell.match(rest)
        assert m, f"cannot parse luo2024 Table 1 row {name!r}: {rest!r}"
        d = m.groupdict()
        out.append([name, d["modality"], d["images"], d["patients"] or "", " ".join(d["attrs"].split())])
    for printed in ("CheXpert", "MIMIC-CXR", "PadChest"):
        m = re.search(rf"^{printed} \[\d+\].*?([\d,]{{6,}}) ([\d,]{{5,}}) (Age[^✓]*?)\s*✓", text,
                      flags=re.M | re.S)
        modality = "Chest X-ray and Radiology Report"
        out.append([printed, modality, m.group(1), m.group(2), m.group(3).strip()])
    return _csv(["Dataset", "Data Modality", "# of Images", "# of Patients", "Identity Attribute"], out)


def bahre_table(text: str) -> str:
    """The dataset table (# Images, # Patients of MIMIC, CXP, ALL)."""
    header = re.search(r"^Subgroup\tAttribute\t(.+)$", text, flags=re.M).group(1).split("\t")
    rows = []
    for label in ("# Images", "# Patients"):
        cells = re.search(rf"^\t{label}\t(.+)$", text, flags=re.M).group(1).split("\t")
        rows.append([label, *cells])
    return _csv(["Attribute", *header], rows)


def facts(seeds: Path) -> str:
    """Single figures printed in the papers' text (not in a table)."""
    q = _read(seeds, QUEIROZ)
    total = re.search(r"curation of ([\d,]+) medical images", q).group(1)
    para = next(line for line in q.splitlines() if "Top500" in line and "North America holds" in line)
    shares = dict(re.findall(r"(North America|Europe|Asia) (?:holds )?(\d+\.\d)%", para))
    m = re.search(r"South America and Oceania represent just (\d+\.\d)% and (\d+\.\d)%", para)
    shares["South America"], shares["Oceania"] = m.group(1), m.group(2)
    absent = sorted({r for r in ("Africa",) if f"{r}'s absence from these rankings" in para})
    g = _read(seeds, GERMANI)
    hospital = re.search(r"clinical partners at the (Lebanese Hospital \w+)", g).group(1)
    lu = " ".join(_read(seeds, LUO).split())
    samples, subjects = re.search(r"comprises ([\d,]+) samples from ([\d,]+) subjects", lu).groups()
    mean, sd = re.search(r"age average is ([\d.]+) ±([\d.]+)", lu).groups()
    first, last = re.search(r"between (\d{4}) and (\d{4})", lu).groups()
    attrs = [a for a in ("age", "gender", "race", "ethnicity", "preferred language", "marital status")
             if a in lu]
    data = {
        "queiroz2025": {
            "images_curated_text": total,
            "top500_share_pct": shares,
            "top500_absent": absent,
        },
        "germani2025": {"LBMD_site": hospital},
        "luo2024": {
            "fairvlmed_samples": samples,
            "fairvlmed_subjects": subjects,
            "fairvlmed_age_mean": mean,
            "fairvlmed_age_sd": sd,
            "fairvlmed_years": [first, last],
            "fairvlmed_attributes": attrs,
        },
    }
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def extract(seeds: Path) -> dict[str, str]:
    """{file name: content} for every data file."""
    return {
        "queiroz2025_table1.csv": queiroz_table1(_read(seeds, QUEIROZ)),
        "germani2025_table2.csv": germani_table2(_read(seeds, GERMANI)),
        "luo2024_table1.csv": luo_table1(_read(seeds, LUO)),
        "bahre2025_datasets.csv": bahre_table(_read(seeds, BAHRE)),
        "facts.yaml": facts(seeds),
    }


def main(argv: list[str]) -> int:
    if not SEEDS.is_dir():
        sys.stderr.write(f"error: seed papers not found at {SEEDS} (set CURATE_SEEDS)\n")
        return 2
    files = extract(SEEDS)
    if "--check" in argv:
        bad = [n for n, body in files.items() if (HERE / n).read_text(encoding="utf-8") != body]
        for n in bad:
            sys.stderr.write(f"error: {n} differs from the seed papers\n")
        return 1 if bad else 0
    for name, body in files.items():
        (HERE / name).write_text(body, encoding="utf-8")
        print(f"wrote {HERE / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
