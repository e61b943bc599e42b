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


def test_old_spelling_still_works_and_both_is_an_error(cli, demo_brset, tmp_path):
    d = demo_brset
    r = cli("build-card", "BRSET", "--metadata", d.labels, "--out", tmp_path / "a")
    assert r.exit_code == 0, r.stderr
    r = cli("build-card", "BRSET", "--metadata", d.labels, "--meta", d.labels, "--out", tmp_path / "b")
    assert r.exit_code == 2
    assert r.stderr.strip() == "error: --metadata is the old spelling of --meta: give one of them"
    assert not (tmp_path / "b").exists()


def test_dedup_id_col_is_the_metadata_id(cli, demo_brset, tmp_path):
    """dedup --id-col names the metadata's id column, as everywhere; --emb-id-col the embeddings'."""
    d = demo_brset
    r = cli("dedup", d.embeddings, "--meta", d.labels, "--id-col", "image_id", "--emb-id-col", "id",
            "--out", tmp_path / "dd")
    assert r.exit_code == 0, r.stderr
    assert (tmp_path / "dd" / "leakage.json").is_file()
    old = cli("dedup", d.embeddings, "--meta", d.labels, "--meta-id-col", "image_id",
              "--out", tmp_path / "d2")
    assert old.exit_code == 0, old.stderr
    a = json.loads((tmp_path / "dd" / "leakage.json").read_text())
    b = json.loads((tmp_path / "d2" / "leakage.json").read_text())
    assert a == b


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
