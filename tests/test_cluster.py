"""curate cluster: k-means vs truth / sklearn / numpy Lloyd, hierarchy, Dask path, proxy evaluation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("faiss")
from sklearn.metrics import (  # noqa: E402
    adjusted_mutual_info_score,
    adjusted_rand_score,
    normalized_mutual_info_score,
)

from curate.engine.cluster import (  # noqa: E402
    allocate,
    assign,
    balanced_cluster_sample,
    cluster,
    evaluate,
    hierarchical_select,
    init_centroids,
    kmeans,
    level_sizes,
    lloyd,
    purity,
    summarize,
)
from curate.engine.embeddings import from_array  # noqa: E402
from curate.errors import InputError, UsageError  # noqa: E402


def blobs(seed: int = 0, per: int = 40, d: int = 16):
    """3 well-separated super-groups x 3 blobs each; returns x, blob label, super-group label."""
    rng = np.random.default_rng(seed)
    centers, sup = [], []
    for s in range(3):
        base = rng.normal(size=d) * 12
        for _ in range(3):
            centers.append(base + rng.normal(size=d) * 3)
            sup.append(s)
    y = np.repeat(np.arange(9), per)
    x = np.asarray(centers)[y] + rng.normal(size=(len(y), d)) * 0.3
    return x.astype(np.float32), y, np.asarray(sup)[y]


def test_kmeans_recovers_blobs_and_hierarchy_recovers_supergroups():
    x, y, sup = blobs()
    res = cluster(x, k=[9, 3], metric="l2", seed=1)
    assert list(res.table.columns) == ["id", "cluster_l1", "cluster_l2", "distance"]
    assert adjusted_rand_score(y, res.table["cluster_l1"]) == pytest.approx(1.0)
    assert adjusted_rand_score(sup, res.table["cluster_l2"]) == pytest.approx(1.0)
    # distance column is the Euclidean distance to the point's own level-1 centroid
    c = res.centroids[0][res.table["cluster_l1"]]
    np.testing.assert_allclose(res.table["distance"], np.linalg.norm(x - c, axis=1), rtol=1e-4, atol=1e-4)


def test_spherical_kmeans_cosine_blobs():
    x, y, _ = blobs(seed=3)
    res = cluster(x, k=9, seed=0)  # cosine: vectors are L2-normalised, centroids unit-norm
    assert adjusted_rand_score(y, res.table["cluster_l1"]) == pytest.approx(1.0)
    np.testing.assert_allclose(np.linalg.norm(res.centroids[0], axis=1), 1.0, atol=1e-5)
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    cos = (xn * res.centroids[0][res.table["cluster_l1"]]).sum(1)
    np.testing.assert_allclose(res.table["distance"], 1 - cos, atol=1e-5)


def test_faiss_matches_numpy_lloyd_and_sklearn_inertia():
    from sklearn.cluster import KMeans

    x, _, _ = blobs(seed=5)
    init = init_centroids(x, 9, seed=2)
    ours = kmeans(x, 9, init=init, spherical=False, niter=10, device="cpu")
    ref = lloyd(x, init, 10, spherical=False)
    np.testing.assert_array_equal(ours.labels, ref.labels)
    np.testing.assert_allclose(ours.centroids, ref.centroids, atol=1e-4)
    sk = KMeans(9, init=init, n_init=1, max_iter=10, tol=0, algorithm="lloyd").fit(x)
    assert ours.inertia == pytest.approx(sk.inertia_, rel=1e-4)
    assert adjusted_rand_score(sk.labels_, ours.labels) == pytest.approx(1.0)


def test_assign_brute_force():
    rng = np.random.default_rng(0)
    x, c = rng.normal(size=(50, 5)), rng.normal(size=(4, 5))
    labels, dist, inertia = assign(x, c, spherical=False)
    d2 = ((x[:, None, :] - c[None]) ** 2).sum(-1)
    np.testing.assert_array_equal(labels, d2.argmin(1))
    np.testing.assert_allclose(dist, np.sqrt(d2.min(1)), rtol=1e-5)
    assert inertia == pytest.approx(d2.min(1).sum())


def test_dask_local_cluster_equals_local_lloyd():
    distributed = pytest.importorskip("distributed")
    x, y, _ = blobs(seed=7, per=30)
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    init = init_centroids(x, 9, seed=4)
    ref = lloyd(x, init, 8, spherical=True)
    with distributed.LocalCluster(n_workers=3, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as lc, distributed.Client(lc) as client:
        dist = kmeans(x, 9, init=init, niter=8, spherical=True, dask=client)
        # the same public path as `--dask`: same initial centroids as the FAISS path (seed 4)
        via_seed = kmeans(x, 9, seed=4, niter=8, spherical=True, dask=client)
    np.testing.assert_allclose(dist.centroids, ref.centroids, atol=1e-5)
    np.testing.assert_array_equal(dist.labels, ref.labels)
    np.testing.assert_array_equal(via_seed.labels, ref.labels)
    local = kmeans(x, 9, seed=4, niter=8, spherical=True, device="cpu")
    np.testing.assert_array_equal(local.labels, ref.labels)
    np.testing.assert_allclose(local.centroids, ref.centroids, atol=1e-5)
    assert adjusted_rand_score(y, dist.labels) == pytest.approx(1.0)


def test_level_sizes():
    assert level_sizes(1000, 3) == [1000, 100, 10]
    assert level_sizes("50,5") == [50, 5]
    with pytest.raises(UsageError):
        level_sizes(2, 3)
    with pytest.raises(UsageError):
        level_sizes(0)


def test_allocate_is_max_min_fair():
    rng = np.random.default_rng(0)
    for _ in range(200):
        cap = rng.integers(0, 30, size=rng.integers(1, 8))
        n = int(rng.integers(0, cap.sum() + 1))
        got = allocate(cap, n, int(rng.integers(1000)))
        assert got.sum() == n and (got <= cap).all() and (got >= 0).all()
        # brute-force check of max-min fairness: a group below its capacity is never more than one below
        # any other group's count
        below = got < cap
        if below.any():
            assert got.max() - got[below].min() <= 1
    np.testing.assert_array_equal(allocate([5, 100, 100, 3], 50), [5, 21, 21, 3])
    with pytest.raises(InputError):
        allocate([2, 3], 6)


def test_balanced_cluster_sample_even_across_levels():
    # top level: 2 groups of very unequal size; level 1: 2 sub-clusters each
    l1 = np.r_[np.zeros(300), np.ones(100), np.full(40, 2), np.full(20, 3)].astype(int)
    l2 = np.where(l1 < 2, 0, 1)
    table = pd.DataFrame({"id": [f"r{i}" for i in range(len(l1))], "cluster_l1": l1, "cluster_l2": l2})
    s = balanced_cluster_sample(table, 80, seed=0)
    assert len(s) == 80 and s["id"].is_unique
    assert s["cluster_l2"].value_counts().to_dict() == {0: 40, 1: 40}
    assert s["cluster_l1"].value_counts().sort_index().tolist() == [20, 20, 20, 20]
    s = balanced_cluster_sample(table, 120, seed=0)  # cluster 3 (20 rows) taken whole, rest redistributed
    assert s["cluster_l1"].value_counts().sort_index().tolist() == [30, 30, 40, 20]
    idx = hierarchical_select(np.c_[l1, l2], 10, seed=1)
    assert len(set(idx)) == 10


def test_purity_hand_worked():
    # clusters: A={x,x,y}, B={y,y,y,z}, C={z}: majority counts 2 + 3 + 1 = 6 of 8
    clusters = ["A", "A", "A", "B", "B", "B", "B", "C"]
    truth = ["x", "x", "y", "y", "y", "y", "z", "z"]
    assert purity(clusters, truth) == pytest.approx(6 / 8)
    assert purity(truth, truth) == 1.0


def test_evaluate_equals_sklearn_and_suppresses_small_cells():
    x, y, sup = blobs(seed=11, per=25)
    res = cluster(x, k=[9, 3], metric="l2", seed=0)
    rng = np.random.default_rng(0)
    meta = pd.DataFrame({"id": res.table["id"][::-1], "site": np.asarray(sup)[::-1].astype(str),
                         "noise": rng.choice(["a", "b"], len(y))})
    rep = evaluate(res, meta, ["site", "noise"])
    site_at = meta.set_index("id").loc[res.table["id"], "site"].to_numpy()
    for col in ("cluster_l1", "cluster_l2"):
        m = rep["attributes"]["site"]["levels"][col]
        assert m["nmi"] == pytest.approx(normalized_mutual_info_score(site_at, res.table[col]), abs=1e-4)
        assert m["ari"] == pytest.approx(adjusted_rand_score(site_at, res.table[col]), abs=1e-4)
        assert m["ami"] == pytest.approx(adjusted_mutual_info_score(site_at, res.table[col]), abs=1e-4)
        assert m["purity"] == pytest.approx(purity(res.table[col], site_at), abs=1e-4)
    site = rep["attributes"]["site"]
    assert site["strength"] == "strongly" and site["best_level"] == "cluster_l2"
    assert site["verdict"].startswith("clusters capture site strongly (AMI 1.00, NMI 1.00")
    assert rep["attributes"]["noise"]["strength"] == "not"
    assert "do not use them as a proxy for noise" in rep["attributes"]["noise"]["verdict"]
    cells = [v for row in rep["attributes"]["noise"]["distribution"].values() for v in row.values()]
    assert all(v in ("<11", "*") or v >= 11 or v == 0 for v in cells) and len(cells) > 0
    json.dumps(rep)  # JSON-able


def test_verdict_thresholds():
    from curate.engine.cluster import verdict_word

    assert [verdict_word(v) for v in (0.9, 0.5, 0.49, 0.2, 0.1, 0.05, 0.01, -0.02)] == [
        "strongly", "strongly", "moderately", "moderately", "weakly", "weakly", "not", "not"]


def test_evaluate_errors():
    res = cluster(blobs()[0], k=3, metric="l2")
    meta = pd.DataFrame({"id": res.table["id"], "sex": "F"})
    with pytest.raises(InputError, match="not in the metadata"):
        evaluate(res, meta, ["age"])
    with pytest.raises(InputError, match="not in the metadata column"):
        evaluate(res, meta.iloc[5:], ["sex"])


def test_summarize_public_hides_ids_and_small_cells():
    x, y, sup = blobs(per=12)
    res = cluster(x, k=[9, 3], metric="l2", seed=1)
    meta = pd.DataFrame({"id": res.table["id"], "sex": np.where(np.arange(len(y)) % 4 == 0, "F", "M")})
    df, info = summarize(res, meta, attrs=["sex"], nearest=2)
    assert df["size"].sum() == len(y) and len(df) == 9
    first = df.iloc[0]
    members = res.table[res.table["cluster_l1"] == first["cluster"]]
    assert first["nearest_ids"] == members.nsmallest(2, "distance")["id"].tolist()
    pub_df, pub = summarize(res, meta, attrs=["sex"], public=True)
    # every cluster holds 12 images, 3 F and 9 M: both counts are small, so no share may be printed
    assert "nearest_ids" not in pub_df.columns and set(pub_df["top_sex"]) == {"*"}
    assert set(map(str, pub_df["size"])) <= {"12", "<11"} and json.dumps(pub)
    top, _ = summarize(res, level=2)
    assert top["size"].tolist() == [36, 36, 36]


def test_bad_inputs():
    x, _, _ = blobs()
    with pytest.raises(InputError, match="larger than the number"):
        cluster(x, k=len(x) + 1)
    with pytest.raises(UsageError):
        cluster(x, k=0)
    bad = x.copy()
    bad[3, 0] = np.nan
    with pytest.raises(InputError, match="NaN"):
        cluster(bad, k=3)
    with pytest.raises(InputError):
        cluster(np.zeros((0, 4), np.float32), k=1)


@pytest.fixture
def emb_files(tmp_path):
    x, y, sup = blobs(per=20)
    ids = [f"img{i:03d}" for i in range(len(y))]
    from_array(x, ids, normalize=False).save_parquet(tmp_path / "emb.parquet")
    meta = pd.DataFrame({"id": ids, "site": np.char.add("s", sup.astype(str)),
                         "sex": np.where(np.arange(len(y)) % 2, "F", "M")})
    meta.to_csv(tmp_path / "meta.csv", index=False)
    return tmp_path, y, sup


def test_cli_cluster_with_evaluation(emb_files, cli):
    d, y, sup = emb_files
    out = d / "clusters.parquet"
    r = cli("cluster", d / "emb.parquet", "--k", "9", "--levels", "2", "--meta", d / "meta.csv",
            "--attr", "site,sex", "--out", out, "--summary", d / "summary.json")
    assert r.exit_code == 0, r.stderr
    tab = pd.read_parquet(out)
    assert list(tab.columns) == ["id", "cluster_l1", "cluster_l2", "distance"] and len(tab) == len(y)
    assert adjusted_rand_score(y, tab["cluster_l1"]) == pytest.approx(1.0)
    rep = json.loads((d / "evaluation.json").read_text())
    assert rep["attributes"]["site"]["strength"] == "strongly"
    assert "clusters capture site strongly" in r.stdout and "do not capture sex" in r.stdout
    assert json.loads((d / "summary.json").read_text())["k"] == 9


@pytest.mark.parametrize("args, msg", [
    (["--k", "999"], "larger than the number of embeddings"),
    (["--k", "0"], "at least 1"),
    (["--k", "3", "--meta", "META", "--attr", "age"], "age not in the metadata"),
    (["--k", "3", "--meta", "META", "--attr", "sex", "--id-col", "nope"], "id column 'nope'"),
    (["--k", "3", "--meta", "META"], "go together"),
])
def test_cli_cluster_errors_leave_no_output(emb_files, cli, args, msg):
    d, _, _ = emb_files
    args = [str(d / "meta.csv") if a == "META" else a for a in args]
    r = cli("cluster", d / "emb.parquet", *args, "--out", d / "c.parquet")
    assert r.exit_code != 0 and msg in r.stderr and r.stderr.count("\n") == 1
    assert not (d / "c.parquet").exists() and not (d / "evaluation.json").exists()


def test_cli_cluster_metadata_mismatch(emb_files, cli):
    d, _, _ = emb_files
    meta = pd.read_csv(d / "meta.csv").iloc[10:]
    meta.to_csv(d / "part.csv", index=False)
    r = cli("cluster", d / "emb.parquet", "--k", "3", "--meta", d / "part.csv", "--attr", "sex",
            "--out", d / "c.parquet")
    assert r.exit_code != 0 and "10 of 180 embedding ids are not in" in r.stderr
    assert not (d / "c.parquet").exists()


def test_cli_cluster_dask_local(emb_files, cli):
    pytest.importorskip("distributed")
    d, y, _ = emb_files
    r = cli("cluster", d / "emb.parquet", "--k", "9", "--dask", "local", "--out", d / "c.parquet")
    assert r.exit_code == 0, r.stderr
    a = pd.read_parquet(d / "c.parquet")
    r = cli("cluster", d / "emb.parquet", "--k", "9", "--out", d / "c2.parquet")
    b = pd.read_parquet(d / "c2.parquet")
    np.testing.assert_array_equal(a["cluster_l1"], b["cluster_l1"])
    np.testing.assert_allclose(a["distance"], b["distance"], atol=1e-5)


@pytest.mark.parametrize("bad", ["--eval-out", "--summary"])
def test_cli_cluster_checks_every_output_folder_before_work(emb_files, cli, bad):
    """A missing folder for ANY output fails before clustering and leaves no output at all."""
    d, _, _ = emb_files
    out = d / "k.parquet"
    args = ["--meta", d / "meta.csv", "--attr", "site", "--out", out]
    args += [bad, d / "nodir" / "x.json"]
    r = cli("cluster", d / "emb.parquet", "--k", "4", *args)
    assert r.exit_code != 0 and "output directory" in r.stderr and "nodir" in r.stderr
    assert r.stderr.count("\n") == 1
    assert sorted(p.name for p in d.iterdir()) == ["emb.parquet", "meta.csv"]


def test_cli_cluster_writes_all_outputs_or_none(emb_files, cli):
    """--summary naming an existing folder, or the same file as --out, is refused before any output."""
    d, _, _ = emb_files
    (d / "adir").mkdir()
    base = ["cluster", d / "emb.parquet", "--k", "4", "--meta", d / "meta.csv", "--attr", "site"]
    r = cli(*base, "--out", d / "k.parquet", "--summary", d / "adir")
    assert r.exit_code != 0 and "is a folder" in r.stderr
    r = cli(*base, "--out", d / "k.parquet", "--eval-out", d / "k.parquet")
    assert r.exit_code != 0 and "both name" in r.stderr
    r = cli("cluster", d / "emb.parquet", "--k", "4", "--eval-out", d / "e.json", "--out", d / "k.parquet")
    assert r.exit_code != 0 and "--eval-out" in r.stderr
    assert sorted(p.name for p in d.iterdir()) == ["adir", "emb.parquet", "meta.csv"]
    r = cli(*base, "--out", d / "k.parquet", "--eval-out", d / "e.json", "--summary", d / "s.json")
    assert r.exit_code == 0, r.stderr
    assert sorted(p.name for p in d.iterdir()) == ["adir", "e.json", "emb.parquet", "k.parquet", "meta.csv",
                                                    "s.json"]
    assert json.loads((d / "e.json").read_text())["clustering"]["n"] == 180


def test_kmeans_inertia_at_sklearn_one_start_level_on_blobs():
    """Oracle: scikit-learn KMeans. Issue 26 measured curate at 1.06-1.46x sklearn's best inertia at k = 25
    on blobs; with sklearn's k-means++ seeding it is at the level of ``KMeans(n_init=1)`` (same seed), and
    its median over seeds is within 5 % of sklearn's best of 10 starts."""
    from sklearn.cluster import KMeans
    from sklearn.datasets import make_blobs

    vs_best = []
    for seed in range(6):
        x, _ = make_blobs(n_samples=5000, centers=25, n_features=16, cluster_std=2.0, random_state=seed)
        x = x.astype(np.float32)
        ours = kmeans(x, 25, seed=seed, spherical=False, device="cpu").inertia
        one = KMeans(25, n_init=1, random_state=seed).fit(x).inertia_
        best = KMeans(25, n_init=10, random_state=seed).fit(x).inertia_
        assert ours <= 1.05 * one
        vs_best.append(ours / best)
    assert np.median(vs_best) <= 1.05
