"""Measured composition of a dataset from its per-image metadata file (CSV or parquet).

What the catalog says a dataset contains is only what its papers report; the metadata file shows what is
actually there. This module turns one such file into display-ready tables for the cards, applying the
disclosure rules of :mod:`curate.privacy` *before* anything leaves it:

- every count of individuals below ``MIN_CELL`` (11) becomes ``<11``, with complementary suppression so the
  hidden value cannot be recovered from a row or column total (complements, which may hold any count, are
  shown as ``*``); when a patient column is known, a cell is
  judged by the number of distinct *patients* in it (images of one person are not independent), otherwise by
  images;
- ages are top-coded at 90 (``90+``) before any band or summary is computed;
- identifier columns (patient, image, anything that looks like an id) are never tabulated: only counts
  derived from them leave this module, so no identifier value can reach a card.

Column roles (patient, image, age, sex, race, ethnicity, nationality, device, site, split, label) are
inferred from common column names and can be set explicitly (``{"age": "patient_age"}`` or
``["age=patient_age", "label=DR_ICDR"]``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curate.errors import InputError
from curate.policy.roles import (  # noqa: F401 - re-exported: the card's role API is the policy's
    IDENTIFIER_ROLES,
    POSITIVE,
    ROLE_ALIASES,
    ROLES,
    SENSITIVE,
    infer_roles,
    is_binary,
    parse_column_specs,
)
from curate.privacy import AGE_TOP_CODE, MIN_CELL, SUPPRESSED, SUPPRESSION_NOTE

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: Columns with more distinct values than this are summarised, never listed (they could single people out).
MAX_LEVELS = 30
MISSING = "(missing)"
# the role vocabulary, spec parsing and role inference are the policy's (one list for every command)
_POSITIVE = POSITIVE
_is_binary = is_binary


# ------------------------------------------------------------------------------------------- reading
def read_metadata(path: str | Path) -> pd.DataFrame:
    """Read a per-image metadata table (.csv, .tsv, .txt, .parquet); one clear error when it cannot be."""
    from curate.tables import read_table

    return read_table(path)


# ------------------------------------------------------------------------------------------- data model
@dataclass
class Table:
    """A display-ready table: every cell already a string, small cells already suppressed."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    note: str | None = None


@dataclass
class ColumnInfo:
    name: str
    dtype: str
    role: str | None
    missing: str  # suppressed count
    missing_pct: str
    distinct: str


@dataclass
class Composition:
    """Measured composition of one metadata file (everything privacy-safe and display-ready)."""

    source: str
    sha256: str
    n_rows: int
    n_images: int
    n_patients: int | None
    roles: dict[str, list[str]]
    explicit_roles: list[str]
    counted_by: str  # "patients" or "images": what small-cell suppression was judged on
    columns: list[ColumnInfo] = field(default_factory=list)
    images_per_patient: dict[str, str] | None = None
    age_summary: dict[str, str] | None = None
    tables: list[Table] = field(default_factory=list)
    label_tables: list[Table] = field(default_factory=list)
    crosstabs: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    suppressed_cells: int = 0

    def role(self, name: str) -> str | None:
        cols = self.roles.get(name)
        return cols[0] if cols else None

    @property
    def suppression_note(self) -> str:
        """Footnote explaining the two markers (``<11`` small cell, ``*`` complement) under the tables."""
        return SUPPRESSION_NOTE

    @property
    def reported_attributes(self) -> list[str]:
        return [r for r in SENSITIVE if r in self.roles]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ------------------------------------------------------------------------------------------- helpers
def _plain(v: Any) -> Any:
    """1.0 → 1 (CSV columns with gaps are read as float), numpy scalars → Python."""
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and math.isfinite(v) and v.is_integer():
        return int(v)
    return v


