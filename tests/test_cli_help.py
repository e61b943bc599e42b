"""Every command's --help reads cleanly: no type placeholders after flags, required options marked."""

from __future__ import annotations

import re

import pytest

COMMANDS = [["build-card"], ["publish"], ["demo"], ["embed"], ["dedup"], ["cluster"], ["sample"], ["probe"],
            ["audit"], ["map"], ["report"], ["catalog", "list"], ["catalog", "show"], ["catalog", "stats"],
            ["catalog", "validate"]]


@pytest.mark.parametrize("cmd", COMMANDS, ids=" ".join)
def test_help_has_no_type_placeholders(cli, cmd, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    r = cli(*cmd, "--help")
    assert r.exit_code == 0, r.stderr
    assert not re.search(r"<(bool|str|int|float|path)>", r.stdout), r.stdout
    for line in r.stdout.splitlines():  # a flag row shows no value word
        if re.search(r"--(json|help|all|quiet|private)\b", line):
            assert not re.search(r"--(json|help|all|quiet|private)\s+(-\w\s+)?(TEXT|BOOLEAN|INTEGER)\b", line)


def test_value_options_show_a_plain_word(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    r = cli("dedup", "--help")
    assert re.search(r"--threshold\s+-t\s+FLOAT", r.stdout)
    assert re.search(r"--out\s+-o\s+DIR", r.stdout) and "[required]" in r.stdout
