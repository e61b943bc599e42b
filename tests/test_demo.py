"""The synthetic demo dataset: what truth.json says was planted is really in the files."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from curate.demo import SYNTHETIC_NOTE, make_demo


@pytest.fixture(scope="module")
def demo(demo_brset):
    """The session's shared demo (60 patients, seed 3; conftest.py), read only."""
    return demo_brset


def _vectors(path):
    t = pq.read_table(path)
    X = np.stack(t.column("embedding").to_numpy(zero_copy_only=False)).astype(np.float64)
    return t.column("id").to_pylist(), X


def test_files_and_synthetic_marking(demo):
    meta = pd.read_csv(demo.labels)
    assert {"image_id", "patient_id", "camera", "patient_age", "patient_sex", "exam_eye", "diabetes",
            "nationality", "DR_ICDR", "split"} <= set(meta.columns)
    assert sorted(p.stem for p in demo.images.glob("*.png")) == sorted(meta["image_id"])
    assert SYNTHETIC_NOTE in (demo.root / "README.md").read_text()
    assert json.loads((demo.root / "truth.json").read_text())["synthetic"] is True
    assert pq.read_schema(demo.embeddings).metadata[b"curate.synthetic"] == b"true"


def test_planted_duplicates_are_exactly_the_pairs_above_threshold(demo):
    ids, X = _vectors(demo.embeddings)
    S = X @ X.T
    iu = np.triu_indices(len(ids), 1)
    above = {tuple(sorted((ids[i], ids[j]))) for i, j in zip(*iu) if S[i, j] >= 0.95}
    planted = {tuple(p) for p in demo.truth["exact_duplicate_pairs"] + demo.truth["near_duplicate_pairs"]}
    assert above == planted
    pos = {k: i for i, k in enumerate(ids)}
    for a, b in demo.truth["near_duplicate_pairs"]:
        assert S[pos[a], pos[b]] == pytest.approx(0.995, abs=1e-5)
    for a, b in demo.truth["exact_duplicate_pairs"]:
        assert S[pos[a], pos[b]] == pytest.approx(1.0, abs=1e-6)
        digest = {hashlib.sha256((demo.images / f"{x}.png").read_bytes()).hexdigest() for x in (a, b)}
        assert len(digest) == 1, "exact duplicates must be byte-identical files"


def test_planted_leakage_matches_pandas(demo):
    meta = pd.read_csv(demo.labels).set_index("image_id")
    pairs = demo.truth["exact_duplicate_pairs"] + demo.truth["near_duplicate_pairs"]
    crossing = sum(meta.loc[a, "split"] != meta.loc[b, "split"] for a, b in pairs)
    assert crossing == demo.truth["cross_split_duplicate_pairs"] > 0
    multi = int((meta.groupby("patient_id")["split"].nunique() > 1).sum())
    assert multi == demo.truth["patients_in_several_splits"] > 0


def test_structure_follows_camera(demo):
    ids, X = _vectors(demo.embeddings)
    meta = pd.read_csv(demo.labels).set_index("image_id").loc[ids]
    cam = (meta["camera"] == "NIKON NF5050").to_numpy()
    within = (X[cam] @ X[cam].T).mean()
    between = (X[cam] @ X[~cam].T).mean()
    assert within > between + 0.2


def test_deterministic_and_seed_dependent(tmp_path):
    a = make_demo(tmp_path / "a", n_patients=20, seed=1)
    b = make_demo(tmp_path / "b", n_patients=20, seed=1)
    c = make_demo(tmp_path / "c", n_patients=20, seed=2)
    assert a.labels.read_bytes() == b.labels.read_bytes()
    assert a.labels.read_bytes() != c.labels.read_bytes()
    assert np.array_equal(_vectors(a.embeddings)[1], _vectors(b.embeddings)[1])


def test_cli_and_errors(cli, tmp_path):
    r = cli("demo", "BRSET", "--out", tmp_path / "d", "--n-patients", "20", "--seed", "5")
    assert r.exit_code == 0, r.stderr
    assert "synthetic" in r.stdout.lower()
    assert (tmp_path / "d" / "labels.csv").exists()
    r = cli("demo", "NOPE", "--out", tmp_path / "e")
    assert r.exit_code == 2 and r.stderr.startswith("error: no demo shape for 'NOPE'")
    assert not (tmp_path / "e").exists()
    r = cli("demo", "--out", tmp_path / "f", "--n-patients", "5")
    assert r.exit_code == 2 and "at least 20" in r.stderr
    # a folder the user owns is never replaced
    own = tmp_path / "mine"
    own.mkdir()
    (own / "notes.txt").write_text("mine")
    r = cli("demo", "--out", own, "--n-patients", "20")
    assert r.exit_code != 0 and "not written by curate" in r.stderr
    assert (own / "notes.txt").read_text() == "mine"


def test_only_marked_data_is_called_synthetic(demo_brset, tmp_path):
    import pandas as pd

    from curate.cards.build import build_card
    from curate.synthetic import is_synthetic

    meta = pd.read_csv(demo_brset.labels)
    assert meta["synthetic"].all() and is_synthetic(demo_brset.labels) and is_synthetic(meta)
    real = tmp_path / "real.csv"
    meta.drop(columns="synthetic").to_csv(real, index=False)
    assert not is_synthetic(real) and not is_synthetic(meta.assign(synthetic=False))
    marked = build_card("BRSET", metadata=demo_brset.labels, out=tmp_path / "m").datasheet_md
    unmarked = build_card("BRSET", metadata=real, out=tmp_path / "u").datasheet_md
    assert marked.startswith("# Datasheet: SYNTHETIC data shaped like")
    assert unmarked.startswith("# Datasheet: Brazilian")
    assert "synthetic" not in unmarked.lower().split("\n\n")[1]
