"""Probes on generated embeddings: they learn a planted signal, are deterministic, and GroupDRO helps the
worst group on a planted-imbalance example. Small data and few epochs keep this file fast on a CPU."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from curate.audits.probes import build_head, hidden_sizes, probe
from curate.cards.probe_out import write_probe
from curate.errors import InputError, UsageError


def _planted(n=500, d=16, seed=0):
    """Label = noisy linear function of three dims; two images per patient; sex unrelated."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    logit = 2.0 * X[:, 0] - 1.5 * X[:, 1] + X[:, 2]
    meta = pd.DataFrame({
        "id": [f"img{i}" for i in range(n)],
        "y": (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int),
        "z": (X[:, 3] > 0).astype(int),
        "sex": rng.choice(["F", "M"], n),
        "pid": [f"p{i // 2}" for i in range(n)],
    })
    return X, meta


def _auc(preds, label, split="test"):
    te = preds[preds.split == split]
    return roc_auc_score(te[label], te[f"score_{label}"])


@pytest.mark.parametrize("model, lr", [("linear", 1e-2), ("mlp", 1e-2)])
def test_probe_learns_planted_signal(model, lr):
    X, meta = _planted()
    res = probe(X, meta.assign(id=[str(i) for i in range(len(meta))]), labels="y,z", model=model, seeds=1,
                patient_col="pid", epochs=25, lr=lr)
    assert _auc(res.preds, "y") > 0.8
    assert _auc(res.preds, "z") > 0.85
    assert res.preds["score_y"].between(0, 1).all()


def test_probe_output_shape_and_patient_level_splits():
    X, meta = _planted()
    res = probe(X, meta.assign(id=[str(i) for i in range(len(meta))]), labels=["y"], model="linear",
                seeds=2, patient_col="pid", epochs=3)
    p = res.preds
    assert {"id", "seed", "split", "y", "score_y", "sex", "pid"} <= set(p.columns)
    assert set(p.split) == {"validation", "test"} and set(p.seed) == {0, 1}
    n_eval = res.info["split"]["validation"] + res.info["split"]["test"]
    assert len(p) == 2 * n_eval
    assert res.info["split"]["train"] + n_eval == len(meta)
    assert abs(res.info["split"]["test"] / len(meta) - 0.1) < 0.03
    # every patient's images fall in one split; the split is the same for every seed
    assert (p.groupby("pid").split.nunique() == 1).all()
    s0 = p[p.seed == 0].set_index("id").split
    s1 = p[p.seed == 1].set_index("id").split
    assert s0.sort_index().equals(s1.sort_index())
    # the true labels are copied, not predicted
    truth = meta.assign(id=[str(i) for i in range(len(meta))]).set_index("id").y
    assert (p.set_index("id").y == truth.reindex(p.id).to_numpy()).all()


def test_probe_is_deterministic_under_a_seed():
    X, meta = _planted(300)
    kw = dict(labels="y", model="mlp", seeds=[7], epochs=4, lr=1e-3, patient_col="pid")
    a = probe(X, meta.assign(id=[str(i) for i in range(300)]), **kw).preds
    b = probe(X, meta.assign(id=[str(i) for i in range(300)]), **kw).preds
    pd.testing.assert_frame_equal(a, b)
    c = probe(X, meta.assign(id=[str(i) for i in range(300)]), **{**kw, "seeds": [8]}).preds
    assert not np.allclose(a.score_y, c.score_y)


def test_multiclass_softmax_one_vs_rest_columns():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 8)).astype(np.float32)
    dens = np.select([X[:, 4] > 0.7, X[:, 4] > 0, X[:, 4] > -0.7], ["D", "C", "B"], "A")
    meta = pd.DataFrame({"id": [str(i) for i in range(400)], "density": dens})
    res = probe(X, meta, labels="density", model="linear", seeds=1, epochs=20, lr=1e-2)
    p = res.preds
    cols = [f"score_density_{c}" for c in "ABCD"]
    assert res.info["task"] == "multiclass"
    np.testing.assert_allclose(p[cols].sum(axis=1), 1.0, atol=1e-5)
    assert (p[[f"density_{c}" for c in "ABCD"]].sum(axis=1) == 1).all()
    ev = p[p.split != "train"]
    assert roc_auc_score(ev.density_A, ev.score_density_A) > 0.85


