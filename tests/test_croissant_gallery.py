"""Every built-in record's croissant.json in the gallery (cards/) validates with mlcroissant and carries the
fields NeurIPS 2026's datasets track asks for (issue 32), with values that agree with the catalog record.

Independent readers: mlcroissant parses each file (its own RAI reader gives the collection time frame and the
collection type), and the expected values are read from the catalog record, not from the card builder.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

import curate

GALLERY = Path(__file__).resolve().parent.parent / "cards"
IDS = sorted(curate.catalog.load().ids)
RECOMMENDED = {"Surveys", "Secondary Data analysis", "Physical data collection", "Direct measurement",
               "Document analysis", "Manual Human Curator", "Software Collection", "Experiments",
               "Web Scraping",
               "Web API", "Focus groups", "Self-reporting", "Customer feedback data",
               "User-generated content data", "Passive Data Collection", "Others"}  # docs/croissant_rai.ttl


@pytest.fixture(scope="module")
def cat():
    return curate.catalog.load()


@pytest.mark.parametrize("rid", IDS)
def test_gallery_croissant_validates_and_carries_the_neurips_fields(cat, rid):
    import mlcroissant as mlc

    logging.getLogger("absl").setLevel(logging.ERROR)
    path = GALLERY / rid / "croissant.json"
    md = mlc.Dataset(jsonld=path).metadata
    issues = md.ctx.issues
    assert not issues.errors, issues.errors
    assert all("is recommended" in w for w in issues.warnings), issues.warnings

    ds = cat.get(rid)
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert md.data_collection_type and set(md.data_collection_type) <= RECOMMENDED
    assert doc["rai:hasSyntheticData"] is False and doc["rai:syntheticDataExplanation"]
    assert [c["identifier"] for c in doc.get("spatialCoverage", [])] == list(ds.countries.value)
    if ds.years_collected is None:
        assert "temporalCoverage" not in doc and md.data_collection_timeframe is None
    else:
        yr = ds.years_collected.value
        years = sorted({yr.start, yr.end if yr.end is not None else yr.start})
        assert sorted(d.year for d in md.data_collection_timeframe) == years  # mlcroissant's reading
        assert doc["temporalCoverage"] == doc["rai:dataCollectionTimeframe"]  # the vocabulary's ISO interval
        # ISO 8601 interval; an end no source states stays open (schema.org: "2015-11/..")
        want = (f"{yr.start}/.." if yr.end is None else str(yr.start) if yr.end == yr.start
                else f"{yr.start}/{yr.end}")
        assert doc["temporalCoverage"] == want
    if ds.derived_from is not None:
        assert md.data_collection_type == ["Secondary Data analysis"]


def test_synthetic_card_says_so_in_rai(tmp_path):
    """A card for synthetic data (curate.synthetic) declares rai:hasSyntheticData true and explains it."""
    from curate.cards.build import build_card

    b = build_card("BRSET", out=tmp_path / "syn", synthetic=True)
    doc = json.loads(b.paths["croissant"].read_text(encoding="utf-8"))
    assert doc["rai:hasSyntheticData"] is True and "synthetic" in doc["rai:syntheticDataExplanation"]
    assert json.loads((GALLERY / "BRSET" / "croissant.json").read_text())["rai:hasSyntheticData"] is False
