"""One age parser for metadata columns: DICOM Age Strings, plain numbers and age ranges → intervals of years.

Accepted values (case-insensitive, surrounding spaces ignored):

- a number of years: ``42``, ``42.5`` → the point ``[42.5, 42.5]``;
- a DICOM Age String (PS3.5 §6.2, VR ``AS``): ``060Y``, ``018M``, ``010W``, ``003D`` → ``n``, ``n / 12``,
  ``7 n / 365.25`` and ``n / 365.25`` years (a point);
- a range of whole years, both ends included: ``40-44``, ``40–44``, ``40 to 44``, ``40-44 years`` → the
  interval ``[40, 45)``;
- an open range: ``90+``, ``85+ years``, ``90 and over`` → ``[90, inf)``.

Empty values are missing (``NaN``); anything else is an error naming the column and the first bad line,
never the value. Ages are not top-coded here: :mod:`curate.policy.disclosure` does that where ages are
published. (``curate.publish.metadata.check_ages`` and ``curate.cards.composition`` still parse numbers
and DICOM strings on their own; they can move onto this module.)
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from curate.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

_DAYS_PER_YEAR = 365.25
_NUM = r"(\d+(?:\.\d+)?)"
_UNIT = r"(?:\s*(?:y|yr|yrs|year|years)\.?)?"
_DICOM = re.compile(r"^(\d{1,3})\s*([DWMY])$", re.I)
_RANGE = re.compile(rf"^{_NUM}{_UNIT}\s*(?:-|–|—|to)\s*{_NUM}{_UNIT}$", re.I)
_OVER = r"(?:\+|and\s+(?:over|older|above)|or\s+(?:over|older|more))"
_OPEN = re.compile(rf"^{_NUM}{_UNIT}\s*{_OVER}{_UNIT}$", re.I)


def parse_age_interval(value: object) -> tuple[float, float] | None:
    """``value`` as ``(lo, hi)`` in years: ``lo == hi`` for an exact age, ``hi`` exclusive for a range.

    Returns ``None`` for a missing value; raises ``ValueError`` for a value that is not an age.

    >>> parse_age_interval("060Y"), parse_age_interval("018M"), parse_age_interval("40-44")
    ((60.0, 60.0), (1.5, 1.5), (40.0, 45.0))
    >>> parse_age_interval("90+")
    (90.0, inf)
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not (0 <= value < math.inf):
            raise ValueError("not an age")
        return float(value), float(value)
    text = str(value).strip()
    if not text or text.lower() in ("nan", "na", "n/a", "none", "null"):
        return None
    if m := _DICOM.match(text):
        n, unit = int(m.group(1)), m.group(2).upper()
        years = {"Y": n, "M": n / 12, "W": n * 7 / _DAYS_PER_YEAR, "D": n / _DAYS_PER_YEAR}[unit]
        return float(years), float(years)
    if m := _RANGE.match(text):
        lo, hi = float(m.group(1)), float(m.group(2))
        if hi < lo:
            raise ValueError("empty range")
        return lo, hi + 1  # whole years, both ends included: 40-44 covers [40, 45)
    if m := _OPEN.match(text):
        return float(m.group(1)), math.inf
    try:
        years = float(text)
    except ValueError:
        raise ValueError("not an age") from None
    if not (0 <= years < math.inf):
        raise ValueError("not an age")
    return years, years


def age_intervals(values: pd.Series, column: str) -> pd.DataFrame:
    """Parse a metadata column: a frame with ``lo`` and ``hi`` (years; NaN where missing), same index.

    Raises :class:`InputError` naming ``column``, how many values are not ages and the first such line
    (header = line 1); values are never echoed (they may be identifiers).
    """
    import numpy as np
    import pandas as pd

    lo = np.full(len(values), np.nan)
    hi = np.full(len(values), np.nan)
    bad: list[int] = []
    for i, v in enumerate(values.tolist()):
        try:
            got = parse_age_interval(v)
        except ValueError:
            bad.append(i)
            continue
        if got is not None:
            lo[i], hi[i] = got
    if bad:
        raise InputError(
            f"age column '{column}' has {len(bad):,} value(s) that are not ages "
            f"(first at line {bad[0] + 2}); "
            "give years (42), DICOM age strings (060Y, 018M), or ranges (40-44, 90+)"
        )
    return pd.DataFrame({"lo": lo, "hi": hi}, index=values.index)
