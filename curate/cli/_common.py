"""Small helpers shared by the command modules (consoles, JSON output, option types)."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console

console = Console(highlight=False, soft_wrap=False)

#: ``curate catalog ...``: its commands live in cli/catalog.py and cli/catalog_totals.py.
catalog_app = typer.Typer(
    help="Browse, validate and summarise the sourced dataset catalog.", no_args_is_help=True
)

CatalogDir = typer.Option(
    None, "--catalog", metavar="DIR", help="Your own catalog folder, merged over the built-in one."
)


def load_catalog(catalog_dir: str | None):
    from curate.catalog import load

    return load(catalog_dir)


def print_json(obj: Any) -> None:
    """Machine-readable output: plain JSON on stdout (no Rich styling)."""
    sys.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


def fmt_int(v: int | None) -> str:
    return "—" if v is None else f"{v:,}"


@contextmanager
def progress_bar():
    """A Rich progress bar on stderr (terminals only); yields a ``progress(stage, done, total)`` callback,
    or None when stderr is not a terminal (logs and pipes get the printed summary only)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    err = Console(stderr=True)
    if not err.is_terminal:
        yield None
        return
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=err, transient=True)
    tasks: dict[str, int] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done, total=total)

    with bar:
        yield update
