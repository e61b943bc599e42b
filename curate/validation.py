"""Parameter constraints declared as data and checked once, in the library (scikit-learn style).

A function states what each parameter may be (:class:`Interval`, :class:`Options`), like scikit-learn's
``_parameter_constraints``, and checks it once with :func:`validate_params`. A bad value is a
:class:`ParameterError` whose message names the *Python* parameter (``niter must be at least 1 (got 0)``);
the CLI rewrites that name into the flag the user typed (``--niter must be at least 1 ...``) in one place,
``curate.cli.main``, so the library never names a flag.

>>> validate_params({"niter": 20, "metric": "cosine"},
...                 {"niter": Interval(1, 1000), "metric": Options(("cosine", "l2"))})
>>> try:
...     validate_params({"niter": 0}, {"niter": Interval(1, 1000)})
... except ParameterError as exc:
...     print(exc, "|", exc.named("--niter"))
niter must be at least 1 (got 0; allowed 1 to 1,000) | --niter must be at least 1 (got 0; allowed 1 to 1,000)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from curate.errors import UsageError


class ParameterError(UsageError):
    """A parameter value outside its constraint; ``param`` is the Python parameter's name.

    ``str(exc)`` is ``"<param> <reason>"``; :meth:`named` words the same reason for another spelling of the
    parameter (the CLI passes the flag).
    """

    def __init__(self, param: str, reason: str) -> None:
        self.param = param
        self.reason = reason
        super().__init__(f"{param} {reason}")

    def named(self, name: str) -> str:
        return f"{name} {self.reason}"


@dataclass(frozen=True)
class Interval:
    """An integer (or, with ``integer=False``, real) in ``[lo, hi]``; ``None`` leaves a side open."""

    lo: float | None = None
    hi: float | None = None
    integer: bool = True

    def check(self, name: str, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__index__"):
            try:
                value = int(value) if self.integer else float(value)
            except (TypeError, ValueError):
                kind = "an integer" if self.integer else "a number"
                raise ParameterError(name, f"must be {kind} (got {value!r})") from None
        if self.integer and value != int(value):
            raise ParameterError(name, f"must be an integer (got {value})")
        value = int(value) if self.integer else float(value)
        if self.lo is not None and value < self.lo:
            span = f"; allowed {self.lo:,} to {self.hi:,}" if self.hi is not None else ""
            raise ParameterError(name, f"must be at least {self.lo:,} (got {value:,}{span})")
        if self.hi is not None and value > self.hi:
            raise ParameterError(name, f"must be at most {self.hi:,} (got {value:,}; see docs/cli.md, "
                                       "Limits)")
        return value


@dataclass(frozen=True)
class Options:
    """One of a fixed set of strings (case-insensitive; the lower-case value is returned)."""

    values: tuple[str, ...]

    def check(self, name: str, value: Any) -> str:
        text = str(value).strip().lower() if value is not None else ""
        if text not in self.values:
            raise ParameterError(name, f"must be one of {', '.join(self.values)} (got '{value}')")
        return text


Constraint = Interval | Options


def check(name: str, value: Any, constraint: Constraint) -> Any:
    """``value`` checked against ``constraint`` (``None`` passes: the caller's default applies)."""
    return None if value is None else constraint.check(name, value)


def validate_params(params: Mapping[str, Any], constraints: Mapping[str, Constraint]) -> None:
    """Check every parameter that has a constraint; the first bad one raises :class:`ParameterError`."""
    for name, constraint in constraints.items():
        if name in params:
            check(name, params[name], constraint)
