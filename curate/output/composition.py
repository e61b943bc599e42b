"""The composition tables of a card, each protected by :class:`curate.policy.disclosure.Disclosure`.

Every table is one disclosure problem that *includes* the earlier tables it is linked to (a label-by-group
table includes the group sizes and the label's totals), so a cell hidden in one table cannot be solved
from another. A table whose small cells cannot be protected even with every cell hidden is withheld.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from curate.policy.disclosure import MIN_CELL, Disclosure
from curate.policy.roles import POSITIVE

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

MISSING = "(missing)"
HIDDEN = "—"


@dataclass
class Table:
    """A display-ready table: every cell already a string, small cells already suppressed."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    note: str | None = None
    #: the published counts of a one-way table as numbers, by column (``images``, ``patients``) and row
    #: label: an int where the table shows the count, the table's marker (``<11``, ``*``) where it hides it
    #: — exactly what the rows print, for a consumer that computes from published counts
    #: (:func:`curate.pipeline.represent_published.card_representativeness`) without parsing strings
    counts: dict[str, dict[str, int | str]] | None = None


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


@dataclass
class Linked:
    """A solved table kept so that later tables can include it: its problem and level → (images, patients)."""

    d: Disclosure
    cells: dict[Any, tuple[int, int | None]]

    def mark(self, level: Any) -> str:
        return self.d.marks[self.cells[level][0]]


class Counter:
    """Counts images (rows) and, when a patient column is known, distinct patients per group."""

    def __init__(self, df: pd.DataFrame, patient_col: str | None) -> None:
        self.df = df
        self.patient_col = patient_col
        self.suppressed = 0
        self.withheld: list[str] = []
        self.n_patients = int(df[patient_col].nunique(dropna=True)) if patient_col else None

    @property
    def by_patients(self) -> bool:
        return self.patient_col is not None

    def counts(self, key: pd.Series, mask: pd.Series | None = None) -> tuple[pd.Series, pd.Series]:
        """(images, basis) per level of ``key`` among rows in ``mask`` (basis = patients or images)."""
        if mask is not None:
            key = key[mask]
        images = key.value_counts(sort=False, dropna=False)
        if not self.by_patients:
            return images, images
        pats = self.df.loc[key.index, self.patient_col]
        basis = pats.groupby(key, sort=False, dropna=False, observed=True).nunique()
        return images, basis.reindex(images.index).fillna(0).astype(int)

    def add_cells(self, d: Disclosure, images: float, patients: float | None,
                  publish: bool = True) -> tuple[int, int | None]:
        """One table cell: an images count and (when known) a patients count, hidden together."""
        im = d.cell(images, basis=not self.by_patients, publish=publish)
        if not self.by_patients:
            return im, None
        p = d.cell(patients or 0, group=im, publish=publish)
        d.at_least(im, p)
        return im, p

    def sum_rel(self, d: Disclosure, cells: list[tuple[int, int | None]], images_total: Any,
                patients_total: Any, *, exact_patients: bool) -> None:
        """Published: Σ images = ``images_total``; Σ patients = (or ≥, when patients may repeat) the total.

        A total is a number or ``(cell, -1)``-style dict of cells (a cell of an included table).
        """
        def rel(idx: list[int], total: Any, exact: bool) -> None:
            coefs: dict[int, float] = {i: 1.0 for i in idx}
            rhs = 0.0
            if isinstance(total, dict):
                for j, c in total.items():
                    coefs[j] = coefs.get(j, 0.0) - c
            else:
                rhs = float(total)
            if exact:
                d.equal(coefs, rhs)
            else:
                d.between(coefs, rhs, None)

        rel([c[0] for c in cells], images_total, True)
        if self.by_patients and patients_total is not None:
            rel([c[1] for c in cells], patients_total, exact_patients)

    def solve(self, d: Disclosure, title: str, cells: list[tuple[int, int | None]]) -> list[str]:
        """Solve and count the hidden printed cells; marks per table cell (see ``d.withheld``)."""
        marks = d.solve()
        if d.withheld:
            self.withheld.append(title)
        per = [marks[c[0]] for c in cells]
        self.suppressed += sum((1 + (c[1] is not None)) for c, m in zip(cells, per) if m and d.publish[c[0]])
        return per


