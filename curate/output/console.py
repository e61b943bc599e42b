"""Console lines: every number in a line is a declared field (:class:`Count`, :class:`Counts`,
:class:`Measure`), so the gate protects counts and a bare integer cannot slip into a line.

>>> say("kept {n} of {total} patients", n=Count(5, of=40), total=Count(40))  # doctest: +SKIP
kept <11 of 40 patients
"""

from __future__ import annotations

import json
import string
import sys
from typing import Any

from curate.output.counts import (
    Count,
    Counts,
    GateError,
    Measure,
    Shown,
    is_small,
    protect_count,
    protect_counts,
    shown,
)

_console = None
_err_console = None


def console(err: bool = False):
    """The Rich console of stdout (``err``: stderr), created on first use."""
    global _console, _err_console
    from rich.console import Console

    if err:
        if _err_console is None:
            _err_console = Console(stderr=True, highlight=False, soft_wrap=False)
        return _err_console
    if _console is None:
        _console = Console(highlight=False, soft_wrap=False)
    return _console


def _no_escape(text: str) -> str:
    return text


def _field(name: str, value: Any, escape=None) -> str:
    if escape is None:
        from rich.markup import escape

    if isinstance(value, Count):
        return shown(protect_count(value.value, value.of))
    if isinstance(value, Counts):
        if value.protected:
            small = [v for v in value.values.values() if is_small(v)]
            if small:
                raise GateError(f"field '{name}' holds unprotected small counts")
            prot = dict(value.values)
        else:
            prot = protect_counts(value.values, value.total, at_least=value.at_least)
        items = (value.item.format(label=escape(str(k)), count=shown(v)) for k, v in prot.items())
        return value.sep.join(items)
    if isinstance(value, Shown):
        if is_small(value.value):
            raise GateError(f"field '{name}' = {value.value!r} is an unprotected small count")
        return shown(value.value)
    if isinstance(value, Measure):
        return format(value.value, value.fmt)
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int | float) or type(value).__module__ == "numpy":
        raise GateError(f"field '{name}' = {value!r} is an undeclared number: declare it as Count "
                        "(individuals) or Measure (counts no one)")
    return escape(str(value))


def render(template: str, fields: dict[str, Any], *, markup: bool = True) -> str:
    """The line with every ``{field}`` protected and escaped (the template itself is Rich markup;
    ``markup=False``: plain text, nothing escaped)."""
    names = [f for _, f, _, _ in string.Formatter().parse(template) if f]
    esc = None if markup else _no_escape
    return template.format(**{n: _field(n, fields[n], esc) for n in names})


def cell(template: str, /, **fields: Any) -> str:
    """One table cell or title rendered by the gate (declared fields, as :func:`say`), for
    :func:`say_table` (which takes strings as already shown)."""
    return render(template, fields)


def width() -> int:
    """The width of the gate's stdout console (commands lay out tables by it)."""
    return console().width


def say_plain(template: str, /, *, err: bool = False, **fields: Any) -> str:
    """One line written as it is: no markup, no wrapping (a line a script may parse, a catalog problem);
    numbers are declared fields as in :func:`say`."""
    text = render(template, fields, markup=False)
    (sys.stderr if err else sys.stdout).write(text + "\n")
    return text


def error(message: str) -> str:
    """The one ``error: ...`` line on stderr. An error message names a parameter, a file or a reason
    (library errors name the Python parameter); it is written as it is."""
    return say_plain("error: {message}", err=True, message=message)


def say(template: str, /, *, err: bool = False, **fields: Any) -> str:
    """Print one line (Rich markup in ``template``; fields escaped). Returns the printed text."""
    text = render(template, fields)
    console(err).print(text)
    return text


def warn(template: str, /, **fields: Any) -> str:
    """A ``warning:`` line (stdout, like the commands' other lines)."""
    return say("[yellow]warning:[/yellow] " + template, **fields)


def note(template: str, /, **fields: Any) -> str:
    """A ``note:`` line."""
    return say("[yellow]note:[/yellow] " + template, **fields)


def say_table(title: str | None, columns: list[str], rows: list[list[Any]], *, caption: str | None = None,
              right: set[str] | None = None, markup: bool = False, column_kw: dict[str, dict] | None = None,
              **table_kw: Any) -> None:
    """A Rich table whose cells are protected already (strings, markers) or declared fields.

    ``markup``: string cells and the title are Rich markup whose values the caller escaped (or rendered
    with :func:`cell`); otherwise they are escaped here. ``column_kw``: Rich column options by column;
    ``table_kw``: Rich table options (``box``, ``show_header``, ``pad_edge``).
    """
    from rich.markup import escape
    from rich.table import Table

    esc = _no_escape if markup else escape
    t = Table(title=None if title is None else esc(title), caption=caption, **table_kw)
    for c in columns:
        kw = {"justify": "right" if right and c in right else "left", **(column_kw or {}).get(c, {})}
        t.add_column(esc(c), **kw)
    for row in rows:
        t.add_row(*[esc(v) if isinstance(v, str) else _field(columns[i], v) for i, v in enumerate(row)])
    console().print(t)


def say_json(obj: Any, *, counts: tuple[str, ...] = ()) -> None:
    """Machine-readable output: plain JSON on stdout; ``counts`` keys are checked like :func:`write_json`."""
    from curate.output.files import _check_json

    _check_json(obj, set(counts), "stdout")
    sys.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")
