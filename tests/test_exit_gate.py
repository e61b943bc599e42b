"""The exit gate (curate/output): every writer and printer goes through it; it suppresses what it must;
the leaks of issues 26/27 are gone from every output file and every console line.

Oracles are independent of curate's rule: a brute-force search over the published numbers (differences of
two published values giving a withheld rate back) and ``scipy.optimize.linprog`` bounds on a hidden cell
given the published margins.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
GATE = ("curate/output/", "curate/_io.py")
_ATTRS = {"dcmwrite", "savez", "open", "write_text", "write_bytes", "to_parquet", "to_csv", "to_json",
          "write_table", "savefig", "save", "dump", "echo", "secho", "print", "copy", "copy2", "copyfile",
          "copytree", "copyfileobj", "write"}
_BASES = {"save": ("np", "numpy", "nib", "nibabel", "img", "image"), "dump": ("json", "pickle", "yaml"),
          "dcmwrite": ("pydicom",), "savez": ("np", "numpy"),
          "write_table": ("pq", "pyarrow.parquet"), "echo": ("typer",), "secho": ("typer",),
          "write": ("sys.stdout", "sys.stderr"),
          **{c: ("shutil",) for c in ("copy", "copy2", "copyfile", "copytree", "copyfileobj")}}


#: curate._io's own writers: a call to one outside the gate writes a file without the gate's checks.
_IO_WRITERS = {"write_text_atomic", "write_json_atomic"}
#: Streaming writers: opening one writes a file (``pq.ParquetWriter(p, schema)`` then ``.write_table``,
#: ``.write_batch`` on the object, whatever its name), so the constructor call is the writer site.
_STREAM_WRITERS = {"ParquetWriter", "RecordBatchFileWriter", "RecordBatchStreamWriter", "new_file",
                   "new_stream"}
_STREAM_BASES = ("pq", "pyarrow.parquet", "pa", "pyarrow", "pa.ipc", "pyarrow.ipc", "ipc")


def _kind(call: ast.Call) -> str | None:
    """The writer/printer a call is, or None."""
    f = call.func
    if isinstance(f, ast.Name) and f.id == "print":
        return "print"
    name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
    if name in _IO_WRITERS:
        return name
    if name in _STREAM_WRITERS and (isinstance(f, ast.Name) or ast.unparse(f.value) in _STREAM_BASES):
        return name
    if isinstance(f, ast.Name) and f.id == "open":
        modes = [k.value for k in call.keywords if k.arg == "mode"]
        mode = call.args[1] if len(call.args) > 1 else (modes[0] if modes else None)
        ok = isinstance(mode, ast.Constant) and isinstance(mode.value, str) and set(mode.value) & set("wax")
        return "open" if ok else None
    if not isinstance(f, ast.Attribute) or f.attr not in _ATTRS:
        return None
    base = ast.unparse(f.value)
    if f.attr in _BASES:
        return f.attr if base in _BASES[f.attr] else None
    if f.attr == "print":
        return "print" if "console" in base else None
    if f.attr == "open":  # Path.open(mode): a writer when the mode writes
        modes = [k.value for k in call.keywords if k.arg == "mode"]
        mode = call.args[0] if call.args else (modes[0] if modes else None)
        ok = isinstance(mode, ast.Constant) and isinstance(mode.value, str) and set(mode.value) & set("wax")
        return "open" if ok else None
    if f.attr in ("to_json", "to_csv", "to_parquet") and not call.args and not call.keywords:
        return None  # returns a string or bytes (a method of curate's own result objects)
    return f.attr


def _in_memory_buffers(tree: ast.AST) -> set[str]:
    """Names bound to ``io.BytesIO()`` / ``io.StringIO()`` (encoding into memory writes no file)."""
    return {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call)
            and ast.unparse(n.value.func) in ("io.BytesIO", "io.StringIO", "BytesIO", "StringIO")
            for t in n.targets if isinstance(t, ast.Name)}


def _into_memory(call: ast.Call, memory: set[str]) -> bool:
    """The call writes into an in-memory buffer (its first argument, ``buf``): the bytes then leave through
    the gate (``write_bytes``), which the scanner sees at that call."""
    return bool(call.args) and isinstance(call.args[0], ast.Name) and call.args[0].id in memory


def writer_sites() -> set[tuple[str, str]]:
    """(module, function) of every writer/printer call in curate/ outside the gate."""
    out: set[tuple[str, str]] = set()
    for path in sorted((ROOT / "curate").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(GATE):
            continue
        mod = rel[:-3].replace("/", ".")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        memory = _in_memory_buffers(tree)

        def visit(node: ast.AST, fn: str) -> None:
            for ch in ast.iter_child_nodes(node):
                if isinstance(ch, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    visit(ch, ch.name if fn == "<module>" else f"{fn}.{ch.name}")
                    continue
                if isinstance(ch, ast.Call) and _kind(ch) and not _into_memory(ch, memory):  # noqa: B023
                    out.add((mod, fn))  # noqa: B023 - mod is fixed for this file's walk
                visit(ch, fn)

        visit(tree, "<module>")
    return out


# Writer/printer sites outside curate/output that are not outputs at all (module, function), each with why.
# Nothing else may write or print: route it through curate.output (write_table, write_local, write_json,
# write_text, write_bytes, write_figure, write_dataset, say, say_table, say_plain, say_json, error). The test
# also fails when a listed site no longer writes, so the list stays exact.
NOT_OUTPUTS = {
    ("curate._cache", "YamlCache.save"),  # a cache of parsed catalog YAML (curate's own records)
    ("curate.scan.resume", "Checkpoint.save"),  # scan's internal resume state, deleted when scan completes
}


def test_every_writer_and_printer_goes_through_the_gate():
    found = writer_sites()
    bypass = sorted(found - NOT_OUTPUTS)
    assert not bypass, f"write/print through curate.output instead: {bypass}"
    gone = sorted(NOT_OUTPUTS - found)
    assert not gone, f"these sites no longer write or print: delete them from the allow-list: {gone}"


#: The functions of curate.policy.disclosure that suppress: only the gate (and policy itself) calls them.
DISCLOSURE_FUNCTIONS = {"Disclosure", "protect_table", "suppression_marks", "suppress", "suppressed_total",
                        "share_of_hidden"}


def disclosure_calls() -> list[str]:
    """``path:line name`` of every import or attribute use of a suppressing function outside the gate."""
    out = []
    for path in sorted((ROOT / "curate").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(("curate/output/", "curate/policy/")):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "curate.policy.disclosure":
                out += [f"{rel}:{node.lineno} {a.name}" for a in node.names if a.name in DISCLOSURE_FUNCTIONS]
            elif isinstance(node, ast.ImportFrom) and node.module == "curate.policy":
                out += [f"{rel}:{node.lineno} disclosure" for a in node.names if a.name == "disclosure"]
            elif isinstance(node, ast.Attribute) and node.attr in DISCLOSURE_FUNCTIONS \
                    and ast.unparse(node.value).endswith("disclosure"):
                out.append(f"{rel}:{node.lineno} {node.attr}")
    return out


def test_only_the_gate_suppresses():
    """The engine and the pipeline return raw numbers; renderers protect through curate.output."""
    assert not disclosure_calls(), "protect through curate.output instead: " + ", ".join(disclosure_calls())


def test_the_disclosure_scanner_finds_imports_and_attributes(tmp_path, monkeypatch):
    src = ("from curate.policy.disclosure import MIN_CELL, Disclosure\n"
           "from curate.policy import disclosure\n"
           "def f(x):\n    return disclosure.suppress(x)\n")
    names = []
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.ImportFrom) and node.module == "curate.policy.disclosure":
            names += [a.name for a in node.names if a.name in DISCLOSURE_FUNCTIONS]
        elif isinstance(node, ast.Attribute) and node.attr in DISCLOSURE_FUNCTIONS:
            names.append(node.attr)
    assert names == ["Disclosure", "suppress"]


# ------------------------------------------------------------------------------ local files, charts, lines
def test_gate_local_files_allow_identifiers_only_in_declared_id_columns(tmp_path):
    from curate.output import GateError, write_local, write_local_ids

    df = pd.DataFrame({"id": ["P1_img", "P2_img"], "patient_id": ["P1", "P2"], "cluster_l1": [0, 1]})
    with pytest.raises(GateError, match="identifier"):  # an id column not declared as one
        write_local(df, tmp_path / "a.parquet", ids=["id"],
                    roles={"patient_id": "value", "cluster_l1": "value"})
    with pytest.raises(GateError, match="no declared role"):
        write_local(df, tmp_path / "a.parquet", ids=["id", "patient_id"], roles={})
    with pytest.raises(GateError, match="not in the table"):
        write_local(df, tmp_path / "a.parquet", ids=["image"], roles={})
    site = df.assign(site="Clinic Maria Quixabeira")
    with pytest.raises(GateError, match="name of a person"):  # other columns are checked as if published
        write_local(site, tmp_path / "a.parquet", ids=["id", "patient_id"],
                    roles={"cluster_l1": "value", "site": "group"})
    assert not list(tmp_path.iterdir())
    path = write_local(site, tmp_path / "a.csv", ids=["id", "patient_id"], roles={"cluster_l1": "value"},
                       input_columns=["site"])  # the user's own input column, copied unchanged
    assert pd.read_csv(path)["patient_id"].tolist() == ["P1", "P2"]
    assert write_local_ids(tmp_path / "keep.txt", ["a", "b"]).read_text() == "a\nb\n"



def test_gate_streamed_parquet_checks_every_batch_and_leaves_no_partial_file(tmp_path):
    """write_local_parquet: the rules of write_local, batch by batch; a refused later batch writes nothing
    and keeps the previous file (an oracle: pyarrow reads back exactly the rows given)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from curate.output import GateError, write_local_parquet

    schema = pa.schema([("id", pa.string()), ("site", pa.string()), ("score", pa.float64())])

    def batch(ids, sites):
        return pa.table([pa.array(ids), pa.array(sites), pa.array([0.5] * len(ids))], schema=schema)

    good = [batch(["P1_img", "P2_img"], ["north", "south"]), batch(["P3_img"], ["east"]).to_batches()[0]]
    path = write_local_parquet(tmp_path / "e.parquet", iter(good), schema=schema, ids=["id"],
                               roles={"site": "group", "score": "value"})
    back = pq.read_table(path)
    assert back.column("id").to_pylist() == ["P1_img", "P2_img", "P3_img"]
    assert pq.ParquetFile(path).metadata.num_row_groups == 2
    before = path.read_bytes()
    with pytest.raises(GateError, match="name of a person"):  # the second batch's label names a person
        write_local_parquet(path, iter([good[0], batch(["P4"], ["Clinic Maria Quixabeira"])]), schema=schema,
                            ids=["id"], roles={"site": "group", "score": "value"})
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["e.parquet"]
    with pytest.raises(GateError, match="no declared role"):
        write_local_parquet(tmp_path / "f.parquet", iter(good), schema=schema, ids=["id"],
                            roles={"site": "group"})
    renamed = pa.schema([("patient_id", pa.string()), ("site", pa.string()), ("score", pa.float64())])
    with pytest.raises(GateError, match="identifier"):  # an id column not declared as one
        write_local_parquet(tmp_path / "f.parquet", iter(good), schema=renamed, ids=[],
                            roles={"patient_id": "value", "site": "group", "score": "value"})
    with pytest.raises(GateError, match="not in the table"):
        write_local_parquet(tmp_path / "f.parquet", iter(good), schema=schema, ids=["image"], roles={})
    assert not (tmp_path / "f.parquet").exists()

