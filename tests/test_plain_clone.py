"""The suite needs nothing beside a plain ``git clone``: no ``../shared``, no untracked test data.

The repository's committed HEAD is cloned into an empty temporary folder and the seed-figure tests run
there with ``python -m pytest`` (the clone on PYTHONPATH, no CURATE_SEEDS): a data file that exists in this
checkout but was never committed, or a test that still reads the seed papers, fails here. (The whole of
README's test command runs from a fresh checkout in .ci/run; this is the fast check of the same property.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# the tests whose truth is the seed papers' figures (tests/data/seeds)
SEED_TESTS = ["tests/test_seed_data.py", "tests/test_catalog_seeds.py", "tests/test_catalog_table1.py"]


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    try:
        _git("rev-parse", "--verify", "HEAD", cwd=REPO)
    except subprocess.CalledProcessError:
        pytest.skip("not a git checkout (e.g. an sdist): nothing to clone")
    dest = tmp_path_factory.mktemp("plain") / "curate"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(dest)], check=True,
                   capture_output=True, timeout=60)
    assert not (dest.parent / "shared").exists()
    return dest


def test_test_data_is_tracked(clone):
    here = {p.relative_to(REPO).as_posix() for p in (REPO / "tests" / "data").rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}
    there = {p.relative_to(clone).as_posix() for p in (clone / "tests" / "data").rglob("*") if p.is_file()}
    assert here, "tests/data holds the seed papers' figures"
    assert here <= there, f"not committed (git add them): {sorted(here - there)}"


def test_seed_tests_pass_in_a_plain_clone(clone):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CURATE_", "PYTEST_"))}
    env["PYTHONPATH"] = str(clone)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "-rs",
         *SEED_TESTS],
        cwd=clone, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "error" not in proc.stdout.lower()
    # only the optional full-text check may skip, and it says why
    skips = [line for line in proc.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skips) <= 1 and all("optional: seed papers not found" in s for s in skips), skips
    imported = subprocess.run([sys.executable, "-c", "import curate; print(curate.__file__)"], cwd=clone,
                              env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert Path(imported).resolve().is_relative_to(clone.resolve()), "the clone's code was tested"
