"""``curate overlap`` end to end through the CLI, on the engine's planted benchmark (known truth).

Oracles are independent of the pipeline: the truth is what :func:`curate.engine.overlap.planted.make_planted`
built each file from (``Planted.copies``), the expected matrices and contamination are counted here from it
with pandas, and the small-cell rule is re-applied by hand (a patient count of 1 .. 10, or one whose
complement in its published total is 1 .. 10, never leaves). Leaks are looked for as raw strings (image
ids, patient ids, folder paths) in every output file and in captured stdout/stderr.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import invoke

TIERS = ("bytes", "pixels", "perceptual")


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    from curate.engine.overlap.planted import make_planted

    root = tmp_path_factory.mktemp("planted")
    p = make_planted(root / "sets", n=40, seed=1, third=False)
    metas = {}
    for d in ("A", "B"):
        metas[d] = root / f"meta_{d}.csv"
        pd.DataFrame({"id": p.ids[d], "patient_id": p.patients[d]}).to_csv(metas[d], index=False)
    key = root / "key.txt"
    key.write_text("ab" * 32 + "\n")
    return p, metas, key, root


@pytest.fixture(scope="module")
def run(planted):
    p, metas, key, root = planted
    out = root / "out"
    res = invoke("overlap", p.folders["A"], p.folders["B"], "--out", out, "--meta", f"A={metas['A']}",
                 "--meta", f"B={metas['B']}", "--train", "A", "--eval", "B", "--tiers", ",".join(TIERS),
                 "--key-file", key)
    assert res.exit_code == 0, res.stdout + res.stderr
    return res, out


def _truth(p) -> pd.DataFrame:
    c = p.copies
    return c[(c["dataset_a"] == "A") & (c["dataset_b"] == "B")]


def test_outputs_exist(run):
    _, out = run
    for name in ("summary.json", "overlap.md", "matrix_images.csv", "matrix_patients.csv", "pairs.csv",
                 "skipped.csv", "contamination.csv", "drop_from_eval.csv", "gallery/index.html"):
        assert (out / name).is_file(), name
    assert list((out / "gallery" / "thumbs").glob("*.png"))


def test_image_matrix_equals_truth(planted, run):
    p, *_ = planted
    _, out = run
    m = pd.read_csv(out / "matrix_images.csv")
    truth = _truth(p)
    for tier in TIERS:
        block = m[m["tier"] == tier].set_index("dataset")
        # B's images found in A at this tier: every B image whose copy pair with A has this tier
        assert block.at["A", "B"] == truth.loc[truth["tier"] == tier, "id_b"].nunique(), tier
        assert block.at["B", "A"] == truth.loc[truth["tier"] == tier, "id_a"].nunique(), tier
        assert block.at["A", "A"] == len(p.ids["A"]) and block.at["B", "B"] == len(p.ids["B"])
    copies = m[m["tier"] == "copies"].set_index("dataset")
    assert copies.at["A", "B"] == truth["id_b"].nunique()


def _protected(value: int, total: int):
    """The small-cell rule, by hand: hidden when the count or its complement in the total is 1 .. 10."""
    if 0 < value < 11:
        return "<11"
    if 0 < total - value < 11:
        return "*"
    return str(value)


def test_patient_matrix_equals_truth_and_is_protected(planted, run):
    p, *_ = planted
    _, out = run
    m = pd.read_csv(out / "matrix_patients.csv", dtype=str).set_index("dataset")
    truth = _truth(p)
    pat_b = dict(zip(p.ids["B"], p.patients["B"]))
    found = len({pat_b[i] for i in truth["id_b"]})
    total_b = len(set(p.patients["B"]))
    assert m.at["A", "B"] == _protected(found, total_b)
    assert m.at["B", "B"] == _protected(total_b, 10**9)
    for col in ("A", "B"):
        for v in m[col]:
            assert not (v.isdigit() and 0 < int(v) < 11), v


def test_contamination_and_drop_list(planted, run):
    p, *_ = planted
    _, out = run
    truth = _truth(p)
    rank = {t: k for k, t in enumerate(TIERS)}
    best = truth.assign(r=truth["tier"].map(rank)).groupby("id_b")["r"].min()
    c = pd.read_csv(out / "contamination.csv", dtype={"eval_patients_found": str})
    n_b = len(p.ids["B"])
    for k, tier in enumerate(TIERS):
        row = c[c["tiers"] == tier].iloc[0]
        assert row["eval_images_found"] == int((best <= k).sum())
        assert row["share_of_eval_images"] == pytest.approx((best <= k).sum() / n_b, abs=1e-4)
        v = str(row["eval_patients_found"])
        assert not (v.isdigit() and 0 < int(v) < 11)
    drop = pd.read_csv(out / "drop_from_eval.csv", dtype=str)
    assert set(drop["id"]) == set(truth["id_b"])  # the eval set's own ids: a local file (docs/overlap.md)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["contamination"]["drop_from_eval"] == truth["id_b"].nunique()


def _raw_strings(p, root: Path) -> set[str]:
    raw = {i for d in p.ids for i in p.ids[d]} | {Path(i).stem for d in p.ids for i in p.ids[d]}
    raw |= {q for d in p.patients for q in p.patients[d]}
    raw |= {str(p.root)} | {str(f) for f in p.folders.values()}  # the inputs' paths (not --out's)
    return {r for r in raw if len(r) >= 4}


def test_no_raw_id_path_or_patient_anywhere(planted, run):
    p, _, _, root = planted
    res, out = run
    raw = _raw_strings(p, root)
    texts = {"stdout": res.stdout, "stderr": res.stderr}
    for f in out.rglob("*"):
        if f.is_file() and f.name != "drop_from_eval.csv" and f.suffix != ".png":
            texts[str(f.relative_to(out))] = f.read_text(encoding="utf-8")
    for where, text in texts.items():
        leaked = sorted(r for r in raw if r in text)
        assert not leaked, f"{where}: {leaked[:5]}"
    pairs = pd.read_csv(out / "pairs.csv")
    assert pairs["pseudonym_a"].str.fullmatch(r"image_[0-9a-f]{16}").all()
    assert set(pairs.columns) >= {"dataset_a", "dataset_b", "tier", "score", "verified", "review"}


def test_pseudonyms_are_keyed_and_stable(planted, run, tmp_path):
    p, metas, key, _ = planted
    _, out = run
    from curate.policy.pseudonyms import load_key

    k = load_key(key)
    drop = pd.read_csv(out / "drop_from_eval.csv", dtype=str)
    assert all(k.pseudonym(i, kind="image", context="B") == s for i, s in zip(drop["id"], drop["pseudonym"]))


def test_decisions_drop_not_copy_and_mark_copy(planted, run, tmp_path):
    p, metas, key, _ = planted
    _, out = run
    pairs = pd.read_csv(out / "pairs.csv")
    bad, good = pairs.iloc[0], pairs.iloc[1]
    dec = tmp_path / "decisions.csv"
    pd.DataFrame({"a": [bad["pseudonym_b"], good["pseudonym_a"]],
                  "b": [bad["pseudonym_a"], good["pseudonym_b"]],
                  "decision": ["not-copy", "copy"]}).to_csv(dec, index=False)
    out2 = tmp_path / "out2"
    res = invoke("overlap", p.folders["A"], p.folders["B"], "--out", out2, "--tiers", ",".join(TIERS),
                 "--key-file", key, "--decisions", dec, "--no-gallery")
    assert res.exit_code == 0, res.stderr
    after = pd.read_csv(out2 / "pairs.csv", keep_default_na=False)
    assert len(after) == len(pairs) - 1
    assert bad["pseudonym_a"] not in set(after["pseudonym_a"]) or \
        bad["pseudonym_b"] not in set(after.loc[after["pseudonym_a"] == bad["pseudonym_a"], "pseudonym_b"])
    row = after[(after["pseudonym_a"] == good["pseudonym_a"]) & (after["pseudonym_b"] == good["pseudonym_b"])]
    assert row["review"].tolist() == ["copy"]
    assert set(after["review"]) <= {"copy", ""}
    s = json.loads((out2 / "summary.json").read_text())
    assert s["decisions"]["not_copy"] == 1 and s["decisions"]["copy"] == 1
    assert not (out2 / "gallery").exists()


def test_unreadable_files_listed_and_skipped(planted, tmp_path):
    p, _, key, root = planted
    import shutil

    a2 = tmp_path / "A2"
    shutil.copytree(p.folders["A"], a2)
    (a2 / "broken_secret_name.png").write_bytes(b"not an image at all")
    out = tmp_path / "out"
    res = invoke("overlap", a2, p.folders["B"], "--out", out, "--tiers", "bytes", "--key-file", key)
    assert res.exit_code == 0, res.stderr
    s = json.loads((out / "summary.json").read_text())
    assert s["skipped"] == 1
    sk = pd.read_csv(out / "skipped.csv")
    assert sk["dataset"].tolist() == ["A"] and sk["file"].str.startswith("image_").all()
    assert "broken_secret_name" not in (out / "skipped.csv").read_text() + res.stdout + res.stderr
    assert "1 unreadable files skipped" in res.stdout


def _one_error(res, out: Path) -> str:
    assert res.exit_code != 0
    lines = [x for x in res.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    assert not out.exists()
    return lines[0]


def test_bad_inputs_one_error_line_no_output(planted, tmp_path):
    p, metas, key, root = planted
    out = tmp_path / "out"
    A, B = p.folders["A"], p.folders["B"]
    e = _one_error(invoke("overlap", p.root, A, "--out", out, "--key-file", key), out)
    assert "inside input" in e
    e = _one_error(invoke("overlap", A, B, "--id", "A=SAME", "--id", "B=SAME", "--out", out,
                          "--key-file", key), out)
    assert "same catalog id" in e
    e = _one_error(invoke("overlap", A, A, "--out", out, "--key-file", key), out)
    assert "same path" in e
    _one_error(invoke("overlap", A, tmp_path / "missing", "--out", out, "--key-file", key), out)
    _one_error(invoke("overlap", A, B, "--tiers", "bytes,nope", "--out", out, "--key-file", key), out)
    _one_error(invoke("overlap", A, B, "--train", "A", "--out", out, "--key-file", key), out)
    _one_error(invoke("overlap", A, B, "--train", "A", "--eval", "Z", "--out", out, "--key-file", key), out)
    _one_error(invoke("overlap", A, B, "--meta", "C=x.csv", "--out", out, "--key-file", key), out)
    bad_meta = tmp_path / "m.csv"
    pd.DataFrame({"id": ["x"], "patient_id": ["y"]}).to_csv(bad_meta, index=False)
    _one_error(invoke("overlap", A, B, "--meta", f"A={bad_meta}", "--out", out, "--key-file", key), out)
    dec = tmp_path / "d.csv"
    dec.write_text("a,b,decision\nx,y,maybe\n")
    _one_error(invoke("overlap", A, B, "--decisions", dec, "--out", out, "--key-file", key), out)


def test_mismatched_embedding_dimensions_one_error(tmp_path):
    rng = np.random.default_rng(0)
    a, b = tmp_path / "a.npy", tmp_path / "b.npy"
    np.save(a, rng.normal(size=(20, 8)).astype(np.float32))
    np.save(b, rng.normal(size=(20, 16)).astype(np.float32))
    out = tmp_path / "out"
    e = _one_error(invoke("overlap", a, b, "--out", out), out)
    assert "8" in e and "16" in e


def test_embeddings_tier_candidates_only(tmp_path):
    """Embedding neighbours are reported as candidates (never verified copies) between two tables."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 16)).astype(np.float32)
    y = np.vstack([x[:12] + 0.01 * rng.normal(size=(12, 16)), rng.normal(size=(18, 16))]).astype(np.float32)
    np.save(tmp_path / "a.npy", x)
    np.save(tmp_path / "b.npy", y)
    out = tmp_path / "out"
    res = invoke("overlap", tmp_path / "a.npy", tmp_path / "b.npy", "--out", out, "--threshold", "0.99")
    assert res.exit_code == 0, res.stderr
    pairs = pd.read_csv(out / "pairs.csv")
    assert len(pairs) == 12 and set(pairs["tier"]) == {"embedding"} and not pairs["verified"].any()
    m = pd.read_csv(out / "matrix_images.csv").set_index(["tier", "dataset"])
    assert m.at[("embedding", "A"), "B"] == 12