def test_gate_figures_check_every_text_and_mark_synthetic(tmp_path):
    from matplotlib.figure import Figure

    from curate.output import GateError, figure_bytes, write_figure

    fig = Figure()
    ax = fig.add_subplot()
    ax.bar(["Hospital Central", "Clinic Maria Quixabeira"], [3, 4])
    with pytest.raises(GateError, match="name of a person"):
        write_figure(fig, tmp_path / "c.png")
    assert not list(tmp_path.iterdir())
    fig = Figure()
    fig.add_subplot().bar(["train", "test"], [3, 4])
    svg = figure_bytes(fig, "svg", synthetic=True, metadata={"Date": None}).decode()
    assert "synthetic data" in svg
    assert write_figure(fig, tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"


def test_gate_plain_and_error_lines(capsys):
    from curate.output import GateError, Measure, error, say_plain

    say_plain("ok: {n} files [{what}]", n=Measure(12), what="x")
    error("--seed must be ≥ 0")
    out = capsys.readouterr()
    assert out.out == "ok: 12 files [x]\n" and out.err == "error: --seed must be ≥ 0\n"
    with pytest.raises(GateError, match="undeclared number"):
        say_plain("{n} rows", n=3)


def test_the_scanner_finds_each_kind_of_writer(tmp_path):
    src = ("import json, shutil, typer, numpy as np, sys\n"
           "def a(df, p, console, fig):\n    open(p, 'w')\n    p.write_text('x')\n    df.to_parquet(p)\n"
           "    json.dump({}, p)\n    np.save(p, 1)\n    fig.savefig(p)\n    typer.echo('x')\n    print(1)\n"
           "    console.print('x')\n    shutil.copy2(p, p)\n    sys.stdout.write('x')\n"
           "    with pq.ParquetWriter(p, schema) as writer:\n        writer.write_table(t)\n"
           "    ParquetWriter(p, schema).write_table(t)\n"
           "def b(p):\n    open(p)\n    p.read_text()\n    pq.read_table(p)\n    pq.ParquetFile(p)\n")
    calls = [n for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Call)]
    kinds = [k for c in calls if (k := _kind(c))]
    assert kinds == ["open", "write_text", "to_parquet", "dump", "save", "savefig", "echo", "print", "print",
                     "copy2", "write", "ParquetWriter", "ParquetWriter"]



