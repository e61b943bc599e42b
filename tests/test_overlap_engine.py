"""The overlap engine (curate.engine.overlap) against a planted benchmark with known truth and brute force.

The planted datasets (curate.engine.overlap.planted) share images at every tier — byte copies, DICOM
re-encoded as RLE Lossless, PNG re-saved, resized x0.5-0.8, JPEG 60-95, 8-bit conversion of 12-bit data,
crops of up to 10 %, window / level changes — and hold hard negatives (another slice of the same synthetic
patient, look-alike anatomy). The truth comes from how each file was made, not from the engine.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from curate.engine.overlap import TIERS, OverlapInput, OverlapResult, find_overlap
from curate.engine.overlap.planted import make_planted
from curate.errors import InputError
from curate.validation import ParameterError

KEY = ["dataset_a", "id_a", "dataset_b", "id_b"]


def _embed(files) -> np.ndarray:
    """A crude image embedding (16 x 16 grey thumbnail, L2-normalised): look-alikes land close together."""
    from curate.scan.images import load_image

    rows = [np.asarray(load_image(f).convert("L").resize((16, 16)), dtype=np.float32).ravel() for f in files]
    x = np.stack(rows)
    x -= x.mean(axis=1, keepdims=True)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    return make_planted(tmp_path_factory.mktemp("planted") / "p", n=60, seed=3)


@pytest.fixture(scope="module")
def result(planted):
    inputs = [OverlapInput(d, files=planted.files[d], ids=planted.ids[d], patients=planted.patients[d],
                           embeddings=_embed(planted.files[d])) for d in planted.ids]
    return find_overlap(inputs, threshold=0.9, device="cpu")


def _keys(df: pd.DataFrame) -> set[tuple]:
    return set(map(tuple, df[KEY].itertuples(index=False)))


@pytest.mark.parametrize("tier", TIERS[:3])
def test_recall_and_precision_per_tier(planted, result, tier):
    truth = _keys(planted.copies[planted.copies["tier"] == tier])
    found = _keys(result.pairs[result.pairs["tier"] == tier])
    assert len(truth) >= 8, "the benchmark plants enough copies at every tier"
    hit = len(truth & found)
    assert hit / len(truth) >= 0.95, f"recall {hit}/{len(truth)}; missed {sorted(truth - found)[:5]}"
    assert hit / len(found) >= 0.98, f"precision {hit}/{len(found)}; wrong {sorted(found - truth)[:5]}"


def test_every_planted_kind_is_found(planted, result):
    found = _keys(result.pairs[result.pairs["tier"].isin(TIERS[:3])])
    for kind, rows in planted.copies.groupby("kind"):
        share = np.mean([k in found for k in _keys(rows)])
        assert share >= 0.8, f"{kind}: {share:.0%} found"


def test_hard_negatives_are_never_copies(planted, result):
    hard = planted.hard_negatives.merge(result.pairs, on=KEY)
    assert set(hard["tier"]) <= {"embedding"}
    assert not hard["verified"].any()
    # the look-alikes are close in the crude embedding: tier 4 reports some as candidates, never as copies
    emb = result.pairs[result.pairs["tier"] == "embedding"]
    assert len(emb) and not emb["verified"].any()
    # the verification rejected hash candidates (hash collisions are not reported)
    assert result.params["perceptual_rejected"] > 0
    assert result.params["perceptual_candidates"] > result.params["perceptual_rejected"]


def test_pairs_shape(result):
    p = result.pairs
    assert list(p.columns) == ["dataset_a", "id_a", "dataset_b", "id_b", "tier", "score", "verified"]
    assert not p.duplicated(KEY).any()
    assert (p["dataset_a"] != p["dataset_b"]).all()
    order = {n: k for k, n in enumerate(result.names)}
    assert (p["dataset_a"].map(order) < p["dataset_b"].map(order)).all()
    assert (p.loc[p["tier"].isin(["bytes", "pixels"]), "score"] == 1.0).all()
    copies = p[p["tier"].isin(TIERS[:3])]
    assert copies["verified"].all()
    assert (p.loc[p["tier"] == "perceptual", "score"] >= result.params["min_similarity"]).all()


def _hand_matrix(planted, level: str) -> pd.DataFrame:
    names = sorted(planted.ids)
    out = pd.DataFrame(0, index=names, columns=names)
    pat = {d: dict(zip(planted.ids[d], planted.patients[d])) for d in names}
    for a in names:
        out.loc[a, a] = len(planted.ids[a]) if level == "image" else len(set(planted.patients[a]))
        for b in names:
            if a == b:
                continue
            c = planted.copies
            ids = set(c.loc[(c.dataset_a == a) & (c.dataset_b == b), "id_b"]) | \
                set(c.loc[(c.dataset_a == b) & (c.dataset_b == a), "id_a"])
            out.loc[a, b] = len(ids) if level == "image" else len({pat[b][i] for i in ids})
    return out


@pytest.mark.parametrize("level", ["image", "patient"])
def test_matrix_against_hand_count(planted, result, level):
    got = result.matrix(level=level).astype(int)
    want = _hand_matrix(planted, level)
    assert got.to_numpy().tolist() == want.loc[got.index, got.columns].to_numpy().tolist()
    assert got.loc["A", "B"] > 0 and got.loc["B", "C"] > 0


def test_contamination_and_drop_list(planted, result):
    c = planted.copies[(planted.copies.dataset_a == "A") & (planted.copies.dataset_b == "B")]
    table = result.contamination("A", "B").set_index("tier")
    n_b = len(planted.ids["B"])
    rank = {t: k for k, t in enumerate(TIERS)}
    best = c.assign(r=c["tier"].map(rank)).groupby("id_b")["r"].min()
    pat = dict(zip(planted.ids["B"], planted.patients["B"]))
    for t in TIERS[:3]:
        ids = best.index[best <= rank[t]]
        assert table.loc[t, "images"] == len(ids)
        assert table.loc[t, "share"] == pytest.approx(len(ids) / n_b)
        assert table.loc[t, "patients"] == len({pat[i] for i in ids})
    assert table.loc["embedding", "images"] >= table.loc["perceptual", "images"]
    assert table["new_images"].sum() == table.loc["embedding", "images"]
    assert sorted(result.drop_list("A", "B")) == sorted(best.index)
    by_patient = result.drop_list("A", "B", level="patient")
    hit = {pat[i] for i in best.index}
    assert sorted(by_patient) == sorted(i for i in planted.ids["B"] if pat[i] in hit)


def test_matrix_semantics_by_hand():
    pairs = pd.DataFrame([("X", "x1", "Y", "y1", "bytes", 1.0, True),
                          ("X", "x2", "Y", "y1", "perceptual", 0.9, True),
                          ("X", "x3", "Y", "y2", "embedding", 0.97, False),
                          ("Y", "y3", "Z", "z1", "pixels", 1.0, True)],
                         columns=["dataset_a", "id_a", "dataset_b", "id_b", "tier", "score", "verified"])
    res = OverlapResult(names=["X", "Y", "Z"], sizes={"X": 3, "Y": 4, "Z": 2}, pairs=pairs,
                        params={"tiers_run": list(TIERS)},
                        patients={"X": {"x1": "p", "x2": "p", "x3": "q"},
                                  "Y": {"y1": "s", "y2": "s", "y3": "t", "y4": "u"}},
                        ids={"X": ["x1", "x2", "x3"], "Y": ["y1", "y2", "y3", "y4"], "Z": ["z1", "z2"]})
    m = res.matrix()
    assert m.loc["X", "Y"] == 1 and m.loc["Y", "X"] == 2 and m.loc["Y", "Z"] == 1 and m.loc["X", "Z"] == 0
    assert m.loc["Y", "Y"] == 4
    assert res.matrix(tiers=TIERS).loc["X", "Y"] == 2
    pm = res.matrix(level="patient")
    assert pm.loc["X", "Y"] == 1 and pm.loc["Y", "X"] == 1 and pm.loc["X", "X"] == 2 and pm.loc["Y", "Y"] == 3
    assert pd.isna(pm.loc["X", "Z"]) and pd.isna(pm.loc["Z", "Z"])
    c = res.contamination("X", "Y").set_index("tier")
    assert c["images"].tolist() == [1, 1, 1, 2] and c["new_images"].tolist() == [1, 0, 0, 1]
    assert c["patients"].tolist() == [1, 1, 1, 1]
    assert res.drop_list("X", "Y") == ["y1"]
    assert res.drop_list("X", "Y", tiers=TIERS, level="patient") == ["y1", "y2"]
    with pytest.raises(ParameterError, match="^train"):
        res.contamination("W", "Y")
    with pytest.raises(ParameterError, match="^eval"):
        res.drop_list("X", "X")
    with pytest.raises(ParameterError, match="^level"):
        res.matrix(level="study")
    with pytest.raises(ParameterError, match="^tiers"):
        res.matrix(tiers=["hash"])
    with pytest.raises(ParameterError, match="^level"):
        res.drop_list("Y", "Z", level="patient")


def test_embedding_tier_matches_brute_force():
    rng = np.random.default_rng(7)
    mean = rng.normal(size=32)
    xs = {}
    for name, n in (("A", 300), ("B", 250), ("C", 120)):
        x = mean + 0.9 * rng.normal(size=(n, 32))
        xs[name] = x / np.linalg.norm(x, axis=1, keepdims=True)
    xs["B"][:20] = xs["A"][:20] + 0.03 * rng.normal(size=(20, 32))  # planted near copies
    xs["C"][:10] = xs["B"][30:40] + 0.05 * rng.normal(size=(10, 32))
    inputs = [OverlapInput(k, embeddings=v.astype(np.float32)) for k, v in xs.items()]
    t = 0.9
    res = find_overlap(inputs, threshold=t, device="cpu")
    xn = {k: (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32) for k, v in xs.items()}
    want = set()
    names = list(xs)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            sim = xn[a] @ xn[b].T
            want |= {(a, str(r), b, str(c)) for r, c in zip(*np.nonzero(sim >= t))}
    assert _keys(res.pairs) == want
    assert len(want) >= 25
    assert set(res.pairs["tier"]) == {"embedding"} and not res.pairs["verified"].any()
    assert res.params["tiers_run"] == ["embedding"]


def test_embedding_tier_on_dask_equals_local():
    from distributed import Client, LocalCluster

    rng = np.random.default_rng(1)
    xa = rng.normal(size=(600, 16)).astype(np.float32)
    xb = rng.normal(size=(700, 16)).astype(np.float32)
    xb[:30] = xa[:30] + 0.05 * rng.normal(size=(30, 16))
    inputs = [OverlapInput("A", embeddings=xa), OverlapInput("B", embeddings=xb)]
    local = find_overlap(inputs, threshold=0.8, device="cpu")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0") as cl, \
            Client(cl) as client:
        dist = find_overlap(inputs, threshold=0.8, dask=client)
    assert _keys(dist.pairs) == _keys(local.pairs) and len(local.pairs) >= 30
    assert np.allclose(dist.pairs["score"], local.pairs["score"], atol=1e-5)
    assert dist.params["dask"] and not local.params["dask"]


def test_embedding_dimension_mismatch():
    a = OverlapInput("A", embeddings=np.ones((3, 8), np.float32))
    b = OverlapInput("B", embeddings=np.ones((3, 16), np.float32))
    with pytest.raises(InputError, match="'A' has dimension 8.*'B' has dimension 16"):
        find_overlap([a, b])


def test_parameter_validation(tmp_path):
    a = OverlapInput("A", embeddings=np.eye(4, dtype=np.float32))
    b = OverlapInput("B", embeddings=np.eye(4, dtype=np.float32))
    for kwargs, name in (({"threshold": 1.5}, "threshold"), ({"threshold": 0}, "threshold"),
                         ({"device": "tpu", "tiers": ["bytes"]}, "device"),
                         ({"max_distance": -1}, "max_distance"),
                         ({"max_distance": 64}, "max_distance"), ({"min_similarity": 2}, "min_similarity"),
                         ({"tiers": ["hash"]}, "tiers"), ({"tiers": []}, "tiers"),
                         ({"device": "tpu"}, "device"), ({"seed": -1}, "seed")):
        with pytest.raises(ParameterError) as exc:
            find_overlap([a, b], **kwargs)
        assert exc.value.param == name
    with pytest.raises(ParameterError, match="^inputs"):
        find_overlap([a])
    with pytest.raises(InputError, match="same name 'A'"):
        find_overlap([a, OverlapInput("A", embeddings=np.eye(4, dtype=np.float32))])
    with pytest.raises(InputError, match="2 ids for 4 rows"):
        find_overlap([a, OverlapInput("B", embeddings=np.eye(4, dtype=np.float32), ids=["x", "y"])])
    with pytest.raises(InputError, match="all zeros"):
        find_overlap([a, OverlapInput("B", embeddings=np.zeros((2, 4), np.float32))])
    with pytest.raises(InputError, match="no tier"):
        find_overlap([a, b], tiers=["bytes"])


def test_unreadable_files_are_listed(planted, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a png")
    files = planted.files["A"][:6] + [bad]
    inputs = [OverlapInput("A", files=planted.files["A"][:6], ids=planted.ids["A"][:6]),
              OverlapInput("X", files=files, ids=[f"x{k}" for k in range(7)])]
    res = find_overlap(inputs, tiers=["bytes", "pixels"])
    assert res.skipped == [("X", "x6", "not readable as an image (UnidentifiedImageError)")]
    assert res.sizes == {"A": 6, "X": 6}
    assert len(res.pairs) == 6 and set(res.pairs["tier"]) == {"bytes"}
    with pytest.raises(InputError, match="1 of 7 files"):
        find_overlap(inputs, tiers=["bytes"], skip_bad=False)


def test_hash_collisions_are_rejected_by_the_pixel_check(planted, result):
    from curate.engine.overlap.features import image_keys
    from curate.engine.overlap.search import hash_candidates

    keys = {d: image_keys(d, planted.files[d], planted.ids[d], perceptual=True, skip_bad=False)[0]
            for d in ("A", "B")}
    ia, ib = hash_candidates(keys["A"].hashes, keys["B"].hashes, result.params["max_distance"])
    cands = {("A", keys["A"].ids[a], "B", keys["B"].ids[b]) for a, b in zip(ia, ib)}
    hard = _keys(planted.hard_negatives)
    copies = _keys(result.pairs[result.pairs["tier"].isin(TIERS[:3])])
    assert hard & cands, "some hard negatives collide in the robust hash (the check has work to do)"
    assert not (hard & copies)
    truth = _keys(planted.copies[planted.copies["tier"] == "perceptual"])
    ab = {k for k in truth if k[0] == "A" and k[2] == "B"}
    assert len(ab & cands) / len(ab) >= 0.95  # the hash proposes (nearly) every perceptual copy


def test_equalise_matches_scipy_rankdata():
    from scipy.stats import rankdata

    from curate.engine.overlap.features import equalise

    a = np.random.default_rng(0).integers(0, 12, (40, 30))
    r = rankdata(a.ravel(), method="average").reshape(a.shape)
    assert (equalise(a) == np.round((r - 0.5) / a.size * 255).astype(np.uint8)).all()


def test_nifti_and_progress(planted, tmp_path):
    """A NIfTI volume whose middle slice is a planted image: a byte copy and a PNG rendering of it are found
    (tiers bytes and perceptual); progress is reported per dataset."""
    import shutil

    import nibabel as nib
    from PIL import Image

    from curate.scan.images import load_array

    src = planted.files["A"][0]
    _, stored = load_array(src)
    vol = np.stack([np.zeros_like(stored), stored, np.zeros_like(stored)], axis=2).astype(np.int16)
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    nib.save(nib.Nifti1Image(vol, np.eye(4)), tmp_path / "x" / "vol.nii.gz")
    shutil.copyfile(tmp_path / "x" / "vol.nii.gz", tmp_path / "y" / "same.nii.gz")
    shown, _ = load_array(tmp_path / "x" / "vol.nii.gz")
    gamma = (255 * (shown / 255.0) ** 0.7).astype(np.uint8)          # a monotonic change, as a window would
    Image.fromarray(gamma).resize((100, 100)).save(tmp_path / "y" / "render.png")
    other = next(f for f in planted.files["A"][4:] if f.suffix == ".png")
    shutil.copyfile(other, tmp_path / "y" / "other.png")
    calls = []
    res = find_overlap([OverlapInput("X", files=[tmp_path / "x" / "vol.nii.gz"]),
                        OverlapInput("Y", files=sorted((tmp_path / "y").iterdir()))],
                       progress=lambda label, done, total: calls.append((label, done, total)))
    got = dict(zip(res.pairs["id_b"], res.pairs["tier"]))
    assert got == {"same.nii.gz": "bytes", "render.png": "perceptual"}
    assert ("hashing images of X", 1, 1) in calls and ("hashing images of Y", 3, 3) in calls


def test_demo_fundus_look_alikes_are_not_copies(tmp_path):
    """The demo's fundus drawings all share a rim and a burnt-in text, so nearly every cross pair is a hash
    candidate; tier 3 must still keep only the planted copies (truth: how ``make_demo`` wrote ``other/``)."""
    from curate.demo import make_demo

    d = make_demo(tmp_path / "demo", n_patients=30, seed=1)
    fa, fb = sorted(d.images.iterdir()), sorted((d.other / "images").iterdir())
    res = find_overlap([OverlapInput("A", files=fa, ids=[f.name for f in fa]),
                        OverlapInput("B", files=fb, ids=[f.name for f in fb])], tiers=TIERS[:3])
    copies = d.truth["other"]["copies"]
    for tier in TIERS[:3]:
        truth = {("A", c["first"], "B", c["other"]) for c in copies if c["tier"] == tier}
        found = _keys(res.pairs[res.pairs["tier"] == tier])
        hit = len(truth & found)
        assert truth and hit / len(truth) >= 0.95, (tier, hit, len(truth))
        assert hit / max(len(found), 1) >= 0.98, (tier, sorted(found - truth)[:5])
    assert res.params["perceptual_rejected"] > 10 * len(copies), "look-alikes were candidates and rejected"
