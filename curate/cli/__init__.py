"""The ``curate`` command: thin Typer wrappers over the library (``curate.cli.<area>`` modules).

Every sub-module imports only typer/rich at module level; heavy libraries are imported inside the
command bodies so ``curate --help`` stays fast. ``main`` turns :class:`curate.errors.CurateError` into
one ``error: ...`` line and the error's exit code — never a traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

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
    "scan",
    "deid_check",
    "embed",
    "engine",
    "cluster",
    "audit",
    "geo",
    "represent",
    "inspect",
    "overlap",
    # <more command modules>
]


def _version(value: bool) -> None:
    if value:
        from curate.output import say_plain

        say_plain("curate {version}", version=__version__)
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

importlib.import_module("curate.cli._help").install()  # no `<bool>` after flags in --help


def fail(message: str, code: int = 1) -> None:
    """Print one error line to stderr and exit (for checks done in the CLI layer itself)."""
    from curate.output import error

    error(message)
    raise typer.Exit(code)


def _command(argv: list[str]) -> tuple[list[str], Any]:
    """The (sub)command named on the command line: its names (``["catalog", "list"]``) and click object."""
    group = typer.main.get_command(app)
    names: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg == "--catalog":
            next(args, None)
        elif not arg.startswith("-"):
            sub = getattr(group, "commands", {}).get(arg)
            if sub is None:
                break
            names.append(arg)
            group = sub
    return names, group


def _command_name(argv: list[str]) -> str:
    """``demo`` or ``catalog list``: the (sub)command named on the command line, for error lines."""
    return " ".join(_command(argv)[0]) or "(command)"


#: library parameter -> the CLI parameter that sets it, where the two names differ (the one such map)
PARAM_ALIASES: dict[str, str] = {"kmeans_method": "kmeans", "metadata": "meta", "attrs": "attr"}


def flag_for(argv: list[str], param: str) -> str:
    """The visible flag that sets the library parameter ``param`` in the command of ``argv``.

    Library errors name Python parameters (:mod:`curate.validation`); the CLI words them with the flag the
    user typed. Falls back to ``--param-name`` when the command has no such option.
    """
    _, command = _command(argv)
    wanted = PARAM_ALIASES.get(param, param)
    for name in (param, wanted):
        for opt in getattr(command, "params", []):
            if opt.name == name and getattr(opt, "opts", None) and not getattr(opt, "hidden", False):
                flags = [f for f in opt.opts if f.startswith("--")]
                if flags:
                    return flags[0]
                if opt.param_type_name == "argument":
                    return name.upper()
    return "--" + param.replace("_", "-")


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: every failure is one ``error: ...`` line and a non-zero exit.

    SIGTERM, SIGINT and SIGHUP unwind like an exception (temporary outputs are removed) and end with
    ``error: interrupted`` and exit code 130.
    """
    from curate._signals import EXIT_INTERRUPTED, Interrupted, handle_signals
    from curate.cli._errors import describe
    from curate.errors import CurateError, MissingDependencyError, extra_for
    from curate.output import error
    from curate.validation import ParameterError

    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        with handle_signals():
            # standalone_mode=False: click hands us its usage errors instead of printing a boxed panel
            code = app(args=argv, prog_name="curate", standalone_mode=False)
    except MissingDependencyError as exc:
        error(exc.for_command(_command_name(argv)))
        sys.exit(exc.exit_code)
    except ParameterError as exc:  # names the Python parameter: word it with the flag
        error(exc.named(flag_for(argv, exc.param)))
        sys.exit(exc.exit_code)
    except CurateError as exc:
        error(str(exc))
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, Interrupted):
        error("interrupted")
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:
        extra = extra_for(exc.name or "") if isinstance(exc, ImportError) else None
        if extra:  # an optional module imported without `need`/`require`: still the extra's one line
            err = MissingDependencyError(exc.name, extra)
            error(err.for_command(_command_name(argv)))
            sys.exit(err.exit_code)
        kinds = {c.__name__ for c in type(exc).__mro__}
        if "ClickException" in kinds:  # bad option value, missing argument, unknown option
            # (typer ships its own copy of click, so match by class name, not by import)
            message = exc.format_message()
            if message:  # NoArgsIsHelpError has printed the help already
                ctx = getattr(exc, "ctx", None)
                where = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
                error(f"{message}{where}")
            sys.exit(exc.exit_code)
        if "Abort" in kinds:  # click turns KeyboardInterrupt and EOFError into Abort
            cause = exc.__cause__ or exc.__context__
            if isinstance(cause, (KeyboardInterrupt, Interrupted)):
                error("interrupted")
                sys.exit(EXIT_INTERRUPTED)
            message = describe(cause) if cause is not None else None
            error(message or "aborted")
            sys.exit(1)
        if os.environ.get("CURATE_DEBUG"):  # the traceback, on request
            raise
        message = describe(exc)
        if message is not None:  # permission denied, broken link, no network, ...: the user can fix it
            error(message)
            sys.exit(1)
        # a bug: still one line, with a way to see more
        error(f"unexpected {type(exc).__name__}: {exc} (set CURATE_DEBUG=1 for the traceback)")
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