def _ordered_levels(images: pd.Series, order: list[str] | None = None) -> list:
    levels = list(images.index)
    if order is not None:
        return [lv for lv in order if lv in levels] + [lv for lv in levels if lv not in order]
    present = [lv for lv in levels if lv != MISSING]
    present.sort(key=lambda lv: (-int(images[lv]), str(lv)))
    return present + ([MISSING] if MISSING in levels else [])


def _band_sort(x: str) -> tuple:
    import re

    m = re.match(r"^(\d+)", str(x))
    return (0, int(m.group(1))) if m else (1, str(x))


def group_order(counts: pd.Series, attr: str) -> list:
    """Age bands in age order, other groups largest first; missing always last."""
    if attr == "age band":
        return sorted(counts.index, key=lambda x: (x == MISSING, _band_sort(x)))
    return _ordered_levels(counts)


def one_way_table(counter: Counter, key: pd.Series, title: str, order: list[str] | None = None,
                  note: str | None = None) -> tuple[Table | None, Linked]:
    """One attribute: images, patients and share per level; Σ images = rows, Σ patients ≥ patients."""
    images, basis = counter.counts(key)
    levels = _ordered_levels(images, order)
    images, basis = images.reindex(levels), basis.reindex(levels)
    d = Disclosure()
    cells = [counter.add_cells(d, images[lv], basis[lv]) for lv in levels]
    exact = counter.by_patients and int(basis.sum()) == counter.n_patients
    counter.sum_rel(d, cells, int(images.sum()), counter.n_patients, exact_patients=exact)
    hide = counter.solve(d, title, cells)
    linked = Linked(d, dict(zip(levels, cells)))
    if d.withheld:
        return None, linked
    total = int(images.sum())
    cols = ["value", "images", "share of images"]
    if counter.by_patients:
        cols.insert(2, "patients")
    rows = []
    counts: dict[str, dict[str, int | str]] = {"images": {}}
    if counter.by_patients:
        counts["patients"] = {}
    for i, lv in enumerate(levels):
        row = [str(lv), hide[i] or _fmt_int(images[lv])]
        counts["images"][str(lv)] = hide[i] or int(images[lv])
        if counter.by_patients:
            row.append(hide[i] or _fmt_int(basis[lv]))
            counts["patients"][str(lv)] = hide[i] or int(basis[lv])
        row.append(HIDDEN if hide[i] else _pct(images[lv], total))
        rows.append(row)
    if counter.by_patients and len(levels) > 1:
        note = ((note + " ") if note else "") + "A patient with images in several groups is counted in each."
    return Table(title=title, columns=cols, rows=rows, note=note, counts=counts), linked


def images_per_patient(counter: Counter) -> tuple[Table | None, dict[str, str]]:
    """Patients with 1, 2, 3, 4, 5+ images; published with Σ n_k = patients and Σ k·n_k = images.

    The mean is images / patients (both published); the median bounds the cumulative counts (it enters the
    check as two inequalities); the maximum is published only when at least ``MIN_CELL`` patients have it
    (a maximum held by few patients describes them).
    """
    df, pc = counter.df, counter.patient_col
    per = df.groupby(pc, dropna=True).size()
    levels = [lv for lv in ("1", "2", "3", "4", "5+") if (per.clip(upper=5) == int(lv[0])).any()]
    counts = [int((per.clip(upper=5) == int(lv[0])).sum()) for lv in levels]
    d = Disclosure()
    cells = [d.cell(n) for n in counts]
    d.equal({c: 1 for c in cells}, len(per))
    weights = {c: float(lv[0]) for c, lv in zip(cells, levels)}
    big = [c for c, lv in zip(cells, levels) if lv == "5+"]
    top = int(per.max())
    summary = {"mean": f"{per.mean():.2f}"}
    med = float(per.median())
    summary["median"] = f"{med:g}"
    below = {c: 1.0 for c, lv in zip(cells, levels) if int(lv[0]) < math.floor(med)}
    upto = {c: 1.0 for c, lv in zip(cells, levels) if int(lv[0]) <= math.ceil(med)}
    if below:  # fewer than half the patients lie below the median, at least half at or below it
        d.between(below, None, len(per) / 2)
    if upto and math.ceil(med) < 5:
        d.between(upto, len(per) / 2, None)
    summary["max"] = _fmt_int(top) if int((per == top).sum()) >= MIN_CELL else HIDDEN
    if big:  # 5+ patients hold between 5 and max images each
        hi = dict(weights)
        hi[big[0]] = float(top) if summary["max"] != HIDDEN else None
        d.between(weights, None, float(per.sum()))
        if hi[big[0]] is not None:
            d.between(hi, float(per.sum()), None)
    else:
        d.equal(weights, float(per.sum()))
    title = "Images per patient"
    hide = counter.solve(d, title, [(c, None) for c in cells])
    if d.withheld:
        return None, summary
    total = sum(counts)
    return Table(
        title=title, columns=["images per patient", "patients", "share of patients"],
        rows=[[lv, hide[i] or _fmt_int(counts[i]), HIDDEN if hide[i] else _pct(counts[i], total)]
              for i, lv in enumerate(levels)],
    ), summary


