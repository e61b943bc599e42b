"""Where the built-in catalog is, and its shipped parsed snapshot (a leaf of :mod:`curate.catalog`)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from curate.errors import CatalogError


def builtin_dir() -> Path:
    """The shipped catalog: ``curate/_catalog`` in a wheel, the repository's ``catalog/`` when editable."""
    pkg = Path(__file__).resolve().parent.parent
    for candidate in (pkg / "_catalog", pkg.parent / "catalog"):
        if candidate.is_dir():
            return candidate
    raise CatalogError("built-in catalog folder not found (broken installation?)")


NAME = "_parsed.json"  # the shipped snapshot of the built-in catalog (curate.catalog.snapshot writes it)


@lru_cache(maxsize=1)
def documents() -> dict[str, Any]:
    """The shipped snapshot's documents ({} when absent or unreadable)."""
    try:
        doc = json.loads((builtin_dir() / NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return doc.get("documents", {}) if doc.get("format") == 1 else {}
