"""How options read in ``--help``: flags show no value placeholder, values show a plain word.

Typer 0.2x prints a type placeholder after every option — ``--json <bool>``, ``--seed <int>`` — which reads
as if a flag took a value. curate shows none after a flag and click's plain words (``TEXT``, ``INTEGER``,
``FLOAT``) after other options, unless the option names its own metavar (``FILE``, ``DIR``, ``COL``).
"""

from __future__ import annotations

_WORDS = {"str": "TEXT", "int": "INTEGER", "float": "FLOAT", "bool": "BOOLEAN", "path": "PATH"}


def _plain(label: str | None) -> str | None:
    if not label or not (label.startswith("<") and label.endswith(">")):
        return label
    inner = label[1:-1]
    return _WORDS.get(inner, inner.upper())


def install() -> None:
    """Patch typer's help rendering (presentation only; parsing is untouched). A no-op on other versions."""
    try:
        from typer import core
    except ImportError:  # pragma: no cover
        return
    option = getattr(core, "TyperOption", None)
    param = getattr(core, "_TyperParameter", None)
    if option is None or param is None or getattr(option, "_curate_help", False):
        return
    opt_original = option.display_type_rich

    def option_type(self, ctx):
        if getattr(self, "is_flag", False) and self.metavar is None:
            return None
        return _plain(opt_original(self, ctx))

    def argument_type(self, ctx):  # an argument's name (EMB, META) already says what it takes
        return None

    option.display_type_rich = option_type
    param.display_type_rich = argument_type
    option._curate_help = True