def test_hub_folder_input(planted, tmp_path):
    """A folder in the ``curate publish`` layout: its images are compared like a folder's, ids stay hidden."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    p, _, key, _ = planted
    hub = tmp_path / "hub"
    (hub / "data").mkdir(parents=True)
    files = p.files["A"][:12]
    images = [{"bytes": f.read_bytes(), "path": f"image_{k + 1:06d}{f.suffix}"} for k, f in enumerate(files)]
    pq.write_table(pa.table({"image": images, "patient": [f"patient_{k:016x}" for k in range(12)]}),
                   hub / "data" / "train-00000-of-00001.parquet")
    out = tmp_path / "out"
    res = invoke("overlap", p.folders["A"], hub, "--out", out, "--tiers", "bytes", "--key-file", key)
    assert res.exit_code == 0, res.stderr
    m = pd.read_csv(out / "matrix_images.csv").set_index("dataset")
    assert m.at["A", "B"] == 12 and m.at["B", "B"] == 12
    s = json.loads((out / "summary.json").read_text())
    assert [i["kind"] for i in s["inputs"]] == ["images", "hub"]


def test_python_api(planted, tmp_path):
    import curate

    p, metas, key, _ = planted
    run = curate.overlap([p.folders["A"], p.folders["B"]], tmp_path / "o", tiers="bytes", key_file=key,
                         catalog_ids={"A": "SETA", "B": "SETB"})
    assert run.names == ["SETA", "SETB"]
    assert run.summary["pairs_by_tier"]["bytes"] == int((_truth(p)["tier"] == "bytes").sum())


def test_card_section_from_the_summary(planted, tmp_path):
    """build-card --overlap: the measured overlap as a datasheet section, patient counts as protected."""
    p, metas, key, _ = planted
    out = tmp_path / "o"
    res = invoke("overlap", p.folders["A"], p.folders["B"], "--id", "A=BRSET", "--meta", f"A={metas['A']}",
                 "--meta", f"B={metas['B']}", "--tiers", "bytes,pixels", "--no-gallery", "--out", out,
                 "--key-file", key)
    assert res.exit_code == 0, res.stderr
    res = invoke("build-card", "BRSET", "--overlap", out / "summary.json", "--out", tmp_path / "card")
    assert res.exit_code == 0, res.stderr
    md = (tmp_path / "card" / "datasheet.md").read_text()
    section = md.split("## Overlap with other datasets", 1)[1].split("\n## ", 1)[0]
    truth = _truth(p)
    found = truth.loc[truth["tier"].isin(["bytes", "pixels"]), "id_a"].nunique()
    assert f"| B | {found:,} | {found / len(p.ids['A']):.1%} |" in section
    pat_a = dict(zip(p.ids["A"], p.patients["A"]))
    n_pat = len({pat_a[i] for i in truth.loc[truth["tier"].isin(["bytes", "pixels"]), "id_a"]})
    assert section.rstrip().splitlines()[-1].endswith(f"| {_protected(n_pat, len(set(p.patients['A'])))} |")
    bad = invoke("build-card", "MESSIDOR-2", "--overlap", out / "summary.json", "--out", tmp_path / "c2")
    assert bad.exit_code != 0 and bad.stderr.startswith("error: --overlap") and not (tmp_path / "c2").exists()


def test_small_patient_counts_hidden_everywhere(planted, run):
    """The planted set has small patient cells: each is a marker in every file and on the console, and
    the hidden number is not recoverable from the summary (only markers for it)."""
    p, *_ = planted
    res, out = run
    truth = _truth(p)
    pat_a = dict(zip(p.ids["A"], p.patients["A"]))
    found_a = len({pat_a[i] for i in truth["id_a"]})  # A's patients found in B
    shown = _protected(found_a, len(set(p.patients["A"])))
    m = pd.read_csv(out / "matrix_patients.csv", dtype=str).set_index("dataset")
    assert m.at["B", "A"] == shown
    s = json.loads((out / "summary.json").read_text())
    assert s["matrix_patients"]["patients"]["B"]["A"] == (int(shown) if shown.isdigit() else shown)
    c = pd.read_csv(out / "contamination.csv", dtype=str)
    hidden = c["eval_patients_found"].isin(["<11", "*"])
    assert hidden.any()  # the bytes tier finds fewer than 11 patients of B here
    assert c.loc[hidden, "share_of_eval_patients"].isna().all()  # no share reveals a hidden count
    text = " ".join(res.stdout.split())  # the console may wrap a line
    for tier, v in zip(c["tiers"], c["eval_patients_found"]):
        assert f"(up to {tier}): " in text and f", {v} eval patients" in text