def test_the_scanner_sees_path_open_and_skips_in_memory_buffers():
    src = ("import io, pydicom\n"
           "def a(p, ds, img):\n    p.open('w')\n    pydicom.dcmwrite(p, ds)\n    img.save(p)\n"
           "def b(p, ds, img):\n    buf = io.BytesIO()\n    img.save(buf)\n    pydicom.dcmwrite(buf, ds)\n"
           "    p.open('rb')\n")
    tree = ast.parse(src)
    memory = _in_memory_buffers(tree)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and _kind(n)]
    assert [(_kind(c), _into_memory(c, memory)) for c in calls] == [
        ("open", False), ("dcmwrite", False), ("save", False), ("save", True), ("dcmwrite", True)]

# ------------------------------------------------------------------------------------- the gate itself
def _solvable_range(shown: dict[str, object], total: int) -> dict[str, tuple[float, float]]:
    """linprog bounds of each hidden cell given the shown cells and the published total (hidden cells ≥ 1)."""
    from scipy.optimize import linprog

    hidden = [k for k, v in shown.items() if isinstance(v, str)]
    rest = total - sum(int(v) for v in shown.values() if not isinstance(v, str))
    out = {}
    for k in hidden:
        c = np.array([1.0 if h == k else 0.0 for h in hidden])
        kw = {"A_eq": np.ones((1, len(hidden))), "b_eq": [rest], "bounds": [(1, None)] * len(hidden)}
        lo, hi = linprog(c, **kw).fun, -linprog(-c, **kw).fun
        out[k] = (lo, hi)
    return out


