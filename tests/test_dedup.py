"""Dedup, leakage and image-folder dedup against brute-force numpy / pandas / hashlib truth."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from curate.engine.dedup import dedup
from curate.engine.embeddings import from_array
from curate.errors import InputError, UsageError


# ------------------------------------------------------------------------------------------- data
def unit(a):
    a = np.asarray(a, dtype=np.float64)
    return a / np.linalg.norm(a, axis=-1, keepdims=True)


def planted(n_base=1500, d=48, n_src=300, seed=0):
    """Random unit vectors plus copies at known cosines: 1.0 (exact), 0.99, a 0.97/0.975 pair of copies
    (a 3-member group at t=0.9), 0.92 (a duplicate only at t=0.9) and 0.8 (never a duplicate)."""
    rng = np.random.default_rng(seed)
    x = unit(rng.normal(size=(n_base, d)))

    def at_cos(v, c):
        u = rng.normal(size=d)
        u -= (u @ v) * v
        u /= np.linalg.norm(u)
        return c * v + np.sqrt(1 - c * c) * u

    extra = []
    for k, s in enumerate(rng.choice(n_base, n_src, replace=False)):
        kind = k % 5
        if kind == 0:
            extra.append(x[s])
        elif kind == 1:
            extra.append(at_cos(x[s], 0.99))
        elif kind == 2:
            extra += [at_cos(x[s], 0.97), at_cos(x[s], 0.975)]
        elif kind == 3:
            extra.append(at_cos(x[s], 0.92))
        else:
            extra.append(at_cos(x[s], 0.8))
    allx = np.vstack([x, np.array(extra)])
    perm = rng.permutation(len(allx))
    return allx[perm].astype(np.float32), np.array([f"im{i:05d}" for i in range(len(allx))])


def brute_pairs(x, ids, t):
    """All id pairs (id_a < id_b) with float64 cosine >= t, and the cosines."""
    xn = unit(x)
    s = xn @ xn.T
    a, b = np.triu_indices(len(x), 1)
    keep = s[a, b] >= t
    # the comparison with float32 FAISS is only meaningful away from the threshold
    assert np.abs(s[a, b] - t).min() > 1e-5
    out = {}
    for i, j, c in zip(a[keep], b[keep], s[a, b][keep]):
        out[tuple(sorted((ids[i], ids[j])))] = c
    return out


def components(ids, pairs):
    """Connected components by a plain union-find (independent of scipy)."""
    parent = {}

    def find(u):
        while parent.setdefault(u, u) != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        return u

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    comps = {}
    for u in list(parent):
        comps.setdefault(find(u), set()).add(u)
    return sorted((frozenset(c) for c in comps.values()), key=min)


@pytest.fixture(scope="module")
def data():
    return planted()


# ------------------------------------------------------------------------------------------ exact
@pytest.mark.parametrize("t", [0.9, 0.95])
def test_exact_equals_brute_force(data, t):
    x, ids = data
    truth = brute_pairs(x, ids, t)
    res = dedup(x, t, method="exact", device="cpu", ids=ids)
    got = dict(zip(zip(res.pairs.id_a, res.pairs.id_b), res.pairs.cosine))
    assert set(got) == set(truth)
    np.testing.assert_allclose([got[k] for k in truth], list(truth.values()), atol=1e-5)
    assert res.summary["recall_lower_bound"] == 1.0 and res.summary["pairs"] == len(truth)
    assert list(res.pairs.columns) == ["id_a", "id_b", "cosine"]
    assert (res.pairs.id_a < res.pairs.id_b).all()
    assert res.pairs.equals(res.pairs.sort_values(["id_a", "id_b"]).reset_index(drop=True))


def test_groups_are_connected_components(data):
    x, ids = data
    truth = brute_pairs(x, ids, 0.9)
    comps = components(ids, truth)
    assert any(len(c) >= 3 for c in comps)  # the data really has chains
    res = dedup(x, 0.9, method="exact", device="cpu", ids=ids)
    got = {}
    for _, sub in res.groups.groupby("group"):
        got[frozenset(sub["id"])] = sub
    assert set(got) == set(comps)
    for comp, sub in got.items():
        assert sub.loc[sub.is_representative, "id"].tolist() == [min(comp)]
    removed = {u for c in comps for u in c if u != min(c)}
    assert res.keep == [i for i in ids if i not in removed]
    assert res.summary["removed"] == len(removed) and res.summary["groups"] == len(comps)
    # group numbers follow the representatives' order
    reps = res.groups[res.groups.is_representative].sort_values("group")["id"].tolist()
    assert reps == sorted(reps)


def test_quality_picks_the_best_row(data):
    x, ids = data
    rng = np.random.default_rng(1)
    quality = rng.random(len(ids))
    res = dedup(x, 0.9, method="exact", device="cpu", ids=ids, quality=quality)
    q = dict(zip(ids, quality))
    for _, sub in res.groups.groupby("group"):
        best = max(sub["id"], key=lambda i: q[i])
        assert sub.loc[sub.is_representative, "id"].tolist() == [best]
    # a mapping id -> score gives the same answer
    res2 = dedup(x, 0.9, method="exact", device="cpu", ids=ids, quality=pd.Series(quality, index=ids))
    assert res2.keep == res.keep


def test_auto_is_exact_for_small_inputs_and_accepts_embeddings(data):
    x, ids = data
    emb = from_array(x, ids)
    res = dedup(emb, 0.95)
    assert res.summary["method"] == "exact"
    assert res.summary["device"] in ("cpu", "gpu")
    assert set(zip(res.pairs.id_a, res.pairs.id_b)) == set(brute_pairs(x, ids, 0.95))


def test_unnormalised_input_is_treated_as_cosine(data):
    x, ids = data
    scale = np.random.default_rng(2).uniform(0.1, 10, size=(len(x), 1)).astype(np.float32)
    res = dedup(x * scale, 0.95, method="exact", device="cpu", ids=ids)
    assert set(zip(res.pairs.id_a, res.pairs.id_b)) == set(brute_pairs(x, ids, 0.95))


# ------------------------------------------------------------------------------ approximate methods
@pytest.mark.parametrize("nlist", [None, 8, 60])
@pytest.mark.parametrize("t", [0.9, 0.95])
def test_semantic_band_search_is_complete(data, t, nlist):
    """The triangle-inequality bands never miss a pair: same pairs as brute force, recall 1 by proof."""
    x, ids = data
    truth = brute_pairs(x, ids, t)
    res = dedup(x, t, method="semantic", device="cpu", ids=ids, nlist=nlist, seed=3)
    assert set(zip(res.pairs.id_a, res.pairs.id_b)) == set(truth)
    s = res.summary
    assert s["method"] == "semantic" and s["recall_lower_bound"] == 1.0 and s["recall_confidence"] == 1.0
    assert "complete by construction" in s["recall_basis"] and 0 < s["pair_volume_fraction"] <= 1


def test_ivf_that_cannot_be_certified_falls_back_to_exact(data):
    """The held-out sample of 1,860 rows holds too few duplicate groups to certify 0.99: exact search."""
    x, ids = data
    res = dedup(x, 0.9, method="ivf", device="cpu", ids=ids, seed=3)
    s = res.summary
    assert s["method"] == "exact" and s["fallback"] == "ivf -> exact" and "needed" in s["fallback_reason"]
    assert set(zip(res.pairs.id_a, res.pairs.id_b)) == set(brute_pairs(x, ids, 0.9))
    assert s["recall_lower_bound"] == 1.0 and s["recall_basis"].startswith("exact")


def test_fixed_parameters_report_a_held_out_bound(data):
    x, ids = data
    truth = set(brute_pairs(x, ids, 0.9))
    for method, kw in (("ivf", {"nprobe": 1, "nlist": 60}), ("semantic", {"neighbors": 1, "nlist": 60})):
        res = dedup(x, 0.9, method=method, device="cpu", ids=ids, sample_queries=600, seed=4, **kw)
        got = set(zip(res.pairs.id_a, res.pairs.id_b))
        assert got <= truth  # similarities are exact, so nothing false is reported
        true_recall = len(got & truth) / len(truth)
        s = res.summary
        assert true_recall < 1.0 and s["method"] == method  # one probe really misses pairs; no fallback
        assert s["recall_lower_bound"] <= true_recall and abs(s["recall_held_out"] - true_recall) < 0.06
        assert "held-out" in s["recall_basis"] and "Clopper-Pearson" in s["recall_basis"]
        held = s["recall_sample_rows"]
        assert set(held) == {"held_out", "truth_share_of_exact"}  # one sample: nothing is tuned on it
        # its exact search, every held-out row against all n rows, as a share of the n (n - 1) / 2 pairs
        assert held["truth_share_of_exact"] == pytest.approx(2 * held["held_out"] / (len(x) - 1), abs=1e-5)


def test_no_pairs_at_all():
    x = unit(np.random.default_rng(5).normal(size=(800, 32))).astype(np.float32)
    res = dedup(x, 0.99, method="ivf", device="cpu")
    assert res.summary["pairs"] == 0 and res.keep == [str(i) for i in range(800)]
    assert res.summary["method"] == "exact" and res.summary["recall_lower_bound"] == 1.0
    assert res.groups.empty and list(res.groups.columns) == ["id", "group", "is_representative"]
    fixed = dedup(x, 0.99, method="ivf", device="cpu", nprobe=2, nlist=20).summary
    assert fixed["recall_lower_bound"] is None and fixed["recall_basis"].startswith("not bounded")


# ---------------------------------------------------------------------------------- GPU code path
def test_knn_range_helper_matches_range_search(data):
    """The GPU path (faiss.contrib range_search_gpu: k-NN, then a CPU range search for the queries with more
    hits) gives the CPU range-search pairs (run here on a CPU index)."""
    import faiss

    from curate.engine.dedup.exact import LazyCpuIndex, range_pairs

    x, _ = data
    x = unit(x).astype(np.float32)
    x = np.vstack([x, np.repeat(x[:1], 12, axis=0)])  # one row with 12 exact copies: needs k > 8
    index = faiss.IndexFlatIP(x.shape[1])
    index.add(x)
    q0, j0, _ = range_pairs(index, x, 0.9)
    ref = set(zip(q0.tolist(), j0.tolist()))
    q, j, d = range_pairs(index, x, 0.9, device="gpu", cpu_index=index, gpu_k=64)
    assert set(zip(q.tolist(), j.tolist())) == ref and (d >= np.float32(0.9)).all()
    lazy = LazyCpuIndex(x)
    q, j, _ = range_pairs(index, x, 0.9, device="gpu", cpu_index=lazy, gpu_k=4)  # fallback for the big group
    assert set(zip(q.tolist(), j.tolist())) == ref and lazy.index is not None
    q, j, _ = range_pairs(index, x, 0.9, device="gpu", cpu_index=None, gpu_k=4)  # no fallback: <= 4 per query
    assert set(zip(q.tolist(), j.tolist())) < ref and np.bincount(q).max() <= 4


def test_device_selection():
    from curate.engine.devices import num_gpus, resolve_device

    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("gpu" if num_gpus() else "cpu")
    if num_gpus() == 0:
        with pytest.raises(UsageError, match="no GPU"):
            resolve_device("gpu")
    else:  # pragma: no cover - GPU machines only
        assert resolve_device("gpu") == "gpu"
    with pytest.raises(UsageError, match="device must be one of"):
        resolve_device("tpu")


# ----------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("t", [0, -0.5, 1.01, float("nan"), "high"])
def test_threshold_must_be_in_unit_interval(data, t):
    with pytest.raises(UsageError, match=r"threshold must be"):
        dedup(data[0][:10], t)


def test_bad_inputs():
    x = np.ones((4, 3), np.float32)
    with pytest.raises(UsageError, match="method must be one of"):
        dedup(x, 0.9, method="lsh")
    with pytest.raises(InputError, match="NaN or infinite"):
        dedup(np.array([[1, 0], [np.nan, 1], [np.inf, 0]], np.float32), 0.9)
    with pytest.raises(InputError, match="ids must be unique"):
        dedup(x, 0.9, ids=["a", "b", "a", "c"])
    with pytest.raises(InputError, match="0 rows"):
        dedup(np.zeros((0, 3), np.float32), 0.9)
    with pytest.raises(InputError, match="all zeros"):
        dedup(np.zeros((2, 3), np.float32), 0.9)
    y = np.random.default_rng(0).normal(size=(200, 8)).astype(np.float32)
    with pytest.raises(UsageError, match="nprobe must be between 1 and nlist"):
        dedup(y, 0.9, method="ivf", nlist=4, nprobe=5)
    with pytest.raises(UsageError, match="neighbors must be"):
        dedup(y, 0.9, method="semantic", nlist=4, neighbors=0)
    with pytest.raises(UsageError, match="neighbors must be between 1 and the number of clusters"):
        dedup(y, 0.9, method="semantic", nlist=4, neighbors=5)
    with pytest.raises(UsageError, match="target_recall must be in"):
        dedup(y, 0.9, method="ivf", target_recall=1.0)
    with pytest.raises(UsageError, match="keep_rule must be one of"):
        dedup(y, 0.9, keep_rule="first")


def test_write_is_atomic_and_refuses_foreign_folders(data, tmp_path):
    x, ids = data
    res = dedup(x[:300], 0.9, method="exact", device="cpu", ids=ids[:300])
    out = res.write(tmp_path / "out")
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "groups.parquet", "keep.txt", "pairs.parquet", "summary.json"]
    pd.testing.assert_frame_equal(pd.read_parquet(out / "pairs.parquet"), res.pairs, check_dtype=False)
    assert (out / "keep.txt").read_text().split() == res.keep
    summary = json.loads((out / "summary.json").read_text())
    assert summary["pairs"] == len(res.pairs) and not any(i in json.dumps(summary) for i in ids[:300])
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("user file")
    with pytest.raises(InputError, match="not written by curate"):
        res.write(mine)
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


# ---------------------------------------------------------------------------------------- leakage
def _meta(ids, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"id": ids, "split": rng.choice(["train", "val", "test"], len(ids), p=[.7, .15, .15]),
                         "patient_id": [f"P{k}" for k in rng.integers(0, len(ids) // 3, len(ids))]})


def test_leakage_counts_match_pandas(data):
    from curate.engine.leakage import leakage

    x, ids = data
    res = dedup(x, 0.9, method="exact", device="cpu", ids=ids)
    meta = _meta(ids)
    leak = leakage(res.pairs, meta, ids, patient_col="patient_id")  # raw counts: the engine never suppresses
    # independent truth: merge pairs with metadata
    m = meta.set_index("id")
    p = res.pairs.assign(sa=m.loc[res.pairs.id_a, "split"].to_numpy(),
                         sb=m.loc[res.pairs.id_b, "split"].to_numpy())
    cross = p[p.sa != p.sb]
    expect = cross.apply(lambda r: "|".join(sorted((r.sa, r.sb))), axis=1).value_counts().to_dict()
    assert leak.summary["cross_split_pairs"] == len(cross) > 0
    assert leak.summary["cross_split_pairs_by_split"] == expect
    assert len(leak.pairs) == len(cross)
    assert set(leak.pairs.columns) >= {"id_a", "id_b", "cosine", "split_a", "split_b", "same_patient"}
    splits_per_patient = meta.groupby("patient_id")["split"].nunique()
    assert leak.summary["patients"]["in_multiple_splits"] == int((splits_per_patient > 1).sum())
    for pair, count in leak.summary["patients"]["in_multiple_splits_by_split"].items():
        a, b = pair.split("|")
        both = meta.groupby("patient_id")["split"].apply(lambda s, a=a, b=b: {a, b} <= set(s))
        assert count == int(both.sum())
    assert "P1" not in json.dumps(leak.summary)  # no patient ids, only counts


def test_leakage_small_cells_are_suppressed():
    from curate.engine.leakage import leakage

    ids = [f"i{k}" for k in range(40)]
    meta = pd.DataFrame({"id": ids, "split": ["train"] * 30 + ["test"] * 10,
                         "patient_id": [f"P{k}" for k in range(30)] + ["P0", "P1", "P2"] + ["Q"] * 7})
    pairs = pd.DataFrame({"id_a": ["i0"], "id_b": ["i35"], "cosine": [0.99]})
    from curate.output import protect_leakage

    raw = leakage(pairs, meta, ids, patient_col="patient_id").summary
    assert raw["patients"]["in_multiple_splits"] == 3
    s = protect_leakage(raw)  # the exit gate protects what leaves
    assert s["patients"]["in_multiple_splits"] == "<11"
    assert s["patients"]["in_multiple_splits_by_split"] == {"test|train": "<11"}
    assert s["patients"]["images_of_patients_in_multiple_splits"] == "<11"  # hidden with its patients
    assert s["patients"]["total"] == 31
    assert s["cross_split_pairs"] == 1 and s["cross_split_pairs_same_patient"] == 0


def test_leakage_metadata_must_match():
    from curate.engine.leakage import leakage

    pairs = pd.DataFrame({"id_a": ["a"], "id_b": ["b"], "cosine": [1.0]})
    meta = pd.DataFrame({"id": ["a", "b"], "split": ["x", "y"]})
    with pytest.raises(InputError, match="1 of 3 ids have no row"):
        leakage(pairs, meta, ["a", "b", "c"])
    with pytest.raises(InputError, match="no column 'patient_id'"):
        leakage(pairs, meta, ["a", "b"], patient_col="patient_id")
    with pytest.raises(InputError, match="more than once"):
        leakage(pairs, pd.concat([meta, meta]), ["a", "b"])


# ------------------------------------------------------------------------------------ image folders
def _png(arr):
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def image_folder(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    root = tmp_path / "imgs"
    (root / "sub").mkdir(parents=True)
    for k in range(12):  # smooth random images (distinct pHashes)
        small = rng.integers(0, 256, (8, 8), dtype=np.uint8)
        arr = np.asarray(Image.fromarray(small).resize((64, 64), Image.BILINEAR))
        (root / f"img{k:02d}.png").write_bytes(_png(arr))
    (root / "sub" / "copy_of_03.png").write_bytes((root / "img03.png").read_bytes())
    big = Image.open(root / "img05.png").resize((128, 128), Image.BICUBIC)
    big.convert("RGB").save(root / "sub" / "resized_05.jpg", quality=90)
    (root / "notes.txt").write_text("not an image")
    return root


def test_image_dedup_against_hashlib_and_imagehash(image_folder):
    import imagehash
    from PIL import Image

    from curate.engine.dedup.images import image_dedup

    files = sorted(p for p in image_folder.rglob("*") if p.suffix in (".png", ".jpg"))
    rel = [p.relative_to(image_folder).as_posix() for p in files]
    digest = {r: hashlib.sha256(p.read_bytes()).hexdigest() for r, p in zip(rel, files)}
    ph = {r: imagehash.phash(Image.open(p)) for r, p in zip(rel, files)}
    res = image_dedup(image_folder, max_distance=4)
    expect = {}
    for a, b in combinations(sorted(rel), 2):
        dist = ph[a] - ph[b]
        if digest[a] == digest[b] or dist <= 4:
            expect[(a, b)] = ("exact" if digest[a] == digest[b] else "perceptual", dist)
    got = {(r.id_a, r.id_b): (r.kind, r.hamming) for r in res.pairs.itertuples()}
    assert got == expect
    assert got[("img03.png", "sub/copy_of_03.png")] == ("exact", 0)
    assert ("img05.png", "sub/resized_05.jpg") in got
    assert res.summary["n"] == 14 and res.summary["exact_pairs"] >= 1
    assert "sub/copy_of_03.png" not in res.keep and "img03.png" in res.keep


def test_image_dedup_errors(tmp_path):
    from curate.engine.dedup.images import image_dedup

    with pytest.raises(InputError, match="no image files"):
        image_dedup(tmp_path)
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(InputError, match="1 of 1 files could not be read"):
        image_dedup(tmp_path)


# ------------------------------------------------------------------------------------------- CLI
@pytest.fixture
def emb_files(tmp_path, data):
    x, ids = data
    np.save(tmp_path / "emb.npy", x)
    (tmp_path / "emb.ids.txt").write_text("\n".join(ids) + "\n")
    meta = _meta(ids)
    meta["quality"] = np.random.default_rng(3).random(len(ids))
    meta.to_csv(tmp_path / "meta.csv", index=False)
    return tmp_path


def test_cli_dedup_with_leakage(cli, emb_files, data):
    x, ids = data
    out = emb_files / "out"
    r = cli("dedup", emb_files / "emb.npy", "--threshold", "0.9", "--meta", emb_files / "meta.csv",
            "--out", out)
    assert r.exit_code == 0, r.stderr
    assert "method exact" in r.stdout and "duplicate pairs cross splits" in r.stdout
    assert not any(i in r.stdout for i in ids)  # never prints ids
    pairs = pd.read_parquet(out / "pairs.parquet")
    assert list(pairs.columns) == ["id_a", "id_b", "cosine"]
    assert set(zip(pairs.id_a, pairs.id_b)) == set(brute_pairs(x, ids, 0.9))
    assert list(pd.read_parquet(out / "groups.parquet").columns) == ["id", "group", "is_representative"]
    leak = json.loads((out / "leakage.json").read_text())
    lp = pd.read_parquet(out / "leakage_pairs.parquet")
    assert leak["cross_split_pairs"] == len(lp) and "patients" in leak
    assert {"split_a", "split_b", "same_patient"} <= set(lp.columns)
    # --quality-col keeps the best-scoring row of each group
    r = cli("dedup", emb_files / "emb.npy", "-t", "0.9", "--meta", emb_files / "meta.csv", "--quality-col",
            "quality", "--method", "semantic", "--out", out)
    assert r.exit_code == 0, r.stderr
    q = pd.read_csv(emb_files / "meta.csv").set_index("id")["quality"]
    groups = pd.read_parquet(out / "groups.parquet")
    for _, sub in groups.groupby("group"):
        assert sub.loc[sub.is_representative, "id"].item() == q.loc[sub["id"]].idxmax()


def test_cli_images(cli, image_folder, tmp_path):
    out = tmp_path / "iout"
    r = cli("dedup", "--images", image_folder, "--out", out)
    assert r.exit_code == 0, r.stderr
    assert "identical-file pairs" in r.stdout
    assert list(pd.read_parquet(out / "pairs.parquet").columns) == ["id_a", "id_b", "kind", "hamming"]
    # metadata ids without the extension are matched to the files (ids then have no extension)
    from curate.engine.dedup.images import image_ids

    stems = image_ids(image_folder, strip_ext=True)
    assert "sub/copy_of_03" in stems
    splits = ["train" if s.startswith("img") else "test" for s in stems]
    meta = pd.DataFrame({"image_id": stems, "split": splits})
    meta.to_csv(tmp_path / "m.csv", index=False)
    r = cli("dedup", "--images", image_folder, "--meta", tmp_path / "m.csv", "--id-col", "image_id",
            "--out", out)
    assert r.exit_code == 0, r.stderr
    lp = pd.read_parquet(out / "leakage_pairs.parquet")
    assert ("img03", "sub/copy_of_03") in set(zip(lp.id_a, lp.id_b))
    assert json.loads((out / "leakage.json").read_text())["cross_split_pairs"] == len(lp) >= 2


@pytest.mark.parametrize("args, message", [
    (["--threshold", "0"], "threshold must be in (0, 1]"),
    (["--method", "lsh"], "--method must be one of"),
    (["--device", "tpu"], "device must be one of"),
    (["--meta", "MISSING.csv"], "does not exist"),
    (["--meta", "SHORT"], "have no row"),
    (["--meta", "META", "--split-col", "fold"], "no column 'fold'"),
    (["--images", "."], "either EMB"),
])
def test_cli_errors_leave_no_output(cli, emb_files, args, message):
    meta = pd.read_csv(emb_files / "meta.csv")
    meta.iloc[:-5].to_csv(emb_files / "short.csv", index=False)
    args = [str(emb_files / "short.csv") if a == "SHORT" else str(emb_files / "meta.csv") if a == "META"
            else a for a in args]
    out = emb_files / "never"
    r = cli("dedup", emb_files / "emb.npy", *args, "--out", out)
    assert r.exit_code != 0
    assert r.stderr.startswith("error: ") and message in r.stderr and r.stderr.count("\n") == 1
    assert "Traceback" not in r.stderr + r.stdout
    assert not out.exists() and not list(emb_files.glob(".never*"))


def test_cli_bad_embeddings(cli, tmp_path):
    x = np.ones((5, 4), np.float32)
    x[2, 1] = np.nan
    np.save(tmp_path / "nan.npy", x)
    r = cli("dedup", tmp_path / "nan.npy", "--out", tmp_path / "o")
    assert r.exit_code == 1 and "1 of 5 embedding rows contain NaN" in r.stderr
    assert not (tmp_path / "o").exists()


def test_cli_import_stays_light():
    code = ("import sys, curate.cli; heavy = [m for m in ('faiss', 'numpy', 'pandas', 'scipy', 'dask') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "faiss" not in out and "dask" not in out and "scipy" not in out


def test_top_level_dedup_accepts_a_path_like_cluster(tmp_path):
    import curate
    from curate.demo import _write_embeddings

    x = np.random.default_rng(1).normal(size=(40, 8)).astype("float32")
    x = np.vstack([x, x[:2]])
    ids = [f"i{k}" for k in range(len(x))]
    path = tmp_path / "e.parquet"
    _write_embeddings(path, ids, x)
    from_path = curate.dedup(str(path), threshold=0.99, method="exact", device="cpu")
    from_array = curate.dedup(x, threshold=0.99, method="exact", device="cpu", ids=ids)
    assert from_path.summary["pairs"] == from_array.summary["pairs"] == 2
    assert curate.dedup(path, threshold=0.99, method="exact", device="cpu").summary["removed"] == 2
    assert curate.cluster(str(path), k=2).table["id"].tolist() == ids
