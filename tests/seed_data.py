"""The seed papers' figures the tests check, read from ``tests/data/seeds`` (see its SOURCES.md).

The papers themselves (``shared/seeds``) are not needed: ``extract.py`` wrote these files from them once,
and ``tests/test_seed_data.py`` checks them against the papers when the papers happen to be present.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parent / "data" / "seeds"

#: The seed papers' text files (``shared/seeds``), written out by hand.
SEED_FILES = frozenset({
    "queiroz2025-fair-foundation-models-review.txt",
    "germani2025-mammography-fm-bias.txt",
    "luo2024-fairclip-harvard-fairvlmed.txt",
    "bahre2025-embedding-vs-image-fairness-cxr.txt",
})


@cache
def _rows(name: str) -> tuple[dict[str, str], ...]:
    with open(DATA / name, newline="", encoding="utf-8") as f:
        return tuple(csv.DictReader(f))


def rows(name: str) -> list[dict[str, str]]:
    """The rows of ``tests/data/seeds/<name>`` as printed (fresh dicts, safe to modify)."""
    return [dict(r) for r in _rows(name)]


@cache
def facts() -> dict:
    """Single figures printed in the papers' text (``facts.yaml``), as printed."""
    return yaml.safe_load((DATA / "facts.yaml").read_text(encoding="utf-8"))


def count(text: str) -> int:
    """A printed count (``1,391``) as an int."""
    return int(text.replace(",", ""))
