"""Small helpers shared by the command modules (JSON output through the exit gate, option types)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

import typer

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


def print_json(obj: Any, *, counts: tuple[str, ...] = ()) -> None:
    """Machine-readable output: plain JSON on stdout, through the exit gate (:func:`curate.output.say_json`;
    ``counts``: keys holding counts of individuals, checked)."""
    from curate.output import say_json

    say_json(obj, counts=counts)


def fmt_int(v: int | None) -> str:
    return "—" if v is None else f"{v:,}"


@contextmanager
def progress_bar():
    """A Rich progress bar on stderr (terminals only); yields a ``progress(stage, done, total)`` callback.
    Without a terminal (logs, pipes) the callback prints only the stage worth a line before it runs: an
    exact search with its estimated time (:func:`announce`)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    err = Console(stderr=True)
    if not err.is_terminal:
        yield announce
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


def announce(stage: str, done: int, total: int) -> None:
    """Without a terminal, the one stage worth a line before it runs: an exact search (with its estimate)."""
    if done == 0 and stage.startswith("exact search ("):
        from curate.output import note

        note("{stage}", stage=stage)