def test_groupdro_improves_the_worst_group():
    """Planted imbalance: 90% 'major' (label from dim 0), 10% 'minor' (label from dim 1)."""
    rng = np.random.default_rng(0)
    n = 800
    X = rng.normal(size=(n, 8)).astype(np.float32)
    grp = np.where(rng.random(n) < 0.1, "minor", "major")
    y = np.where(grp == "major", X[:, 0] > 0, X[:, 1] > 0).astype(int)
    meta = pd.DataFrame({"id": [str(i) for i in range(n)], "y": y, "grp": grp})
    aucs, infos = {}, {}
    for mit in ("none", "groupdro"):
        res = probe(X, meta, labels="y", model="linear", mitigation=mit, group_col="grp", seeds=1,
                    epochs=40, lr=1e-2, dro_eta=0.1, seed=1)
        ev = res.preds[res.preds.split != "train"]
        aucs[mit] = {g: roc_auc_score(ev[ev.grp == g].y, ev[ev.grp == g].score_y) for g in ("major", "minor")}
        infos[mit] = res.info
    worst = {m: min(a.values()) for m, a in aucs.items()}
    assert worst["groupdro"] > worst["none"] + 0.1, aucs
    q = infos["groupdro"]["runs"][0]["group_weights"]
    assert len(q) == 2 and abs(sum(q) - 1) < 1e-5
    # ERM weights each group's loss by its share of the data (about .1 for 'minor'); GroupDRO's q gives the
    # minority at least twice that weight
    assert q[infos["groupdro"]["group_names"].index("minor")] > 0.2


def test_mlp_hidden_sizes_follow_bahre_and_shrink_for_small_d():
    assert hidden_sizes(1376) == (768, 256)
    assert hidden_sizes(768) == (768, 256)
    assert hidden_sizes(32) == (32, 10)
    head = build_head(1376, 14, "mlp")
    shapes = [m.weight.shape for m in head if hasattr(m, "weight") and m.weight.ndim == 2]
    assert [tuple(s) for s in shapes] == [(768, 1376), (256, 768), (14, 256)]
    kinds = [type(m).__name__ for m in head]
    assert kinds[:4] == ["Linear", "ReLU", "BatchNorm1d", "Dropout"]
    assert head[3].p == 0.3


def test_embeddings_from_parquet_and_write(tmp_path):
    from curate.engine.embeddings import from_array

    X, meta = _planted(200)
    from_array(X, ids=meta.id, normalize=False).save_parquet(tmp_path / "emb.parquet")
    meta.sample(frac=1, random_state=0).to_csv(tmp_path / "meta.csv", index=False)  # order must not matter
    res = probe(tmp_path / "emb.parquet", tmp_path / "meta.csv", labels="y", model="linear", seeds=1,
                epochs=2)
    out, side = write_probe(res, tmp_path / "preds.parquet")
    back = pd.read_parquet(out)
    assert len(back) == len(res.preds)
    assert json.loads(Path(side).read_text())["model"] == "linear"


@pytest.mark.parametrize("kwargs, err, msg", [
    ({"labels": "nope"}, InputError, "label column 'nope' not found"),
    ({"labels": "y", "mitigation": "groupdro"}, UsageError, "needs --group-col"),
    ({"labels": "y", "model": "svm"}, UsageError, "model must be one of"),
    ({"labels": "y", "group_col": "race", "mitigation": "reweight"}, InputError, "column 'race' not found"),
])
def test_probe_bad_input(kwargs, err, msg):
    X, meta = _planted(100)
    with pytest.raises(err, match=msg):
        probe(X, meta.assign(id=[str(i) for i in range(100)]), seeds=1, epochs=1, **kwargs)


def test_probe_rejects_meta_rows_without_embeddings():
    X, meta = _planted(100)
    with pytest.raises(InputError, match="have no embedding"):
        probe(X, meta, labels="y", seeds=1, epochs=1)  # meta ids img0.. vs array ids 0..


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from curate.demo import make_demo

    return make_demo(tmp_path_factory.mktemp("probe-demo") / "demo", n_patients=60)


