"""Dask dedup on a small LocalCluster gives exactly the single-machine exact result."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.engine.dedup import dedup
from curate.engine.dedup.sharded import dedup_dask
from curate.engine.embeddings import load_embeddings
from curate.errors import InputError


def planted(n_base=900, d=32, seed=0):
    """Random unit vectors plus exact copies and copies at cosine 0.97 / 0.9 of some of them."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_base, d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    extra = []
    for k, s in enumerate(rng.choice(n_base, 150, replace=False)):
        u = rng.normal(size=d)
        u -= (u @ x[s]) * x[s]
        u /= np.linalg.norm(u)
        c = (1.0, 0.97, 0.9)[k % 3]
        extra.append(c * x[s] + np.sqrt(1 - c * c) * u)
    allx = np.vstack([x, extra])
    return allx[rng.permutation(len(allx))].astype(np.float32)


def shard_parquet(folder, x, n_shards=4):
    folder.mkdir()
    bounds = np.linspace(0, len(x), n_shards + 1).astype(int)
    for k in range(n_shards):
        part = x[bounds[k]:bounds[k + 1]]
        vec = pa.FixedSizeListArray.from_arrays(pa.array(part.reshape(-1)), x.shape[1])
        ids = pa.array([f"s{k}-{i:04d}" for i in range(len(part))])
        pq.write_table(pa.table({"id": ids, "embedding": vec}), folder / f"part-{k}.parquet",
                       row_group_size=64)
    return folder


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=3, threads_per_worker=1, processes=False, dashboard_address=":0") as cl, \
            Client(cl) as c:
        yield c


@pytest.fixture(scope="module")
def x():
    return planted()


def brute(x, ids, t):
    xn = x.astype(np.float64)
    xn /= np.linalg.norm(xn, axis=1, keepdims=True)
    s = xn @ xn.T
    a, b = np.triu_indices(len(x), 1)
    keep = s[a, b] >= t
    assert np.abs(s[a, b] - t).min() > 1e-5
    return {tuple(sorted((ids[i], ids[j]))) for i, j in zip(a[keep], b[keep])}


@pytest.mark.parametrize("t", [0.88, 0.95])
def test_dask_parquet_equals_local(tmp_path, client, x, t):
    folder = shard_parquet(tmp_path / "shards", x)
    local = dedup(load_embeddings(folder), t, method="exact", device="cpu")
    dist = dedup_dask(str(folder / "*.parquet"), t, client=client)
    pd.testing.assert_frame_equal(dist.pairs[["id_a", "id_b"]], local.pairs[["id_a", "id_b"]])
    np.testing.assert_allclose(dist.pairs.cosine, local.pairs.cosine, atol=1e-6)
    pd.testing.assert_frame_equal(dist.groups, local.groups)
    assert dist.keep == local.keep
    ids = load_embeddings(folder).ids
    assert set(zip(dist.pairs.id_a, dist.pairs.id_b)) == brute(x, ids, t)
    assert dist.summary["dask"] == {"workers": 3, "shards": 4, "block_tasks": 10}
    assert dist.summary["removed"] == local.summary["removed"] > 0


def test_dask_npy_shards_use_global_row_ids(tmp_path, client, x):
    folder = tmp_path / "npy"
    folder.mkdir()
    for k, part in enumerate(np.array_split(x, 3)):
        np.save(folder / f"e{k}.npy", part)
    dist = dedup_dask(folder, 0.9, client=client)
    local = dedup(x, 0.9, method="exact", device="cpu")
    assert dist.keep == local.keep
    pd.testing.assert_frame_equal(dist.pairs[["id_a", "id_b"]], local.pairs[["id_a", "id_b"]])


def test_dask_errors(tmp_path, client, x):
    folder = shard_parquet(tmp_path / "bad", x[:200], n_shards=2)
    other = x[:10, :16]
    vec = pa.FixedSizeListArray.from_arrays(pa.array(other.reshape(-1)), 16)
    pq.write_table(pa.table({"id": [f"z{i}" for i in range(10)], "embedding": vec}),
                   folder / "part-9.parquet")
    with pytest.raises(InputError, match="'part-9.parquet' has dimension 16, but 'part-0.parquet' has 32"):
        dedup_dask(folder, 0.9, client=client)
    (folder / "part-9.parquet").unlink()
    nan = x[:5].copy()
    nan[2, 3] = np.nan
    vec = pa.FixedSizeListArray.from_arrays(pa.array(nan.reshape(-1)), 32)
    pq.write_table(pa.table({"id": [f"n{i}" for i in range(5)], "embedding": vec}), folder / "part-5.parquet")
    with pytest.raises(InputError, match="shard 'part-5.parquet': 1 of 5 embedding rows contain NaN"):
        dedup_dask(folder, 0.9, client=client)
    pq.write_table(pa.table({"id": ["s0-0001"], "embedding": pa.FixedSizeListArray.from_arrays(
        pa.array(x[0]), 32)}), folder / "part-5.parquet")
    with pytest.raises(InputError, match="1 ids occur more than once"):
        dedup_dask(folder, 0.9, client=client)


def test_cli_dask_local(cli, tmp_path, x):
    folder = shard_parquet(tmp_path / "shards", x, n_shards=3)
    out = tmp_path / "out"
    glob = str(folder / "*.parquet")
    r = cli("dedup", glob, "--dask", "local", "--workers", "2", "-t", "0.9", "--out", out)
    assert r.exit_code == 0, r.stderr
    assert "on Dask (2 workers)" in r.stdout
    summary = json.loads((out / "summary.json").read_text())
    local = dedup(load_embeddings(folder), 0.9, method="exact", device="cpu")
    assert summary["pairs"] == len(local.pairs) and summary["dask"]["shards"] == 3
    pairs = pd.read_parquet(out / "pairs.parquet")
    pd.testing.assert_frame_equal(pairs[["id_a", "id_b"]], local.pairs[["id_a", "id_b"]], check_dtype=False)
    r = cli("dedup", glob, "--dask", "local", "--method", "ivf", "--out", tmp_path / "o2")
    assert r.exit_code == 2 and "--dask runs the exact method" in r.stderr
    assert not (tmp_path / "o2").exists()
