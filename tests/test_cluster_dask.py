"""Shard-based Dask k-means (workers read their own shards) equals numpy Lloyd / the local CLI run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

pytest.importorskip("distributed")
pytest.importorskip("faiss")
from sklearn.metrics import adjusted_rand_score  # noqa: E402

from curate.engine.cluster import cluster, init_centroids, kmeans_shards, lloyd  # noqa: E402
from curate.engine.embeddings import load_embeddings  # noqa: E402
from curate.errors import InputError, UsageError  # noqa: E402

SIZES = (700, 0, 1900, 3100, 300)  # uneven shards, one of them empty


def blobs(n: int = 6000, k: int = 4, d: int = 12, seed: int = 0):
    """``k`` well-separated Gaussian blobs in random order; returns float32 vectors and blob labels."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, d)) * 6
    y = rng.integers(k, size=n)
    return (centers[y] + rng.normal(size=(n, d))).astype(np.float32), y


def write_parquet(folder, x, sizes=SIZES, prefix="img"):
    folder.mkdir(exist_ok=True)
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    assert bounds[-1] == len(x)
    for s, (a, b) in enumerate(zip(bounds, bounds[1:])):
        vec = pa.FixedSizeListArray.from_arrays(pa.array(x[a:b].reshape(-1)), x.shape[1])
        ids = pa.array([f"{prefix}-{i:05d}" for i in range(a, b)], pa.string())
        pq.write_table(pa.table({"id": ids, "embedding": vec}), folder / f"part-{s}.parquet",
                       row_group_size=512)
    return folder


def write_npy(folder, x, sizes=SIZES):
    folder.mkdir(exist_ok=True)
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    for s, (a, b) in enumerate(zip(bounds, bounds[1:])):
        np.save(folder / f"e{s}.npy", x[a:b])
    return folder


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=3, threads_per_worker=1, processes=False, dashboard_address=":0") as cl, \
            Client(cl) as c:
        yield c


@pytest.fixture(scope="module")
def data():
    return blobs()


def test_parquet_shards_equal_numpy_lloyd(tmp_path, client, data):
    x, y = data
    folder = write_parquet(tmp_path / "pq", x)
    e = load_embeddings(folder)  # the single-machine loader: concatenated, L2-normalised
    init = init_centroids(e.vectors, 4, seed=3)
    ref = lloyd(e.vectors, init, 10, spherical=True)
    ids, res, info = kmeans_shards(str(folder / "*.parquet"), 4, init=init, niter=10, dask=client)
    np.testing.assert_array_equal(ids, e.ids)
    np.testing.assert_allclose(res.centroids, ref.centroids, atol=1e-5)
    np.testing.assert_array_equal(res.labels, ref.labels)
    np.testing.assert_allclose(res.distances, ref.distances, atol=1e-5)
    assert res.inertia == pytest.approx(ref.inertia, rel=1e-6)
    assert info == {"workers": 3, "shards": 5, "init": "given"}
    assert adjusted_rand_score(y, res.labels) == pytest.approx(1.0)


def test_seeded_init_is_sampled_on_workers_like_the_local_path(tmp_path, client):
    # n > 10,000 so k-means++ runs on a seeded subsample whose rows are spread over the shards
    x, _ = blobs(n=12_500, k=3, d=6, seed=5)
    folder = write_parquet(tmp_path / "big", x, sizes=(5000, 2500, 5000))
    e = load_embeddings(folder)
    local_init = init_centroids(e.vectors, 3, seed=11)
    _, res, info = kmeans_shards(folder, 3, seed=11, niter=5, dask=client)
    np.testing.assert_allclose(res.init, local_init, atol=1e-6)
    assert info["init"] == "k-means++ on 10,000 seeded rows"
    np.testing.assert_array_equal(res.labels, lloyd(e.vectors, local_init, 5, spherical=True).labels)


def test_npy_shards_l2_use_global_row_ids(tmp_path, client, data):
    x, _ = data
    folder = write_npy(tmp_path / "npy", x)
    init = x[[5, 900, 2000, 4000]]
    ref = lloyd(x, init, 8, spherical=False)  # l2: raw vectors, no normalisation
    ids, res, _ = kmeans_shards(sorted(str(p) for p in folder.glob("*.npy")), 4, init=init, niter=8,
                                spherical=False, dask=client)
    np.testing.assert_array_equal(ids, np.arange(len(x)).astype(str))
    np.testing.assert_allclose(res.centroids, ref.centroids, atol=1e-5)
    np.testing.assert_array_equal(res.labels, ref.labels)
    np.testing.assert_allclose(res.distances, ref.distances, rtol=1e-5, atol=1e-5)


def test_cluster_hierarchy_from_shards_equals_local(tmp_path, client, data):
    x, _ = data
    folder = write_parquet(tmp_path / "h", x)
    init = init_centroids(load_embeddings(folder).vectors, 8, seed=2)
    local = cluster(folder, k=[8, 3], init=init, niter=10)
    dist = cluster(str(folder / "*.parquet"), k=[8, 3], init=init, niter=10, dask=client)
    pd.testing.assert_frame_equal(dist.table.drop(columns="distance"), local.table.drop(columns="distance"))
    np.testing.assert_allclose(dist.table["distance"], local.table["distance"], atol=1e-5)
    np.testing.assert_allclose(dist.centroids[0], local.centroids[0], atol=1e-5)
    assert dist.info["dask"]["shards"] == 5 and dist.info["backend"] == "dask"