def test_demo_joins_by_id_so_metadata_order_does_not_matter(demo, tmp_path):
    """labels.csv has image_id, embeddings.parquet has id: rows pair up by id, not by position."""
    meta = pd.read_csv(demo.labels)
    shuffled = meta.sample(frac=1, random_state=3)
    assert (shuffled.image_id.to_numpy() != meta.image_id.to_numpy()).mean() > 0.9
    shuffled.to_csv(tmp_path / "shuffled.csv", index=False)
    kw = dict(labels="diabetic_retinopathy", model="linear", seeds=[0, 1], epochs=5, lr=1e-2,
              patient_col="patient_id", meta_id_col="image_id", emb_id_col="id")
    a = probe(demo.embeddings, demo.labels, **kw).preds
    b = probe(demo.embeddings, tmp_path / "shuffled.csv", **kw).preds
    key = ["seed", "id"]
    pd.testing.assert_frame_equal(a.sort_values(key, ignore_index=True),
                                  b.sort_values(key, ignore_index=True))
    # each prediction row carries the metadata of its own image (looked up independently by image_id)
    truth = meta.set_index("image_id")
    for col in ("diabetic_retinopathy", "patient_id", "camera"):
        assert (b[col].to_numpy() == truth.loc[b.id, col].to_numpy()).all(), col


def test_mismatched_ids_give_a_count_and_a_row_never_ids(demo, tmp_path):
    meta = pd.read_csv(demo.labels)
    meta.loc[:4, "image_id"] = [f"UNKNOWN-{i}" for i in range(5)]
    meta.to_csv(tmp_path / "meta.csv", index=False)
    with pytest.raises(InputError, match=rf"^5 of {len(meta)} META rows have no embedding") as exc:
        probe(demo.embeddings, tmp_path / "meta.csv", labels="diabetic_retinopathy", seeds=1, epochs=1,
              meta_id_col="image_id", emb_id_col="id")
    msg = str(exc.value)
    assert "\n" not in msg and msg.endswith("(first at META row 0)")
    assert not any(f"UNKNOWN-{i}" in msg for i in range(5))


def test_cli_emb_id_col_and_missing_id_column(cli, demo, tmp_path):
    args = ["probe", demo.embeddings, "--meta", demo.labels, "--labels", "diabetic_retinopathy",
            "--model", "linear", "--seeds", "1", "--epochs", "2", "--patient-col", "patient_id"]
    r = cli(*args, "--out", tmp_path / "bad.parquet")  # labels.csv has no 'id' column
    assert r.exit_code != 0 and "META has no 'id' column" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "bad.parquet").exists()
    r = cli(*args, "--id-col", "image_id", "--emb-id-col", "id", "--out", tmp_path / "p.parquet")
    assert r.exit_code == 0, r.stderr
    p = pd.read_parquet(tmp_path / "p.parquet")
    meta = pd.read_csv(demo.labels).set_index("image_id")
    assert (p.patient_id.to_numpy() == meta.loc[p.id, "patient_id"].to_numpy()).all()


def test_probe_refuses_a_split_column_that_leaks_patients():
    """A given split that puts one patient's two images in train and test is refused (or, with the flag,
    trained on with a warning); oracle: the patients counted directly from the split column."""
    X, meta = _planted(n=200)
    meta = meta.assign(id=[str(i) for i in range(len(meta))])
    meta["split"] = np.array(["train", "train", "train", "validation", "train", "test"] * 40)[:200]
    leaked = int((meta.groupby("pid")["split"].nunique() > 1).sum())
    assert leaked > 0
    with pytest.raises(InputError, match=f"puts {leaked} patients .* in more than one split"):
        probe(X, meta, labels="y", model="linear", seeds=1, patient_col="pid", split_col="split", epochs=1)
    res = probe(X, meta, labels="y", model="linear", seeds=1, patient_col="pid", split_col="split", epochs=1,
                allow_leaky_split=True)
    assert any("more than one split" in w for w in res.info["warnings"])
    ok = meta.assign(split=np.where(np.arange(200) // 2 % 5 == 0, "test",
                                    np.where(np.arange(200) // 2 % 5 == 1, "validation", "train")))
    assert probe(X, ok, labels="y", model="linear", seeds=1, patient_col="pid", split_col="split",
                 epochs=1).info["warnings"] == []
