"""Small helpers shared by the command modules (JSON output through the exit gate, option types)."""

from __future__ import annotations

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


def alias(value, old_value, name: str, old_name: str):
    """The value of option ``name``, or of its old spelling ``old_name`` (a hidden alias kept so old
    command lines still work); both at once is a usage error naming the two."""
    if old_value is None:
        return value
    if value is not None:
        from curate.errors import UsageError

        raise UsageError(f"{old_name} is the old spelling of {name}: give one of them")
    return old_value


def fmt_int(v: int | None) -> str:
    return "—" if v is None else f"{v:,}"
