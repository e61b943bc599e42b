"""Eye datasets from Europe added for issue 32's breadth target (helper unk1): each answers at least 19 of the
38 datasheet questions from its sources and has its source excerpts in tests/data/sources/<ID>.yaml, which
tests/test_catalog_sources.py checks figure by figure."""

from __future__ import annotations

from pathlib import Path

import pytest

import curate

ADDED = ("CHASE_DB1", "DIARETDB1", "ONHSD", "RITE", "TREND", "RETOUCH", "DR-HAGIS", "e-ophtha", "AROI")


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


# The holders' own words (read 2026-12-07), quoted here independently of the records: each forbids
# redistribution, so the images may not be re-shared and the class is `restricted`, resting on the holder.
HOLDER_TERMS = {
    "RIM-ONE-DL": "Copy, redistribution, and any unauthorized commercial use are prohibited.",  # LICENSE.txt
    "DIARETDB1": "You are not allowed redistribute or modify it.",  # ImageRet page, Usage
    "ONHSD": "Copying, redistribution, and any unauthorized commercial use is prohibited.",  # dataset page
}


@pytest.mark.parametrize("rid", sorted(HOLDER_TERMS))
def test_holder_forbids_redistribution_so_access_is_restricted(cat, rid):
    from curate.catalog.licences import upload_decision

    ds = cat.get(rid)
    assert HOLDER_TERMS[rid] in ds.licence.as_printed
    assert ds.licence.source_type == "primary" and ds.use_terms.source_type == "primary"
    assert ds.terms.redistribution is False and ds.access == "restricted"
    assert upload_decision(ds).images == "refused"


def test_rite_counts_drive_images_once(cat):
    """RITE's photographs are DRIVE's (its page: 'The fundus photograph is inherited from DRIVE'): with
    DRIVE in the selection RITE adds no images to a total; alone, its 40 are counted in full."""
    from curate.catalog.lineage import counted_images, unique_total

    rite, drive = cat.get("RITE"), cat.get("DRIVE")
    assert counted_images(rite, {"RITE", "DRIVE"}) == 0
    assert counted_images(rite, {"RITE"}) == 40
    assert unique_total([rite, drive]) == drive.images.value == 40
