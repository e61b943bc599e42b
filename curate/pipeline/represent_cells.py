"""The published strata table of ``curate represent``: patients per stratum, small cells merged or withheld.

Disclosure rules (:mod:`curate.policy.disclosure`), applied before any distance is computed:

1. adjacent age bands are merged — the same bands for every sex, so the age and sex margins are sums of
   published cells — until no stratum holds 1–10 patients;
2. the remaining cells (strata, and the patients left out: unknown sex, missing age, categories the
   reference lacks) go through :func:`curate.policy.disclosure.protect_table` with their grand total
   published (the card prints the number of patients): small cells are shown as ``<11`` and any cell whose
   hiding keeps them unrecoverable as ``*``;
3. a withheld stratum is dropped from *both* sides, and every distance, ratio and interval is computed on
   the strata that are published — nothing withheld can be solved back from a published number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


@dataclass
class Cells:
    """The protected table: ``table`` has the ``by`` columns, ``patients`` and ``population`` (reference)."""

    by: list[str]
    table: pd.DataFrame  # every stratum on the (merged) grid
    published: pd.DataFrame  # the strata whose counts are published (used for every distance)
    withheld: list[str]  # labels of withheld strata
    excluded: dict[str, object]  # reason → count or marker ("<11", "*")
    total: object  # the number of patients, or a marker
    age_labels: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def stratum_label(row, by: list[str]) -> str:
    return " × ".join(f"{row[c]}" for c in by)


def _small(v: float, k: int) -> bool:
    return 0 < v < k


def merge_age_bands(table: pd.DataFrame, by: list[str], edges: list[float], *, k: int) -> list[float]:
    """Drop age edges (one at a time: the band with the fewest patients among those holding a small cell
    joins its smaller neighbour) until no cell of ``table`` (``age`` = band index) holds 1..k-1 patients."""
    import numpy as np

    edges = list(edges)
    others = [c for c in by if c != "age"]
    band = table["age"].to_numpy().copy()
    while len(edges) > 2:
        t = table.assign(age=band)
        cells = t.groupby([*others, "age"] if others else ["age"])["patients"].sum()
        small = cells[(cells > 0) & (cells < k)]
        if small.empty:
            break
        totals = t.groupby("age")["patients"].sum().reindex(range(len(edges) - 1), fill_value=0)
        bad = sorted({i[-1] if isinstance(i, tuple) else i for i in small.index}, key=lambda b: totals[b])
        b = bad[0]
        if b == 0:
            nb = 1
        elif b == len(edges) - 2:
            nb = b - 1
        else:
            nb = b - 1 if totals[b - 1] <= totals[b + 1] else b + 1
        lo = min(b, nb)
        del edges[lo + 1]  # bands lo and lo+1 become one
        band = np.where(band > lo, band - 1, band)
    table["age"] = band
    return edges


def protect(table: pd.DataFrame, by: list[str], excluded: dict[str, int], *, k: int
            ) -> tuple[list[object], dict[str, object], object, bool]:
    """Marks for the strata and the excluded groups (grand total published); withheld flag."""
    from curate.output.counts import protect_table

    values = [*table["patients"].astype(int).tolist(), *excluded.values()]
    marks, withheld_all = protect_table(values, k=k, totals=True)
    marks = list(marks)
    n_strata = len(table)
    shown_ex = {r: (m or v) for (r, v), m in zip(excluded.items(), marks[n_strata:])}
    total = sum(values)
    return marks[:n_strata], shown_ex, (total if total >= k else f"<{k}"), bool(withheld_all)


def build_cells(patients: pd.DataFrame, reference: pd.DataFrame, by: list[str], excluded: dict[str, int], *,
                edges: list[float] | None, k: int) -> Cells:
    """Count ``patients`` (one row each, ``by`` columns; ``age`` = band index) per stratum of ``reference``
    (same columns + ``population``), merge small age bands, then protect (see the module docstring)."""
    import pandas as pd

    from curate.engine.represent.strata import band_labels

    counts = patients.groupby(by).size().rename("patients").reset_index()
    table = reference.merge(counts, on=by, how="left").fillna({"patients": 0})
    table["patients"] = table["patients"].astype(int)
    notes: list[str] = []
    labels: list[str] = []
    if "age" in by and edges is not None:
        before = len(edges) - 1
        edges = merge_age_bands(table, by, edges, k=k)
        table = table.groupby(by, as_index=False)[["patients", "population"]].sum()
        labels = band_labels(edges)
        if len(edges) - 1 < before:
            notes.append(f"age bands merged from {before} to {len(edges) - 1} so that no stratum holds "
                         f"1-{k - 1} patients")
        table["age"] = [labels[i] for i in table["age"]]
        table["age"] = pd.Categorical(table["age"], categories=labels, ordered=True)
        table = table.sort_values([c for c in by if c != "age"] + ["age"]).reset_index(drop=True)
    marks, shown_ex, total, withheld_all = protect(table, by, excluded, k=k)
    table["shown"] = [m or int(v) for m, v in zip(marks, table["patients"])]
    keep = [not m for m in marks] if not withheld_all else [False] * len(marks)
    published = table[keep].reset_index(drop=True)
    withheld = [stratum_label(r, by) for r, m in zip(table.to_dict("records"), marks) if m]
    return Cells(by=by, table=table, published=published, withheld=withheld, excluded=shown_ex, total=total,
                 age_labels=labels, notes=notes)
