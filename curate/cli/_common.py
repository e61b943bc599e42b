"""Small helpers shared by the command modules (consoles, JSON output, option types)."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

console = Console(highlight=False, soft_wrap=False)


def print_json(obj: Any) -> None:
    """Machine-readable output: plain JSON on stdout (no Rich styling)."""
    sys.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


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