def test_shard_errors_before_any_iteration(tmp_path, client, data):
    x, _ = data
    folder = write_parquet(tmp_path / "bad", x[:1000], sizes=(600, 400))
    vec = pa.FixedSizeListArray.from_arrays(pa.array(np.ascontiguousarray(x[:10, :6]).reshape(-1)), 6)
    pq.write_table(pa.table({"id": [f"z{i}" for i in range(10)], "embedding": vec}),
                   folder / "part-7.parquet")
    with pytest.raises(InputError, match="'part-7.parquet' has dimension 6, but 'part-0.parquet' has 12"):
        kmeans_shards(folder, 4, dask=client)
    nan = x[:5].copy()
    nan[3, 1] = np.nan
    vec = pa.FixedSizeListArray.from_arrays(pa.array(nan.reshape(-1)), 12)
    pq.write_table(pa.table({"id": [f"n{i}" for i in range(5)], "embedding": vec}), folder / "part-7.parquet")
    with pytest.raises(InputError, match=r"^shard 'part-7.parquet': 1 of 5 embedding rows contain NaN"):
        kmeans_shards(folder, 4, dask=client)
    vec = pa.FixedSizeListArray.from_arrays(pa.array(x[:2].reshape(-1)), 12)
    pq.write_table(pa.table({"id": ["n0", "img-00007"], "embedding": vec}), folder / "part-7.parquet")
    with pytest.raises(InputError, match=r"1 ids occur more than once \(first repeat at row \d+\)"):
        kmeans_shards(folder, 4, dask=client)
    (folder / "part-7.parquet").unlink()
    with pytest.raises(InputError, match="k=2000 is larger than the number of embeddings"):
        kmeans_shards(folder, 2000, dask=client)
    with pytest.raises(UsageError, match=r"init must have shape \(4, 12\)"):
        kmeans_shards(folder, 4, init=np.zeros((3, 12)), dask=client)


def test_cli_dask_local_equals_local_run(tmp_path, cli, data):
    x, _ = data
    folder = write_parquet(tmp_path / "cli", x)
    glob = str(folder / "*.parquet")
    r = cli("cluster", glob, "--k", "4", "--dask", "local", "--workers", "2", "--out", tmp_path / "d.parquet")
    assert r.exit_code == 0, r.stderr
    assert "on Dask (2 workers, 5 shards)" in r.stdout
    r = cli("cluster", glob, "--k", "4", "--out", tmp_path / "l.parquet")
    assert r.exit_code == 0, r.stderr
    a, b = pd.read_parquet(tmp_path / "d.parquet"), pd.read_parquet(tmp_path / "l.parquet")
    assert list(a["id"]) == list(b["id"]) == [f"img-{i:05d}" for i in range(len(x))]
    np.testing.assert_array_equal(a["cluster_l1"], b["cluster_l1"])
    np.testing.assert_allclose(a["distance"], b["distance"], atol=1e-5)


def test_cli_dask_errors_are_one_line(tmp_path, cli, data):
    x, _ = data
    folder = write_parquet(tmp_path / "e", x[:1000], sizes=(600, 400))
    nan = x[:5].copy()
    nan[0, 0] = np.inf
    vec = pa.FixedSizeListArray.from_arrays(pa.array(nan.reshape(-1)), 12)
    pq.write_table(pa.table({"id": [f"n{i}" for i in range(5)], "embedding": vec}), folder / "part-9.parquet")
    out = tmp_path / "c.parquet"
    r = cli("cluster", str(folder / "*.parquet"), "--k", "4", "--dask", "local", "--workers", "1",
            "--out", out)
    assert r.exit_code == 1 and r.stderr.count("\n") == 1
    assert "error: shard 'part-9.parquet': 1 of 5 embedding rows contain NaN or infinite values" in r.stderr
    assert not out.exists()
    r = cli("cluster", str(folder / "*.parquet"), "--k", "4", "--workers", "2", "--out", out)
    assert r.exit_code == 2 and "--workers sizes a local cluster" in r.stderr and not out.exists()


def test_cli_dask_checks_metadata_ids_before_clustering(tmp_path, cli, data):
    x, _ = data
    folder = write_parquet(tmp_path / "m", x[:1000], sizes=(600, 400))
    meta = pd.DataFrame({"id": [f"img-{i:05d}" for i in range(990)], "sex": ["F", "M"] * 495})
    meta.to_csv(tmp_path / "meta.csv", index=False)
    out = tmp_path / "c.parquet"
    r = cli("cluster", folder, "--k", "4", "--dask", "local", "--workers", "1", "--meta",
            tmp_path / "meta.csv", "--attr", "sex", "--out", out)
    assert r.exit_code == 2 and "10 of 1000 embedding ids are not in" in r.stderr
    assert r.stderr.count("\n") == 1 and not out.exists()