@pytest.mark.parametrize("counts", [{"a": 2, "b": 11, "c": 5}, {"a": 200, "b": 3, "c": 40},
                                    {"a": 1, "b": 500}, {"a": 30, "b": 40, "c": 12, "d": 9}])
def test_gate_counts_hide_small_cells_and_their_complements(counts):
    from curate.output import protect_counts

    shown = protect_counts(counts)
    for k, v in counts.items():
        if 0 < v < 11:
            assert shown[k] == "<11"
    ranges = _solvable_range(shown, sum(counts.values()))
    for k, (lo, hi) in ranges.items():
        if 0 < counts[k] < 11:
            assert hi - lo >= 3, (k, lo, hi)  # a small cell is not recovered from the total


def test_gate_say_refuses_undeclared_numbers_and_protects_declared(capsys):
    from curate.output import Count, Counts, GateError, Measure, say

    with pytest.raises(GateError, match="undeclared number"):
        say("{n} patients", n=3)
    say("{n} of {t}; {s}; {x}", n=Count(38, of=40), t=Count(40), s=Counts({"a": 2, "b": 30, "c": 40}),
        x=Measure(0.12345, ".2f"))
    line = capsys.readouterr().out
    assert line.strip() == "* of 40; a: <11, b: *, c: 40; 0.12"  # 38 of 40 would give the 2 back


