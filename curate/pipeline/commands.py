"""The "reproduce" command lines printed in cards and datasheets, built from the commands' option names.

A command line is given as the Typer command's *Python* parameters (``emb_id_col="img"``); each is written
with the visible flag that sets it in ``curate --help``. :data:`FLAGS` is that mapping, and
``tests/test_architecture.py`` compares it with the Typer app itself: every entry must be a visible (not
hidden, not deprecated) option of that parameter, so a card can never tell users to run a hidden flag.
"""

from __future__ import annotations

import shlex
from typing import Any

#: command -> Python parameter of its Typer function -> the visible flag (checked against the app)
FLAGS: dict[str, dict[str, str]] = {
    "dedup": {"threshold": "--threshold", "method": "--method", "seed": "--seed",
              "emb_id_col": "--emb-id-col", "meta": "--meta", "meta_id_col": "--id-col",
              "split_col": "--split-col", "patient_col": "--patient-col", "out": "--out"},
    "cluster": {"k": "--k", "levels": "--levels", "seed": "--seed", "emb_id_col": "--emb-id-col",
                "meta": "--meta", "attr": "--attr", "meta_id_col": "--id-col", "out": "--out"},
    "build-card": {"metadata": "--meta", "embeddings": "--embeddings", "meta_id_col": "--id-col",
                   "emb_id_col": "--emb-id-col", "split_col": "--split-col", "patient_col": "--patient-col",
                   "threshold": "--threshold", "method": "--method", "k": "--k", "levels": "--levels",
                   "attr": "--attr", "sample": "--sample", "seed": "--seed", "out": "--out",
                   "inspect": "--inspect"},
}


def command_line(command: str, *arguments: Any, **options: Any) -> str:
    """``curate COMMAND ARGUMENTS --flag value ...``, shell-quoted; options that are None, False or "" are
    left out, True writes the bare flag. Unknown parameters raise KeyError (add them to :data:`FLAGS`)."""
    parts: list[Any] = ["curate", command, *(a for a in arguments if a is not None and a != "")]
    for param, value in options.items():
        flag = FLAGS[command][param]
        if value is None or value is False or value == "":
            continue
        parts += [flag] if value is True else [flag, value]
    return " ".join(shlex.quote(str(p)) for p in parts)
