"""The seed papers' figures in ``tests/data/seeds``: every file cited, and (optionally) still what the
papers say.

``test_data_files_match_seed_papers`` is the only test in the suite that reads the papers' full text; it is
optional and skips, saying why, when ``shared/seeds`` is not beside the repository (a plain clone).
"""

from __future__ import annotations

import importlib.util
import re

import seed_data


def _extract_module():
    spec = importlib.util.spec_from_file_location("seed_extract", seed_data.DATA / "extract.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_every_data_file_is_cited():
    sources = (seed_data.DATA / "SOURCES.md").read_text(encoding="utf-8")
    cited = set(re.findall(r"^\| `([\w.]+)` \|", sources, flags=re.M))
    files = {p.name for p in seed_data.DATA.iterdir() if p.suffix in (".csv", ".yaml")}
    assert files and cited == files


def test_data_files_hold_the_tables():
    assert len(seed_data.rows("queiroz2025_table1.csv")) == 24
    assert [r["Dataset"] for r in seed_data.rows("germani2025_table2.csv")][-1] == "LBMD"
    assert len(seed_data.rows("luo2024_table1.csv")) == 12
    assert seed_data.count(seed_data.facts()["queiroz2025"]["images_curated_text"]) == 74_184_415


def test_data_files_match_seed_papers(seeds_dir):
    """Optional (needs ``shared/seeds``): re-extract from the papers' text and compare byte for byte."""
    assert {p.name for p in seeds_dir.glob("*.txt")} >= seed_data.SEED_FILES
    for name, body in _extract_module().extract(seeds_dir).items():
        assert (seed_data.DATA / name).read_text(encoding="utf-8") == body, name
