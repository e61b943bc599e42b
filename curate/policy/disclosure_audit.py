"""Disclosure control for fairness-audit results (results.json / results.parquet / the model card).

Each audited attribute is one :class:`~curate.policy.disclosure.Disclosure` problem: per group its test
images and patients, and per label its positives and negatives (prevalence × images), with the published
totals (test images, test patients, overall prevalence). Groups are hidden as a whole:

- a *small* group (its images or patients under 11) has every value withheld — counts (``n``,
  ``n_units``), prevalence, rates, AUC, calibration — stored as ``null`` with ``suppressed: true``;
- a *small label cell* (a group's positives or negatives under 11, the group itself large) hides only that
  label's values of the group (prevalence, rates, AUC, calibration); the group's size stays shown;
- a *complement* group (hidden so that a small one cannot be recovered from the totals) keeps its rates but
  not its counts, share or prevalence;
- when an attribute has a small cell, every metric not in :data:`OWN_METRICS` (TPRDisp, EOD, AOD_sum,
  AOD_mean, the attribute's summaries Gap, DPD, ...) is withheld too: with the other groups' rates
  published, they would give the small cell's rates back (e.g. AOD_sum of the complement group of two is
  its TPR+FPR minus the small group's).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from curate.policy.disclosure import COMPLEMENT, MIN_CELL, SUPPRESSED, Disclosure, suppressed_total

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

COUNT_METRICS = ("n_images", "n_patients", "share", "prevalence")
#: Per-group metrics of the group itself (an allow-list): every other metric compares groups or
#: summarises the attribute, and is withheld with a small cell.
OWN_METRICS = ("n_images", "n_patients", "share", "prevalence", "AUC", "group_AUC", "TPR", "FPR", "ECE")
#: Per-group metrics that do not depend on the label (the group's size).
GROUP_METRICS = ("n_images", "n_patients", "share")
#: the results table's names: the attribute of whole-test-set rows, the group of attribute-level rows
#: (defined once here, the lowest layer that reads them; the audits and the model card import them)
OVERALL = "overall"
ALL = "all"


def _attribute_marks(rows: pd.DataFrame, labels: list[str], settings: dict[str, Any],
                     overall_prev: dict[str, float]) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """Marks ("" shown, "<11" small, "*" complement) for one attribute: per group (its images and
    patients), and per (label, group) (its positives and negatives). A group whose positives are few is
    not a small group: only its label cells are hidden (suppress the cell that is small, not the group)."""
    first = rows[rows["label"] == labels[0]] if labels else rows
    groups = [g for g in dict.fromkeys(first["group"].astype(str)) if g != ALL]
    n_of = {str(g): int(n) for g, n in first.drop_duplicates("group")[["group", "n"]].itertuples(index=False)
            if n is not None and not (isinstance(n, float) and math.isnan(n))}
    pats = first[first["metric"] == "n_patients"].set_index("group")["value"]
    d = Disclosure()
    cells: dict[str, list[int]] = {}
    for g in groups:
        im = d.cell(n_of.get(g, 0), basis=True)
        cells[g] = [im]
        if g in pats.index:
            p = d.cell(round(float(pats[g])), group=im)
            d.at_least(im, p)
            cells[g].append(p)
    d.equal({cells[g][0]: 1 for g in groups}, sum(n_of.get(g, 0) for g in groups))
    if len(pats) and all(len(cells[g]) == 2 for g in groups):
        total_p = float(settings.get("n_test_units") or 0)
        exact = sum(round(float(pats[g])) for g in groups) == total_p
        coefs = {cells[g][1]: 1 for g in groups}
        d.equal(coefs, total_p) if exact else d.between(coefs, total_p, None)
    lab_cells: dict[tuple[str, str], tuple[int, int]] = {}
    for lab in labels:
        prev = rows[(rows["label"] == lab) & (rows["metric"] == "prevalence")].set_index("group")["value"]
        if not len(prev):
            continue
        pos_cells = []
        for g in groups:
            if g not in prev.index or math.isnan(float(prev[g])):
                continue
            n = n_of.get(g, 0)
            pos = round(float(prev[g]) * n)
            a = d.cell(pos)
            b = d.cell(n - pos, publish=False)  # never printed: group size − positives
            d.equal({a: 1, b: 1, cells[g][0]: -1}, 0)
            lab_cells[(lab, g)] = (a, b)
            pos_cells.append(a)
        if lab in overall_prev and len(pos_cells) == len(groups):
            d.equal({a: 1 for a in pos_cells}, round(overall_prev[lab] * sum(n_of.values())))
    marks = d.solve()
    if d.withheld:
        size = {g: SUPPRESSED if any(d._primary(j) for j in cells[g]) else COMPLEMENT for g in groups}
        return size, {k: size[k[1]] or COMPLEMENT for k in lab_cells}

    def small(js) -> str:
        ms = [marks[j] for j in js]
        return SUPPRESSED if SUPPRESSED in ms else (COMPLEMENT if COMPLEMENT in ms else "")

    size = {g: small(cells[g]) for g in groups}
    by_label = {}
    for k, js in lab_cells.items():
        own = small(js)
        by_label[k] = SUPPRESSED if own == SUPPRESSED else (size[k[1]] or own)
    return size, by_label


def protect_results(res: pd.DataFrame, settings: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, str]]:
    """A copy of the tidy audit results that is safe to publish, and ``{attribute: note}`` of what was hidden.

    Adds ``suppressed`` (the value is withheld) and ``n_shown`` (the marker printed instead of a withheld
    ``n``: ``<11`` or ``*``); withheld values, intervals and counts (``n``, ``n_units``) become missing.
    Metrics that compare a group with others (anything not in :data:`OWN_METRICS`: EOD, AOD_sum, TPRDisp,
    the attribute's summaries) are withheld with a small cell of the attribute, for every label it touches:
    with the other groups' rates published they would give the small cell's rate back.
    """
    import numpy as np

    out = res.copy()
    out["n"] = out["n"].astype("object")
    if "n_units" in out.columns:
        out["n_units"] = out["n_units"].astype("object")
    out["suppressed"] = False  # the value (and interval) is withheld
    out["n_shown"] = None  # the marker printed instead of a withheld n ("<11" or "*")
    labels = [str(x) for x in settings.get("labels", [])]
    overall = out[(out["attribute"] == OVERALL) & (out["metric"] == "prevalence")]
    overall_prev = {str(r["label"]): float(r["value"]) for _, r in overall.iterrows()
                    if not math.isnan(float(r["value"]))}
    notes: dict[str, str] = {}

    def hide_n(mask, marker: str) -> None:
        out.loc[mask, "n"] = None
        if "n_units" in out.columns:
            out.loc[mask, "n_units"] = None
        out.loc[mask, "n_shown"] = marker

    def hide(mask) -> None:
        # the p-value and the seed spread of a withheld value are withheld with it
        cols = [c for c in ("value", "ci_low", "ci_high", "seed_sd", "p_value") if c in out.columns]
        out.loc[mask, cols] = np.nan
        out.loc[mask, "suppressed"] = True

    for attr in [a for a in dict.fromkeys(out["attribute"]) if a != OVERALL]:
        in_attr = out["attribute"] == attr
        rows = out[in_attr & (out["group"] != ALL)]
        size, by_label = _attribute_marks(rows, labels, settings, overall_prev)
        grp = out["group"].astype(str)
        lab = out["label"].astype(str)
        relative = in_attr & ~out["metric"].isin(OWN_METRICS)
        small = [g for g, m in size.items() if m == SUPPRESSED]
        comp = [g for g, m in size.items() if m == COMPLEMENT]
        if small:
            hide(in_attr & grp.isin(small))
            hide_n(in_attr & grp.isin(small), SUPPRESSED)
            hide(relative)
            notes[attr] = (f"{len(small)} group(s) with fewer than {MIN_CELL} individuals: their values, and "
                           "the metrics comparing groups, are withheld")
        if comp:
            hide(in_attr & grp.isin(comp) & out["metric"].isin(COUNT_METRICS))
            hide_n(in_attr & grp.isin(comp), COMPLEMENT)
        cells = [(la, g) for (la, g), m in by_label.items() if m == SUPPRESSED and g not in small]
        for la, g in cells:  # the group is shown; its label cell (positives or negatives) is small
            hide(in_attr & (lab == la) & (grp == g) & ~out["metric"].isin(GROUP_METRICS))
            hide(relative & (lab == la))
        if cells:
            notes.setdefault(attr, f"{len(cells)} label cell(s) (positives or negatives of a group) with "
                                   f"fewer than {MIN_CELL} individuals: their rates, and the metrics "
                                   "comparing groups on that label, are withheld")
        for la, g in [(la, g) for (la, g), m in by_label.items() if m == COMPLEMENT and size.get(g) == ""]:
            hide(in_attr & (lab == la) & (grp == g) & (out["metric"] == "prevalence"))
    return out, notes


def shown_n(row: Any) -> str:
    """How a card prints a result row's n: the count, or its marker when it is hidden."""
    n = row["n"]
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return row.get("n_shown") or "n/a"
    return f"{suppressed_total(int(n))}" if int(n) < MIN_CELL else f"{int(n):,}"
