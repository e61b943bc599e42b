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


def fmt_int(v: int | None) -> str:
    return "—" if v is None else f"{v:,}"
