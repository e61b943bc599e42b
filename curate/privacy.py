"""Disclosure control for anything curate publishes about people.

Rules (stated in every card that uses them):

- cells counting fewer than ``MIN_CELL`` (11) individuals are shown as ``<11`` — the CMS / NCHS
  small-cell convention; zero cells are shown (a zero identifies nobody);
- complementary suppression: when a row or column of a table with published totals would have exactly one
  suppressed cell, the next-smallest cell in that row/column is suppressed too, so the hidden value cannot
  be recovered by subtraction. Such a complement may well hold 11 or more, so it is shown as ``*``
  (``COMPLEMENT``), never as ``<11`` — a ``<11`` on it would be false and, beside a published total,
  would wrongly bound the other cells (``SUPPRESSION_NOTE`` is the footnote every renderer prints);
- ages of 90 and above are top-coded to ``90+`` (HIPAA Safe Harbor, 45 CFR 164.514(b)(2)(i)(C));
- identifier columns (patient / image / study ids) are never shown; only counts derived from them.
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
