"""Identifier heuristics, and the old import path of disclosure control.

Small-cell suppression (``<11`` cells, complements ``*``, the exact solvability check) and age top-coding
live in :mod:`curate.policy.disclosure`; their names are re-exported here for existing imports.
Identifier columns (patient / image / study ids) are never shown; only counts derived from them.
"""

from __future__ import annotations

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

# identifier detection lives in the policy package (one list for every command); re-exported for old imports
from curate.policy.identifiers import looks_like_identifier  # noqa: E402,F401
