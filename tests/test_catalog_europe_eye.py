"""Eye datasets from Europe added for issue 32's breadth target (helper unk1): each answers at least 19 of the
38 datasheet questions from its sources and has its source excerpts in tests/data/sources/<ID>.yaml, which
tests/test_catalog_sources.py checks figure by figure."""

from __future__ import annotations

from pathlib import Path

import pytest

import curate

ADDED = ("CHASE_DB1", "DIARETDB1", "ONHSD", "RITE", "TREND", "RETOUCH", "DR-HAGIS", "e-ophtha")


@pytest.fixture(scope="module")
def cat():
    return curate.catalog.load()


@pytest.mark.parametrize("rid", ADDED)
def test_added_eye_records_answer_half_the_datasheet_from_sources(cat, rid):
    from curate.cards.context import build_context

    cov = build_context(cat.get(rid), cat).coverage()
    assert cov["datasheet_answered"] >= 19, (rid, cov["datasheet_unanswered"])
    assert (Path(__file__).parent / "data" / "sources" / f"{rid}.yaml").is_file()


@pytest.mark.parametrize("rid", ADDED)
def test_added_eye_records_are_eye_images_from_europe(cat, rid):
    """What the breadth target asked for: ophthalmic images collected in a European country
    (country_converter's continent, an independent table)."""
    from curate.countries import convert

    ds = cat.get(rid)
    assert ds.anatomy.value == "eye"
    assert {convert(c, "continent") for c in ds.countries.value} == {"Europe"}
