"""Shared fixtures: run the real CLI entry point in-process, locate the (optional) seed papers.

The suite needs nothing beside the repository: the seed papers' figures the tests check live in
``tests/data/seeds`` (read through ``tests/seed_data.py``). Only the optional provenance test that re-reads
the papers' full text uses ``seeds_dir``, and it skips, with the reason, when the papers are absent.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

# Under pytest-xdist every worker is one process per core: one BLAS/OpenMP thread each (torch's and
# FAISS's thread pools would otherwise oversubscribe the cores and spin). Set before they are imported.
if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
    os.environ.setdefault("OMP_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parent.parent
SEEDS = Path(os.environ.get("CURATE_SEEDS", REPO.parent / "shared" / "seeds"))


#: Set by .ci/run: there a browser test that cannot find Chromium FAILS instead of skipping.
REQUIRE_BROWSER = os.environ.get("CURATE_REQUIRE_BROWSER") == "1"


def chromium_path() -> str | None:
    """Headless Chromium for the ``browser`` tests (Debian's ``chromium``), if installed."""
    names = ("chromium", "chromium-browser", "google-chrome")
    return next((shutil.which(n) for n in names if shutil.which(n)), None)


def pytest_runtest_setup(item):
    """``browser`` tests skip, saying why, where Chromium is missing (optional locally); in CI
    (CURATE_REQUIRE_BROWSER=1) the same situation is a failure, so CI cannot pass them by skipping."""
    if item.get_closest_marker("browser") is None or chromium_path() is not None:
        return
    message = "headless Chromium not found: install Debian's 'chromium' package (.ci/run does)"
    if REQUIRE_BROWSER:
        pytest.fail(f"{message}; CURATE_REQUIRE_BROWSER=1 forbids skipping the browser tests", pytrace=False)
    pytest.skip(f"optional locally: {message}")


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


def invoke(*args: str, env: dict[str, str] | None = None) -> CliResult:
    """Call ``curate.cli.main`` exactly as the console script does, capturing output and exit code."""
    from curate.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    old_env = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main([str(a) for a in args])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        for k, v in old_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli():
    """``cli("catalog", "list", "--json")`` → CliResult(exit_code, stdout, stderr)."""
    return invoke


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    """The seed papers' full text; optional, so tests using it skip when it is absent."""
    if not SEEDS.is_dir():
        pytest.skip(f"optional: seed papers not found at {SEEDS} (set CURATE_SEEDS to run this check)")
    return SEEDS


@pytest.fixture(scope="session", autouse=True)
def _private_config_home(tmp_path_factory):
    """Pseudonym keys (and any other per-user config) go to a temporary folder, never to ~/.config."""
    old = {k: os.environ.get(k) for k in ("XDG_CONFIG_HOME", "CURATE_PSEUDONYM_KEY", "XDG_CACHE_HOME")}
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("xdg-config"))
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))  # curate._cache
    os.environ.pop("CURATE_PSEUDONYM_KEY", None)
    yield
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def demo_brset(tmp_path_factory):
    """One synthetic BRSET-shaped demo (60 patients, seed 3) per session, shared read-only by the tests
    that only read it (tests that need other sizes or seeds make their own)."""
    from curate.demo import make_demo

    return make_demo(tmp_path_factory.mktemp("demo-brset") / "demo", n_patients=60, seed=3)


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch):
    # Rich wraps tables to the terminal width; keep test output on one line per row.
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("CURATE_CATALOG", raising=False)