# ------------------------------------------------------------------------------------------- labels
def _positive_mask(s: pd.Series) -> pd.Series:
    return s.map(lambda v: _label(v) != MISSING and str(_plain(v)).strip().lower() in POSITIVE)


def _binary_key(s: pd.Series) -> pd.Series:
    return s.map(lambda v: MISSING if _label(v) == MISSING else
                 ("positive" if str(_plain(v)).strip().lower() in POSITIVE else "negative")).astype(object)


def binary_prevalence(counter: Counter, df: pd.DataFrame,
                      labels: list[str]) -> tuple[Table, dict[str, Linked]]:
    """One row per binary label: positive / negative / missing adding up to the rows (each row a problem)."""
    order = ["positive", "negative", MISSING]
    rows, linked = [], {}
    for c in labels:
        im, ba = counter.counts(_binary_key(df[c]))
        images = [int(im.get(k, 0)) for k in order]
        basis = [int(ba.get(k, 0)) for k in order]
        d = Disclosure()
        cells = [counter.add_cells(d, images[j], basis[j]) for j in range(3)]
        exact = counter.by_patients and sum(basis) == counter.n_patients
        counter.sum_rel(d, cells, len(df), counter.n_patients, exact_patients=exact)
        hide = counter.solve(d, f"label {c}", cells)
        linked[c] = Linked(d, dict(zip(order, cells)))
        if d.withheld:
            rows.append([f"`{c}`", *([HIDDEN] * 4)])
            continue
        pos, neg, _ = images
        cells_txt = [hide[j] or _fmt_int(images[j]) for j in range(3)]
        prev = HIDDEN if any(hide[:2]) else _pct(pos, pos + neg)
        rows.append([f"`{c}`", *cells_txt, prev])
    return Table(
        title="Binary labels (images)",
        columns=["label", "positive", "negative", "missing", "prevalence"],
        rows=rows,
        note="Prevalence = positive / (positive + negative).",
    ), linked


