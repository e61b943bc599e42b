"""Declared numbers and their protection: raw counts in, protected counts (or markers) out.

Every protection here is one :class:`curate.policy.disclosure.Disclosure` problem (primary ``<11`` and
complementary ``*`` suppression, audited by integer programming); nothing below the gate suppresses.

- :class:`Count` — a count of individuals (patients, or images when patients are unknown). ``of``: the
  published whole it is a part of; the rest (``of − value``) is then a cell too, so a count of 20 out of a
  published 25 is hidden like the 5 it reveals.
- :class:`Counts` — a family of counts printed together (per split, per group) with their published total.
- :class:`Shown` — a count that went through one of the protections here already (checked again).
- :class:`Measure` — a number that counts no one (seconds, dimensions, a threshold, an AUC).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from curate.policy.disclosure import COMPLEMENT, MIN_CELL, SUPPRESSED, Disclosure, is_hidden

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


class GateError(RuntimeError):
    """An output the gate refuses (an undeclared number or column, a small count, an identifier, live HTML).

    It is a defect of the caller, never of the user's data: the caller must declare and protect first.
    """


@dataclass(frozen=True)
class Count:
    """A count of individuals; ``of``: the published whole it is part of (its complement is a cell too)."""

    value: int
    of: int | None = None


@dataclass(frozen=True)
class Counts:
    """Counts printed together, ``{label: count}``; ``total``: their published sum (``None``: Σ values);
    ``at_least``: the parts may overlap (patients in several groups), so Σ ≥ ``total``."""

    values: Mapping[Any, int]
    total: int | None = None
    at_least: bool = False
    sep: str = ", "
    item: str = "{label}: {count}"
    protected: bool = False  # the values went through a protection already (checked again, not re-solved)


@dataclass(frozen=True)
class Shown:
    """A count already protected by one of the protections below (an int of 0 or ≥ 11, or a marker)."""

    value: int | str


@dataclass(frozen=True)
class Measure:
    """A number that counts no one; ``fmt``: a format spec (``".3f"``, ``","``)."""

    value: Any
    fmt: str = ""


def shown(value: Any) -> str:
    """A protected count as printed: ``1,234``, or its marker."""
    if isinstance(value, str):
        return value
    return f"{int(value):,}"


def is_small(value: Any, k: int = MIN_CELL) -> bool:
    """A raw count of 1 .. k-1 (what must never leave)."""
    if value is None or isinstance(value, bool | str):
        return False
    try:
        v = float(value)
    except (TypeError, ValueError):
        return False
    return v == v and 0 < v < k and float(v).is_integer()


def protect_count(value: int, of: int | None = None, *, k: int = MIN_CELL) -> int | str:
    """One count: the integer, or ``<11`` (small) / ``*`` (its complement in ``of`` is small)."""
    value = int(value)
    if of is None:
        return SUPPRESSED if 0 < value < k else value
    d = Disclosure(k=k)
    a, b = d.cell(value), d.cell(int(of) - value, publish=False)
    d.equal({a: 1, b: 1}, int(of))
    mark = d.solve()[a]
    return mark or (COMPLEMENT if d.withheld else value)


def protect_counts(values: Mapping[Any, int], total: int | None = None, *, at_least: bool = False,
                   k: int = MIN_CELL) -> dict[Any, int | str]:
    """A family of counts whose total is published: ``{label: count or marker}``."""
    d = Disclosure(k=k)
    cells = {lab: d.cell(int(v)) for lab, v in values.items()}
    tot = sum(int(v) for v in values.values()) if total is None else int(total)
    if cells:
        coefs = {c: 1.0 for c in cells.values()}
        d.between(coefs, tot, None) if at_least else d.equal(coefs, tot)
    marks = d.solve()
    return {lab: (marks[c] or (COMPLEMENT if d.withheld else int(values[lab]))) for lab, c in cells.items()}


def protect_shares(counts: Mapping[Any, int], listed: Sequence[Any], size: int, *,
                   k: int = MIN_CELL) -> list:
    """Which of the ``listed`` values of a group of published ``size`` may show their share of it.

    Every value of the group is a cell (unlisted ones are never printed), adding up to ``size``; a share
    whose count or whose complement is small is not shown. Nothing is shown when the group cannot be
    protected at all."""
    d = Disclosure(k=k)
    cells = {v: d.cell(int(n), publish=v in listed) for v, n in counts.items()}
    d.equal({i: 1 for i in cells.values()}, size)
    marks = d.solve()
    return [] if d.withheld else [v for v in listed if not marks[cells[v]]]


def count_table(frame: pd.DataFrame, *, counts: Sequence[str], basis: Sequence[str] | None = None,
                derived: Sequence[str] = (), totals: Mapping[str, int] | None = None,
                overlapping: Iterable[str] = (), k: int = MIN_CELL) -> pd.DataFrame:
    """A display copy of a count table: one row per group, ``counts`` columns of raw counts.

    ``basis``: the count columns judged for smallness (default all; e.g. only ``patients`` when a row's
    images are its patients' images). A row is one table cell in several layers: a small cell hides the
    row's counts together. Each count column's total is published (``totals`` gives it when it is not the
    column sum; a column in ``overlapping`` may count an individual in several rows, so Σ ≥ total).
    ``derived``: columns computed from the counts (shares, rates), emptied where the row is hidden.
    ``frame.attrs["withheld"]`` is True when no hiding protects the table (every count is then ``*``).
    """
    out = frame.copy()
    basis = list(counts) if basis is None else list(basis)
    d = Disclosure(k=k)
    rows: list[dict[str, int]] = []
    for i in range(len(frame)):
        first: int | None = None
        row = {}
        for col in counts:
            c = d.cell(float(frame[col].iloc[i] or 0), basis=col in basis, group=first)
            first = c if first is None else first
            row[col] = c
        rows.append(row)
    for a in range(len(counts)):  # images ≥ patients: an earlier layer holds at least the later one
        for b in range(a + 1, len(counts)):
            if counts[a] not in basis and counts[b] in basis:
                for row in rows:
                    d.at_least(row[counts[a]], row[counts[b]])
    for col in counts:
        tot = (totals or {}).get(col)
        tot = float(frame[col].fillna(0).sum()) if tot is None else float(tot)
        coefs = {row[col]: 1.0 for row in rows}
        if coefs:
            if col in set(overlapping):
                d.between(coefs, tot, None)
            else:
                d.equal(coefs, tot)
    marks = d.solve()
    for col in list(counts) + list(derived):
        out[col] = out[col].astype(object)
    for i, row in enumerate(rows):
        m = marks[row[counts[0]]] if rows else ""
        if d.withheld:
            m = m or COMPLEMENT
        if m:
            for col in counts:
                out.iloc[i, out.columns.get_loc(col)] = m
            for col in derived:
                out.iloc[i, out.columns.get_loc(col)] = None
    out.attrs["withheld"] = bool(d.withheld)
    return out


def protect_table(counts, *, k: int = MIN_CELL, totals: bool = True) -> tuple[list, bool]:
    """A list of counts whose total is published (with ``totals``), through the gate: the marks of
    :func:`curate.policy.disclosure.protect_table` and whether anything was withheld."""
    from curate.policy.disclosure import protect_table as _protect

    return _protect(counts, k=k, totals=totals)


def protect_crosstab(counts: pd.Series | pd.DataFrame, k: int = MIN_CELL) -> pd.Series | pd.DataFrame:
    """A display copy of a 1-D or 2-D count table whose row, column and grand totals are published
    (:func:`curate.policy.disclosure.suppress`): small cells ``<11``, complements ``*``."""
    from curate.policy.disclosure import suppress

    return suppress(counts, k)


def split_counts(images: Mapping[str, int], patients: Mapping[str, int] | None = None,
                 k: int = MIN_CELL) -> tuple[dict[str, int | str], dict[str, int | str]]:
    """Per-split (images, patients) as they may be shown: one :func:`count_table` (patients judged when
    known, a split's images hidden with its patients; the total of images published, patients may repeat
    across splits). Returns ({split: images}, {split: patients}) — ints or markers."""
    import pandas as pd

    names = list(images)
    frame = pd.DataFrame({"images": [int(images[n]) for n in names]})
    counts = ["images"]
    if patients:
        frame["patients"] = [int(patients.get(n, 0)) for n in names]
        counts.append("patients")
    t = count_table(frame, counts=counts, basis=counts[-1:], overlapping=["patients"], k=k)
    shown_p = {n: t["patients"].iloc[i] for i, n in enumerate(names)} if patients else {}
    return {n: t["images"].iloc[i] for i, n in enumerate(names)}, shown_p


def count_grid(frame: pd.DataFrame, *, parts: Mapping[str, Sequence[str]] | None = None,
               at_most: Mapping[str, str] | None = None, totals: Mapping[str, int] | None = None,
               k: int = MIN_CELL) -> pd.DataFrame:
    """A display copy of a grid of counts (rows = groups, columns = counts of the same unit), each cell
    hidden on its own, with the relations a reader knows: every column's total is published (``totals``
    gives it when it is not the column sum), ``parts``: a column is the sum of others in every row
    (``{"after": ["train", "validation", "test"]}``), ``at_most``: a column never exceeds another
    (``{"after": "before"}``). Small cells ``<11``, complements ``*``; ``attrs["withheld"]`` as in
    :func:`count_table`.
    """
    out = frame.astype(object).copy()
    d = Disclosure(k=k)
    cells = {(i, c): d.cell(float(frame[c].iloc[i] or 0)) for i in range(len(frame)) for c in frame.columns}
    for c in frame.columns:
        tot = (totals or {}).get(c)
        d.equal({cells[(i, c)]: 1.0 for i in range(len(frame))},
                float(frame[c].sum()) if tot is None else float(tot))
    for i in range(len(frame)):
        for whole, cols in (parts or {}).items():
            d.equal({cells[(i, whole)]: 1.0, **{cells[(i, c)]: -1.0 for c in cols}}, 0.0)
        for small, big in (at_most or {}).items():
            d.at_least(cells[(i, big)], cells[(i, small)])
    marks = d.solve()
    for (i, c), j in cells.items():
        m = marks[j] or (COMPLEMENT if d.withheld else "")
        if m:
            out.iloc[i, out.columns.get_loc(c)] = m
    out.attrs["withheld"] = bool(d.withheld)
    return out


# --------------------------------------------------------------------------------------- leakage summary
def protect_leakage(summary: Mapping[str, Any], *, k: int = MIN_CELL) -> dict[str, Any]:
    """The leakage summary of :func:`curate.engine.leakage.leakage` (raw numbers) as it may leave.

    One problem: patients in several splits (``multi``), per split pair (each such patient counts in every
    pair of its splits: multi ≤ Σ pairs ≤ C(s, 2)·multi), their images (≥ 2·multi, hidden with multi) and
    the published patient total (≥ multi). Images per split are protected as a family whose total is
    published. Duplicate-pair counts count pairs of images, not individuals, and are shown as they are.
    """
    out = dict(summary)
    if isinstance(summary.get("splits"), Mapping) and not any(map(is_hidden, summary["splits"].values())):
        out["splits"] = protect_counts(summary["splits"], k=k)  # images per split (a split of 5 images ...)
    p = summary.get("patients")
    if not isinstance(p, Mapping) or is_hidden(p.get("in_multiple_splits")):
        return out
    d = Disclosure(k=k)
    total = d.cell(int(p["total"]))
    multi = d.cell(int(p["in_multiple_splits"]))
    imgs = d.cell(int(p.get("images_of_patients_in_multiple_splits", 0)), basis=False, group=multi)
    pairs = {key: d.cell(int(v)) for key, v in p["in_multiple_splits_by_split"].items()}
    d.at_least(total, multi)
    d.between({imgs: 1.0, multi: -2.0}, 0.0, None)
    if pairs:
        n = len(pairs)
        d.between({**{c: 1.0 for c in pairs.values()}, multi: -1.0}, 0.0, None)
        d.between({**{c: 1.0 for c in pairs.values()}, multi: -float(n)}, None, 0.0)
        for c in pairs.values():
            d.at_least(multi, c)
    marks = d.solve()

    def val(c: int, raw: int) -> int | str:
        return marks[c] or (COMPLEMENT if d.withheld else int(raw))

    q = dict(p)
    q["total"] = val(total, p["total"])
    q["in_multiple_splits"] = val(multi, p["in_multiple_splits"])
    if "images_of_patients_in_multiple_splits" in p:
        q["images_of_patients_in_multiple_splits"] = val(imgs, p["images_of_patients_in_multiple_splits"])
    q["in_multiple_splits_by_split"] = {key: val(c, p["in_multiple_splits_by_split"][key])
                                        for key, c in pairs.items()}
    q["small_cells_suppressed_below"] = k
    out["patients"] = q
    return out
