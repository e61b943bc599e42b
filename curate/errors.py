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
        super().__init__(f"unknown dataset '{dataset_id}'{hint}")
        self.dataset_id = dataset_id
        self.suggestions = suggestions or []


class LicenceError(CurateError):
    """Publishing would break a dataset's licence (credentialed/restricted/unknown access)."""


class MissingDependencyError(CurateError):
    """An optional extra is needed: the message names the ``pip install`` that fixes it."""

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(
            f"this feature needs the '{package}' package: pip install 'curate[{extra}]'"
        )


def require(module: str, extra: str):
    """Import an optional heavy module lazily, or raise a one-line install hint."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - exercised only without extras
        raise MissingDependencyError(module.split(".")[0], extra) from exc
