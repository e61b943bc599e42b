"""Output safety, attacked: nothing the user owns is deleted or overwritten, nothing is left behind.

Every case hashes the user's files before and after the run (byte-identical), checks that no hidden
``.X.tmp-*`` / ``.X.old-*`` entry is left next to the output, and checks the one ``error:`` line and the
exit code. Signals are sent to a real ``python -m curate`` subprocess at a known moment (the test-only
``CURATE_TEST_PAUSE_BEFORE_COMMIT`` hook), not simulated.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from curate._io import MARKER, PAUSE_ENV, TMP_MARKER, atomic_dir, remove_stale_temps

REPO = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------------------------------ helpers
def snapshot(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` (hidden ones included); a file's own hash for a file."""
    if root.is_file():
        return {root.name: hashlib.sha256(root.read_bytes()).hexdigest()}
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def leftovers(parent: Path) -> list[str]:
    """Hidden temporary / swap entries curate would leave next to an output."""
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(".") and (".tmp-" in p.name
                                                                                  or ".old-" in p.name))


def one_error(r, code: int, *needles: str) -> str:
    """``r`` failed with ``code`` and printed exactly one ``error:`` line containing every needle."""
    assert r.exit_code == code, (r.exit_code, r.stdout, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    line = lines[0]
    assert line.startswith("error: "), line
    assert "unexpected" not in line and "aborted" not in line and "Traceback" not in r.stderr
    for n in needles:
        assert n in line, (n, line)
    return line


def run_curate(*args, env: dict | None = None, cwd: Path | None = None, **kw) -> subprocess.Popen:
    full_env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200", **(env or {})}
    full_env.pop("CURATE_CATALOG", None)
    return subprocess.Popen([sys.executable, "-m", "curate", *map(str, args)], env=full_env, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def wait_ready(proc: subprocess.Popen, timeout: float = 120) -> str:
    """Read stderr until the test hook says the temporary output is complete; return its path."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if line.startswith("curate-test: temp ready "):
            return line.split("temp ready ", 1)[1].strip()
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"the run never reached its commit (rc={proc.poll()}): {proc.stderr.read()}")


def dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """A small synthetic dataset: labels.csv, embeddings.parquet, images/."""
    from curate.demo import make_demo

    return make_demo(tmp_path_factory.mktemp("demo") / "d", n_patients=20, seed=4).root


@pytest.fixture
def work(tmp_path, demo) -> Path:
    """A private copy of the demo's tables (the tests attack these)."""
    import shutil

    for name in ("labels.csv", "embeddings.parquet"):
        shutil.copy(demo / name, tmp_path / name)
    return tmp_path


def user_folder(root: Path, marker: str | None) -> Path:
    out = root / "out"
    out.mkdir()
    (out / "results.csv").write_text("patient,score\nA,1\n")
    (out / "notes").mkdir()
    (out / "notes" / "draft.md").write_text("my notes\n")
    if marker is not None:
        (out / MARKER).write_text(marker)
    return out


# ------------------------------------------------------------------- folders that are not curate's
MARKERS = {
    "empty": "",
    "empty-object": "{}",
    "not-json": "not json",
    "a-list": '["results.csv"]',
    "other-writer": '{"written_by": "someone", "kind": "demo", "files": ["results.csv", "notes/draft.md"]}',
    "no-files-list": '{"written_by": "curate", "kind": "demo"}',
    "files-not-strings": '{"written_by": "curate", "kind": "demo", "files": [1, 2]}',
    "missing-a-file": '{"written_by": "curate", "kind": "demo", "files": ["results.csv"]}',
    "binary": "\udcff",
}


@pytest.mark.parametrize("marker", list(MARKERS), ids=list(MARKERS))
def test_folder_with_invalid_or_incomplete_marker_is_not_replaced(cli, tmp_path, marker):
    text = MARKERS[marker]
    out = user_folder(tmp_path, None)
    if marker == "binary":
        (out / MARKER).write_bytes(b"\xff\xfe\x00garbage")
    else:
        (out / MARKER).write_text(text)
    before = snapshot(out)
    r = cli("demo", "--out", out, "--n-patients", "20")
    one_error(r, 1, f"output folder '{out}'", "not replacing it" if marker != "missing-a-file"
              else "curate did not write")
    assert snapshot(out) == before
    assert leftovers(tmp_path) == []


def test_user_folder_without_marker_survives_dedup(cli, work):
    out = user_folder(work, None)
    before = snapshot(out)
    r = cli("dedup", work / "embeddings.parquet", "--out", out)
    one_error(r, 1, "was not written by curate", "not replacing it")
    assert snapshot(out) == before and leftovers(work) == []


def test_valid_manifest_with_extra_keys_is_replaced(cli, tmp_path):
    """The positive control: curate's own folder (extra manifest keys tolerated) is replaced."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old output")
    manifest = {"written_by": "curate", "kind": "demo", "files": ["old.txt"], "dataset_id": "BRSET",
                "licence_decision": {"images": False}}
    (out / MARKER).write_text(json.dumps(manifest))
    r = cli("demo", "--out", out, "--n-patients", "20")
    assert r.exit_code == 0, r.stderr
    assert not (out / "old.txt").exists() and (out / "labels.csv").exists()
    written = json.loads((out / MARKER).read_text())
    assert written["written_by"] == "curate" and "labels.csv" in written["files"]
    assert TMP_MARKER not in written["files"] and not (out / TMP_MARKER).exists()
    assert leftovers(tmp_path) == []


# --------------------------------------------------------------------- outputs onto their inputs
def test_cluster_out_onto_its_input(cli, work):
    before = snapshot(work)
    r = cli("cluster", work / "embeddings.parquet", "--k", "3", "--out", work / "embeddings.parquet")
    one_error(r, 2, "--out", "is the input EMB")
    assert snapshot(work) == before and leftovers(work) == []


def test_sample_out_onto_its_input(cli, work):
    before = snapshot(work)
    r = cli("sample", work / "labels.csv", "--balance-by", "patient_sex", "--out", work / "labels.csv")
    one_error(r, 2, "--out", "is the input META")
    assert snapshot(work) == before and leftovers(work) == []


def test_cluster_eval_out_onto_the_metadata(cli, work):
    before = snapshot(work)
    r = cli("cluster", work / "embeddings.parquet", "--k", "3", "--out", work / "c.parquet",
            "--meta", work / "labels.csv", "--attr", "camera", "--id-col", "image_id",
            "--eval-out", work / "labels.csv")
    one_error(r, 2, "--eval-out", "is the input --meta")
    assert snapshot(work) == before and not (work / "c.parquet").exists() and leftovers(work) == []


def test_cluster_summary_onto_the_embeddings(cli, work):
    before = snapshot(work)
    r = cli("cluster", work / "embeddings.parquet", "--k", "3", "--out", work / "c.parquet",
            "--summary", work / "embeddings.parquet")
    one_error(r, 2, "--summary", "is the input EMB")
    assert snapshot(work) == before and leftovers(work) == []


def test_probe_out_onto_its_embeddings(cli, work):
    before = snapshot(work)
    r = cli("probe", work / "embeddings.parquet", "--meta", work / "labels.csv", "--labels",
            "diabetic_retinopathy", "--id-col", "image_id", "--out", work / "embeddings.parquet")
    one_error(r, 2, "--out", "is the input EMB")
    assert snapshot(work) == before and leftovers(work) == []


def test_input_reached_through_a_symlink_or_hard_link(cli, work):
    (work / "alias.parquet").symlink_to(work / "embeddings.parquet")
    os.link(work / "embeddings.parquet", work / "hard.parquet")
    before = snapshot(work / "embeddings.parquet")
    for src in ("alias.parquet", "hard.parquet"):
        r = cli("cluster", work / src, "--k", "3", "--out", work / "embeddings.parquet")
        one_error(r, 2, "is the input EMB")
    assert snapshot(work / "embeddings.parquet") == before and leftovers(work) == []


def test_dedup_out_folder_containing_its_input(cli, work):
    out = work / "dd"
    assert cli("dedup", work / "embeddings.parquet", "--out", out).exit_code == 0
    before = snapshot(out)
    r = cli("dedup", out / "pairs.parquet", "--out", out)  # its own earlier output as input
    one_error(r, 2, "--out folder", "contains the input EMB")
    assert snapshot(out) == before and leftovers(work) == []


def test_audit_out_folder_containing_its_predictions(cli, tmp_path):
    rng = np.random.default_rng(0)
    out = tmp_path / "audit"
    out.mkdir()
    preds = out / "preds.parquet"
    pd.DataFrame({"y": rng.integers(0, 2, 60), "score_y": rng.random(60),
                  "sex": rng.choice(["F", "M"], 60)}).to_parquet(preds)
    (out / MARKER).write_text(json.dumps({"written_by": "curate", "kind": "audit",
                                          "files": ["preds.parquet"]}))
    before = snapshot(out)
    r = cli("audit", preds, "--label-cols", "y", "--groups", "sex", "--out", out)
    one_error(r, 2, "--out folder", "contains the input PREDS")
    assert snapshot(out) == before and leftovers(tmp_path) == []


def test_build_card_out_folder_containing_its_metadata(cli, work):
    before = snapshot(work)
    r = cli("build-card", "BRSET", "--meta", work / "labels.csv", "--out", work)
    one_error(r, 2, "--out folder", "contains the input --meta")
    assert snapshot(work) == before and leftovers(work.parent) == []


def test_map_csv_onto_its_own_country_list(cli, tmp_path):
    src = tmp_path / "countries.csv"
    src.write_text("country,images\nBrazil,10\n")
    before = snapshot(tmp_path)
    r = cli("map", "--from", src, "--csv", src)
    one_error(r, 2, "--csv", "is the input --from")
    assert snapshot(tmp_path) == before and leftovers(tmp_path) == []


# --------------------------------------------------------------------------------- symbolic links
def test_symlinked_out_folder_is_refused_and_kept(cli, tmp_path):
    real = user_folder(tmp_path, json.dumps({"written_by": "curate", "kind": "demo",
                                             "files": ["results.csv", "notes/draft.md"]}))
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    before = snapshot(real)
    r = cli("demo", "--out", link, "--n-patients", "20")
    one_error(r, 1, f"output '{link}' is a symbolic link", "does not replace links")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert snapshot(real) == before and leftovers(tmp_path) == []


def test_symlinked_out_file_is_refused_and_its_target_kept(cli, work):
    mine = work / "mine.parquet"
    mine.write_bytes(b"user bytes")
    (work / "c.parquet").symlink_to(mine)
    r = cli("cluster", work / "embeddings.parquet", "--k", "3", "--out", work / "c.parquet")
    one_error(r, 1, "is a symbolic link")
    assert (work / "c.parquet").is_symlink() and mine.read_bytes() == b"user bytes"
    assert leftovers(work) == []


def test_dangling_symlink_out_is_refused(cli, tmp_path):
    (tmp_path / "out").symlink_to(tmp_path / "nowhere")
    r = cli("demo", "--out", tmp_path / "out", "--n-patients", "20")
    one_error(r, 1, "is a symbolic link (a broken one)")
    assert (tmp_path / "out").is_symlink() and not (tmp_path / "nowhere").exists()
    assert leftovers(tmp_path) == []


# ------------------------------------------------------------------------------------------ signals
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_mid_run_removes_temp_and_keeps_previous_output(tmp_path, sig):
    out = tmp_path / "d"
    first = run_curate("demo", "--out", out, "--n-patients", "20")
    assert first.wait(120) == 0, first.stderr.read()
    before = snapshot(out)
    proc = run_curate("demo", "--out", out, "--n-patients", "30", "--seed", "9", env={PAUSE_ENV: "60"})
    tmp = Path(wait_ready(proc))
    assert tmp.is_dir() and (tmp / "labels.csv").exists()  # the new output was fully written...
    proc.send_signal(sig)
    rc = proc.wait(60)
    err = proc.stderr.read().strip().splitlines()
    assert rc == 130 and err[-1] == "error: interrupted", (rc, err)
    assert not tmp.exists() and leftovers(tmp_path) == []  # ...and removed, not left behind
    assert snapshot(out) == before


def test_sigterm_on_a_file_output_leaves_nothing(work):
    out = work / "clusters.parquet"
    out.write_bytes(b"previous clusters")
    before = snapshot(work)
    proc = run_curate("cluster", work / "embeddings.parquet", "--k", "3", "--out", out,
                      env={PAUSE_ENV: "60"})
    wait_ready(proc)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 130
    assert proc.stderr.read().strip().splitlines()[-1] == "error: interrupted"
    assert snapshot(work) == before and leftovers(work) == []


def test_killed_run_leftovers_are_removed_by_the_next_run(tmp_path):
    out = tmp_path / "d"
    proc = run_curate("demo", "--out", out, "--n-patients", "20", env={PAUSE_ENV: "60"})
    tmp = Path(wait_ready(proc))
    proc.kill()  # SIGKILL: no clean-up is possible, the temp folder stays
    proc.wait(60)
    assert tmp.is_dir() and (tmp / TMP_MARKER).exists()
    # next to it: a user's folder that merely looks like a temp, and a live run's temp (this process)
    mine = tmp_path / ".d.tmp-mine"
    mine.mkdir()
    (mine / "keep.txt").write_text("user data")
    live = tmp_path / ".d.tmp-live"
    live.mkdir()
    (live / TMP_MARKER).write_text(json.dumps({"written_by": "curate", "target": "d", "pid": os.getpid(),
                                               "host": os.uname().nodename, "created": time.time()}))
    again = run_curate("demo", "--out", out, "--n-patients", "20")
    assert again.wait(120) == 0, again.stderr.read()
    assert not tmp.exists()
    assert (mine / "keep.txt").read_text() == "user data" and live.is_dir()
    assert (out / "labels.csv").exists()


def test_stale_temp_rules(tmp_path):
    """Only curate-marked temps of this output whose process is dead (or that are old) are removed."""
    import socket

    host = socket.gethostname()

    def temp(name: str, **info) -> Path:
        p = tmp_path / name
        p.mkdir()
        (p / "data.bin").write_bytes(b"x" * 10)
        if info:
            (p / TMP_MARKER).write_text(json.dumps({"written_by": "curate", "host": host, **info}))
        return p

    now = time.time()
    dead = temp(".out.tmp-dead", target="out", pid=dead_pid(), created=now)
    old = temp(".out.tmp-old", target="out", pid=os.getpid(), created=now - 3 * 24 * 3600)
    alive = temp(".out.tmp-alive", target="out", pid=os.getpid(), created=now)
    other = temp(".out.tmp-other", target="output", pid=dead_pid(), created=now)
    unmarked = temp(".out.tmp-unmarked")
    removed = remove_stale_temps(tmp_path / "out")
    assert sorted(p.name for p in removed) == [".out.tmp-dead", ".out.tmp-old"]
    assert not dead.exists() and not old.exists()
    assert alive.exists() and other.exists() and (unmarked / "data.bin").exists()


def test_swap_interrupted_between_renames_is_restored(tmp_path):
    """A run killed after moving the old output aside: the next run moves it back before deciding."""
    out = tmp_path / "out"
    with atomic_dir(out, kind="demo") as t:
        (t / "a.txt").write_text("old")
    aside = tmp_path / f".out.old-{dead_pid()}"
    out.rename(aside)
    remove_stale_temps(out)
    assert (out / "a.txt").read_text() == "old" and leftovers(tmp_path) == []


# ----------------------------------------------------------------------------- hostile catalog YAML
def _bomb_record(tmp_path: Path) -> Path:
    """A 1.5 KB record, valid but for a billion-laughs value (9**9 strings once expanded)."""
    folder = tmp_path / "hostile"
    folder.mkdir()
    levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, cur in zip("abcdefgh", "bcdefghi"):
        levels.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    text = (
        "id: BOMB\nname: Hostile record\n"
        "modality: {value: [fundus], source: gen}\nanatomy: {value: eye, source: gen}\n"
        "countries: {value: [BRA], source: gen}\nimages: {value: 30, source: gen}\n"
        "demographics_reported: {value: [age, sex], source: gen}\n"
        'licence: {value: "CC-BY-4.0", source: gen}\n'
        "references:\n  gen: {title: Generated, year: 2025}\n"
        "conflicts:\n  - field: images\n    source: gen\n    value: {" + ", ".join(levels) + "}\n"
    )
    (folder / "BOMB.yaml").write_text(text)
    assert len(text.encode()) < 1600
    return folder


def test_alias_bomb_parse_is_refused_before_expansion(tmp_path):
    """The parser check alone: refused from the event stream, long before 9**9 nodes could be built."""
    from curate.catalog._yaml import UnsafeYAML, load_user_yaml

    path = _bomb_record(tmp_path) / "BOMB.yaml"
    t0 = time.process_time()
    with pytest.raises(UnsafeYAML, match="anchors and aliases"):
        load_user_yaml(path)
    assert time.process_time() - t0 < 0.2


@pytest.fixture
def restore_catalog_env():
    """``curate --catalog DIR`` sets $CURATE_CATALOG in this process: remove it after the test."""
    before = os.environ.get("CURATE_CATALOG")
    yield
    if before is None:
        os.environ.pop("CURATE_CATALOG", None)
    else:
        os.environ["CURATE_CATALOG"] = before


@pytest.mark.parametrize("command", ["validate", "show", "build-card", "list"])
def test_alias_bomb_fails_fast_with_one_line(cli, tmp_path, command, restore_catalog_env):
    folder = _bomb_record(tmp_path)
    before = snapshot(folder)
    args = {"validate": ["catalog", "validate", "--catalog", folder],
            "show": ["--catalog", folder, "catalog", "show", "BOMB"],
            "build-card": ["build-card", "BOMB", "--catalog", folder, "--out", tmp_path / "card"],
            "list": ["--catalog", folder, "catalog", "list"]}[command]
    t0 = time.process_time()  # CPU time: the bomb spun the CPU; other jobs on the machine do not count
    r = cli(*args)
    assert time.process_time() - t0 < 1.0
    if command == "validate":  # validate reports its problems on stdout, one line per problem
        assert r.exit_code == 1
        lines = r.stdout.strip().splitlines()
        assert len(lines) == 1 and "BOMB.yaml" in lines[0] and "anchors and aliases" in lines[0], r.stdout
    else:
        one_error(r, 1, "BOMB.yaml")
    assert not (tmp_path / "card").exists() and snapshot(folder) == before
    assert leftovers(tmp_path) == []


def test_oversized_and_deeply_nested_yaml_are_refused(cli, tmp_path):
    folder = tmp_path / "hostile"
    folder.mkdir()
    (folder / "BIG.yaml").write_text("id: BIG\n" + "# padding\n" * 30_000)
    (folder / "DEEP.yaml").write_text("id: DEEP\nlabels: " + "[" * 60 + "]" * 60 + "\n")
    t0 = time.process_time()
    r = cli("catalog", "validate", "--catalog", folder)
    assert time.process_time() - t0 < 1.0 and r.exit_code == 1
    out = r.stdout
    assert "BIG.yaml: refused: file is" in out and "limited to 262,144 bytes" in out
    assert "DEEP.yaml: refused: nested more than 32 levels" in out


# ---------------------------------------------------------------------------------- bounded inputs
@pytest.mark.parametrize(("args", "needle"), [
    (["demo", "--out", "{tmp}/d", "--n-patients", "1000000000"], "--n-patients must be at most 100,000"),
    (["demo", "--out", "{tmp}/d", "--dim", "100000"], "--dim must be at most 4,096"),
    (["cluster", "{emb}", "--k", "2000000", "--out", "{tmp}/c.parquet"], "--k must be at most 1,000,000"),
    (["cluster", "{emb}", "--k", "100", "--levels", "7", "--out", "{tmp}/c.parquet"],
     "--levels must be at most 6"),
    (["cluster", "{emb}", "--k", "3", "--niter", "100000", "--out", "{tmp}/c.parquet"],
     "--niter must be at most 1,000"),
    (["dedup", "{emb}", "--out", "{tmp}/dd", "--max-distance", "65"], "--max-distance must be at most 64"),
    (["probe", "{emb}", "--meta", "{meta}", "--labels", "amd", "--seeds", "1000", "--out",
      "{tmp}/p.parquet"], "--seeds must be at most 100"),
    (["audit", "{meta}", "--label-cols", "amd", "--groups", "camera", "--bootstrap", "10000000", "--out",
      "{tmp}/a"], "--bootstrap must be at most 100,000"),
    (["publish", "BRSET", "--card-only", "--max-shard-size", "1B", "--out", "{tmp}/pub"],
     "--max-shard-size must be between 1KB and 50GB"),
])
def test_bounded_inputs_fail_fast_naming_the_parameter(cli, work, args, needle):
    out_dir = work / "outs"
    out_dir.mkdir()
    before = snapshot(work)
    fmt = {"tmp": out_dir, "emb": work / "embeddings.parquet", "meta": work / "labels.csv"}
    t0 = time.process_time()
    r = cli(*[a.format(**fmt) for a in args])
    assert time.process_time() - t0 < 5.0
    one_error(r, 2, needle)
    assert snapshot(work) == before and list(out_dir.iterdir()) == []


# -------------------------------------------------------------------------------------- OS errors
def test_zero_byte_and_truncated_npy(cli, tmp_path):
    (tmp_path / "empty.npy").write_bytes(b"")
    np.save(tmp_path / "full.npy", np.ones((50, 4), dtype=np.float32))
    (tmp_path / "cut.npy").write_bytes((tmp_path / "full.npy").read_bytes()[:100])
    one_error(cli("cluster", tmp_path / "empty.npy", "--k", "2", "--out", tmp_path / "c.parquet"), 1,
              "embeddings file", "is empty (0 bytes)")
    line = one_error(cli("dedup", tmp_path / "cut.npy", "--out", tmp_path / "dd"), 1, "cut.npy")
    assert "truncated" in line or "not a plain numeric" in line
    assert not (tmp_path / "c.parquet").exists() and not (tmp_path / "dd").exists()
    assert leftovers(tmp_path) == []


def test_dangling_symlink_input(cli, tmp_path):
    (tmp_path / "emb.parquet").symlink_to(tmp_path / "gone.parquet")
    (tmp_path / "meta.csv").symlink_to(tmp_path / "gone.csv")
    one_error(cli("cluster", tmp_path / "emb.parquet", "--k", "2", "--out", tmp_path / "c.parquet"), 1,
              "does not exist (a broken symbolic link)")
    one_error(cli("sample", tmp_path / "meta.csv", "--balance-by", "x", "--out", tmp_path / "s.csv"), 1,
              "does not exist (a broken symbolic link)")
    assert leftovers(tmp_path) == []


def test_folder_where_a_file_is_expected(cli, work):
    (work / "meta.csv").mkdir()
    (work / "c.parquet").mkdir()
    one_error(cli("sample", work / "meta.csv", "--balance-by", "x", "--out", work / "s.csv"), 1,
              "is a folder")
    one_error(cli("cluster", work / "embeddings.parquet", "--k", "2", "--out", work / "c.parquet"), 1,
              "is a folder")
    assert list((work / "c.parquet").iterdir()) == [] and leftovers(work) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions (the next test covers it)")
def test_permission_denied_on_the_output_folder(cli, work):
    ro = work / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        one_error(cli("demo", "--out", ro / "d", "--n-patients", "20"), 1, "permission denied")
    finally:
        ro.chmod(0o700)
    assert list(ro.iterdir()) == []


def test_os_errors_raised_mid_command_are_one_specific_line(cli, work, monkeypatch):
    """An OSError from deep inside a command (here: reading the table) is worded by the CLI."""
    import curate.tables

    cases = [
        (PermissionError(errno.EACCES, "Permission denied", str(work / "labels.csv")),
         f"permission denied: '{work / 'labels.csv'}'"),
        (OSError(errno.ENOSPC, "No space left on device", str(work / "s.csv")),
         "no space left on the device"),
        (IsADirectoryError(errno.EISDIR, "Is a directory", str(work)),
         "is a folder where a file is expected"),
        (EOFError("No data left in file"), "an input ended too early"),
        (OSError("Failed to open local file 'x.parquet'"), "input/output error: Failed to open"),  # pyarrow
    ]
    for exc, needle in cases:
        def boom(*a, _exc=exc, **k):
            raise _exc

        monkeypatch.setattr(curate.tables, "read_table", boom)
        r = cli("sample", work / "labels.csv", "--balance-by", "camera", "--out", work / "s.csv")
        one_error(r, 1, needle)
    assert not (work / "s.csv").exists() and leftovers(work) == []


def test_push_without_network_is_one_line(tmp_path):
    """A real push to an unreachable hub (connection refused): one line naming the network."""
    cat = tmp_path / "cat"
    cat.mkdir()
    (cat / "OPENSET.yaml").write_text(
        "id: OPENSET\nname: Generated test set\nmodality: {value: [fundus], source: gen}\n"
        "anatomy: {value: eye, source: gen}\ncountries: {value: [BRA], source: gen}\n"
        "images: {value: 30, source: gen}\ndemographics_reported: {value: [age, sex], source: gen}\n"
        'licence: {value: "CC-BY-4.0", source: gen}\nreferences:\n  gen: {title: Generated, year: 2025}\n')
    proc = run_curate("publish", "OPENSET", "--catalog", cat, "--card-only", "--out", tmp_path / "pub",
                      "--push", "someone/openset",
                      env={"HF_TOKEN": "hf_offline_test", "HF_ENDPOINT": "http://127.0.0.1:9",
                           "HF_HUB_ETAG_TIMEOUT": "2", "HF_HUB_DOWNLOAD_TIMEOUT": "2"})
    rc = proc.wait(120)
    err = [ln for ln in proc.stderr.read().splitlines() if ln.strip()]
    assert rc == 1 and len(err) == 1, err
    assert err[0].startswith("error: cannot reach the network") and "unexpected" not in err[0]
    assert leftovers(tmp_path) == []


def test_manifest_extra_keys_are_stored_and_tolerated(tmp_path):
    """Other writers (publish) may add keys; they are kept, and the folder stays replaceable."""
    from curate._io import read_manifest

    out = tmp_path / "pub"
    extra: dict = {}
    with atomic_dir(out, kind="publish", manifest=extra) as t:
        (t / "README.md").write_text("card")
        extra["dataset_id"] = "OPENSET"  # known only while writing
        extra["files"] = ["forged"]  # the reserved keys cannot be overridden
    m = read_manifest(out)
    assert m["dataset_id"] == "OPENSET" and m["files"] == ["README.md"] and m["kind"] == "publish"
    with atomic_dir(out, kind="publish") as t:
        (t / "README.md").write_text("new card")
    assert (out / "README.md").read_text() == "new card" and leftovers(tmp_path) == []