def test_gate_table_roles_identifiers_and_small_counts(tmp_path):
    from curate.output import GateError, count_table, write_table

    df = pd.DataFrame({"split": ["train", "test"], "images": [400, 9], "patients": [200, 3]})
    with pytest.raises(GateError, match="no declared role"):
        write_table(df, tmp_path / "t.parquet", roles={"split": "group", "images": "count"})
    with pytest.raises(GateError, match="small"):
        write_table(df, tmp_path / "t.parquet",
                    roles={"split": "group", "images": "count", "patients": "count"})
    with pytest.raises(GateError, match="identifier"):
        write_table(df.assign(patient_id="P1", images=400, patients=200), tmp_path / "t.parquet",
                    roles={"split": "group", "images": "count", "patients": "count", "patient_id": "value"})
    site = pd.DataFrame({"site": ["Clinic Maria Quixabeira", "Hospital Central", "Hospital Central"],
                         "n": [0, 0, 0]})
    with pytest.raises(GateError, match="name of a person"):  # a name in a minority of the values
        write_table(site, tmp_path / "s.csv", roles={"site": "group", "n": "count"})
    safe = count_table(df, counts=["images", "patients"], basis=["patients"])
    path = write_table(safe, tmp_path / "t.parquet", roles={"split": "group", "images": "count",
                                                             "patients": "count"}, synthetic=True)
    back = pd.read_parquet(path)
    assert back["patients"].tolist() == ["*", "<11"] and back["synthetic"].all()
    assert not (tmp_path / "s.csv").exists()


def test_gate_html_and_synthetic(tmp_path):
    from curate.output import GateError, write_json, write_text

    with pytest.raises(GateError, match="live markup"):
        write_text(tmp_path / "x.html", "<p>hi</p><script>alert(1)</script>")
    with pytest.raises(GateError, match="live markup"):
        write_text(tmp_path / "y.html", '<a href="javascript:alert(1)">x</a>')
    assert not list(tmp_path.iterdir())
    md = write_text(tmp_path / "c.md", "# Card\n", synthetic=True).read_text()
    assert md.lower().startswith("synthetic")
    js = json.loads(write_json(tmp_path / "s.json", {"n": 40}, counts=("n",), synthetic=True).read_text())
    assert js["synthetic"] is True and list(js)[0] == "synthetic"
    with pytest.raises(GateError, match="small"):
        write_json(tmp_path / "z.json", {"groups": {"a": {"n": 4}}}, counts=("n",))


# ------------------------------------------------------------------------------------- the named leaks
def _audit_preds(n_small: int, male_pos: int, mid: int = 150) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    for p in range(300):
        g = "S" if p < n_small else ("M" if p < mid else "F")
        y = int(p < n_small + male_pos) if g == "M" else int(rng.random() < 0.4)
        for im in range(2):
            score = rng.random() if g == "S" else rng.random() * 0.5 + 0.45 * y  # S: rates away from 0, 1
            rows.append({"id": f"i{p}_{im}", "patient_id": f"P{p}", "split": "test", "dr": y,
                         "score_dr": score, "grp": g})
    return pd.DataFrame(rows)


