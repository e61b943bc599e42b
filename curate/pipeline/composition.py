"""Measured composition of a dataset from its per-image metadata file (CSV or parquet).

What the catalog says a dataset contains is only what its papers report; the metadata file shows what is
actually there. This module turns one such file into display-ready tables for the cards, applying the
disclosure rules of :mod:`curate.policy.disclosure` *before* anything leaves it:

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

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curate.errors import InputError
from curate.output.composition import (
    HIDDEN,
    MISSING,
    Counter,
    Table,
    _fmt_int,
    _label,
    _pct,
    binary_by_group,
    binary_prevalence,
    crosstab,
    images_per_patient,
    missing_cell,
    one_way_table,
)
from curate.pipeline.publish_metadata import check_ages
from curate.policy.disclosure import AGE_TOP_CODE, COMPLEMENT, MIN_CELL, SUPPRESSION_NOTE
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

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: Columns with more distinct values than this are summarised, never listed (they could single people out).
MAX_LEVELS = 30
# the role vocabulary, spec parsing and role inference are the policy's (one list for every command)
_POSITIVE = POSITIVE
_is_binary = is_binary


# ------------------------------------------------------------------------------------------- reading
# ------------------------------------------------------------------------------------------- data model
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
def _key(series: pd.Series) -> pd.Series:
    """Group key with missing values as an explicit level (so tables add up to the totals)."""
    return series.map(_label).astype(object)


def _tabulable(df: pd.DataFrame, col: str) -> str | None:
    """Why a column must not be listed value by value (None when it may be)."""
    from curate.policy.identifiers import looks_like_identifier

    if looks_like_identifier(col, df[col]):
        return "looks like an identifier; values are never shown"
    n = df[col].nunique(dropna=True)
    if n > MAX_LEVELS:
        return f"{n:,} distinct values; not listed (only columns with at most {MAX_LEVELS} values are)"
    return None


# ------------------------------------------------------------------------------------------- main entry
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
    explicit = parse_column_specs(columns)
    df, source, digest = _read(metadata, name, sha256)
    role_notes: list[str] = []
    roles = infer_roles(df, explicit, source=source, notes=role_notes)
    from curate.policy.roles import WITHHELD_NOTE, withhold_identifying_values

    for c, n in withhold_identifying_values(df, roles).items():  # each value that becomes a category
        role_notes.append(f"`{c}`: {n} {WITHHELD_NOTE}.")

    def col(role: str) -> str | None:
        return roles[role][0] if role in roles else None

    patient_col, image_col = col("patient"), col("image")
    ages = check_ages(df, col("age")) if col("age") else None
    counter = Counter(df, patient_col)
    n_rows = len(df)
    n_images = int(df[image_col].nunique(dropna=True)) if image_col else n_rows
    n_patients = counter.n_patients
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
        table, comp.images_per_patient = images_per_patient(counter)
        if table is not None:
            comp.tables.append(table)
    # what the missing-values table must show for a column already tabulated with a (missing) level
    missing_marks: dict[str, str] = {}

    # the sections: age, categorical attributes (and splits), labels, missingness ----------------------
    linked: dict[str, Any] = {}
    band_key = None if ages is None else _age_section(comp, counter, ages, col("age"), linked, missing_marks)
    keys = _attribute_section(comp, df, counter, col, band_key, linked, missing_marks)
    _label_section(comp, df, counter, roles, keys, linked, missing_marks)
    _missingness_section(comp, df, counter, roles, missing_marks)
    if counter.withheld:
        comp.notes.append("Withheld (too few individuals to protect even with every cell hidden): "
                          + ", ".join(counter.withheld) + ".")
    comp.suppressed_cells = counter.suppressed
    return comp


def _read(metadata: Any, name: str | None, sha256: str | None) -> tuple[pd.DataFrame, str, str]:
    """The table, the name shown for it and its sha256."""
    import pandas as pd

    from curate._io import sha256_file
    from curate.tables import read_table

    if isinstance(metadata, pd.DataFrame):
        df = metadata.copy()
        df.columns = [str(c) for c in df.columns]
        source = name or "metadata"
        digest = sha256 or _frame_sha256(df)
        if len(df) == 0 or len(df.columns) == 0:
            raise InputError("metadata table has no data rows")
    else:
        path = Path(metadata)
        df = read_table(path)
        source = name or path.name
        digest = sha256 or sha256_file(path)
    return df, source, digest


def _age_section(comp: Composition, counter: Counter, ages: pd.Series, age_col: str, linked: dict,
                 missing_marks: dict[str, str]) -> pd.Series:
    """Age bands (top-coded) and the age summary; returns each row's band (the key of the crosstabs)."""
    from curate.policy.disclosure import age_bands, top_code_ages

    capped = top_code_ages(ages)
    known = capped.dropna()
    bands = age_bands(capped)
    order = [str(c) for c in bands.cat.categories] + [MISSING]
    band_key = bands.astype(object).where(bands.notna(), MISSING).map(str).astype(object)
    table, linked["age"] = one_way_table(
        counter, band_key, f"Age bands (`{age_col}`, years)", order=order,
        note=f"Ages of {AGE_TOP_CODE} and above are top-coded as {AGE_TOP_CODE}+.",
    )
    if table is not None:
        comp.tables.append(table)
    ln = linked["age"]
    hidden_table = table is None
    missing_marks[age_col] = COMPLEMENT if hidden_table else (ln.mark(MISSING) if MISSING in ln.cells else "")
    if len(known) >= MIN_CELL:
        q1, q3 = known.quantile(0.25), known.quantile(0.75)
        top = f"{AGE_TOP_CODE}+"
        n_old = int((ages >= AGE_TOP_CODE).sum())
        comp.age_summary = {
            # the count with an age is the rows minus the (missing) cell: hidden with it
            "n": COMPLEMENT if missing_marks[age_col] else _fmt_int(len(known)),
            "mean": f"{known.mean():.1f}", "sd": f"{known.std():.1f}",
            "median": f"{known.median():.1f}", "iqr": f"{q1:.1f}–{q3:.1f}",
            "top_coded": (COMPLEMENT if hidden_table else ln.mark(top) or _fmt_int(n_old))
            if top in ln.cells else "0",
        }
    return band_key


