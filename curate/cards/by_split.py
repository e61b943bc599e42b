"""Composition per split (CLAIM: demographics of each partition), built from composition's own tables.

Called by :func:`curate.cards.composition.measure_composition` when the metadata has a split column: one
table of patients / studies / images per split, then each tabulated attribute (age band, sex, device,
site, ...) by split. Cells go through the same counter, so small-cell and complementary suppression are
judged on patients exactly as in the one-way tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from curate.cards.composition import Table, _Counter

#: A study column (``curate scan`` writes keyed ``study_key``): counted per split, never listed.
STUDY_COLUMNS = ("study_key", "study_id", "study", "study_uid", "accession")


def study_column(df: pd.DataFrame) -> str | None:
    return next((c for c in df.columns if str(c).lower() in STUDY_COLUMNS), None)


def split_tables(counter: _Counter, df: pd.DataFrame, split_key: pd.Series,
                 keys: dict[str, pd.Series]) -> list[Table]:
    """Levels (patients, studies, images) per split, then every attribute in ``keys`` by split."""
    import numpy as np

    from curate.cards.composition import Table, _crosstab, _fmt_int, _ordered_levels

    images = split_key.value_counts(sort=False, dropna=False)
    levels = _ordered_levels(images)
    images = images.reindex(levels)
    study = study_column(df)
    cols = ["split"]
    values: list[list[int]] = []
    if counter.by_patients:
        cols.append("patients")
        values.append(df[counter.patient_col].groupby(split_key).nunique().reindex(levels).fillna(0).tolist())
    if study:
        cols.append("studies")
        values.append(df[study].groupby(split_key).nunique().reindex(levels).fillna(0).tolist())
    cols.append("images")
    values.append(images.tolist())
    basis = np.asarray(values[0], dtype=int)  # patients when known, else images
    hide = counter.mask(basis)
    rows = [[str(lv), *[hide[i] or _fmt_int(v[i]) for v in values]] for i, lv in enumerate(levels)]
    out = [Table(title="Per split: " + ", ".join(cols[1:]), columns=cols, rows=rows,
                 note="A split with fewer than 11 patients is hidden whole.")]
    for role, key in keys.items():
        attr = "age band" if role == "age" else role
        out.append(_crosstab(counter, split_key, key, attr, f"{attr.capitalize()} by split"))
    return out
