"""Composition per split (CLAIM: demographics of each partition), built from composition's own tables.

Called by :func:`curate.pipeline.composition.measure_composition` when the metadata has a split column: one
table of patients / studies / images per split, then each tabulated attribute (age band, sex, device,
site, ...) by split. Cells go through the same counter, so small-cell and complementary suppression are
judged on patients exactly as in the one-way tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from curate.output.composition import Counter, Linked, Table

#: A study column (``curate scan`` writes keyed ``study_key``): counted per split, never listed.
STUDY_COLUMNS = ("study_key", "study_id", "study", "study_uid", "accession")


def study_column(df: pd.DataFrame) -> str | None:
    return next((c for c in df.columns if str(c).lower() in STUDY_COLUMNS), None)


def split_tables(counter: Counter, df: pd.DataFrame, split_key: pd.Series, keys: dict[str, pd.Series],
                 linked: dict[str, Linked]) -> list[Table]:
    """Levels (patients, studies, images) per split, then every attribute in ``keys`` by split.

    Both go through :class:`curate.policy.disclosure.Disclosure` with the split's and each attribute's
    one-way tables included (their published marks and totals), so no hidden cell can be solved from the
    combination of tables.
    """
    from curate.output.composition import Table, _fmt_int, _ordered_levels, crosstab
    from curate.policy.disclosure import Disclosure

    out: list[Table] = []
    split_linked = linked.get("split")
    if split_linked is None:
        return out
    images = split_key.value_counts(sort=False, dropna=False)
    levels = _ordered_levels(images)
    images = images.reindex(levels)
    study = study_column(df)
    if study:  # studies per split: a new count, protected with the split's images and patients
        studies = df[study].groupby(split_key).nunique().reindex(levels).fillna(0).astype(int)
        pats = (df[counter.patient_col].groupby(split_key).nunique().reindex(levels).fillna(0).astype(int)
                if counter.by_patients else images)
        d = Disclosure()
        off = d.include(split_linked.d)
        cells = []
        for lv in levels:
            im, _p = split_linked.cells[lv]
            st = d.cell(int(studies[lv]), group=off + im)
            d.at_least(off + im, st)
            cells.append((st, None))
        marks = counter.solve(d, "Per split: studies", cells)
        if not d.withheld:
            cols = ["split", *(["patients"] if counter.by_patients else []), "studies", "images"]
            rows = []
            for i, lv in enumerate(levels):
                shown = split_linked.mark(lv)
                row = [str(lv)]
                if counter.by_patients:
                    row.append(shown or _fmt_int(int(pats[lv])))
                row += [marks[i] or shown or _fmt_int(int(studies[lv])), shown or _fmt_int(int(images[lv]))]
                rows.append(row)
            out.append(Table(title="Per split: " + ", ".join(cols[1:]), columns=cols, rows=rows))
    for role, key in keys.items():
        if role not in linked:
            continue
        attr = "age band" if role == "age" else role
        table = crosstab(counter, split_key, key, attr, f"{attr.capitalize()} by split",
                         groups=linked[role], label=split_linked)
        if table is not None:
            out.append(table)
    return out
