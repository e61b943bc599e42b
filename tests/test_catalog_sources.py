"""Each record's figures against the figures its cited sources print (tests/data/sources/<ID>.yaml).

The excerpt files are written by whoever read the source, separately from the record; this checks that the
record still says what its source prints (value, source key and locator), not the record against itself.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

import curate

SOURCES = Path(__file__).parent / "data" / "sources"
FILES = sorted(SOURCES.glob("*.yaml"))


def _cases():
    for f in FILES:
        doc = yaml.safe_load(f.read_text(encoding="utf-8"))
        for ex in doc["excerpts"]:
            for path, printed in ex["figures"].items():
                yield pytest.param(doc["id"], ex, path, str(printed), id=f"{doc['id']}:{path}")


def _resolve(ds, path: str) -> tuple[Any, Any]:
    """(fact, value at path): the longest prefix of `path` that is a Fact, then keys/indexes into it."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        fact = ds.fact(".".join(parts[:cut]))
        if fact is not None:
            value: Any = fact.value
            for key in parts[cut:]:
                if hasattr(value, "model_dump"):
                    value = value.model_dump()
                value = value[int(key)] if isinstance(value, list) else value[key]
            return fact, value
    raise AssertionError(f"{ds.id}: no fact at {path}")


def _number(text: str) -> tuple[float, int, bool] | None:
    """(number, decimals, is_percent) of a printed figure, or None for text."""
    m = re.fullmatch(r"\s*([<>≈~]?)\s*([\d,\u202f ]*\d(?:\.(\d+))?)\s*(%?)\s*", text)
    if not m:
        return None
    return float(re.sub(r"[,\u202f ]", "", m.group(2))), len(m.group(3) or ""), bool(m.group(4))


@pytest.mark.skipif(not FILES, reason="no excerpt files")
@pytest.mark.parametrize(("ds_id", "excerpt", "path", "printed"), list(_cases()))
def test_record_matches_its_source(ds_id, excerpt, path, printed):
    ds = curate.catalog.load().get(ds_id)
    if path.startswith("conflicts."):  # a value the record keeps as another source's conflict
        field = path.removeprefix("conflicts.")
        found = [c for c in ds.conflicts if c.field == field and c.source == excerpt["source"]]
        assert found, f"{ds_id}: no {field} conflict from {excerpt['source']}"
        fact, value = found[0], found[0].value
    else:
        fact, value = _resolve(ds, path)
    where = f"{ds_id}.{path}"
    assert fact.source == excerpt["source"], f"{where} cites {fact.source}, not {excerpt['source']}"
    assert fact.locator == excerpt["locator"], f"{where}: locator {fact.locator!r} vs {excerpt['locator']!r}"
    num = _number(printed)
    if num is None or not isinstance(value, (int, float)):
        assert printed.casefold() in str(value).casefold(), f"{where}: {value!r} vs printed {printed!r}"
        return
    x, decimals, percent = num
    got = value * 100 if percent else value
    assert round(got, decimals) == pytest.approx(x), f"{where}: {value!r} vs printed {printed!r}"


def test_every_excerpt_file_names_a_record():
    cat = curate.catalog.load()
    for f in FILES:
        doc = yaml.safe_load(f.read_text(encoding="utf-8"))
        assert doc["id"] == f.stem and doc["id"] in cat.ids
        for ex in doc["excerpts"]:
            assert ex["figures"] and ex["locator"] and ex["checked"]
