"""Two-level k-means (many centroids): allocation, the outlier case faiss.contrib fails on, quality against
scikit-learn, exact final labels (brute force), and the auto rule / reporting in ``cluster``."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("faiss")
from sklearn.cluster import KMeans  # noqa: E402

from curate.engine.cluster import cluster  # noqa: E402
from curate.engine.cluster.kmeans import TWO_LEVEL_MIN_K, kmeans  # noqa: E402
from curate.engine.cluster.two_level import allocate_centroids  # noqa: E402
from curate.errors import UsageError  # noqa: E402


def planted(n: int, d: int, k: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, d)).astype(np.float32) * 3
    return centers[rng.integers(k, size=n)] + rng.normal(size=(n, d)).astype(np.float32)


@pytest.mark.parametrize("seed", range(30))
def test_allocation_is_feasible_and_proportional(seed):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(0, 300, size=rng.integers(1, 40))
    sizes[rng.integers(len(sizes))] = max(1, sizes.max())
    nonempty, n = int((sizes > 0).sum()), int(sizes.sum())
    k = int(rng.integers(nonempty, n + 1))
    alloc = allocate_centroids(sizes, k)
    assert alloc.sum() == k
    assert ((alloc >= 1) == (sizes > 0)).all() and (alloc <= sizes).all()
    # no group is more than one centroid from its share unless the 1-per-group floor or its size forces it
    share = sizes * k / n
    free = (sizes > 0) & (share >= 1) & (share <= sizes - 1)
    assert (np.abs(alloc - share)[free] < 2).all()


def test_allocation_refuses_impossible_k():
    with pytest.raises(UsageError):
        allocate_centroids(np.array([5, 0, 3]), 1)  # two non-empty groups need 2 centroids
    with pytest.raises(UsageError):
        allocate_centroids(np.array([5, 3]), 9)


def test_outlier_group_gets_a_centroid_where_faiss_contrib_fails():
    from faiss.contrib.clustering import two_level_clustering

    x = planted(3000, 16, 30)
    x[0] += 1000  # a coarse group of one row: its proportional share of 100 centroids rounds to 0
    x[1] -= 1000
    with pytest.raises(RuntimeError):  # the library function this module replaces
        two_level_clustering(x, 30, 100, seed=0, min_points_per_centroid=1)
    res = kmeans(x, 100, method="two-level", spherical=False, device="cpu")
    assert res.centroids.shape == (100, 16) and np.isfinite(res.centroids).all()
    assert res.info["method"] == "two-level"


def test_two_level_as_good_as_the_faiss_reference_and_labels_are_exact():
    import faiss

    x = planted(20_000, 16, 400, seed=1)
    res = kmeans(x, 400, method="two-level", spherical=False, device="cpu", seed=0)
    ref = faiss.Kmeans(16, 400, niter=20, seed=0)  # FAISS's own defaults: random start, flat iterations
    ref.train(x)
    assert res.inertia <= 1.02 * float(ref.index.search(x, 1)[0].sum())
    sk = KMeans(400, n_init=1, random_state=0).fit(x)  # greedy k-means++ run to convergence
    assert res.inertia <= 1.35 * sk.inertia_
    from scipy.spatial.distance import cdist

    d2 = cdist(x.astype(np.float64), res.centroids.astype(np.float64), "sqeuclidean")  # brute force
    best = d2.min(axis=1)
    assert np.allclose(d2[np.arange(len(x)), res.labels], best, rtol=1e-4, atol=1e-3)
    assert res.inertia == pytest.approx(float(best.sum()), rel=1e-4)


def test_refine_iterations_lower_the_inertia():
    x = planted(20_000, 16, 400, seed=2)
    raw = kmeans(x, 400, method="two-level", refine=0, spherical=False, device="cpu")
    ref = kmeans(x, 400, method="two-level", refine=2, spherical=False, device="cpu")
    assert ref.inertia < raw.inertia
    assert raw.info["refine_iterations"] == 0 and ref.info["refine_iterations"] == 2


def test_auto_rule_and_reporting():
    x = planted(12_000, 8, 50, seed=3)
    small = cluster(x, k=50, metric="l2")
    assert small.info["kmeans"] == {"method": "flat"}
    big = cluster(x, k=TWO_LEVEL_MIN_K, metric="l2")
    assert big.info["kmeans"]["method"] == "two-level"
    assert big.table["cluster_l1"].max() < TWO_LEVEL_MIN_K
    with pytest.raises(UsageError, match="kmeans_method"):
        cluster(x, k=50, kmeans_method="fast")
    with pytest.raises(UsageError, match="with dask"):
        cluster(x, k=50, kmeans_method="two-level", dask="local")
    with pytest.raises(UsageError, match="init"):
        kmeans(x, 50, method="two-level", init=x[:50])


def test_cli_reports_two_level(tmp_path, cli):
    emb = tmp_path / "emb.npy"
    np.save(emb, planted(6_000, 8, 40, seed=4))
    out = tmp_path / "clusters.parquet"
    r = cli("cluster", emb, "--k", "300", "--kmeans", "two-level", "--out", out)
    assert r.exit_code == 0, r.stderr
    assert "trained two-level" in r.stdout and out.exists()
    bad = tmp_path / "b.parquet"
    r = cli("cluster", emb, "--k", "30", "--kmeans", "nope", "--out", bad)
    assert r.exit_code == 2 and r.stderr.startswith("error: --kmeans") and "Traceback" not in r.stderr
    assert not bad.exists()
