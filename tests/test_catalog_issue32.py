"""The records issue 32's fact-check found wrong, each checked against what the holder's own terms say.

Independent truth: the figures recorded from the holders' pages and licence files (tests/data/sources,
written from the source, not from the record) and the licence texts quoted here; each test names the
correction it guards.
"""

from __future__ import annotations

import pytest

import curate
from curate.policy.terms import terms_for_licence


@pytest.fixture(scope="module")
def cat():
    return curate.catalog.load()


def test_scin_terms_are_its_data_use_licence(cat):
    """SCIN Data Use License s2(a)(1): 'reproduce and Share the Licensed Material ... produce, reproduce,
    and Share Adapted Material'; s3(a) attribution; no non-commercial or share-alike clause."""
    scin = cat.get("SCIN")
    t = scin.terms
    assert (t.redistribution, t.derivatives, t.commercial, t.attribution, t.share_alike) == (
        True, True, True, True, False)
    assert scin.use_terms.source == "scin_licence" and scin.use_terms.source_type == "primary"
    assert scin.access == "open"


def test_scin_race_categories_are_all_the_schema_lists(cat):
    # dataset_schema.md, race_ethnicity_* column suffixes (ten of them)
    printed = ["AMERICAN_INDIAN_OR_ALASKA_NATIVE", "ASIAN", "BLACK_OR_AFRICAN_AMERICAN",
               "HISPANIC_LATINO_OR_SPANISH_ORIGIN", "MIDDLE_EASTERN_OR_NORTH_AFRICAN",
               "NATIVE_HAWAIIAN_OR_PACIFIC_ISLANDER", "WHITE", "OTHER_RACE", "PREFER_NOT_TO_ANSWER",
               "TWO_OR_MORE_AFTER_MITIGATION"]
    cats = cat.get("SCIN").population.attributes["race"].categories.value
    assert sorted(cats) == sorted(printed)


def test_inredd_is_contributor_review_not_unknown(cat):
    d = cat.get("InReDD-PAN924")
    assert "Contributor Review" in d.licence.value and d.licence.source_type == "primary"
    assert d.terms.agreement == "application" and d.access == "restricted"
