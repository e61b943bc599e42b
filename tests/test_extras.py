"""Every command after README's core install (``pip install -e .``): one rule for the optional extras.

A command whose extra is missing prints exactly one line,
``error: curate demo needs the 'engine' extra: pip install "curate[engine]"``, exits 2 and prints no
traceback; a command that needs no extra works. The core-only environment is simulated: the commands run
in one subprocess whose ``sitecustomize`` (``tests/core_only``) makes every optional module unimportable,
as if it had never been installed (a real core-only virtual environment would take minutes to build).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from curate.errors import EXTRAS, MissingDependencyError, extra_for, need, require

REPO = Path(__file__).resolve().parent.parent
CORE_ONLY = Path(__file__).resolve().parent / "core_only"

# (command line, the extra it needs or None when it works on the core install)
COMMANDS = [
    ("catalog list --modality fundus", None),
    ("catalog show BRSET", None),
    ("catalog stats --by country", None),
    ("catalog validate", None),
    ("build-card BRSET --out {o}/card", None),
    ("build-card BRSET --meta {d}/labels.csv --out {o}/card-measured", None),
    ("build-card BRSET --meta {d}/labels.csv --embeddings {d}/embeddings.parquet --k 4 --out {o}/c3",
     "engine"),
    ("publish BRSET --meta {d}/labels.csv --images {d}/images --image-col image_id "
     "--patient-col patient_id --out {o}/hub", "hub"),
    ("demo BRSET --out {o}/demo", "engine"),
    ("embed {d}/images --backbone pixels --id-from stem --out {o}/pixels.parquet", "embed"),
    ("backbones", None),
    ("dedup {d}/embeddings.parquet --meta {d}/labels.csv --id-col image_id --out {o}/dedup", "engine"),
    ("dedup --images {d}/images --out {o}/dedup-images", "engine"),
    ("cluster {d}/embeddings.parquet --k 4 --out {o}/clusters.parquet", "engine"),
    ("cluster {d}/embeddings.parquet --k 4 --dask local --out {o}/clusters-dask.parquet", "dask"),
    ("sample {d}/labels.csv --balance-by camera --patient-col patient_id --splits 0.8,0.1,0.1 "
     "--id-col image_id --out {o}/sample.csv", None),
    ("probe {d}/embeddings.parquet --meta {d}/labels.csv --id-col image_id --emb-id-col id "
     "--labels diabetic_retinopathy --patient-col patient_id --seeds 1 --epochs 1 --out {o}/p.parquet",
     "embed"),
    ("audit {o}/../preds.csv --label-cols y --groups sex --out {o}/audit", "audit"),
    ("audit --list", None),
    ("map --out {o}/map.png", "geo"),
    ("map --out {o}/map.svg", "geo"),
    ("map --csv {o}/map.csv", None),
    ("represent {d}/labels.csv --country BRA --reps 200 --out {o}/represent", None),
    ("report --out {o}/report.html", "geo"),
    ("report --out {o}/report.md", "geo"),
]

# Runs in the core-only subprocess: each command through the console-script entry point, one JSON line.
DRIVER = r"""
import contextlib, io, json, shlex, sys
from curate.cli import main
blocked = []
for mod in ("PIL", "torch", "faiss", "matplotlib", "geopandas", "datasets", "sklearn"):
    try:
        __import__(mod)
    except ImportError:
        blocked.append(mod)
