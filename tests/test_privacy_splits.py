"""Disclosure control and patient-level splits, checked against brute-force reasoning."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from curate.engine.splits import parse_fractions, patient_splits, patients_in_several_splits
from curate.errors import InputError, UsageError
from curate.policy.disclosure import (
    COMPLEMENT,
    SUPPRESSED,
    age_bands,
    suppress,
    suppressed_total,
    top_code_ages,
)
from curate.policy.identifiers import looks_like_identifier


def _recoverable(display: pd.DataFrame, counts: pd.DataFrame) -> bool:
    """True if some hidden cell is pinned down by its row or column total (exactly one hidden)."""
    hidden = display.map(lambda v: isinstance(v, str))
    return bool((hidden.sum(axis=1) == 1).any() or (hidden.sum(axis=0) == 1).any())


def test_small_cells_hidden_and_complements_added():
    counts = pd.DataFrame({"F": [40, 5, 30], "M": [50, 20, 3]}, index=["a", "b", "c"])
    shown = suppress(counts)
    assert shown.loc["a", "F"] == 40 and shown.loc["a", "M"] == 50
    # both genuinely small cells are hidden ...
    assert shown.loc["b", "F"] == "<11" and shown.loc["c", "M"] == "<11"
    # ... and one complement per affected row, so totals don't reveal them; the complements hold 20 and 30,
    # so they are marked "*" (hidden to protect a small cell), never "<11" (which would be false)
    assert shown.loc["b", "M"] == COMPLEMENT and shown.loc["c", "F"] == COMPLEMENT
    assert not _recoverable(shown, counts)


def test_complement_holding_eleven_or_more_is_not_shown_as_small():
    # the tutorial case: Female 11 patients, Male 9, total 20 published. Male is a primary small cell;
    # Female is hidden only as its complement and must not claim "<11" (two "<11" cells beside a total of 20
    # would be false: 11 + 9)
    shown = suppress(pd.Series({"Female": 11, "Male": 9}))
    assert shown.tolist() == [COMPLEMENT, SUPPRESSED]
    assert COMPLEMENT == "*" and SUPPRESSED == "<11"


def test_random_tables_never_leave_a_single_hidden_cell():
    rng = np.random.default_rng(0)
    for _ in range(200):
        counts = pd.DataFrame(rng.integers(0, 40, size=(rng.integers(2, 6), rng.integers(2, 6))))
        shown = suppress(counts)
        hidden = shown.map(lambda v: isinstance(v, str))
        small = (counts > 0) & (counts < 11)
        assert hidden[small].fillna(True).all().all(), "every small cell must be hidden"
        assert not _recoverable(shown, counts)
        # the marker tells the truth: "<11" exactly on the 1..10 cells, "*" on the others that are hidden
        for i, j in itertools.product(*map(range, counts.shape)):
            if small.iat[i, j]:
                assert shown.iat[i, j] == "<11"
            elif hidden.iat[i, j]:
                assert shown.iat[i, j] == "*"
        # zeros and unaffected big cells stay visible
        cells = itertools.product(*map(range, counts.shape))
        assert all(shown.iat[i, j] == counts.iat[i, j] for i, j in cells if not hidden.iat[i, j])


def test_series_suppression_and_totals():
    s = suppress(pd.Series({"F": 40, "M": 5, "X": 12}))
    assert s.tolist() == [40, "<11", "*"]  # X (12) is hidden only as M's complement
    assert suppress(pd.Series({"F": 40, "M": 0})).tolist() == [40, 0]
    assert suppressed_total(7) == "<11" and suppressed_total(0) == 0 and suppressed_total(11) == 11


def test_ages_top_coded_and_banded():
    ages = pd.Series([5, 17, 89, 90, 104, np.nan])
    assert top_code_ages(ages).tolist()[:5] == [5, 17, 89, 90, 90]
    bands = age_bands(ages)
    assert bands[:5].astype(str).tolist() == ["0-9", "10-19", "80-89", "90+", "90+"]
    assert pd.isna(bands.iloc[5])


def test_identifier_heuristic():
    assert looks_like_identifier("patient_id") and looks_like_identifier("image_id")
    assert looks_like_identifier("file") and looks_like_identifier("StudyID".lower())
    assert not looks_like_identifier("patient_age") and not looks_like_identifier("diabetes")
    assert looks_like_identifier("code", pd.Series([f"x{i}" for i in range(50)], dtype=object))


def test_patient_splits_keep_patients_together_and_fractions():
    rng = np.random.default_rng(3)
    n_pat = 500
    visits = rng.integers(1, 5, size=n_pat)
    meta = pd.DataFrame({"patient": np.repeat([f"p{i}" for i in range(n_pat)], visits)})
    meta["label"] = meta["patient"].map({f"p{i}": int(i % 4 == 0) for i in range(n_pat)})
    split = patient_splits(meta, patient_col="patient", seed=7, stratify="label")
    meta["split"] = split
    assert patients_in_several_splits(meta, split_col="split", patient_col="patient") == 0
    per_patient = meta.groupby("patient")["split"].first().value_counts(normalize=True)
    assert per_patient["train"] == pytest.approx(0.8, abs=0.01)
    assert per_patient["test"] == pytest.approx(0.1, abs=0.01)
    # stratification keeps prevalence close to the overall prevalence in every split
    prev = meta.groupby("patient").first().groupby("split")["label"].mean()
    assert (prev - 0.25).abs().max() < 0.03
    # deterministic under a seed, different under another
    assert split.equals(patient_splits(meta, patient_col="patient", seed=7, stratify="label"))
    assert not split.equals(patient_splits(meta, patient_col="patient", seed=8, stratify="label"))


def test_split_errors():
    meta = pd.DataFrame({"p": ["a", None]})
    with pytest.raises(InputError, match="missing values"):
        patient_splits(meta, patient_col="p")
    with pytest.raises(InputError, match="not found"):
        patient_splits(meta, patient_col="nope")
    with pytest.raises(UsageError, match="sum to 1"):
        parse_fractions("0.8,0.3")
    with pytest.raises(UsageError, match="numbers"):
        parse_fractions("a,b")
