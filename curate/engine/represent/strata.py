"""Strata shared by a dataset and its reference: sex codes, a common age grid, and the joint count table.

The age grid is the finest set of bands both sides can be expressed in: it starts from the reference's band
edges (WPP: 0, 5, …, 100) and drops every edge that falls strictly inside an age *range* of the dataset
(a patient recorded as ``40-49`` removes the edge 45), so every patient lies in exactly one band and the
reference's populations add up band by band. Ages at or above ``top`` (default 90, the HIPAA top-code) form
one open band.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from curate.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

#: Sex codes read as female / male without a mapping; ``O`` and unknown stay a stratum of their own.
FEMALE = ("f", "female", "woman", "women", "w", "girl")
MALE = ("m", "male", "man", "men", "boy")
OTHER = "O"
UNKNOWN = "unknown"


def parse_sex_codes(spec: str | dict | None) -> dict[str, str]:
    """``"1=M,2=F"`` (or a dict) → ``{"1": "M", "2": "F"}``; targets must be F, M or O."""
    if not spec:
        return {}
    items = spec.items() if isinstance(spec, dict) else (p.split("=", 1) for p in str(spec).split(",") if p)
    out: dict[str, str] = {}
    for pair in items:
        if len(pair) != 2:
            raise InputError(f"sex_codes: give CODE=F|M|O pairs separated by commas (got {spec!r})")
        code, target = (str(x).strip() for x in pair)
        if target.upper() not in ("F", "M", "O"):
            raise InputError(f"sex_codes: '{code}' must map to F, M or O")
        out[code.lower()] = target.upper()
    return out


def normalise_sex(values: pd.Series, *, codes: dict[str, str] | None = None,
                  column: str = "sex") -> pd.Series:
    """``F``, ``M``, ``O`` (other) or ``unknown`` (missing). Numeric codes need ``codes`` (e.g. ISO/IEC 5218
    ``{"1": "M", "2": "F"}``): ``1``/``2`` mean different things in different datasets, so they are never
    guessed. Any other value is an error naming the column (values are not echoed)."""
    codes = {str(k).lower(): v for k, v in (codes or {}).items()}

    def one(v: object) -> str | None:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return UNKNOWN
        text = str(v).strip().lower()
        if text.endswith(".0"):
            text = text[:-2]
        if text in codes:
            return codes[text]
        if text in ("", "nan", "na", "n/a", "none", "unknown", "u", "not reported", "missing"):
            return UNKNOWN
        if text in FEMALE:
            return "F"
        if text in MALE:
            return "M"
        if text in ("o", "other", "x", "intersex", "non-binary", "nonbinary"):
            return OTHER
        return None

    out = values.map(one)
    bad = out.isna()
    if bad.any():
        numeric = values[bad].astype(str).str.strip().str.fullmatch(r"\d+(\.0)?").all()
        hint = (" (numeric codes: give their meaning, e.g. sex_codes='1=M,2=F' / --sex-codes 1=M,2=F)"
                if numeric else " (use F/M/O, female/male/other, or give sex_codes)")
        raise InputError(f"sex column '{column}' has {int(bad.sum()):,} value(s) that are not sex codes"
                         f"{hint}")
    return out.astype(object)


def age_grid(ref_edges: list[float], lo: np.ndarray, hi: np.ndarray, *, top: float = 90) -> list[float]:
    """Band edges (ascending, last ``inf``) shared by the reference and the dataset's age values."""
    import numpy as np

    edges = sorted({float(e) for e in ref_edges if not math.isinf(e) and (not top or e <= top)})
    ranges = ~np.isnan(lo) & (hi > lo)
    keep = []
    for e in edges:
        if e == edges[0] or not np.any(ranges & (lo < e) & (hi > e)):
            keep.append(e)
    first = keep[0]
    if np.any(~np.isnan(lo) & (lo < first)):
        raise InputError(f"ages below {first:g} are outside the reference")
    return keep + [math.inf]


def assign_bands(lo: np.ndarray, edges: list[float]) -> np.ndarray:
    """Index of the band ``[edges[i], edges[i+1])`` holding each age (its lower end); -1 where missing."""
    import numpy as np

    idx = np.searchsorted(np.asarray(edges[:-1]), lo, side="right") - 1
    return np.where(np.isnan(lo), -1, idx)


def band_labels(edges: list[float]) -> list[str]:
    """``["0-4", "5-9", ..., "90+"]`` for the bands of ``edges``."""
    out = []
    for a, b in zip(edges, edges[1:]):
        out.append(f"{a:g}+" if math.isinf(b) else f"{a:g}-{b - 1:g}")
    return out


def reference_on_grid(table: pd.DataFrame, edges: list[float]) -> pd.DataFrame:
    """Reference populations summed into the grid's bands (``age`` = band index); every reference band
    must lie inside one grid band (true by construction of :func:`age_grid`)."""
    import numpy as np

    t = table.copy()
    t["age"] = assign_bands(t["age_lo"].to_numpy(float), edges)
    upper = np.asarray(edges[1:])[t["age"].to_numpy()]
    if np.any(t["age_hi"].to_numpy(float) > upper + 1e-9):
        raise InputError("the reference's age bands do not nest in the dataset's age ranges")
    keys = [c for c in t.columns if c not in ("age_lo", "age_hi", "population")]
    return t.groupby(keys, as_index=False)["population"].sum()
