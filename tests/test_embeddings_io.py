"""load_embeddings: .npy (+ id sidecars), parquet shards, Hugging Face datasets, and their errors."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.engine.embeddings import Embeddings, from_array, load_embeddings
from curate.errors import InputError


def rand(n=50, d=8, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).normal(size=(n, d)).astype(dtype)


def unit64(x):
    x = np.asarray(x, np.float64)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def write_parquet(path, x, ids=None, *, fixed=True, col="embedding", id_col="id", row_group_size=None,
                  value_type=pa.float32()):
    flat = pa.array(np.asarray(x).reshape(-1), value_type)
    d = x.shape[1]
    if fixed:
        vec = pa.FixedSizeListArray.from_arrays(flat, d)
    else:
        vec = pa.ListArray.from_arrays(pa.array(np.arange(0, len(x) * d + 1, d, dtype=np.int32)), flat)
    cols = {col: vec}
    if ids is not None:
        cols[id_col] = pa.array([str(i) for i in ids])
    pq.write_table(pa.table(cols), path, row_group_size=row_group_size)


# --------------------------------------------------------------------------------------------- npy
def test_npy_row_number_ids_and_normalisation(tmp_path):
    x = rand()
    np.save(tmp_path / "e.npy", x)
    e = load_embeddings(tmp_path / "e.npy")
    assert isinstance(e, Embeddings) and (e.n, e.d) == (50, 8) and e.normalized
    assert e.ids.tolist() == [str(i) for i in range(50)]
    assert e.vectors.dtype == np.float32 and e.vectors.flags.c_contiguous
    np.testing.assert_allclose(e.vectors, unit64(x), atol=1e-6)


def test_npy_sidecar_ids_txt_and_parquet(tmp_path):
    x = rand(n=5)
    np.save(tmp_path / "a.npy", x)
    (tmp_path / "a.ids.txt").write_text("r1\nr2\nr3\nr4\nr5\n")
    assert load_embeddings(tmp_path / "a.npy").ids.tolist() == ["r1", "r2", "r3", "r4", "r5"]
    np.save(tmp_path / "b.npy", x)
    pq.write_table(pa.table({"image": ["b1", "b2", "b3", "b4", "b5"]}), tmp_path / "b.ids.parquet")
    assert load_embeddings(tmp_path / "b.npy").ids.tolist() == ["b1", "b2", "b3", "b4", "b5"]
    (tmp_path / "a.ids.txt").write_text("r1\nr2\n")
    with pytest.raises(InputError, match="lists 2 ids for 5 vectors"):
        load_embeddings(tmp_path / "a.npy")


def test_npy_mmap_without_normalisation_is_not_copied(tmp_path):
    x = rand(n=100)
    np.save(tmp_path / "e.npy", x)
    e = load_embeddings(tmp_path / "e.npy", normalize=False)
    assert isinstance(e.vectors, np.memmap) and not e.normalized
    np.testing.assert_array_equal(e.vectors, x)
    e2 = load_embeddings(tmp_path / "e.npy", normalize=False, mmap=False)
    assert not isinstance(e2.vectors, np.memmap)
    np.testing.assert_array_equal(e2.vectors, x)


def test_npy_float64_and_glob_of_shards(tmp_path):
    x = rand(n=30, dtype=np.float64)
    np.save(tmp_path / "s0.npy", x[:10])
    np.save(tmp_path / "s1.npy", x[10:25])
    np.save(tmp_path / "s2.npy", x[25:])
    e = load_embeddings(str(tmp_path / "s*.npy"))
    assert e.ids.tolist() == [str(i) for i in range(30)]  # global row numbers across shards
    np.testing.assert_allclose(e.vectors, unit64(x), atol=1e-6)
    e2 = load_embeddings(tmp_path)  # a folder of shards
    np.testing.assert_array_equal(e2.vectors, e.vectors)


def test_npy_errors(tmp_path):
    np.save(tmp_path / "one_d.npy", np.ones(5))
    with pytest.raises(InputError, match=r"2-D \(n, d\) array, got shape \(5,\)"):
        load_embeddings(tmp_path / "one_d.npy")
    np.save(tmp_path / "obj.npy", np.array([[1, "a"]], dtype=object), allow_pickle=True)
    with pytest.raises(InputError, match="not a plain numeric"):
        load_embeddings(tmp_path / "obj.npy")
    with pytest.raises(InputError, match="does not exist"):
        load_embeddings(tmp_path / "missing.npy")
    with pytest.raises(InputError, match="no files match"):
        load_embeddings(str(tmp_path / "nothing*.npy"))
    np.save(tmp_path / "empty.npy", np.zeros((0, 4), np.float32))
    with pytest.raises(InputError, match="0 rows"):
        load_embeddings(tmp_path / "empty.npy")
    bad = rand(n=20)
    bad[[3, 7, 11], 2] = [np.nan, np.inf, -np.inf]
    np.save(tmp_path / "bad.npy", bad)
    with pytest.raises(InputError, match="3 of 20 embedding rows contain NaN or infinite"):
        load_embeddings(tmp_path / "bad.npy")
    with pytest.raises(InputError, match="3 of 20"):  # also checked without normalisation (mmap path)
        load_embeddings(tmp_path / "bad.npy", normalize=False)
    d = tmp_path / "dims"
    d.mkdir()
    np.save(d / "a.npy", rand(n=4, d=8))
    np.save(d / "b.npy", rand(n=4, d=6))
    with pytest.raises(InputError, match="shard 'b.npy' has dimension 6, but 'a.npy' has 8"):
        load_embeddings(d)


def test_duplicate_ids_error_gives_count_and_row_not_ids(tmp_path):
    np.save(tmp_path / "e.npy", rand(n=10))
    ids = ["a", "x", "a", "b", "b", "c", "c", "d", "d", "e"]
    (tmp_path / "e.ids.txt").write_text("\n".join(ids) + "\n")
    with pytest.raises(InputError, match=r"4 ids occur more than once \(first repeat at row 2\)") as exc:
        load_embeddings(tmp_path / "e.npy")
    assert not any(f"'{i}'" in str(exc.value) for i in set(ids))  # ids are never printed


# ----------------------------------------------------------------------------------------- parquet
@pytest.mark.parametrize("fixed", [True, False])
def test_parquet_shards_stream_by_row_group(tmp_path, fixed):
    x = rand(n=70, d=6, dtype=np.float64)
    ids = [f"img-{i}" for i in range(70)]
    write_parquet(tmp_path / "p0.parquet", x[:40], ids[:40], fixed=fixed, row_group_size=7,
                  value_type=pa.float64())
    write_parquet(tmp_path / "p1.parquet", x[40:], ids[40:], fixed=fixed, row_group_size=9,
                  value_type=pa.float64())
    assert pq.ParquetFile(tmp_path / "p0.parquet").num_row_groups == 6
    e = load_embeddings(str(tmp_path / "p*.parquet"))
    assert e.ids.tolist() == ids and e.vectors.dtype == np.float32
    np.testing.assert_allclose(e.vectors, unit64(x), atol=1e-6)
    raw = load_embeddings([tmp_path / "p0.parquet", tmp_path / "p1.parquet"], normalize=False)
    np.testing.assert_allclose(raw.vectors, x.astype(np.float32))


def test_parquet_columns_and_errors(tmp_path):
    x = rand(n=12, d=4)
    write_parquet(tmp_path / "v.parquet", x, [f"k{i}" for i in range(12)], col="vec", id_col="key")
    e = load_embeddings(tmp_path / "v.parquet", id_col="key")  # the only list column is found
    assert e.ids[0] == "k0"
    e = load_embeddings(tmp_path / "v.parquet", vector_col="vec")  # no 'id' column -> row numbers
    assert e.ids[-1] == "11"
    with pytest.raises(InputError, match="no column 'emb'"):
        load_embeddings(tmp_path / "v.parquet", vector_col="emb")
    tbl = pq.read_table(tmp_path / "v.parquet")
    tbl = tbl.append_column("vec2", tbl["vec"])
    pq.write_table(tbl, tmp_path / "two.parquet")
    with pytest.raises(InputError, match="several vector columns"):
        load_embeddings(tmp_path / "two.parquet")
    ragged = pa.table({"embedding": pa.array([[1.0, 2.0], [1.0, 2.0, 3.0]]), "id": ["a", "b"]})
    pq.write_table(ragged, tmp_path / "ragged.parquet")
    with pytest.raises(InputError, match="different lengths"):
        load_embeddings(tmp_path / "ragged.parquet")
    nulls = pa.table({"embedding": pa.array([[1.0, 2.0], None, [0.5, 0.1]]), "id": ["a", "b", "c"]})
    pq.write_table(nulls, tmp_path / "nulls.parquet")
    with pytest.raises(InputError, match="1 missing"):
        load_embeddings(tmp_path / "nulls.parquet")
    with pytest.raises(InputError, match="no id column 'image_id'"):  # a named id column must exist
        load_embeddings(tmp_path / "v.parquet", id_col="image_id")
    write_parquet(tmp_path / "d8.parquet", rand(n=3, d=8), ["x", "y", "z"], id_col="key")
    with pytest.raises(InputError, match="shard 'd8.parquet' has dimension 8, but 'v.parquet' has 4"):
        load_embeddings([tmp_path / "v.parquet", tmp_path / "d8.parquet"], id_col="key")
    (tmp_path / "junk.parquet").write_bytes(b"not parquet")
    with pytest.raises(InputError, match="cannot read parquet"):
        load_embeddings(tmp_path / "junk.parquet")
    np.save(tmp_path / "m.npy", x)
    with pytest.raises(InputError, match="mixed embedding formats"):
        load_embeddings([tmp_path / "m.npy", tmp_path / "v.parquet"])


def test_save_parquet_roundtrip(tmp_path):
    e = from_array(rand(n=25, d=5), [f"id{i}" for i in range(25)])
    e.save_parquet(tmp_path / "out.parquet", row_group_size=10)
    schema = pq.read_schema(tmp_path / "out.parquet")
    assert schema.field("embedding").type == pa.list_(pa.float32(), 5)
    assert schema.field("id").type == pa.string()
    back = load_embeddings(tmp_path / "out.parquet", normalize=False)
    assert back.ids.tolist() == e.ids.tolist()
    np.testing.assert_array_equal(back.vectors, e.vectors)


def test_subset():
    e = from_array(rand(n=10), [f"i{k}" for k in range(10)])
    s = e.subset([7, 2])
    assert s.ids.tolist() == ["i7", "i2"] and s.normalized
    np.testing.assert_array_equal(s.vectors, e.vectors[[7, 2]])
    m = e.subset(np.arange(10) % 2 == 0)
    assert m.n == 5 and m.d == 8


# -------------------------------------------------------------------------------- Hugging Face
def test_hf_dataset_object_and_folder(tmp_path):
    import datasets

    x = rand(n=20, d=4)
    ds = datasets.Dataset.from_dict({"id": [f"h{i}" for i in range(20)], "emb": x.tolist(),
                                     "label": list(range(20))})
    e = load_embeddings(ds)
    assert e.ids.tolist() == [f"h{i}" for i in range(20)]
    np.testing.assert_allclose(e.vectors, unit64(x), atol=1e-6)
    ds.save_to_disk(str(tmp_path / "hf"))
    e2 = load_embeddings(tmp_path / "hf", vector_col="emb")
    np.testing.assert_array_equal(e2.vectors, e.vectors)
    datasets.DatasetDict({"train": ds}).save_to_disk(str(tmp_path / "dd"))
    with pytest.raises(InputError, match="DatasetDict with splits train"):
        load_embeddings(tmp_path / "dd")
    with pytest.raises(InputError, match="no column 'vec'"):
        load_embeddings(ds, vector_col="vec")


def test_ids_that_look_like_row_numbers_but_repeat_are_refused():
    """Row-number ids skip the sort; ids of the same look that repeat one (a narrow string dtype, where
    "100" stands at row 1000) are still caught."""
    from curate.engine.embeddings import _check_ids

    _check_ids(np.arange(1001).astype(str))  # the row numbers: unique
    ids = np.arange(1001).astype(str).astype("<U3")  # row 1000 becomes "100", like row 100
    with pytest.raises(InputError, match=r"1 ids occur more than once \(first repeat at row 1000\)"):
        _check_ids(ids)
