"""Outputs never destroy what the user owns; every CLI failure is one `error:` line."""

from __future__ import annotations

import json

import pytest

from curate._io import MARKER, atomic_dir
from curate.errors import InputError


def test_atomic_dir_replaces_only_its_own_kind_and_files(tmp_path):
    out = tmp_path / "out"
    with atomic_dir(out, kind="dedup") as tmp:
        (tmp / "a.txt").write_text("1")
    marker = json.loads((out / MARKER).read_text())
    assert marker["kind"] == "dedup" and marker["files"] == ["a.txt"]
    with atomic_dir(out, kind="dedup") as tmp:  # same command: replaced
        (tmp / "b.txt").write_text("2")
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "b.txt"]
    with pytest.raises(InputError, match="holds the output of `curate dedup`, not of `curate demo`"), \
            atomic_dir(out, kind="demo"):
        pass
    (out / "mine.csv").write_text("user data")
    with pytest.raises(InputError, match="holds 1 file\\(s\\) curate did not write"), \
            atomic_dir(out, kind="dedup"):
        pass
    assert (out / "mine.csv").read_text() == "user data" and (out / "b.txt").exists()


def test_failure_leaves_previous_output_and_no_temp(tmp_path):
    out = tmp_path / "out"
    with atomic_dir(out, kind="x") as tmp:
        (tmp / "a.txt").write_text("old")
    with pytest.raises(RuntimeError), atomic_dir(out, kind="x") as tmp:
        (tmp / "a.txt").write_text("half")
        raise RuntimeError("boom")
    assert (out / "a.txt").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_missing_parent_is_an_error_unless_asked(tmp_path):
    with pytest.raises(InputError, match="output directory '.*missing' does not exist"), \
            atomic_dir(tmp_path / "missing" / "out"):
        pass
    assert not (tmp_path / "missing").exists()
    with atomic_dir(tmp_path / "made" / "out", make_parents=True) as tmp:
        (tmp / "x").write_text("x")
    assert (tmp_path / "made" / "out" / "x").exists()


def test_demo_inputs_survive_dedup_into_the_same_folder(cli, tmp_path):
    demo = tmp_path / "demo"
    assert cli("demo", "--out", demo, "--n-patients", "20").exit_code == 0
    r = cli("dedup", demo / "embeddings.parquet", "--out", demo)
    assert r.exit_code == 2 and "contains the input EMB" in r.stderr
    assert (demo / "labels.csv").exists() and (demo / "images").is_dir()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["demo", "--out", "{tmp}/d", "--image-size", "8"], "Invalid value for '--image-size'"),
        (["map", "--by", "x"], "No such option: --by"),
        (["catalog", "show"], "Missing argument 'ID'"),
        (["no-such-command"], "No such command"),
    ],
)
def test_usage_errors_are_one_line(cli, tmp_path, args, message):
    r = cli(*[a.format(tmp=tmp_path) for a in args])
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert "Traceback" not in r.stderr and "╭" not in r.stderr


def test_exit_codes_of_commands_that_exit_themselves(cli, tmp_path):
    assert cli("--version").exit_code == 0
    assert cli("catalog", "--help").exit_code == 0
    (tmp_path / "BAD.yaml").write_text("id: BAD\n")
    r = cli("catalog", "validate", "--catalog", tmp_path)
    assert r.exit_code == 1 and "BAD.yaml" in r.stdout


def test_no_overwrite_names_the_way_out_of_each_command(cli, tmp_path):
    # build-card has no --overwrite: its refusal must say to drop --no-overwrite
    out = tmp_path / "card"
    assert cli("build-card", "BRSET", "--out", str(out)).exit_code == 0
    r = cli("build-card", "BRSET", "--out", str(out), "--no-overwrite")
    assert r.exit_code != 0
    assert "drop --no-overwrite" in r.stderr and "pass --overwrite" not in r.stderr
    with pytest.raises(InputError, match="pass --overwrite"), \
            atomic_dir(out, overwrite=False, kind="publish"):
        pass
    lib = tmp_path / "lib"
    with atomic_dir(lib, kind="demo"):
        pass
    with pytest.raises(InputError, match=r"pass overwrite=True"), \
            atomic_dir(lib, overwrite=False, kind="demo"):
        pass