def _published_numbers(folder: Path) -> list[float]:
    res = pd.read_parquet(folder / "results.parquet")
    nums = [float(v) for c in ("value", "ci_low", "ci_high") for v in res[c].dropna()]
    for name in ("model_card.md", "results.json"):
        nums += [float(x) for x in re.findall(r"-?\d+\.\d+", (folder / name).read_text())]
    return sorted(set(nums))


@pytest.mark.parametrize("mid", [7, 150], ids=["two groups", "three groups"])
def test_audit_leaves_no_small_group_count_or_rate(tmp_path, mid):
    """S: 7 patients (small). No file holds its n / n_units; no published number x, nor any a + b − c of
    published numbers, equals its TPR, FPR or TPR+FPR (with two groups, TPR_F + FPR_F − AOD_sum_F gave
    TPR_S + FPR_S back)."""
    from curate.cards.modelcard import write_audit
    from curate.pipeline.audit import audit

    df = _audit_preds(7, 20, mid)
    out = write_audit(audit(df, label_cols=["dr"], groups=["grp"], patient_col="patient_id"), tmp_path / "a")
    res = pd.read_parquet(out / "results.parquet")
    s = res[res["group"] == "S"]
    assert s["n"].isna().all() and s["n_units"].isna().all()
    for r in json.loads((out / "results.json").read_text())["results"]:
        if r["group"] == "S":
            assert r["n"] is None and r["n_units"] is None
    sub = df[df["grp"] == "S"]
    pred = sub["score_dr"] >= 0.5
    tpr, fpr = pred[sub["dr"] == 1].mean(), pred[sub["dr"] == 0].mean()  # the oracle's own rates
    assert 0 < tpr < 1 and 0 < fpr < 1  # rates that are not 0 or 1 (those appear everywhere)
    nums = np.array([0.0, *_published_numbers(out)])
    for sec in (tpr, fpr):  # simple fractions (2/8) arise from unrelated numbers: only the rate itself
        assert not np.isclose(nums, sec, atol=1e-9).any(), f"S's rate {sec} is published"
    pair = (nums[:, None] + nums[None, :]).ravel()
    hit = np.isclose(pair[:, None] - nums[None, :], tpr + fpr, atol=1e-9).any()
    assert not hit, f"a published a + b − c gives S's TPR+FPR {tpr + fpr} back"
    card = (out / "model_card.md").read_text()
    assert not re.search(r"\bS (7|14) images", card) and "7 patients" not in card


def test_audit_hides_the_small_cell_not_the_group(tmp_path):
    """M: 150 patients, 300 images, 8 positive images: its size is shown, its label rates are not."""
    from curate.cards.modelcard import write_audit
    from curate.pipeline.audit import audit

    df = _audit_preds(0, 4)
    assert int(df[df.grp == "M"]["dr"].sum()) == 8
    out = write_audit(audit(df, label_cols=["dr"], groups=["grp"], patient_col="patient_id"), tmp_path / "a")
    card = (out / "model_card.md").read_text()
    assert "M 300 images (50%), 150 patients" in card
    res = pd.read_parquet(out / "results.parquet")
    m = res[(res["group"] == "M")].set_index("metric")
    assert m.loc["n_images", "value"] == 300 and np.isnan(m.loc["TPR", "value"])
    assert np.isnan(m.loc["prevalence", "value"])


def test_leakage_engine_is_raw_and_the_gate_hides_complements():
    from curate.output import protect_leakage

    raw = {"images": 100, "patients": {"total": 40, "in_multiple_splits": 3,
                                       "in_multiple_splits_by_split": {"a|b": 2, "a|c": 1, "b|c": 30},
                                       "images_of_patients_in_multiple_splits": 9}}
    p = protect_leakage(raw)["patients"]
    assert p["in_multiple_splits"] == "<11" and p["images_of_patients_in_multiple_splits"] == "<11"
    assert p["in_multiple_splits_by_split"]["a|b"] == "<11"
    assert all(v in ("<11", "*") for v in p["in_multiple_splits_by_split"].values())  # 30 ≤ 3·multi pins it


