"""Shared fixtures: run the real CLI entry point in-process, locate the seed papers."""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SEEDS = Path(os.environ.get("CURATE_SEEDS", REPO.parent / "shared" / "seeds"))


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
    if not SEEDS.is_dir():
        pytest.fail(f"seed papers not found at {SEEDS} (set CURATE_SEEDS)")
    return SEEDS


@pytest.fixture(scope="session", autouse=True)
def _private_config_home(tmp_path_factory):
    """Pseudonym keys (and any other per-user config) go to a temporary folder, never to ~/.config."""
    old = {k: os.environ.get(k) for k in ("XDG_CONFIG_HOME", "CURATE_PSEUDONYM_KEY")}
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("xdg-config"))
    os.environ.pop("CURATE_PSEUDONYM_KEY", None)
    yield
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch):
    # Rich wraps tables to the terminal width; keep test output on one line per row.
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("CURATE_CATALOG", raising=False)