def binary_by_group(counter: Counter, df: pd.DataFrame, labels: list[str], key: pd.Series, attr: str,
                    groups: Linked, label_rows: dict[str, Linked]) -> Table | None:
    """Positive images of each binary label per group (with % of the group's images).

    The group's non-positive images (group size − positives) are never printed but are cells too: a
    complement under 11 hides the positives. Each label column is one problem including the group sizes
    and the label's totals; the share is printed only where the group's size is printed.
    """
    levels = group_order(key.value_counts(dropna=False), attr)
    group_images = key.value_counts(dropna=False)
    columns: list[list[str]] = []
    for c in labels:
        pos = _positive_mask(df[c])
        im_p, ba_p = counter.counts(key, pos)
        im_n, ba_n = counter.counts(key, ~pos)
        d = Disclosure()
        off_g = d.include(groups.d)
        off_l = d.include(label_rows[c].d)
        pos_cells, non_cells = [], []
        for lv in levels:
            pc = counter.add_cells(d, int(im_p.get(lv, 0)), int(ba_p.get(lv, 0)))
            nc = counter.add_cells(d, int(im_n.get(lv, 0)), int(ba_n.get(lv, 0)), publish=False)
            g_im, g_p = groups.cells[lv]
            exact = counter.by_patients and (int(ba_p.get(lv, 0)) + int(ba_n.get(lv, 0))
                                             == int(groups.d.values[g_p]))
            counter.sum_rel(d, [pc, nc], {off_g + g_im: 1.0},
                            {off_g + g_p: 1.0} if g_p is not None else None, exact_patients=exact)
            pos_cells.append(pc)
            non_cells.append(nc)
        lab = label_rows[c].cells
        for cells, parts in ((pos_cells, ["positive"]), (non_cells, ["negative", MISSING])):
            im_tot = {off_l + lab[p][0]: 1.0 for p in parts}
            pat_tot = {off_l + lab[p][1]: 1.0 for p in parts} if counter.by_patients else None
            counter.sum_rel(d, cells, im_tot, pat_tot, exact_patients=False)
        hide = counter.solve(d, f"{c} by {attr}", pos_cells)
        col = []
        for i, lv in enumerate(levels):
            n = int(im_p.get(lv, 0))
            if d.withheld or hide[i]:
                col.append(HIDDEN if d.withheld else hide[i])
            elif groups.mark(lv):
                col.append(_fmt_int(n))  # the share would reveal the hidden group size
            else:
                col.append(f"{n:,} ({_pct(n, group_images[lv])})")
        columns.append(col)
    rows = [[str(lv), *[columns[j][i] for j in range(len(labels))]] for i, lv in enumerate(levels)]
    return Table(
        title=f"Binary labels by {attr}: positive images (% of the group's images)",
        columns=[attr, *[f"`{c}`" for c in labels]],
        rows=rows,
    )


def crosstab(counter: Counter, label_key: pd.Series, group_key: pd.Series, attr: str, title: str,
             groups: Linked, label: Linked) -> Table | None:
    """A multi-class label by group: rows add up to the group sizes, columns to the label's counts."""
    import pandas as pd

    rows_order = group_order(group_key.value_counts(dropna=False), attr)
    cols_order = sorted(label_key.value_counts(dropna=False).index,
                        key=lambda x: (x == MISSING, _band_sort(x)))
    d = Disclosure()
    off_g, off_l = d.include(groups.d), d.include(label.d)
    frame = pd.DataFrame({"r": group_key, "c": label_key})
    cells: dict[tuple, tuple[int, int | None]] = {}
    for r in rows_order:
        for c in cols_order:
            mask = (frame["r"] == r) & (frame["c"] == c)
            n_im = int(mask.sum())
            n_p = int(counter.df.loc[mask, counter.patient_col].nunique()) if counter.by_patients else n_im
            cells[(r, c)] = counter.add_cells(d, n_im, n_p)
    for r in rows_order:
        g_im, g_p = groups.cells[r]
        counter.sum_rel(d, [cells[(r, c)] for c in cols_order], {off_g + g_im: 1.0},
                        {off_g + g_p: 1.0} if g_p is not None else None, exact_patients=False)
    for c in cols_order:
        l_im, l_p = label.cells[c]
        counter.sum_rel(d, [cells[(r, c)] for r in rows_order], {off_l + l_im: 1.0},
                        {off_l + l_p: 1.0} if l_p is not None else None, exact_patients=False)
    flat = [cells[(r, c)] for r in rows_order for c in cols_order]
    marks = dict(zip([(r, c) for r in rows_order for c in cols_order], counter.solve(d, title, flat)))
    if d.withheld:
        return None
    rows = [[str(r), *[marks[(r, c)] or _fmt_int(d.values[cells[(r, c)][0]]) for c in cols_order]]
            for r in rows_order]
    return Table(title=f"{title} (images)", columns=["", *map(str, cols_order)], rows=rows)


def missing_cell(counter: Counter, miss: pd.Series, title: str) -> str:
    """Mark of a lone missing-values count: the file's rows split into missing / present (never printed)."""
    d = Disclosure()
    n_m = int(miss.sum())
    pats = counter.df[counter.patient_col] if counter.by_patients else None
    cells = [counter.add_cells(d, n_m, int(pats[miss].nunique()) if pats is not None else n_m),
             counter.add_cells(d, len(miss) - n_m, int(pats[~miss].nunique()) if pats is not None else 0,
                               publish=False)]
    counter.sum_rel(d, cells, len(miss), counter.n_patients, exact_patients=False)
    mark = counter.solve(d, title, cells)[0]
    return mark or ("*" if d.withheld else "")