def _label(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return MISSING
    text = str(_plain(v)).replace("\n", " ").strip()
    return text or MISSING


def _fmt_int(v: int) -> str:
    return f"{int(v):,}"


def _pct(num: float, den: float) -> str:
    return f"{100.0 * num / den:.1f}%" if den else "—"


class _Counter:
    """Counts images (rows) and, when a patient column is known, distinct patients per group."""

    def __init__(self, df: pd.DataFrame, patient_col: str | None) -> None:
        self.df = df
        self.patient_col = patient_col
        self.suppressed = 0

    @property
    def by_patients(self) -> bool:
        return self.patient_col is not None

    def one_way(self, key: pd.Series) -> tuple[pd.Series, pd.Series]:
        """(images, basis) per level of ``key`` (basis = patients or images)."""
        images = key.value_counts(sort=False, dropna=False)
        if not self.by_patients:
            return images, images
        basis = self.df[self.patient_col].groupby(key, sort=False, dropna=False, observed=True).nunique()
        return images, basis.reindex(images.index).fillna(0).astype(int)

    def two_way(self, rows: pd.Series, cols: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
        import pandas as pd

        images = pd.crosstab(rows, cols, dropna=False)
        if not self.by_patients:
            return images, images
        basis = pd.pivot_table(
            pd.DataFrame({"r": rows, "c": cols, "p": self.df[self.patient_col]}),
            index="r", columns="c", values="p", aggfunc="nunique", fill_value=0, dropna=False,
            observed=False,
        )
        basis = basis.reindex(index=images.index, columns=images.columns).fillna(0).astype(int)
        return images, basis

    def mask(self, basis):
        """Per-cell marks: ``""`` shown, ``<11`` small cell, ``*`` complement (truthy = hidden).

        From :func:`curate.privacy.suppression_marks`.
        """
        import numpy as np

        from curate.privacy import suppression_marks

        m = suppression_marks(np.asarray(basis), MIN_CELL)
        self.suppressed += int(sum(bool(x) for x in m.ravel()))
        return m

    def cell_mask(self, basis: int) -> bool:
        """A lone count (no published total it belongs to): hide it when it is small."""
        hide = 0 < basis < MIN_CELL
        self.suppressed += int(hide)
        return hide


def _key(series: pd.Series) -> pd.Series:
    """Group key with missing values as an explicit level (so tables add up to the totals)."""
    return series.map(_label).astype(object)


def _ordered_levels(images: pd.Series, order: list[str] | None = None) -> list:
    levels = list(images.index)
    if order is not None:
        return [lv for lv in order if lv in levels] + [lv for lv in levels if lv not in order]
    present = [lv for lv in levels if lv != MISSING]
    present.sort(key=lambda lv: (-int(images[lv]), str(lv)))
    return present + ([MISSING] if MISSING in levels else [])


def _tabulable(df: pd.DataFrame, col: str) -> str | None:
    """Why a column must not be listed value by value (None when it may be)."""
    from curate.privacy import looks_like_identifier

    if looks_like_identifier(col, df[col]):
        return "looks like an identifier; values are never shown"
    n = df[col].nunique(dropna=True)
    if n > MAX_LEVELS:
        return f"{n:,} distinct values; not listed (only columns with at most {MAX_LEVELS} values are)"
    return None


def _one_way_table(counter: _Counter, key: pd.Series, title: str, order: list[str] | None = None,
                   note: str | None = None) -> Table:
    images, basis = counter.one_way(key)
    levels = _ordered_levels(images, order)
    images, basis = images.reindex(levels), basis.reindex(levels)
    hide = counter.mask(basis)
    total = int(images.sum())
    cols = ["value", "images", "share of images"]
    if counter.by_patients:
        cols.insert(2, "patients")
    rows = []
    for i, lv in enumerate(levels):
        row = [str(lv), hide[i] or _fmt_int(images[lv])]
        if counter.by_patients:
            row.append(hide[i] or _fmt_int(basis[lv]))
        row.append("—" if hide[i] else _pct(images[lv], total))
        rows.append(row)
    if counter.by_patients and len(levels) > 1:
        note = ((note + " ") if note else "") + "A patient with images in several groups is counted in each."
    return Table(title=title, columns=cols, rows=rows, note=note)


# ------------------------------------------------------------------------------------------- main entry
def _check_ages(df: pd.DataFrame, col: str) -> pd.Series:
    import pandas as pd

    from curate.scan.dicom_header import dicom_ages

    raw = dicom_ages(df[col])  # DICOM Age Strings (060Y, 018M, ...) in years; other values unchanged
    ages = pd.to_numeric(raw, errors="coerce")
    present = raw.notna() & raw.astype(str).str.strip().ne("")
    bad = int((present & ages.isna()).sum())
    if bad:
        raise InputError(
            f"age column '{col}' has {bad:,} non-numeric value(s); clean them or choose another column with "
            f"--column age=COLUMN"
        )
    neg = int((ages < 0).sum())
    if neg:
        raise InputError(f"age column '{col}' has {neg:,} negative value(s)")
    return ages.astype(float)


def measure_composition(
    metadata: str | Path | pd.DataFrame,
    columns: Mapping[str, Any] | Iterable[str] | None = None,
    *,
    name: str | None = None,
    sha256: str | None = None,
) -> Composition:
    """Measured composition of a per-image metadata table (path or DataFrame), privacy rules applied.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"patient_id": range(40), "patient_sex": ["F"] * 30 + ["M"] * 10})
    >>> comp = measure_composition(df)
    >>> comp.n_patients, comp.tables[0].rows[1][1]
    (40, '<11')
    """
    import pandas as pd

    from curate._io import sha256_file
    from curate.privacy import age_bands, top_code_ages

    explicit = parse_column_specs(columns)
    if isinstance(metadata, pd.DataFrame):
        df = metadata.copy()
        df.columns = [str(c) for c in df.columns]
        source = name or "metadata"
        digest = sha256 or _frame_sha256(df)
        if len(df) == 0 or len(df.columns) == 0:
            raise InputError("metadata table has no data rows")
    else:
        path = Path(metadata)
        df = read_metadata(path)
        source = name or path.name
        digest = sha256 or sha256_file(path)
    role_notes: list[str] = []
    roles = infer_roles(df, explicit, source=source, notes=role_notes)

    def col(role: str) -> str | None:
        return roles[role][0] if role in roles else None

    patient_col, image_col = col("patient"), col("image")
    ages = _check_ages(df, col("age")) if col("age") else None
    counter = _Counter(df, patient_col)
    n_rows = len(df)
    n_images = int(df[image_col].nunique(dropna=True)) if image_col else n_rows
    n_patients = int(df[patient_col].nunique(dropna=True)) if patient_col else None
    comp = Composition(
        source=source, sha256=digest, n_rows=n_rows, n_images=n_images, n_patients=n_patients,
        roles=roles, explicit_roles=sorted(explicit), counted_by="patients" if patient_col else "images",
    )
    comp.notes.extend(role_notes)
    if image_col and n_images != n_rows:
        comp.notes.append(
            f"The file has {n_rows:,} rows but {n_images:,} distinct images; tables count rows."
        )
    if not patient_col:
        comp.notes.append("No patient column: small cells are judged on image counts.")

    # images per patient ------------------------------------------------------------------------
    if patient_col:
        per = df.groupby(patient_col, dropna=True).size()
        comp.images_per_patient = {
            "mean": f"{per.mean():.2f}", "median": f"{per.median():g}", "max": _fmt_int(per.max()),
        }
        bucket = per.clip(upper=5).map(lambda n: "5+" if n >= 5 else str(int(n))).astype(object)
        counts = bucket.value_counts()
        levels = [lv for lv in ("1", "2", "3", "4", "5+") if lv in counts.index]
        counts = counts.reindex(levels)
        hide = counter.mask(counts)
        comp.tables.append(Table(
            title="Images per patient",
            columns=["images per patient", "patients", "share of patients"],
            rows=[[lv, hide[i] or _fmt_int(counts[lv]),
                   "—" if hide[i] else _pct(counts[lv], counts.sum())] for i, lv in enumerate(levels)],
        ))

    # age ------------------------------------------------------------------------------------------
    band_key = None
    if ages is not None:
        capped = top_code_ages(ages)
        known = capped.dropna()
        if len(known) >= MIN_CELL:
            q1, q3 = known.quantile(0.25), known.quantile(0.75)
            comp.age_summary = {
                "n": _fmt_int(len(known)), "mean": f"{known.mean():.1f}", "sd": f"{known.std():.1f}",
                "median": f"{known.median():.1f}", "iqr": f"{q1:.1f}–{q3:.1f}",
            }
            old = ages >= AGE_TOP_CODE
            n_old = int(old.sum())
            basis = int(df.loc[old, patient_col].nunique()) if patient_col else n_old
            comp.age_summary["top_coded"] = SUPPRESSED if counter.cell_mask(basis) else _fmt_int(n_old)
        bands = age_bands(capped)
        order = [str(c) for c in bands.cat.categories] + [MISSING]
        band_key = bands.astype(object).where(bands.notna(), MISSING).map(str).astype(object)
        comp.tables.append(_one_way_table(
            counter, band_key, f"Age bands (`{col('age')}`, years)", order=order,
            note=f"Ages of {AGE_TOP_CODE} and above are top-coded as {AGE_TOP_CODE}+.",
        ))

    # categorical attributes -------------------------------------------------------------------------
    keys: dict[str, pd.Series] = {}
    by_split: dict[str, pd.Series] = {}
    if band_key is not None:
        keys["age"] = by_split["age"] = band_key
    for role in ("sex", "race", "ethnicity", "nationality", "device", "site", "split"):
        c = col(role)
        if c is None:
            continue
        why = _tabulable(df, c)
        if why:
            comp.notes.append(f"`{c}` ({role}): {why}.")
            continue
        key = _key(df[c])
        if role in SENSITIVE:
            keys[role] = key
        if role != "split":
            by_split[role] = key
        comp.tables.append(_one_way_table(counter, key, f"{role.capitalize()} (`{c}`)"))
    if col("split") and _tabulable(df, col("split")) is None:
        from curate.cards.by_split import split_tables

        comp.tables.extend(split_tables(counter, df, _key(df[col("split")]), by_split))

    # labels -----------------------------------------------------------------------------------------
    binary, multi = [], []
    for c in roles.get("label", []):
        why = _tabulable(df, c)
        if why:
            comp.notes.append(f"`{c}` (label): {why}.")
        elif _is_binary(df[c]):
            binary.append(c)
        else:
            multi.append(c)
    if binary:
        comp.label_tables.append(_binary_prevalence(counter, df, binary))
    for c in multi:
        comp.label_tables.append(_one_way_table(counter, _key(df[c]), f"Label `{c}`"))
    for role, key in keys.items():
        attr = "age band" if role == "age" else role
        if binary:
            comp.crosstabs.append(_binary_by_group(counter, df, binary, key, attr))
        for c in multi:
            comp.crosstabs.append(_crosstab(counter, _key(df[c]), key, attr, f"Label `{c}` by {attr}"))

    # missingness -------------------------------------------------------------------------------------
    role_of = {c: r for r, cols in roles.items() for c in cols}
    for c in df.columns:
        miss = df[c].isna() | df[c].astype(str).str.strip().eq("")
        n_miss = int(miss.sum())
        basis = int(df.loc[miss, patient_col].nunique()) if patient_col else n_miss
        hide = counter.cell_mask(basis)
        comp.columns.append(ColumnInfo(
            name=c, dtype=_dtype_name(df[c]), role=role_of.get(c),
            missing=SUPPRESSED if hide else _fmt_int(n_miss),
            missing_pct="—" if hide else _pct(n_miss, n_rows),
            distinct="—" if role_of.get(c) in IDENTIFIER_ROLES else _fmt_int(df[c].nunique(dropna=True)),
        ))
    comp.suppressed_cells = counter.suppressed
    return comp


def _frame_sha256(df: pd.DataFrame) -> str:
    """A content hash for an in-memory table (provenance when no file is given)."""
    import hashlib

    import pandas as pd

    h = hashlib.sha256("\x1f".join(df.columns).encode("utf-8"))
    h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return h.hexdigest()


def _dtype_name(s: pd.Series) -> str:
    import pandas as pd

    if pd.api.types.is_bool_dtype(s):
        return "boolean"
    if pd.api.types.is_integer_dtype(s):
        return "integer"
    if pd.api.types.is_float_dtype(s):
        return "integer" if s.dropna().map(float.is_integer).all() and s.notna().any() else "float"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "datetime"
    return "text"


def _positive(s: pd.Series) -> pd.Series:
    return s.map(lambda v: str(_plain(v)).strip().lower() in _POSITIVE if _label(v) != MISSING else False)


def _binary_prevalence(counter: _Counter, df: pd.DataFrame, labels: list[str]) -> Table:
    """One row per binary label: positive / negative / missing, judged as a row that adds up to the total."""
    import numpy as np

    images, basis = [], []
    for c in labels:
        key = df[c].map(lambda v: MISSING if _label(v) == MISSING else
                        ("positive" if str(_plain(v)).strip().lower() in _POSITIVE else "negative"))
        im, ba = counter.one_way(key.astype(object))
        order = ["positive", "negative", MISSING]
        images.append([int(im.get(k, 0)) for k in order])
        basis.append([int(ba.get(k, 0)) for k in order])
    import pandas as pd

    hide = counter.mask(pd.DataFrame(np.array(basis)))
    rows = []
    for i, c in enumerate(labels):
        pos, neg, miss = images[i]
        cells = [hide[i, j] or _fmt_int(images[i][j]) for j in range(3)]
        prev = "—" if any(hide[i]) else _pct(pos, pos + neg)
        rows.append([f"`{c}`", *cells, prev])
    return Table(
        title="Binary labels (images)",
        columns=["label", "positive", "negative", "missing", "prevalence"],
        rows=rows,
        note="Prevalence = positive / (positive + negative).",
    )


def _binary_by_group(counter: _Counter, df: pd.DataFrame, labels: list[str], key: pd.Series,
                     attr: str) -> Table:
    """Positive images of each binary label per group of a sensitive attribute (with % of the group)."""
    import pandas as pd

    group_images = key.value_counts(dropna=False)
    levels = _group_order(group_images, attr)
    pos_images = pd.DataFrame(index=levels)
    pos_basis = pd.DataFrame(index=levels)
    for c in labels:
        pos = _positive(df[c])
        im = key[pos].value_counts(dropna=False)
        if counter.by_patients:
            ba = df.loc[pos, counter.patient_col].groupby(key[pos], dropna=False).nunique()
        else:
            ba = im
        pos_images[c] = im.reindex(levels).fillna(0).astype(int)
        pos_basis[c] = ba.reindex(levels).fillna(0).astype(int)
    hide = counter.mask(pos_basis)
    rows = []
    for i, lv in enumerate(levels):
        row = [str(lv)]
        for j in range(len(labels)):
            n = int(pos_images.iloc[i, j])
            row.append(hide[i, j] or f"{n:,} ({_pct(n, group_images[lv])})")
        rows.append(row)
    return Table(
        title=f"Binary labels by {attr}: positive images (% of the group's images)",
        columns=[attr, *[f"`{c}`" for c in labels]],
        rows=rows,
    )


def _band_sort(x: str) -> tuple:
    m = re.match(r"^(\d+)", str(x))
    return (0, int(m.group(1))) if m else (1, str(x))


def _group_order(counts: pd.Series, attr: str) -> list:
    """Age bands in age order, other groups largest first; missing always last."""
    if attr == "age band":
        return sorted(counts.index, key=lambda x: (x == MISSING, _band_sort(x)))
    return _ordered_levels(counts)


def _crosstab(counter: _Counter, label_key: pd.Series, group_key: pd.Series, attr: str,
              title: str) -> Table:
    images, basis = counter.two_way(group_key, label_key)
    rows_order = _group_order(group_key.value_counts(dropna=False), attr)
    cols_order = sorted(images.columns, key=lambda x: (x == MISSING, _band_sort(x)))
    images = images.reindex(index=rows_order, columns=cols_order)
    basis = basis.reindex(index=rows_order, columns=cols_order)
    hide = counter.mask(basis)
    rows = []
    for i, r in enumerate(rows_order):
        rows.append([str(r), *[hide[i, j] or _fmt_int(images.iloc[i, j])
                               for j in range(len(cols_order))]])
    return Table(title=f"{title} (images)", columns=["", *map(str, cols_order)], rows=rows)
