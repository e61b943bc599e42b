"""Errors that the CLI turns into one clear line and a non-zero exit.

Library code raises these instead of printing: callers of the Python API get a normal exception with a
readable message, and ``curate.cli.main`` prints ``error: <message>`` and exits with ``exit_code``.
"""

from __future__ import annotations


class CurateError(Exception):
    """Base class: a problem the user can fix (bad input, unknown id, ...). Exit code 1."""

    exit_code = 1

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class UsageError(CurateError):
    """The command was called wrongly (unknown id, bad option value). Exit code 2."""

    exit_code = 2


class InputError(CurateError):
    """An input file or array is missing, unreadable or malformed. Exit code 1."""


class CatalogError(CurateError):
    """A catalog file fails validation. The message names the file and the field."""


class UnknownDatasetError(UsageError):
    """``curate catalog show BRST`` and friends: unknown id, with suggestions."""

    def __init__(self, dataset_id: str, suggestions: list[str] | None = None) -> None:
        hint = f" (did you mean {', '.join(suggestions)}?)" if suggestions else ""
        shown = (dataset_id if len(dataset_id) <= 80
                 else dataset_id[:60] + f"… ({len(dataset_id):,} characters)")
        super().__init__(f"unknown dataset '{shown}'{hint}")
        self.dataset_id = dataset_id
        self.suggestions = suggestions or []


class LicenceError(CurateError):
    """Publishing would break a dataset's licence (credentialed/restricted/unknown access)."""


#: Each extra of pyproject.toml → the top-level modules it installs that curate imports (the one table:
#: ``need``, ``require`` and the CLI's handling of a stray ImportError all read it).
EXTRAS: dict[str, tuple[str, ...]] = {
    "engine": ("faiss", "sklearn", "PIL", "imagehash"),
    "embed": ("torch", "transformers", "safetensors", "PIL"),
    "geo": ("geopandas", "matplotlib", "shapely"),
    "hub": ("datasets", "mlcroissant", "PIL"),
    "audit": ("sklearn", "matplotlib"),
    "dask": ("dask", "distributed"),
    "pixels": ("pytesseract", "rapidfuzz"),
}


def extra_for(module: str) -> str | None:
    """The extra that installs ``module`` (its top-level package; the first extra listing it), if any."""
    top = module.partition(".")[0]
    return next((extra for extra, mods in EXTRAS.items() if top in mods), None)


def install_hint(extra: str) -> str:
    return f'pip install "curate[{extra}]"'


class MissingDependencyError(CurateError):
    """An optional extra is not installed. The CLI prints it as
    ``error: curate demo needs the 'engine' extra: pip install "curate[engine]"`` (exit 2)."""

    exit_code = 2

    def __init__(self, module: str, extra: str) -> None:
        super().__init__(
            f"this needs the '{extra}' extra ('{module}' is not installed): {install_hint(extra)}"
        )
        self.module, self.extra = module, extra

    def for_command(self, command: str) -> str:
        """The one line the CLI prints: which command needs which extra, and how to install it."""
        return f"curate {command} needs the '{self.extra}' extra: {install_hint(self.extra)}"


def need(extra: str, *modules: str) -> None:
    """Fail early, before any work, when ``extra`` (or the listed modules of it) is not installed.

    Commands call this first (``need("engine", "PIL")`` in ``curate demo``); nothing is imported, so the
    check is cheap and heavy imports stay lazy.
    """
    import importlib.util

    for module in modules or EXTRAS[extra]:
        try:
            found = importlib.util.find_spec(module) is not None  # sys.modules[m] = None: missing
        except (ImportError, ValueError):
            found = False
        if not found:
            raise MissingDependencyError(module, extra)


def require(module: str, extra: str | None = None):
    """Import an optional heavy module lazily, or raise :class:`MissingDependencyError` naming its extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(module.split(".")[0], extra or extra_for(module) or "all") from exc
