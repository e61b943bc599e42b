"""The ``curate`` command: thin Typer wrappers over the library (``curate.cli.<area>`` modules).

Every sub-module imports only typer/rich at module level; heavy libraries are imported inside the
command bodies so ``curate --help`` stays fast. ``main`` turns :class:`curate.errors.CurateError` into
one ``error: ...`` line and the error's exit code — never a traceback.
"""

from __future__ import annotations

import importlib
import os
import sys

import typer

from curate._version import __version__

app = typer.Typer(
    name="curate",
    help="Document and curate medical-imaging datasets: catalog, dedup, clusters, cards, maps, audits.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode="rich",
)

# Each module defines `register(app)`. Add new command modules here (one line each).
_MODULES = [  # --help lists commands in this order: catalog → engine → renderers
    "catalog",
    "cards",
    "publish",
    "demo",
    "embed",
    "engine",
    "cluster",
    "audit",
    "geo",
    # <more command modules>
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"curate {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", "-V", callback=_version, is_eager=True, help="Show the version and exit."
    ),
    catalog: str = typer.Option(
        None,
        "--catalog",
        metavar="DIR",
        help="Folder of your own catalog YAML files, merged over the built-in catalog "
        "(also: $CURATE_CATALOG).",
    ),
) -> None:
    """curate: sourced catalog → curation engine → datasheets, hub cards, maps, reports, model cards."""
    if catalog:
        prev = os.environ.get("CURATE_CATALOG")
        os.environ["CURATE_CATALOG"] = os.pathsep.join(p for p in (prev, catalog) if p)


for _name in _MODULES:
    importlib.import_module(f"curate.cli.{_name}").register(app)


def fail(message: str, code: int = 1) -> None:
    """Print one error line to stderr and exit (for checks done in the CLI layer itself)."""
    sys.stderr.write(f"error: {message}\n")
    raise typer.Exit(code)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    from curate.errors import CurateError

    try:
        app(args=argv, prog_name="curate")
    except CurateError as exc:
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        sys.exit(130)
    except Exception as exc:  # a bug: still one line, with a way to see more
        if os.environ.get("CURATE_DEBUG"):
            raise
        sys.stderr.write(
            f"error: unexpected {type(exc).__name__}: {exc} (set CURATE_DEBUG=1 for the traceback)\n"
        )
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
