"""Identifier heuristics, and the old import path of disclosure control.

Small-cell suppression (``<11`` cells, complements ``*``, the exact solvability check) and age top-coding
live in :mod:`curate.policy.disclosure`; their names are re-exported here for existing imports.
Identifier columns (patient / image / study ids) are never shown; only counts derived from them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

# disclosure control lives in curate.policy.disclosure; these names are re-exported for old imports
from curate.policy.disclosure import (  # noqa: E402,F401
    AGE_TOP_CODE,
    COMPLEMENT,
    MIN_CELL,
    SUPPRESSED,
    SUPPRESSION_NOTE,
    age_bands,
    suppress,
    suppressed_total,
    suppression_marks,
    top_code_ages,
)

_ID_NAME = re.compile(r"(^|_)(id|ids|uid|uuid|mrn|identifier|file|filename|path|image|study|accession)s?$|"
                      r"^(patient|subject|image|study|series|file)(_?id|_?name|_?number)?$", re.IGNORECASE)


def looks_like_identifier(name: str, values: pd.Series | None = None) -> bool:
    """Heuristic: a column whose name says id/file/path, or a text column almost unique per row."""
    if _ID_NAME.search(name.strip()):
        return True
    if values is not None and len(values) >= 20 and values.dtype == object:
        nunique = values.nunique(dropna=True)
        return nunique / max(1, values.notna().sum()) > 0.9
    return False
