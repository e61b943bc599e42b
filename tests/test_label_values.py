"""A person's name in a *minority* of a role column's values never becomes a class label (issue 27).

``site`` = "Clinic Maria Quixabeira" for a third of the patients and a ``diagnosis`` value naming a doctor
used to be published as class labels (hub README, croissant.json, parquet shards, datasheet): the column
check looked at the share of identifier-like values. Every value that becomes a label is judged alone.
Oracle: a byte search of every output file (parquet decoded) and of stdout / stderr.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from test_publish import make_dataset, write_catalog

NAMES = ("Quixabeira", "Silva", "MRN-88231")


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    root = tmp_path_factory.mktemp("raw")
    meta, images, _ = make_dataset(root, n_patients=30, n_images=60)
    df = pd.read_csv(meta, dtype=str)
    patients = sorted(df["patient_id"].unique())
    third = set(patients[::3])
    df["site"] = ["Clinic Maria Quixabeira" if p in third else ("North Campus" if i % 2 else "South Campus")
                  for i, p in enumerate(df["patient_id"])]
    df["diagnosis"] = ["retinopathy, referred by Ana Silva" if i % 7 == 0 else
                       ("MRN-88231" if i % 11 == 0 else ("normal" if i % 2 else "retinopathy"))
                       for i in range(len(df))]
    df.to_csv(meta, index=False)
    return meta, images, write_catalog(tmp_path_factory.mktemp("cat"))


def _texts(out: Path) -> str:
    parts = []
    for p in sorted(out.rglob("*")):
        if p.suffix == ".parquet":
            parts.append(pd.read_parquet(p).drop(columns=["image"], errors="ignore").to_csv(index=False))
        elif p.is_file():
            parts.append(p.read_bytes().decode("utf-8", errors="replace"))
    return "\n".join(parts)


def test_publish_never_labels_with_a_name(cli, tmp_path, planted):
    meta, images, catalog = planted
    out = tmp_path / "hub"
    r = cli("publish", "OPENSET", "--meta", meta, "--images", images, "--out", out, "--catalog", catalog,
            "--splits", "0.5,0.5", "--column", "site=site", "--column", "label=diagnosis")
    assert r.exit_code == 0, r.stderr
    text = _texts(out) + r.stdout + r.stderr
    assert {"README.md", "croissant.json", "datasheet.md"} <= {p.name for p in out.iterdir()}
    assert not [n for n in NAMES if n in text]
    assert "North Campus" in text and "retinopathy" in text  # harmless values are still published
    assert "withheld" in r.stdout + r.stderr


def test_build_card_never_tabulates_a_name(cli, tmp_path, planted):
    meta, _, catalog = planted
    out = tmp_path / "card"
    r = cli("build-card", "OPENSET", "--meta", meta, "--out", out, "--catalog", catalog,
            "--column", "site=site", "--column", "label=diagnosis")
    assert r.exit_code == 0, r.stderr
    text = _texts(out) + r.stdout + r.stderr
    assert not [n for n in NAMES if n in text]
    assert "North Campus" in text


def test_each_value_is_judged_alone():
    from curate.policy.roles import withhold_identifying_values

    df = pd.DataFrame({"site": ["Clinic Maria Quixabeira"] * 10 + ["North Campus"] * 20,
                       "label": ["Addison Disease"] * 15 + ["Pleural Effusion"] * 15})
    counts = withhold_identifying_values(df, {"site": ["site"], "label": ["label"]})
    assert counts == {"site": 1}
    assert df["site"].isna().sum() == 10 and set(df["label"]) == {"Addison Disease", "Pleural Effusion"}