def test_publish_prints_no_split_count_its_card_hides(tmp_path, cli):
    """Splits of 2 / 11 / 5 patients (one image each): no file and no console line shows 2 or 5 next to its
    split, and the hidden cells stay unsolvable from the printed total (linprog)."""
    from test_publish import _base, make_dataset, write_catalog

    cat = write_catalog(tmp_path / "cat")
    meta, images, df = make_dataset(tmp_path / "raw", n_patients=18, n_images=18, seed=4, split_col=False)
    m = pd.read_csv(meta)
    m["split"] = ["train"] * 2 + ["validation"] * 11 + ["test"] * 5
    m.loc[17, "patient_id"] = m.loc[0, "patient_id"]  # one patient in two splits
    m.to_csv(meta, index=False)
    out = tmp_path / "o"
    r = cli(*_base(meta, images, out, cat), "--split-col", "split")
    assert r.exit_code == 0, r.stderr
    text = r.stdout + r.stderr + "".join(p.read_text(errors="ignore") for p in out.rglob("*.md"))
    for split, n in (("train", 2), ("test", 5)):
        assert not re.search(rf"{split}\W+{n}\b", text), split
    assert not re.search(r"(?<![<\d])1 patient\(s\)", text) and "<11 patient(s)" in text


def _sample_ranges(shown: pd.DataFrame, n_units: int, splits: list[str]) -> dict:
    """linprog (integer) min/max of every hidden cell of a sample table, given what a reader knows: each row's
    after = Σ splits and after ≤ before, the printed total of sampled units, small cells in 1..10."""
    from scipy.optimize import linprog

    hid = [(r, c) for r in shown.index for c in shown.columns if isinstance(shown.loc[r, c], str)]
    pos = {h: i for i, h in enumerate(hid)}
    eq, beq, ub, bub = [], [], [], []

    def lin(terms, rhs, into, rhs_into):
        row, const = np.zeros(len(hid)), 0.0
        for cell, co in terms:
            if cell in pos:
                row[pos[cell]] += co
            else:
                const += co * float(shown.loc[cell])
        into.append(row)
        rhs_into.append(rhs - const)

    for r in shown.index:
        lin([((r, "after"), 1), *[((r, s), -1) for s in splits]], 0, eq, beq)
        lin([((r, "after"), 1), ((r, "before"), -1)], 0, ub, bub)
    lin([((r, "after"), 1) for r in shown.index], n_units, eq, beq)
    bounds = [(1, 10) if shown.loc[h] == "<11" else (0, None) for h in hid]
    out = {}
    for h in hid:
        c = np.zeros(len(hid))
        c[pos[h]] = 1
        kw = {"A_eq": np.array(eq), "b_eq": beq, "A_ub": np.array(ub), "b_ub": bub, "bounds": bounds,
              "integrality": np.ones(len(hid))}
        lo, hi = linprog(c, **kw), linprog(-c, **kw)
        out[h] = (lo.fun, -hi.fun if hi.status == 0 else np.inf)
    return out


def test_sample_table_hides_cells_a_reader_could_solve():
    """Old rule (one 2-D table, fake row totals): g0's 10 sampled patients were pinned by the printed total
    (44 − 19 − g2 ≤ 15). The gate's grid knows the real relations; linprog finds no small cell pinned, on
    that table and on 60 random ones."""
    from curate.engine.sample import report_table

    splits = ["train", "validation", "test"]
    rng = np.random.default_rng(0)
    tables = [pd.DataFrame({"before": [33, 75, 15], "after": [10, 19, 15], "train": [5, 12, 8],
                            "validation": [2, 5, 5], "test": [3, 2, 2]}, index=["g0", "g1", "g2"])]
    for _ in range(60):
        g = int(rng.integers(2, 4))
        before = rng.integers(5, 80, g)
        after = np.minimum(before, rng.integers(5, 40, g))
        sp = np.array([rng.multinomial(a, [0.6, 0.2, 0.2]) for a in after])
        parts = {s: sp[:, i] for i, s in enumerate(splits)}
        index = [f"g{i}" for i in range(g)]
        tables.append(pd.DataFrame({"before": before, "after": after, **parts}, index=index))
    for df in tables:
        report = {"groups": list(df.index), "before": df["before"].to_dict(), "after": df["after"].to_dict(),
                  "splits": {s: df[s].to_dict() for s in splits}, "n_units": int(df["after"].sum())}
        shown = report_table(report)
        if shown.attrs.get("withheld"):
            continue
        for cell, (lo, hi) in _sample_ranges(shown, report["n_units"], splits).items():
            if 0 < df.loc[cell] < 11:
                assert hi - lo >= 1, (df, shown, cell)