results = []
for line in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(shlex.split(line))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    results.append({"line": line, "code": code, "stdout": out.getvalue(), "stderr": err.getvalue()})
print(json.dumps({"blocked": blocked, "results": results}))
"""


@pytest.fixture(scope="module")
def core_only_runs(tmp_path_factory, demo_brset):
    """Every command of COMMANDS, run once in a core-only subprocess on the session's demo dataset."""
    root = tmp_path_factory.mktemp("core-only")
    demo = demo_brset
    pd.DataFrame({"id": ["a", "b", "c", "d"], "y": [0, 1, 0, 1], "score_y": [0.1, 0.8, 0.4, 0.6],
                  "sex": ["F", "F", "M", "M"]}).to_csv(root / "preds.csv", index=False)
    (root / "o").mkdir()
    lines = [cmd.format(d=demo.root, o=root / "o") for cmd, _ in COMMANDS]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CURATE_")}
    env.update(PYTHONPATH=os.pathsep.join([str(CORE_ONLY), str(REPO)]), COLUMNS="200")
    proc = subprocess.run([sys.executable, "-c", DRIVER, json.dumps(lines)], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    assert data["blocked"] == ["PIL", "torch", "faiss", "matplotlib", "geopandas", "datasets", "sklearn"], \
        "the core-only simulation must block the optional modules"
    return {r["line"]: r for r in data["results"]}, root, demo.root


@pytest.mark.parametrize(("command", "extra"), COMMANDS, ids=[c.split(" --")[0] for c, _ in COMMANDS])
def test_every_command_on_the_core_install(core_only_runs, command, extra):
    runs, root, demo = core_only_runs
    r = runs[command.format(d=demo, o=root / "o")]
    assert "Traceback" not in r["stderr"] + r["stdout"]
    if extra is None:
        assert r["code"] == 0, r["stderr"]
        assert "error" not in r["stderr"]
        return
    words = command.split()
    cmd = " ".join(words[:2]) if words[0] == "catalog" else words[0]
    assert r["code"] == 2, r
    assert r["stderr"] == f"error: curate {cmd} needs the '{extra}' extra: pip install \"curate[{extra}]\"\n"
    assert r["stdout"] == ""


def test_commands_that_need_an_extra_leave_no_output(core_only_runs):
    """Only the commands that work on the core install wrote anything (no partial output elsewhere)."""
    _, root, _ = core_only_runs
    written = sorted(p.name for p in (root / "o").iterdir())
    assert written == ["card", "card-measured", "map.csv", "represent", "sample.csv"]


def test_extras_table_matches_pyproject():
    """EXTRAS (the one table the helper reads) names, for each extra, modules its pyproject entry installs."""
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    dists = {"faiss": "faiss-cpu", "sklearn": "scikit-learn", "PIL": "pillow", "imagehash": "imagehash",
             "scipy": "scipy", "torch": "torch", "transformers": "transformers", "safetensors": "safetensors",
             "geopandas": "geopandas", "matplotlib": "matplotlib", "shapely": "shapely",
             "datasets": "datasets", "mlcroissant": "mlcroissant", "fairlearn": "fairlearn",
             "dask": "dask[distributed]", "distributed": "dask[distributed]", "pytesseract": "pytesseract",
             "rapidfuzz": "rapidfuzz"}
    for extra, modules in EXTRAS.items():
        entry = re.search(rf"^{extra} = \[(.*)\]$", text, flags=re.M).group(1)
        pinned = {re.split(r"[<>=]", d.strip().strip('"'))[0] for d in entry.split(",")}
        for module in modules:
            assert dists[module] in pinned, (extra, module)
    blocked = (CORE_ONLY / "sitecustomize.py").read_text(encoding="utf-8")
    assert all(f'"{m}"' in blocked for mods in EXTRAS.values() for m in mods), "simulation blocks them all"


def test_helper_messages():
    assert extra_for("PIL.Image") == "engine" and extra_for("matplotlib.pyplot") == "geo"
    assert extra_for("fairlearn") is None  # the tests' oracle (dev extra), not a library dependency
    assert extra_for("yaml") is None
    with pytest.raises(MissingDependencyError) as info:
        require("curate_no_such_module_xyz", "geo")
    err = info.value
    assert err.exit_code == 2 and err.extra == "geo" and 'pip install "curate[geo]"' in str(err)
    assert err.for_command("map") == 'curate map needs the \'geo\' extra: pip install "curate[geo]"'
    need("engine", "numpy")  # installed: no error
    with pytest.raises(MissingDependencyError, match="curate\\[hub\\]"):
        need("hub", "curate_no_such_module_xyz")


def test_need_sees_a_module_blocked_in_sys_modules(monkeypatch):
    """``sys.modules[name] = None`` (the usual way to make a module unimportable) counts as missing."""
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(MissingDependencyError) as info:
        need("engine", "PIL")
    assert info.value.module == "PIL" and info.value.extra == "engine"
