"""The records issue 18 found wrong or under-sourced, each checked against what its sources print.

Independent truth here is the seed's own table (tests/data/seeds, as printed) and the figures recorded from
the data holders' pages (tests/data/sources); each test names the correction it guards.
"""

from __future__ import annotations

import pytest

import curate
from tests import seed_data


@pytest.fixture(scope="module")
def cat():
    return curate.catalog.load()


def test_licence_versions_are_not_credited_to_a_table_that_prints_none(cat):
    """queiroz2025 Table 1 prints only PHDL / RUA / Restricted: a version credited to it is invented."""
    printed = {r["Dataset"]: r["License"] for r in seed_data.rows("queiroz2025_table1.csv")}
    assert "PHDL" in printed.values()
    for ds in cat:
        lic = ds.licence
        if lic.source == "queiroz2025" and lic.as_printed in ("PHDL", "RUA", "Restricted"):
            assert not any(ch.isdigit() for ch in lic.value), (ds.id, lic.value)
    for rid in ("BRSET", "MIMIC-CXR-JPG", "BRAX"):
        assert cat.get(rid).licence.value == "PhysioNet Credentialed Health Data License"


def test_isic_countries_and_count_describe_the_same_collection(cat):
    isic = cat.get("ISIC")
    # the image count is the whole archive's (Table 1); the five countries are the 2020 challenge subset's
    assert isic.multinational and isic.countries.value == []
    (countries,) = [c for c in isic.conflicts if c.field == "countries"]
    assert sorted(countries.value) == ["AUS", "AUT", "ESP", "GRC", "USA"]


def test_tcga_dermal_is_a_conflict_not_the_value(cat):
    tcga = cat.get("TCGA")
    assert tcga.anatomy.as_printed == "Dermal" or tcga.anatomy.value.lower() == "dermal"
    assert any(c.field == "anatomy" for c in tcga.conflicts)


@pytest.mark.parametrize("rid", ["MURA", "SUN-SEG", "RadImageNet"])
def test_review_licences_checked_against_the_data_holder(cat, rid):
    ds = cat.get(rid)
    # issue 32: the data holder's own terms are the licence, the review's value a conflict ...
    assert ds.licence.source != "queiroz2025" and ds.licence.source_type == "primary", rid
    assert [c for c in ds.conflicts if c.field == "licence" and c.source == "queiroz2025"], rid
    assert ds.access == "restricted", rid  # ... and, being stricter, they decide the access class


def test_sun_seg_mit_is_the_codes_licence(cat):
    ds = cat.get("SUN-SEG")
    assert "MIT" not in ds.licence.value  # the data terms are the licence
    (c,) = [c for c in ds.conflicts if c.field == "licence"]
    assert c.value == "MIT" and "code licence" in c.note


def test_passion_has_its_own_data_licence(cat):
    p = cat.get("PASSION")
    assert "not stated" not in p.licence.value.lower() and "PASSION" in p.licence.value
    assert p.terms.commercial is False and p.access == "restricted"


def test_nigerian_brain_mri_keeps_both_versions_class_splits(cat):
    d = cat.get("Nigerian-Brain-MRI")
    texts = [str(v) for v in d.versions.value]
    assert any("35 healthy control, 31 dementia, 22" in t for t in texts)  # Scientific Data 2025
    assert any("36 healthy control, 32 dementia, 20" in t for t in texts)  # 2023 preprint
    # both splits add up to the same 88 images
    assert 35 + 31 + 22 == 36 + 32 + 20 == d.images.value == 88


def test_fitzpatrick17k_repository_count_is_a_conflict(cat):
    f = cat.get("Fitzpatrick17k")
    assert f.images.value == 16012 and f.images.source == "luo2024"  # the seed's table
    assert [c.value for c in f.conflicts if c.field == "images"] == [16577]


@pytest.mark.parametrize("rid", ["NIH-CXR14", "Kermany-OCT", "BUSI"])
def test_mirrors_are_labelled_as_mirrors(cat, rid):
    """A fact read on Kaggle or another re-host must not claim to be primary."""
    ds = cat.get(rid)
    for path, fact in ds.facts():
        ref = ds.references.get(fact.source)
        where = " ".join(str(x) for x in (ref.title, ref.url) if x).lower() if ref else ""
        if "kaggle" in where or "mirror" in fact.source:
            assert fact.source_type == "mirror", (rid, path)


@pytest.mark.parametrize(("child", "parent"), [("BHX", "CQ500"), ("MIMIC-CXR-JPG", "MIMIC-CXR"),
                                               ("LUNA16", "LIDC-IDRI"), ("PCam", "CAMELYON16")])
def test_lineage_named_in_the_issue(cat, child, parent):
    assert parent in cat.get(child).derived_from.value and parent in cat.ids