def _attribute_section(comp: Composition, df: pd.DataFrame, counter: Counter, col, band_key: pd.Series | None,
                       linked: dict, missing_marks: dict[str, str]) -> dict[str, pd.Series]:
    """One table per categorical role (and the split tables); returns the sensitive attributes' keys."""
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
        table, linked[role] = one_way_table(counter, key, f"{role.capitalize()} (`{c}`)")
        if table is not None:
            comp.tables.append(table)
        missing_marks[c] = (COMPLEMENT if table is None else
                            (linked[role].mark(MISSING) if MISSING in linked[role].cells else ""))
        if role in SENSITIVE:
            keys[role] = key
        if role != "split":
            by_split[role] = key
    if col("split") and _tabulable(df, col("split")) is None:
        from curate.output.composition_splits import split_tables

        comp.tables.extend(split_tables(counter, df, _key(df[col("split")]), by_split, linked))
    return keys


def _label_section(comp: Composition, df: pd.DataFrame, counter: Counter, roles: dict[str, list[str]],
                   keys: dict[str, pd.Series], linked: dict, missing_marks: dict[str, str]) -> None:
    """Label prevalence (binary labels in one table, other labels one table each) and label × attribute."""
    binary, multi = [], []
    for c in roles.get("label", []):
        why = _tabulable(df, c)
        if why:
            comp.notes.append(f"`{c}` (label): {why}.")
        elif _is_binary(df[c]):
            binary.append(c)
        else:
            multi.append(c)
    label_rows, label_tables = {}, {}
    if binary:
        table, label_rows = binary_prevalence(counter, df, binary)
        comp.label_tables.append(table)
        for c in binary:
            missing_marks[c] = label_rows[c].mark(MISSING)
    for c in multi:
        table, label_tables[c] = one_way_table(counter, _key(df[c]), f"Label `{c}`")
        if table is not None:
            comp.label_tables.append(table)
        missing_marks[c] = (COMPLEMENT if table is None else
                            (label_tables[c].mark(MISSING) if MISSING in label_tables[c].cells else ""))
    for role, key in keys.items():
        attr = "age band" if role == "age" else role
        tables = []
        if binary:
            tables.append(binary_by_group(counter, df, binary, key, attr, linked[role], label_rows))
        for c in multi:
            tables.append(crosstab(counter, _key(df[c]), key, attr, f"Label `{c}` by {attr}",
                                   linked[role], label_tables[c]))
        comp.crosstabs.extend(t for t in tables if t is not None)


def _missingness_section(comp: Composition, df: pd.DataFrame, counter: Counter, roles: dict[str, list[str]],
                         missing_marks: dict[str, str]) -> None:
    """Per column: type, role, missing count (hidden with its table's cells) and distinct values."""
    n_rows = len(df)
    role_of = {c: r for r, cols in roles.items() for c in cols}
    for c in df.columns:
        miss = df[c].isna() | df[c].astype(str).str.strip().eq("")
        n_miss = int(miss.sum())
        mark = missing_marks[c] if c in missing_marks else (
            missing_cell(counter, miss, f"missing {c}") if n_miss else "")
        comp.columns.append(ColumnInfo(
            name=c, dtype=_dtype_name(df[c]), role=role_of.get(c),
            missing=mark or _fmt_int(n_miss),
            missing_pct=HIDDEN if mark else _pct(n_miss, n_rows),
            distinct="—" if role_of.get(c) in IDENTIFIER_ROLES else _fmt_int(df[c].nunique(dropna=True)),
        ))


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
