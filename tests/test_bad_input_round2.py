"""Bad input, round two (issue 27): one `error:` line, a non-zero exit, no traceback, nothing partial and
nothing of the user's lost — for each case that crashed, hung, misreported or overwrote before."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


def _one_error(r, *needles: str) -> None:
    assert r.exit_code != 0, r.stdout
    assert r.stderr.startswith("error: ") and r.stderr.count("\n") == 1, r.stderr
    assert "Traceback" not in r.stderr and "unexpected" not in r.stderr, r.stderr
    for n in needles:
        assert n in r.stderr, (n, r.stderr)


# ---- demo, probe, audit -----

def test_demo_negative_seed(cli, tmp_path):
    r = cli("demo", "--seed", "-1", "--out", tmp_path / "d")
    _one_error(r, "--seed")
    assert not (tmp_path / "d").exists()


@pytest.fixture(scope="module")
def probe_data(tmp_path_factory):
    from curate.engine.embeddings import from_array

    tmp = tmp_path_factory.mktemp("probe2")
    rng = np.random.default_rng(0)
    n = 120
    X = rng.normal(size=(n, 6)).astype(np.float32)
    ids = [f"i{k}" for k in range(n)]
    meta = pd.DataFrame({"id": ids, "patient_id": [f"p{k // 2}" for k in range(n)],
                         "y": (X[:, 0] > 0).astype(int),
                         "split": np.where(np.arange(n) < 80, "train", np.where(np.arange(n) < 100, "val",
                                                                                 "test"))})
    meta.loc[79, "split"] = "test"  # patient p39 now has an image in train and one in test
    from_array(X, ids=ids, normalize=False).save_parquet(tmp / "emb.parquet")
    meta.to_csv(tmp / "meta.csv", index=False)
    meta.drop(columns="patient_id").to_csv(tmp / "meta_nopatient.csv", index=False)
    return tmp


@pytest.mark.parametrize("lr", ["nan", "inf", "-inf"])
def test_probe_learning_rate_must_be_finite(cli, probe_data, tmp_path, lr):
    r = cli("probe", probe_data / "emb.parquet", "--meta", probe_data / "meta.csv", "--labels", "y",
            "--lr", lr, "--out", tmp_path / "p.parquet")
    _one_error(r, "--lr")
    assert not list(tmp_path.iterdir())


def test_probe_never_replaces_a_sidecar_it_did_not_write(cli, probe_data, tmp_path):
    mine = tmp_path / "p.probe.json"
    mine.write_text('{"my": "notes"}', encoding="utf-8")
    r = cli("probe", probe_data / "emb.parquet", "--meta", probe_data / "meta.csv", "--labels", "y",
            "--epochs", "1", "--seeds", "1", "--out", tmp_path / "p.parquet")
    _one_error(r, "p.probe.json", "not written by curate probe")
    assert mine.read_text(encoding="utf-8") == '{"my": "notes"}' and not (tmp_path / "p.parquet").exists()


def test_probe_split_col_is_checked_for_leaky_patients(cli, probe_data, tmp_path):
    """Without --patient-col the patient column is found by its name; without one, --split-col is refused."""
    r = cli("probe", probe_data / "emb.parquet", "--meta", probe_data / "meta.csv", "--labels", "y",
            "--split-col", "split", "--epochs", "1", "--seeds", "1", "--out", tmp_path / "p.parquet")
    _one_error(r, "patient_id", "more than one split")
    r = cli("probe", probe_data / "emb.parquet", "--meta", probe_data / "meta_nopatient.csv", "--labels", "y",
            "--split-col", "split", "--epochs", "1", "--seeds", "1", "--out", tmp_path / "p.parquet")
    _one_error(r, "--patient-col")
    assert not list(tmp_path.iterdir())


def test_probe_reports_progress_per_epoch(probe_data):
    from curate.audits.probes import probe

    seen = []
    probe(probe_data / "emb.parquet", probe_data / "meta.csv", labels="y", patient_col="patient_id",
          split_col="split", allow_leaky_split=True, seeds=2, epochs=3, model="linear",
          progress=lambda stage, done, total: seen.append((stage, done, total)))
    stages = {s for s, _, _ in seen}
    assert stages == {"training seed 0 (epochs)", "training seed 1 (epochs)"}
    for s in stages:
        assert [d for st, d, _ in seen if st == s][-1] == 3  # every bar ends full (early stop included)


def test_audit_of_a_one_row_file(cli, tmp_path):
    pd.DataFrame({"y": [1], "score_y": [0.3], "sex": ["F"]}).to_csv(tmp_path / "one.csv", index=False)
    r = cli("audit", tmp_path / "one.csv", "--label-cols", "y", "--groups", "sex", "--out", tmp_path / "o")
    _one_error(r, "fewer than 11")
    assert not (tmp_path / "o").exists()


# ---- sample, scan splits -----

@pytest.fixture()
def meta(tmp_path):
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"id": [f"img{k}" for k in range(60)], "sex": rng.choice(["F", "M"], 60)})
    df.to_csv(tmp_path / "m.csv", index=False)
    return tmp_path / "m.csv"


def test_sample_binary_keep_list(cli, meta, tmp_path):
    (tmp_path / "keep.txt").write_bytes(bytes(range(256)) * 4)
    r = cli("sample", meta, "--balance-by", "sex", "--keep", tmp_path / "keep.txt",
            "--out", tmp_path / "s.csv")
    _one_error(r, "keep-list", "text file")
    assert not (tmp_path / "s.csv").exists()


def test_sample_duplicated_ids(cli, meta, tmp_path):
    df = pd.read_csv(meta)
    pd.concat([df, df.head(2)]).to_csv(tmp_path / "dup.csv", index=False)
    r = cli("sample", tmp_path / "dup.csv", "--balance-by", "sex", "--out", tmp_path / "s.csv")
    _one_error(r, "repeats image ids")
    assert "img0" not in r.stderr and "img1" not in r.stderr  # ids are identifiers: never printed
    assert not (tmp_path / "s.csv").exists()


@pytest.mark.parametrize("fr", ["nan,0.5,0.5", "inf,-inf,1", "0.5,nan"])
def test_split_fractions_must_be_finite(fr):
    from curate.engine.splits import parse_fractions
    from curate.errors import UsageError

    with pytest.raises(UsageError, match="positive and sum to 1"):
        parse_fractions(fr)


def test_scan_splits_nan(cli, tmp_path):
    pytest.importorskip("pydicom")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "x.txt").write_text("not dicom")
    r = cli("scan", tmp_path / "in", "--splits", "nan,0.5,0.5", "--out", tmp_path / "o")
    _one_error(r, "split fractions")
    assert not (tmp_path / "o").exists()


def test_sample_splits_nan(cli, meta, tmp_path):
    r = cli("sample", meta, "--balance-by", "sex", "--splits", "nan,0.5,0.5", "--out", tmp_path / "s.csv")
    _one_error(r, "split fractions")


# ---- catalog -----------------------------------------------------------------------------------------------

def test_catalog_list_unknown_collection(cli):
    r = cli("catalog", "list", "--collection", "nope")
    _one_error(r, "unknown collection 'nope'", "queiroz2025-table1")


def test_catalog_show_huge_id_is_quick_and_short(cli):
    t = time.perf_counter()
    r = cli("catalog", "show", "x" * 100_000)
    assert time.perf_counter() - t < 20
    _one_error(r, "unknown dataset", "100,000 characters")
    assert len(r.stderr) < 300


def test_user_record_named_like_a_builtin_alias_blames_the_user_file(cli, tmp_path):
    from curate.catalog.store import builtin_dir

    text = (builtin_dir() / "BRSET.yaml").read_text(encoding="utf-8")
    assert "aliases: [BRSET-1.0]" in text
    text = text.replace("id: BRSET\n", "id: BRSET-1.0\n").replace("aliases: [BRSET-1.0]\n", "")
    (tmp_path / "BRSET-1.0.yaml").write_text(text, encoding="utf-8")
    r = cli("catalog", "list", "--catalog", tmp_path)
    _one_error(r, str(tmp_path / "BRSET-1.0.yaml"), "alias of the dataset 'BRSET'")
    assert "collections/" not in r.stderr  # not the built-in collection file


def test_yaml_key_given_twice(cli, tmp_path):
    from curate.catalog.store import builtin_dir

    text = (builtin_dir() / "BRSET.yaml").read_text(encoding="utf-8")
    (tmp_path / "BRSET.yaml").write_text(text + "name: Another name\n", encoding="utf-8")
    r = cli("catalog", "show", "BRSET", "--catalog", tmp_path)
    _one_error(r, "key 'name' is given twice")


def test_yaml_duplicate_keys_found_at_any_depth():
    from curate.catalog._yaml import UnsafeYAML, check_events

    check_events("a: 1\nb: {c: 1, d: [1, {c: 2, d: 3}]}\ng:\n  - h: 1\n  - h: 3\n")  # same keys, other maps
    for doc in ("a: 1\nb: [1]\na: 2\n", "b:\n  c: 1\n  c: 2\n", "l:\n  - {x: 1, x: 2}\n"):
        with pytest.raises(UnsafeYAML, match="given twice"):
            check_events(doc)


def test_semicolon_csv_is_read(tmp_path):
    from curate.tables import read_table

    df = pd.DataFrame({"id": ["a", "b"], "sex": ["F", "M"], "age": ["4,5", "6,5"]})
    df.to_csv(tmp_path / "m.csv", sep=";", index=False)
    out = read_table(tmp_path / "m.csv", text=True)
    assert list(out.columns) == ["id", "sex", "age"] and out["age"].tolist() == ["4,5", "6,5"]


@pytest.mark.parametrize("value", ["1e400", "1e300", "inf"])
@pytest.mark.parametrize("command", ["map", "report"])
def test_map_and_report_refuse_impossible_counts(cli, tmp_path, value, command):
    (tmp_path / "in.csv").write_text(f"country,images,dataset\nBrazil,{value},A\nFrance,10,B\n")
    out = tmp_path / ("m.png" if command == "map" else "r.html")
    r = cli(command, "--from", tmp_path / "in.csv", "--out", out)
    _one_error(r, "'images' is not a count")
    assert not out.exists()


# ---- file system -----

def test_read_only_file_system_is_named(monkeypatch, tmp_path):
    from curate import _io
    from curate.errors import InputError

    monkeypatch.setattr(_io, "_read_only", lambda folder: True)
    with pytest.raises(InputError, match="read-only file system"), _io.atomic_dir(tmp_path / "o"):
        pass
    assert not (tmp_path / "o").exists()


def test_an_old_output_that_cannot_be_removed_is_refused_before_anything(monkeypatch, tmp_path):
    """A root-owned file in an old output used to survive as a hidden `.o.old-PID` next to the new one."""
    from curate import _io
    from curate.errors import InputError

    with _io.atomic_dir(tmp_path / "o", kind="x") as tmp:
        (tmp / "sub").mkdir()
        (tmp / "sub" / "f.txt").write_text("1")
    locked = tmp_path / "o" / "sub"
    real_access = os.access
    monkeypatch.setattr(_io.os, "access", lambda p, mode: Path(p) != locked and real_access(p, mode))
    with pytest.raises(InputError, match="not writable by you"), _io.atomic_dir(tmp_path / "o", kind="x"):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]  # no .o.old-*, no .o.tmp-*


def test_scan_out_symlink_is_refused(cli, tmp_path):
    pytest.importorskip("pydicom")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "x.txt").write_text("not dicom")
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    r = cli("scan", tmp_path / "in", "--out", tmp_path / "link")
    _one_error(r, "symbolic link")
    assert "/." not in r.stderr  # no hidden temporary folder named
    assert not list((tmp_path / "real").iterdir())


def test_scan_checkpoint_block_is_whole_or_absent(monkeypatch, tmp_path):
    """A full disk while a block is written leaves no half-written block (nor an empty checkpoint)."""
    from curate.scan.resume import Checkpoint

    cp = Checkpoint(tmp_path / ".o.partial", "salt")
    real_write = Path.write_text

    def full(self, text, *a, **kw):
        real_write(self, text[: len(text) // 2], *a, **kw)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(OSError):
        cp.save(0, [("a", "a")], [{"row": 1}])
    assert not (tmp_path / ".o.partial").exists()


# ---- dedup --images on unreadable files -----

def test_dedup_images_skip_bad_lists_what_it_skipped(cli, tmp_path):
    pytest.importorskip("faiss")
    from PIL import Image

    src = tmp_path / "imgs"
    src.mkdir()
    rng = np.random.default_rng(0)
    for k in range(4):
        Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(src / f"i{k}.png")
    shutil.copy(src / "i0.png", src / "copy.png")
    (src / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    r = cli("dedup", "--images", src, "--out", tmp_path / "d")
    _one_error(r, "could not be read", "--skip-bad")
    assert not (tmp_path / "d").exists()
    r = cli("dedup", "--images", src, "--out", tmp_path / "d", "--skip-bad")
    assert r.exit_code == 0, r.stderr
    skipped = pd.read_csv(tmp_path / "d" / "skipped.csv")
    assert skipped["path"].tolist() == ["broken.png"] and list(skipped.columns) == ["path", "reason"]
    summary = json.loads((tmp_path / "d" / "summary.json").read_text())
    assert summary["skipped"] == 1 and summary["n"] == 5 and summary["exact_pairs"] == 1
    assert "broken.png" not in (tmp_path / "d" / "keep.txt").read_text().split()
