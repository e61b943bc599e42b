"""Measured composition: role inference, small-cell suppression, top-coding, no identifiers, bad input.

Truth is computed independently with plain pandas/numpy on the generated table, never by calling the
module under test twice.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from curate.errors import InputError, UsageError
from curate.pipeline.composition import MISSING, infer_roles, measure_composition, parse_column_specs

PATIENT_TAG = "PTZQX"
IMAGE_TAG = "IMGKJW"


def make_metadata(seed: int = 0) -> pd.DataFrame:
    """300 images of 120 patients; a rare sex group (4 patients), ages up to 104, two labels."""
    rng = np.random.default_rng(seed)
    n_pat = 120
    pats = [f"{PATIENT_TAG}-{i:05d}-{rng.integers(1e6):06d}" for i in range(n_pat)]
    sex = np.array(["F"] * 60 + ["M"] * 56 + ["X"] * 4)
    age = rng.integers(18, 89, n_pat).astype(float)
    age[:3] = [93, 97, 104]  # three old patients: top-coded
    age[5] = np.nan
    nat = np.array(["Brazil"] * 110 + ["Japan"] * 10)
    rows = []
    for i in range(300):
        p = i % n_pat
        rows.append({
            "image_id": f"{IMAGE_TAG}-{i:06d}.jpg",
            "patient_id": pats[p],
            "patient_age": age[p],
            "patient_sex": sex[p],
            "nationality": nat[p],
            "camera": ["Canon CR", "Nikon NF505"][i % 2],
            "diabetes": "yes" if rng.random() < 0.3 else "no",
            "DR_ICDR": int(rng.choice([0, 1, 2, 3, 4], p=[0.6, 0.15, 0.12, 0.08, 0.05])),
        })
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def meta() -> pd.DataFrame:
    return make_metadata()


@pytest.fixture(scope="module")
def comp(meta):
    return measure_composition(meta, ["label=diabetes", "label=DR_ICDR"], name="labels.csv", sha256="0" * 64)


def _table(comp, title_start: str):
    for t in comp.tables + comp.label_tables + comp.crosstabs:
        if t.title.startswith(title_start):
            return t
    raise AssertionError(f"no table {title_start!r} in {[t.title for t in comp.tables]}")


def test_roles_inferred_from_common_names(meta):
    roles = infer_roles(meta)
    assert roles["patient"] == ["patient_id"]
    assert roles["image"] == ["image_id"]
    assert roles["age"] == ["patient_age"]
    assert roles["sex"] == ["patient_sex"]
    assert roles["nationality"] == ["nationality"]
    assert roles["device"] == ["camera"]
    assert roles["label"] == ["diabetes"]  # binary yes/no; DR_ICDR is not label-named


def test_explicit_roles_override_inference(meta):
    df = meta.rename(columns={"patient_age": "idade"})
    roles = infer_roles(df, parse_column_specs({"age": "idade", "label": ["DR_ICDR"]}))
    assert roles["age"] == ["idade"]
    assert roles["label"] == ["DR_ICDR"]


def test_headline_counts(comp, meta):
    assert comp.n_images == len(meta) == 300
    assert comp.n_patients == meta["patient_id"].nunique() == 120
    per = meta.groupby("patient_id").size()
    assert comp.images_per_patient["mean"] == f"{per.mean():.2f}"
    assert comp.counted_by == "patients"


def test_small_cells_suppressed_with_complements(comp, meta):
    sex = _table(comp, "Sex")
    by_value = {r[0]: r for r in sex.rows}
    true_pat = meta.groupby("patient_sex")["patient_id"].nunique()
    assert true_pat["X"] == 4
    assert by_value["X"][1] == "<11" and by_value["X"][2] == "<11"
    hidden = [r[0] for r in sex.rows if r[2] in ("<11", "*")]
    assert len(hidden) >= 2, "a single hidden cell could be recovered from the total"
    # the complement is the next-smallest group, and visible cells equal the true counts
    comp_value = true_pat.drop("X").idxmin()
    assert set(hidden) == {"X", comp_value}
    # the complement holds 56 patients: marked "*", never "<11" (which would be false)
    assert true_pat[comp_value] >= 11
    assert by_value[comp_value][1] == "*" and by_value[comp_value][2] == "*"
    true_img = meta["patient_sex"].value_counts()
    for value, row in by_value.items():
        if value not in hidden:
            assert row[1] == f"{true_img[value]:,}" and row[2] == f"{true_pat[value]:,}"


def test_crosstab_suppression_matches_brute_force(comp, meta):
    t = _table(comp, "Label `DR_ICDR` by nationality")
    grades = t.columns[1:]
    pat = meta.pivot_table(index="nationality", columns="DR_ICDR", values="patient_id", aggfunc="nunique",
                           fill_value=0)
    img = pd.crosstab(meta["nationality"], meta["DR_ICDR"])
    hidden = np.array([[cell in ("<11", "*") for cell in r[1:]] for r in t.rows])
    for i, row in enumerate(t.rows):
        for j, g in enumerate(grades):
            true_p = int(pat.loc[row[0], int(g)])
            if 0 < true_p < 11:
                assert row[1 + j] == "<11", f"cell {row[0]}/{g} with {true_p} patients is not shown as <11"
            elif hidden[i, j]:
                assert row[1 + j] == "*", f"complement {row[0]}/{g} ({true_p} patients) must be '*'"
            if not hidden[i, j]:
                assert row[1 + j] == f"{img.loc[row[0], int(g)]:,}"
    for line in [*hidden, *hidden.T]:  # every row and column: zero or at least two hidden cells
        assert line.sum() != 1


def test_ages_top_coded(comp, meta):
    bands = _table(comp, "Age bands")
    labels = [r[0] for r in bands.rows]
    assert "90+" in labels
    assert not any(re.match(r"^(9[1-9]|1\d\d)", lab) for lab in labels)
    assert labels[-1] == MISSING
    ages = meta["patient_age"].dropna()
    capped = np.minimum(ages.to_numpy(), 90)
    assert comp.age_summary["mean"] == f"{capped.mean():.1f}"
    assert comp.age_summary["median"] == f"{np.median(capped):.1f}"
    # 3 patients aged 90+: a small cell, so the count is hidden everywhere
    assert comp.age_summary["top_coded"] == "<11"
    assert dict((r[0], r[2]) for r in bands.rows)["90+"] == "<11"


def test_binary_label_prevalence(comp, meta):
    t = _table(comp, "Binary labels")
    row = t.rows[0]
    pos = int((meta["diabetes"] == "yes").sum())
    neg = int((meta["diabetes"] == "no").sum())
    assert row[1:4] == [f"{pos:,}", f"{neg:,}", "0"]
    assert row[4] == f"{100 * pos / (pos + neg):.1f}%"


def test_identifier_values_never_in_composition(comp):
    text = repr(comp.to_dict())
    assert PATIENT_TAG not in text and IMAGE_TAG not in text
    ids = {c.name: c for c in comp.columns}
    assert ids["patient_id"].distinct == "—" and ids["image_id"].distinct == "—"


def test_high_cardinality_column_not_listed():
    df = pd.DataFrame({"patient_id": range(200), "site": [f"S{i}" for i in range(200)]})
    comp = measure_composition(df)
    assert not any(t.title.startswith("Site") for t in comp.tables)
    assert any("site" in n for n in comp.notes)


def test_no_patient_column_counts_images():
    df = pd.DataFrame({"sex": ["F"] * 50 + ["M"] * 5})
    comp = measure_composition(df)
    assert comp.counted_by == "images" and comp.n_patients is None
    rows = {r[0]: r for r in comp.tables[0].rows}
    assert rows["M"][1] == "<11" and rows["F"][1] == "*"  # F (50) is the complement of the only small cell


@pytest.mark.parametrize(
    "spec, message",
    [(["agepatient_age"], "expected ROLE=COLUMN"), (["height=x"], "unknown column role"),
     (["age=a", "age=b"], "more than once")],
)
def test_bad_column_specs(spec, message):
    with pytest.raises(UsageError, match=message):
        parse_column_specs(spec)


def test_unknown_column_and_non_numeric_age(meta):
    with pytest.raises(UsageError, match="no column 'nope'"):
        measure_composition(meta, ["age=nope"])
    bad = meta.copy()
    bad["patient_age"] = bad["patient_age"].astype(object)
    bad.loc[7, "patient_age"] = "about sixty"
    with pytest.raises(InputError, match="non-numeric"):
        measure_composition(bad)


def test_read_errors(tmp_path: Path):
    empty = tmp_path / "e.csv"
    empty.write_text("")
    with pytest.raises(InputError, match="is empty"):
        measure_composition(empty)
    header_only = tmp_path / "h.csv"
    header_only.write_text("patient_id,age\n")
    with pytest.raises(InputError, match="no data rows"):
        measure_composition(header_only)
    junk = tmp_path / "j.parquet"
    junk.write_bytes(b"\x00not parquet at all\x01" * 10)
    with pytest.raises(InputError, match="cannot read metadata file"):
        measure_composition(junk)
    with pytest.raises(InputError, match="does not exist"):
        measure_composition(tmp_path / "missing.csv")


@pytest.mark.parametrize("suffix", [".parquet", ".tsv", ".csv"])
def test_file_formats_give_the_same_composition(tmp_path: Path, meta, suffix):
    path = tmp_path / f"labels{suffix}"
    if suffix == ".parquet":
        meta.to_parquet(path, index=False)
    else:
        meta.to_csv(path, index=False, sep="\t" if suffix == ".tsv" else ",")
    comp = measure_composition(path, ["label=diabetes", "label=DR_ICDR"])
    ref = measure_composition(meta, ["label=diabetes", "label=DR_ICDR"])
    assert comp.source == path.name and len(comp.sha256) == 64
    assert [t.rows for t in comp.tables] == [t.rows for t in ref.tables]
    assert [t.rows for t in comp.crosstabs] == [t.rows for t in ref.crosstabs]


def test_dataframe_hash_tracks_content(meta):
    a = measure_composition(meta).sha256
    changed = meta.copy()
    changed.loc[0, "camera"] = "Topcon"
    assert len(a) == 64 and a == measure_composition(meta.copy()).sha256
    assert a != measure_composition(changed).sha256
