"""One of each: one age check, one catalog hash, one table reader, one device choice, each constant once,
parameters validated once with errors naming the Python parameter (docs/architecture.md, issue 26)."""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

import pandas as pd
import pytest

from curate.errors import InputError, UsageError
from curate.validation import Interval, Options, ParameterError, validate_params

ROOT = Path(__file__).resolve().parents[1] / "curate"


def _definitions() -> dict[str, list[str]]:
    """name -> modules defining it at module level (functions, classes and UPPER_CASE constants)."""
    out: dict[str, list[str]] = {}
    for path in sorted(ROOT.rglob("*.py")):
        for node in ast.parse(path.read_text()).body:
            names = []
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names = [node.name]
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [t.id for t in targets if isinstance(t, ast.Name) and t.id.isupper()]
            for name in names:
                out.setdefault(name, []).append(str(path.relative_to(ROOT.parent)))
    return out


@pytest.mark.parametrize("name", ["check_ages", "catalog_hash", "read_table", "resolve_device", "MIN_CELL",
                                  "NOT_REPORTED", "IMAGE_EXTENSIONS", "OVERALL", "ALL", "parse_size",
                                  "check_method", "check_keep_rule", "read_metadata", "alias"])
def test_defined_once(name):
    where = _definitions().get(name, [])
    # check_method: the dedup search method and the k-means training are two parameters, one check each
    allowed = 2 if name == "check_method" else 0 if name in ("read_metadata", "alias") else 1
    assert len(where) == allowed, (name, where)


def test_no_table_reader_wrappers():
    """No function whose whole body returns ``read_table(...)``: callers pass what differs to the reader."""
    wrappers = []
    for path in sorted(ROOT.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef):
                continue
            body = [s for s in node.body if not isinstance(s, (ast.ImportFrom, ast.Import))
                    and not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
            if (len(body) == 1 and isinstance(body[0], ast.Return) and isinstance(body[0].value, ast.Call)
                    and getattr(body[0].value.func, "id", None) == "read_table"):
                wrappers.append(f"{path.relative_to(ROOT.parent)}:{node.name}")
    assert wrappers == []


def test_build_card_and_publish_agree_on_dicom_ages():
    """060Y / 018M are accepted by the card (composition) and by publish alike, with the same years."""
    from curate.pipeline.composition import measure_composition
    from curate.pipeline.publish_metadata import check_ages
    from curate.scan.dicom_header import parse_age

    ages = ["060Y", "018M", "45", "", "003W"] * 8
    df = pd.DataFrame({"patient_id": range(40), "patient_age": ages})
    years = check_ages(df, "patient_age")
    oracle = [parse_age(a) for a in ages]  # the DICOM Age String parser (PS3.5 AS) is the truth
    assert [None if pd.isna(y) else y for y in years] == oracle
    comp = measure_composition(df, {"age": "patient_age"})
    assert comp.n_patients == 40  # the card accepts what publish accepts
    bad = df.assign(patient_age=["sixty"] + ages[1:])
    for run in (lambda: check_ages(bad, "patient_age"),
                lambda: measure_composition(bad, {"age": "patient_age"})):
        with pytest.raises(InputError, match=r"non-numeric value\(s\) \(first at line 2\)"):
            run()


def test_one_catalog_hash():
    """The report and the card provenance print the same hash of one catalog: sha256 of the sorted record
    hashes (recomputed here with hashlib)."""
    import curate
    from curate.catalog.store import catalog_hash
    from curate.report import catalog_hash as report_hash

    cat = curate.catalog.load()
    h = hashlib.sha256()
    for rh in sorted(ds.record_hash() for ds in cat):
        h.update(rh.encode("ascii"))
    assert catalog_hash(cat) == report_hash(cat) == h.hexdigest()


def test_parameter_errors_name_the_python_parameter():
    import numpy as np

    from curate.engine.cluster import cluster, level_sizes
    from curate.engine.dedup import dedup

    x = np.random.default_rng(0).normal(size=(50, 4)).astype("float32")
    cases = [
        (lambda: level_sizes(5, 7), "levels must be at most 6"),
        (lambda: level_sizes(2_000_000), "k must be at most 1,000,000"),
        (lambda: cluster(x, k=3, kmeans_method="fast"), "kmeans_method must be one of auto, flat, two-level"),
        (lambda: dedup(x, method="lsh"), "method must be one of auto, exact, ivf, semantic"),
        (lambda: dedup(x, keep_rule="first"), "keep_rule must be one of components, greedy"),
    ]
    for run, message in cases:
        with pytest.raises(ParameterError) as info:
            run()
        assert str(info.value).startswith(message) and "--" not in str(info.value), str(info.value)


def test_cli_words_parameter_errors_with_the_flag(cli, tmp_path):
    import numpy as np

    np.save(tmp_path / "emb.npy", np.random.default_rng(0).normal(size=(40, 4)).astype("float32"))
    for args, line in [
        (["--k", "3", "--niter", "0"], "error: --niter must be at least 1"),
        (["--k", "3", "--kmeans", "fast"], "error: --kmeans must be one of auto, flat, two-level"),
        (["--k", "3", "--levels", "9"], "error: --levels must be at most 6"),
    ]:
        r = cli("cluster", tmp_path / "emb.npy", *args, "--out", tmp_path / "c.parquet")
        assert r.exit_code == 2 and r.stderr.startswith(line), r.stderr
        assert r.stderr.count("\n") == 1 and not (tmp_path / "c.parquet").exists()


def test_constraints_as_data():
    constraints = {"n": Interval(1, 10), "how": Options(("a", "b"))}
    validate_params({"n": 3, "how": "B", "other": object()}, constraints)
    for params, message in [({"n": 0}, "n must be at least 1"), ({"n": 11}, "n must be at most 10"),
                            ({"n": 2.5}, "n must be an integer"), ({"how": "c"}, "how must be one of a, b"),
                            ({"n": "x"}, "n must be an integer")]:
        with pytest.raises(UsageError, match=message):
            validate_params(params, constraints)


def test_sample_parameter_errors_are_worded_with_flags(cli, tmp_path):
    """The engine says ``cap_per_group must be ...``; `curate sample` says ``--cap-per-group must be ...``."""
    from curate.engine.sample import sample_with_report

    meta = pd.DataFrame({"id": [str(i) for i in range(30)], "sex": ["F", "M"] * 15})
    meta.to_csv(tmp_path / "m.csv", index=False)
    with pytest.raises(ParameterError, match="^cap_per_group must be at least 1"):
        sample_with_report(meta, balance_by="sex", cap_per_group=0)
    r = cli("sample", tmp_path / "m.csv", "--balance-by", "sex", "--cap-per-group", "0",
            "--out", tmp_path / "s.csv")
    assert r.exit_code == 2 and r.stderr.startswith("error: --cap-per-group must be at least 1"), r.stderr