def test_cluster_prints_no_small_cluster_size(tmp_path, cli):
    """Clusters of 4, 6 and 40 points: the console line of sizes shows none of 4 and 6 (the median was 6)."""
    from curate.demo import _write_embeddings

    rng = np.random.default_rng(0)
    centres = np.eye(8)[:3] * 10
    x = np.vstack([c + rng.normal(0, 0.01, (n, 8)) for c, n in zip(centres, (4, 6, 40))]).astype("float32")
    _write_embeddings(tmp_path / "emb.parquet", [f"e{i}" for i in range(len(x))], x)
    r = cli("cluster", tmp_path / "emb.parquet", "--k", "3", "--metric", "l2",
            "--out", tmp_path / "c.parquet")
    assert r.exit_code == 0, r.stderr
    sizes = pd.read_parquet(tmp_path / "c.parquet")["cluster_l1"].value_counts()  # the truth, from the file
    assert sorted(sizes) == [4, 6, 40]
    line = next(x for x in r.stdout.splitlines() if "cluster sizes" in x)
    assert not re.search(r"\b(4|6|40)\b", line.split(";")[0]), line


def test_dedup_leaks_no_small_patient_count_and_no_patient_id(tmp_path, cli):
    """3 patients have images in two splits: leakage.json and the console show ``<11``, never 3; no output
    file and no console line holds a patient id (the local files are keyed by image ids only)."""
    from curate.demo import _write_embeddings

    rng = np.random.default_rng(3)
    base = rng.normal(size=(40, 16)).astype("float32")
    x = np.vstack([base, base[:20] + rng.normal(0, 1e-3, (20, 16)).astype("float32")])
    ids = [f"img{i:03d}" for i in range(len(x))]
    patients = [f"PAT{i % 40:04d}" for i in range(len(x))]  # image i and its copy i+40: the same patient
    split = ["train"] * 40 + ["test"] * 3 + ["train"] * 17  # patients 0..2 cross splits
    _write_embeddings(tmp_path / "emb.parquet", ids, x)
    pd.DataFrame({"id": ids, "patient_id": patients, "split": split}).to_csv(tmp_path / "m.csv", index=False)
    out = tmp_path / "out"
    r = cli("dedup", tmp_path / "emb.parquet", "--threshold", "0.99", "--meta", tmp_path / "m.csv",
            "--patient-col", "patient_id", "--split-col", "split", "--out", out)
    assert r.exit_code == 0, r.stderr
    truth = pd.DataFrame({"p": patients, "s": split}).groupby("p")["s"].nunique()
    assert int((truth > 1).sum()) == 3  # the oracle: three patients cross splits
    leak = json.loads((out / "leakage.json").read_text())
    assert leak["patients"]["in_multiple_splits"] == "<11"
    line = next(x for x in r.stdout.splitlines() if "patients in more than one split" in x)
    assert not re.search(r"(?<![<\d])3\b", line), line
    texts = [r.stdout, r.stderr]
    for path in out.rglob("*"):
        if path.suffix == ".parquet":
            texts.append(pd.read_parquet(path).to_csv())
        elif path.is_file():
            texts.append(path.read_text())
    assert not any("PAT0" in t for t in texts)  # patient ids never leave, not even into local files
    assert "img040" in pd.read_parquet(out / "pairs.parquet").to_csv()  # the local file keeps image ids
