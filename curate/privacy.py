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

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

MIN_CELL = 11
AGE_TOP_CODE = 90
SUPPRESSED = f"<{MIN_CELL}"
#: Marker of a complementary-suppressed cell (hidden only so a ``<11`` cell cannot be recovered; any size).
COMPLEMENT = "*"
#: Footnote for every table that may hold suppressed cells (Markdown).
SUPPRESSION_NOTE = (f"`{SUPPRESSED}`: fewer than {MIN_CELL} individuals; `{COMPLEMENT}`: hidden so that a "
                    f"`{SUPPRESSED}` cell cannot be recovered from the totals")

# identifier detection lives in the policy package (one list for every command); re-exported for old imports
from curate.policy.identifiers import looks_like_identifier  # noqa: E402,F401


def _suppression_mask(counts, k: int):
    import numpy as np

    c = np.asarray(counts, dtype=float)
    mask = (c > 0) & (c < k)
    if c.ndim == 1:
        c2, m2 = c[None, :], mask[None, :]
    else:
        c2, m2 = c, mask
    changed = True
    while changed:  # complementary suppression until no row/column has a single hidden cell
        changed = False
        for axis in (1, 0) if c.ndim == 2 else (1,):
            lines = m2 if axis == 1 else m2.T
            vals = c2 if axis == 1 else c2.T
            for i in range(lines.shape[0]):
                if lines[i].sum() == 1 and lines.shape[1] > 1:
                    cand = np.where(~lines[i])[0]
                    if cand.size == 0:
                        continue
                    nonzero = cand[vals[i, cand] > 0]
                    pool = nonzero if nonzero.size else cand
                    j = pool[np.argmin(vals[i, pool])]
                    lines[i, j] = True
                    changed = True
    return m2[0] if c.ndim == 1 else m2


def suppression_marks(counts, k: int = MIN_CELL):
    """Per-cell display marks (numpy object array shaped like ``counts``).

    ``""`` = show the count, ``"<k"`` = primary small cell (1 .. k-1 individuals), ``COMPLEMENT`` = a cell
    hidden only so that a primary cell cannot be recovered by subtraction (its size is not bounded).
    """
    import numpy as np

    c = np.asarray(counts, dtype=float)
    hidden = _suppression_mask(c, k)
    primary = (c > 0) & (c < k)
    marks = np.full(c.shape, "", dtype=object)
    marks[hidden & ~primary] = COMPLEMENT
    marks[primary] = f"<{k}"
    return marks


def suppress(counts: pd.Series | pd.DataFrame, k: int = MIN_CELL) -> pd.Series | pd.DataFrame:
    """Return a display copy (object dtype): small cells as ``<k``, their complements as ``*``.

    A complement is hidden only to protect a small cell and may hold any count (``X`` below holds 12), so it
    gets its own marker rather than a ``<k`` that would be false.

    >>> import pandas as pd
    >>> suppress(pd.Series({"F": 40, "M": 5, "X": 12})).tolist()
    [40, '<11', '*']
    """
    import pandas as pd

    marks = suppression_marks(counts.to_numpy(), k)
    out = counts.astype(object).copy()
    if isinstance(counts, pd.Series):
        for i in range(len(out)):
            if marks[i]:
                out.iloc[i] = marks[i]
        return out
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            if marks[i, j]:
                out.iloc[i, j] = marks[i, j]
    return out


def suppressed_total(total: int, k: int = MIN_CELL) -> int | str:
    """A total is itself a cell: hide it when it counts fewer than ``k`` individuals."""
    return f"<{k}" if 0 < total < k else total


def top_code_ages(ages: pd.Series, cap: int = AGE_TOP_CODE) -> pd.Series:
    """Numeric ages with everything ≥ ``cap`` set to ``cap`` (to be displayed as ``90+``)."""
    return ages.where(ages.isna() | (ages < cap), cap)


def age_bands(ages: pd.Series, width: int = 10, cap: int = AGE_TOP_CODE) -> pd.Series:
    """Ordered categorical bands ``0-9, 10-19, ..., 80-89, 90+`` (ages ≥ cap are top-coded)."""
    import numpy as np
    import pandas as pd

    edges = list(range(0, cap, width)) + [cap, np.inf]
    labels = [f"{lo}-{min(lo + width, cap) - 1}" for lo in edges[:-2]] + [f"{cap}+"]
    return pd.cut(ages, bins=edges, right=False, labels=labels)
