"""README's two commands are the ones CI runs (so the documented install can't drift from CI)."""

from __future__ import annotations

import re

from conftest import REPO


def _bash_blocks(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", text, flags=re.S)


def test_ci_runs_readme_test_command_verbatim():
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Run the tests", 1)[1]
    test_cmd = _bash_blocks(section)[0].strip()
    assert test_cmd.endswith("python -m pytest")
    ci_lines = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()]
    assert test_cmd in ci_lines


def test_readme_main_command_installs_and_builds_brset():
    readme = (REPO / "README.md").read_text()
    main_cmd = _bash_blocks(readme.split("## Quick start", 1)[1])[0].strip()
    assert main_cmd.startswith("python3 -m venv .venv") and "pip install -e ." in main_cmd
    assert main_cmd.endswith("curate build-card BRSET")
