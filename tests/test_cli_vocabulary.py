"""One option vocabulary (docs/cli.md): --meta, --id-col / --emb-id-col, roles where columns go, aliases."""

from __future__ import annotations

import json

import pytest


def test_meta_and_hidden_aliases_in_help(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    for cmd in (["build-card"], ["publish"], ["cluster"], ["dedup"], ["probe"], ["sample"]):
        out = cli(*cmd, "--help").stdout
        assert "--meta " in out, cmd
        assert "--metadata" not in out and "--evaluate" not in out and "--meta-id-col" not in out, cmd


def test_short_flags_mean_one_thing(cli, monkeypatch):
    """-m is --modality and -c is --column wherever they exist."""
    import re

    from typer.main import get_command

    import curate.cli as c

    seen: dict[str, set[str]] = {}

    def walk(cmd):
        for sub in getattr(cmd, "commands", {}).values():
            walk(sub)
        for p in getattr(cmd, "params", []):
            shorts = [o for o in getattr(p, "opts", []) if re.fullmatch(r"-\w", o)]
            longs = [o for o in getattr(p, "opts", []) if o.startswith("--")]
            for s in shorts:
                seen.setdefault(s, set()).update(longs)

    walk(get_command(c.app))
    assert {k: v for k, v in seen.items() if len(v) > 1} == {}
    assert seen["-m"] == {"--modality"} and seen["-c"] == {"--column"} and seen["-o"] == {"--out"}


@pytest.mark.parametrize("cmd, old", [(["build-card", "BRSET"], "--metadata"),
                                      (["publish", "BRSET"], "--metadata"),
                                      (["cluster", "EMB", "--k", "2"], "--evaluate"),
                                      (["dedup", "EMB"], "--meta-id-col")])
def test_unreleased_old_spellings_are_gone(cli, demo_brset, tmp_path, cmd, old):
    """The hidden aliases had no release behind them: each is now an unknown option (one line, exit 2)."""
    d = demo_brset
    args = [d.embeddings if a == "EMB" else a for a in cmd]
    r = cli(*args, old, d.labels, "--out", tmp_path / "a")
    assert r.exit_code == 2 and f"No such option: {old}" in r.stderr, r.stderr
    assert r.stderr.count("\n") == 1 and not (tmp_path / "a").exists()


def test_dedup_id_col_is_the_metadata_id(cli, demo_brset, tmp_path):
    """dedup --id-col names the metadata's id column, as everywhere; --emb-id-col the embeddings'."""
    d = demo_brset
    r = cli("dedup", d.embeddings, "--meta", d.labels, "--id-col", "image_id", "--emb-id-col", "id",
            "--out", tmp_path / "dd")
    assert r.exit_code == 0, r.stderr
    assert (tmp_path / "dd" / "leakage.json").is_file()
    wrong = cli("dedup", d.embeddings, "--meta", d.labels, "--id-col", "id", "--out", tmp_path / "d2")
    assert wrong.exit_code != 0 and "'id'" in wrong.stderr  # the metadata has no column 'id'
    assert json.loads((tmp_path / "dd" / "leakage.json").read_text()) != {}


@pytest.mark.parametrize("role, column", [("sex", "patient_sex"), ("camera", "camera"), ("device", "camera")])
def test_roles_accepted_where_columns_are(cli, demo_brset, tmp_path, role, column):
    """--balance-by sex means the sex role's column; the output is the same as naming the column."""
    d = demo_brset
    a = cli("sample", "--meta", d.labels, "--balance-by", role, "--patient-col", "patient_id",
            "--out", tmp_path / "a.csv")
    assert a.exit_code == 0, a.stderr
    b = cli("sample", d.labels, "--balance-by", column, "--patient-col", "patient_id",
            "--out", tmp_path / "b.csv")
    assert b.exit_code == 0, b.stderr
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_cluster_attr_role_and_meta(cli, demo_brset, tmp_path):
    d = demo_brset
    r = cli("cluster", d.embeddings, "--k", "4", "--meta", d.labels, "--id-col", "image_id", "--attr", "sex",
            "--out", tmp_path / "c.parquet")
    assert r.exit_code == 0, r.stderr
    ev = json.loads((tmp_path / "evaluation.json").read_text())
    assert "patient_sex" in json.dumps(ev)


def test_sample_meta_given_twice_is_an_error(cli, demo_brset, tmp_path):
    d = demo_brset
    r = cli("sample", d.labels, "--meta", d.labels, "--balance-by", "camera", "--out", tmp_path / "s.csv")
    assert r.exit_code == 2 and r.stderr.startswith("error: give the metadata once")


def test_audit_out_is_marked_required(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    import re

    out = cli("audit", "--help").stdout
    assert re.search(r"\*\s+--out\s+-o", out)
    assert cli("audit", "--list").exit_code == 0
