"""``curate probe`` → ``curate audit`` end to end on a tiny generated dataset, and CLI error handling."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

SECTIONS = ["Model details", "Intended use", "Factors", "Metrics", "Evaluation data", "Training data",
            "Quantitative analyses", "Ethical considerations", "Caveats and recommendations"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from curate.engine.embeddings import from_array

    tmp = tmp_path_factory.mktemp("auditcli")
    rng = np.random.default_rng(0)
    n, d = 1000, 12  # a test split large enough that no sex group has a cell under 11
    X = rng.normal(size=(n, d)).astype(np.float32)
    ids = [f"SECRET-{i:05d}" for i in range(n)]  # must never appear in a card
    meta = pd.DataFrame({
        "id": ids,
        "pid": [f"PATIENT-{i // 2:05d}" for i in range(n)],
        "y": (X[:, 0] + 0.5 * rng.normal(size=n) > 0).astype(int),
        "z": (X[:, 1] - X[:, 2] > 0).astype(int),
        "sex": rng.choice(["F", "M"], n),
        "age_group": rng.choice(["18-40", "40-60", "60+"], n),
    })
    from_array(X, ids=ids, normalize=False).save_parquet(tmp / "emb.parquet")
    meta.to_csv(tmp / "meta.csv", index=False)
    return tmp, meta


def test_probe_then_audit_end_to_end(cli, data):
    tmp, meta = data
    preds = tmp / "preds.parquet"
    r = cli("probe", tmp / "emb.parquet", "--meta", tmp / "meta.csv", "--labels", "y,z", "--model", "linear",
            "--seeds", "2", "--patient-col", "pid", "--epochs", "15", "--lr", "0.01", "--out", preds)
    assert r.exit_code == 0, r.stderr
    assert preds.exists() and (tmp / "preds.probe.json").exists()

    out = tmp / "audit"
    r = cli("audit", preds, "--label-cols", "y,z", "--groups", "sex,age_group",
            "--intersect", "sex,age_group", "--patient-col", "pid", "--threshold", "f1",
            "--bootstrap", "40", "--dataset", "BRSET", "--out", out)
    assert r.exit_code == 0, r.stderr
    for f in ("results.parquet", "results.json", "model_card.md", "model_card.html"):
        assert (out / f).exists(), f
    res = pd.read_parquet(out / "results.parquet")
    assert list(res.columns[:9]) == ["audit", "metric", "label", "attribute", "group", "value", "ci_low",
                                     "ci_high", "n"]
    assert set(res.audit) >= {"performance", "tpr_disparity", "fairclip", "eod_aod", "calibration",
                              "group_sizes"}
    assert (res.attribute == "sex×age_group").any()
    auc = res[(res.metric == "AUC") & (res.attribute == "overall") & (res.label == "y")].iloc[0]
    assert auc.value > 0.75 and auc.ci_low < auc.value < auc.ci_high

    js = json.loads((out / "results.json").read_text())
    assert js["settings"]["threshold"] == "f1" and len(js["thresholds"]["y"]) == 2
    assert js["settings"]["resampling_unit"] == "patients"

    md = (out / "model_card.md").read_text()
    html = (out / "model_card.html").read_text()
    for s in SECTIONS:
        assert f"## {s}" in md, s
        assert s in html, s
    assert "worst-served group is" in md
    assert "../cards/BRSET/datasheet.html" in md and 'href="../cards/BRSET/datasheet.html"' in html
    assert "Brazil" in md and "credentialed" in md
    assert "data:image/png;base64," in html
    assert any(p.name.startswith("gap_") for p in (out / "charts").iterdir())
    assert "linear probe" in md  # model details read from preds.probe.json
    for text in (md, html, (out / "results.json").read_text()):
        assert "SECRET-" not in text and "PATIENT-" not in text


def test_audit_html_is_autoescaped(cli, tmp_path):
    rng = np.random.default_rng(0)
    n = 200
    df = pd.DataFrame({"y": rng.integers(0, 2, n), "score_y": rng.random(n),
                       "grp": rng.choice(["<script>x</script>", "b"], n)})
    df.to_parquet(tmp_path / "p.parquet")
    r = cli("audit", tmp_path / "p.parquet", "--label-cols", "y", "--groups", "grp", "--out", tmp_path / "o")
    assert r.exit_code == 0, r.stderr
    html = (tmp_path / "o" / "model_card.html").read_text()
    assert "<script>x</script>" not in html and "&lt;script&gt;" in html


@pytest.mark.parametrize("change, groups, msg", [
    (lambda d: d.assign(score_y=d.score_y + 1), "sex", "outside [0, 1]"),
    (lambda d: d, "race", "group column 'race' not found"),
    (lambda d: d.assign(y=3), "sex", "not binary"),
    (lambda d: d.assign(sex=d.sex.where(d.index > 3).where(d.index != 10, "(missing)")), "sex",
     "also the value '(missing)'"),
])
def test_audit_errors_are_one_line_and_write_nothing(cli, tmp_path, change, groups, msg):
    rng = np.random.default_rng(0)
    df = change(pd.DataFrame({"y": rng.integers(0, 2, 50), "score_y": rng.random(50),
                              "sex": rng.choice(["F", "M"], 50)}))
    df.to_csv(tmp_path / "p.csv", index=False)
    r = cli("audit", tmp_path / "p.csv", "--label-cols", "y", "--groups", groups, "--out", tmp_path / "o")
    assert r.exit_code != 0
    assert r.stderr.startswith("error: ") and msg in r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert not (tmp_path / "o").exists()


def test_unknown_dataset_fails_before_work(cli, tmp_path):
    r = cli("audit", tmp_path / "missing.parquet", "--label-cols", "y", "--groups", "sex", "--dataset",
            "NOPE_DATASET", "--out", tmp_path / "o")
    assert r.exit_code == 2 and "unknown dataset" in r.stderr


@pytest.mark.parametrize("args", [["--list"], ["x", "--label-cols", "y", "--groups", "g", "--list"]],
                         ids=["alone", "with-arguments"])
def test_audit_list_shows_builtins(cli, args):
    """docs/audits.md's `curate audit --list` needs no PREDS and no required option."""
    r = cli("audit", *args)
    assert r.exit_code == 0, r.stderr
    for name in ("performance", "tpr_disparity", "fairclip", "eod_aod", "calibration", "group_sizes"):
        assert name in r.stdout


def test_probe_bad_out_suffix(cli, data):
    tmp, _ = data
    r = cli("probe", tmp / "emb.parquet", "--meta", tmp / "meta.csv", "--labels", "y", "--out", tmp / "p.csv")
    assert r.exit_code == 2 and "--out must end in .parquet" in r.stderr
