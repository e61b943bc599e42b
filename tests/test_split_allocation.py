"""Patient-level split allocation over the whole sample: 1–50 strata, tiny samples (hypothesis), and the
issue's reproduction (20 sites × 5 patients at 0.8/0.1/0.1 gave test 0)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.engine.sample import sample_with_report
from curate.engine.splits import SplitWarning, allocate_splits, patient_splits, patients_in_several_splits


@st.composite
def fractions(draw):
    k = draw(st.integers(1, 4))
    w = np.array(draw(st.lists(st.integers(1, 20), min_size=k, max_size=k)), dtype=float)
    return tuple(w / w.sum())


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(1, 12), min_size=1, max_size=50), fractions(), st.integers(0, 5))
def test_allocation_totals_minimum_one_and_within_one_patient(sizes, fr, seed):
    cnt = allocate_splits(sizes, fr, seed=seed)
    n, k = sum(sizes), len(fr)
    assert cnt.shape == (len(sizes), k) and (cnt >= 0).all()
    assert cnt.sum(1).tolist() == list(sizes)  # every patient placed once
    tot = cnt.sum(0)
    if n >= k:
        assert (tot >= 1).all(), tot  # no requested split is left empty
    quota = n * np.asarray(fr)
    if (quota >= 1).all():
        assert (np.abs(tot - quota) < 1).all(), (tot, quota)  # within one patient of the fractions
    else:  # a quota under one patient still gets one; everything else stays within one of its quota + 1
        assert (np.abs(tot - quota) < 1 + k).all()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 8), min_size=1, max_size=50), st.integers(0, 3))
def test_patient_splits_end_to_end_and_warning(sizes, seed):
    strata = np.repeat([f"s{i}" for i in range(len(sizes))], sizes)
    pats = np.arange(strata.size)
    meta = pd.DataFrame({"patient": np.repeat(pats, 2), "site": np.repeat(strata, 2)})  # 2 images each
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        split = patient_splits(meta, patient_col="patient", fractions=(0.8, 0.1, 0.1), seed=seed,
                               stratify="site")
    meta["split"] = split
    assert patients_in_several_splits(meta, split_col="split", patient_col="patient") == 0
    per = meta.drop_duplicates("patient")["split"].value_counts()
    n = len(pats)
    if n >= 3:
        assert set(per.index) == {"train", "validation", "test"}
    cross = pd.crosstab(meta.drop_duplicates("patient")["site"], meta.drop_duplicates("patient")["split"])
    cross = cross.reindex(columns=["train", "validation", "test"], fill_value=0)
    unrepresented = len(sizes) > 1 and bool((cross == 0).any(axis=1).any())
    assert any(issubclass(w.category, SplitWarning) for w in caught) == unrepresented
    if min(sizes) < 3 and len(sizes) > 1:
        assert unrepresented  # a stratum with fewer patients than splits cannot be in all of them


def test_issue_reproduction_twenty_sites():
    """sample(balance_by="site", n=100, splits="0.8,0.1,0.1") over 20 sites: 80 / 10 / 10, and a note."""
    rng = np.random.default_rng(0)
    meta = pd.DataFrame({"id": [f"i{i}" for i in range(400)], "patient": [f"p{i}" for i in range(400)],
                         "site": [f"site{i % 20:02d}" for i in range(400)], "x": rng.random(400)})
    out, rep = sample_with_report(meta, balance_by="site", n=100, patient_col="patient", splits="0.8,0.1,0.1")
    assert out["split"].value_counts().to_dict() == {"train": 80, "validation": 10, "test": 10}
    assert any("not represented in every split" in n and "'site'" in n for n in rep["notes"])


@pytest.mark.parametrize("n, fr, want", [
    (5, (0.8, 0.1, 0.1), [3, 1, 1]),  # per-stratum rounding gave [4, 1, 0]
    (3, (0.98, 0.01, 0.01), [1, 1, 1]),
    (2, (0.5, 0.25, 0.25), None),  # fewer patients than splits: no minimum-one promise
    (10, (0.7, 0.3), [7, 3]),
])
def test_single_stratum_cases(n, fr, want):
    cnt = allocate_splits([n], fr)
    assert cnt.sum() == n
    if want is not None:
        assert cnt[0].tolist() == want
