"""Rendering of a :class:`curate.pipeline.represent.RepresentResult`: Markdown, JSON, CSV, pyramid PNG.

Computes nothing: every number comes from the result, whose strata table is already protected (small
cells merged or withheld; see :mod:`curate.pipeline.represent_cells`). Every file is written
through the exit gate (``curate.output``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from curate.pipeline.represent import Comparison, RepresentResult

CHART = "pyramid.png"
FLAG_WORDS = {"under": "under-represented", "over": "over-represented", "": ""}


def _f(x: float, nd: int = 3) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{nd}f}"


def _p(x: float) -> str:
    """A Monte-Carlo p-value: never printed as 0 (its smallest value is 1 / (draws + 1))."""
    return "<0.001" if x < 0.001 else f"{x:.3f}"


def ratio_text(x: float) -> str:
    return "—" if math.isnan(x) else ("∞" if math.isinf(x) else f"{x:.2f}")


def distance_rows(res: RepresentResult) -> list[dict[str, Any]]:
    """Overall and per-attribute distances as rows (for the Markdown table and the JSON)."""
    first = ("all: " + " × ".join(res.by)) if len(res.by) > 1 else res.by[0]
    rows = [(first, res.overall), *((a, c) for a, c in res.marginals.items())]
    return [{"attribute": name, "patients": c.n, "distance": c.distance, "ci_low": c.interval[0],
             "ci_high": c.interval[1], "expected_from_sampling": c.expected, "sampling_upper": c.expected_hi,
             "p_value": c.p_value, "beyond_sampling": c.beyond_sampling} for name, c in rows]


def strata_rows(res: RepresentResult) -> list[dict[str, Any]]:
    """One row per stratum of the (merged) grid; withheld strata carry their marker and no ratio."""
    o: Comparison = res.overall
    pub = {tuple(str(v) for v in s): i for i, s in enumerate(o.strata)}
    rows = []
    for r in res.cells.table.to_dict("records"):
        key = tuple(str(r[c]) for c in res.by)
        i = pub.get(key)
        row: dict[str, Any] = {c: str(r[c]) for c in res.by}
        row["patients"] = r["shown"]
        if i is None:
            row.update(dataset_share=None, population_share=None, ratio=None, ratio_low=None, ratio_high=None,
                       flag="withheld")
        else:
            row.update(dataset_share=o.counts[i] / o.n, population_share=o.reference_share[i],
                       ratio=o.ratios[i], ratio_low=o.ratio_intervals[i][0],
                       ratio_high=o.ratio_intervals[i][1],
                       flag=FLAG_WORDS[o.flags[i]])
        rows.append(row)
    return rows


def result_json(res: RepresentResult) -> dict[str, Any]:
    ref = res.reference
    out = {
        "source": res.source, "by": res.by, "patients_total": res.cells.total,
        "patients_compared": res.overall.n, "excluded": res.cells.excluded,
        "withheld_strata": res.cells.withheld,
        "reference": {"name": ref.name, "source": ref.source, "licence": ref.licence, "notes": ref.notes},
        "confidence": res.overall.confidence, "factor": res.overall.factor,
        "distances": distance_rows(res), "strata": strata_rows(res), "summary": res.summary(),
        "notes": res.notes,
    }
    if res.countries:
        out["countries"] = {c: (v if isinstance(v, str) else
                                {"patients": v.n, "distance": v.distance, "ci_low": v.interval[0],
                                 "ci_high": v.interval[1], "expected_from_sampling": v.expected,
                                 "p_value": v.p_value})
                            for c, v in res.countries.items()}
    return out


def section_markdown(res: RepresentResult, *, chart: str | None = CHART, heading: str = "##") -> str:
    """The *Representativeness* section (the command's report and the card's subsection)."""
    o = res.overall
    lines = ([f"{heading} Representativeness", ""] if heading else []) + [
             f"Reference: {res.reference.name} — {res.reference.source}"
             + (f" (licence {res.reference.licence})" if res.reference.licence else "") + ".", "",
             res.summary(), "",
             "| Attribute | Patients | JS distance | "
             f"{o.confidence:.0%} CI | Expected from sampling alone | p (sampling alone) |",
             "| --- | ---: | ---: | --- | ---: | ---: |"]
    for r in distance_rows(res):
        lines.append(f"| {r['attribute']} | {r['patients']:,} | {_f(r['distance'])} | {_f(r['ci_low'])}–"
                     f"{_f(r['ci_high'])} | {_f(r['expected_from_sampling'])} | {_p(r['p_value'])} |")
    lines += ["", "Representation ratio = dataset share / population share; flagged when its "
              f"{o.confidence:.0%} "
              f"interval lies beyond {o.factor:g}x or 1/{o.factor:g}x.", "",
              "| " + " | ".join(c.capitalize() for c in res.by) + " | Patients | Dataset share | Population "
              "share | Ratio (CI) | Flag |",
              "| " + "--- | " * len(res.by) + "---: | ---: | ---: | --- | --- |"]
    for r in strata_rows(res):
        vals = [r[c] for c in res.by]
        if r["flag"] == "withheld":
            lines.append("| " + " | ".join(vals) + f" | {r['patients']} | — | — | — | withheld |")
            continue
        lines.append("| " + " | ".join(vals) + f" | {r['patients']:,} | {r['dataset_share']:.1%} | "
                     f"{r['population_share']:.1%} | {ratio_text(r['ratio'])} ({ratio_text(r['ratio_low'])}–"
                     f"{ratio_text(r['ratio_high'])}) | {r['flag']} |")
    if res.cells.withheld:
        lines += ["", "Shares are among the published strata: withheld strata are left out of both the "
                  "dataset and the population, so the distance compares the published part of the "
                  "distribution."]
    excl = "; ".join(f"{k}: {v}" for k, v in res.cells.excluded.items())
    lines += ["", f"Patients: {res.cells.total}" + (f" (left out of the comparison: {excl})" if excl else "")
              + ". Strata with 1–10 patients are merged with a neighbouring age band or withheld, and every "
              "number above is computed on the published strata only."]
    if res.countries:
        lines += ["", "| Country | Patients | JS distance | Expected from sampling alone |",
                  "| --- | ---: | ---: | ---: |"]
        for c, v in res.countries.items():
            lines.append(f"| {c} | {v} | — | — |" if isinstance(v, str) else
                         f"| {c} | {v.n:,} | {_f(v.distance)} ({_f(v.interval[0])}–{_f(v.interval[1])}) | "
                         f"{_f(v.expected)} |")
    if res.notes:
        lines += ["", *(f"- {n}" for n in res.notes)]
    if chart:
        lines += ["", f"![Population pyramid: dataset over the reference]({chart})"]
    return "\n".join(lines) + "\n"


def draw_pyramid(res: RepresentResult, path: str | Path, *, atomic: bool = True) -> Path:
    """Dataset shares (bars) over the reference's (outline), females left and males right; PNG.

    Age bands may have been merged to different widths, so bars span their band and their length is the
    share per 5 years of age (the open top band is drawn 10 years wide).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    from curate.ages import parse_age_interval
    from curate.output import write_figure

    rows = [r for r in strata_rows(res) if r["flag"] != "withheld"]
    two = "age" in res.by and "sex" in res.by
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    if "age" in res.by:
        spans = {lab: parse_age_interval(lab) for lab in res.cells.age_labels}
        spans = {k: (lo, lo + 10 if math.isinf(hi) else hi) for k, (lo, hi) in spans.items()}
    else:
        cats = sorted({r[res.by[0]] for r in rows})
        spans = {c: (i, i + 1) for i, c in enumerate(cats)}
    key = "age" if "age" in res.by else res.by[0]
    for r in rows:
        lo, hi = spans[r[key]]
        per = (hi - lo) / 5 if "age" in res.by else 1
        sign = -1 if (two and r["sex"] == "F") else 1
        colour = "#c2185b" if sign < 0 else "#1976d2"
        kw = dict(y=lo, height=hi - lo, align="edge")
        ax.barh(width=sign * r["dataset_share"] * 100 / per, color=colour, alpha=0.55, **kw)
        ax.barh(width=sign * r["population_share"] * 100 / per, fill=False, edgecolor="black", lw=1, **kw)
    if "age" not in res.by:
        ax.set_yticks([v[0] + 0.5 for v in spans.values()], list(spans))
    else:
        ax.set_ylabel("age (years)")
    ax.axvline(0, color="grey", lw=0.8)
    unit = "% per 5 years of age" if "age" in res.by else "%"
    ax.set_xlabel(f"patients / population ({unit})" + ("; females left, males right" if two else ""))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{abs(v):g}"))
    ax.set_title(f"Dataset (filled) vs {res.reference.name} (outline)", fontsize=9)
    fig.tight_layout()
    return write_figure(fig, path, synthetic=res.synthetic, atomic=atomic)


#: Every column of ``strata.csv`` that is not a stratum attribute, with its role at the exit gate.
STRATA_ROLES = {"patients": "count", "dataset_share": "value", "population_share": "value", "ratio": "value",
                "ratio_low": "value", "ratio_high": "value", "flag": "label"}
#: Keys of ``representativeness.json`` whose values are counts of patients (checked by the gate).
JSON_COUNTS = ("patients", "patients_total", "patients_compared", "excluded")


def write_represent(res: RepresentResult, out: str | Path, *, chart: bool = True) -> list[Path]:
    """The command's folder: representativeness.md, .json, strata.csv and pyramid.png (atomic, through the
    exit gate: the strata table's columns have declared roles, the JSON's patient counts are checked)."""
    import pandas as pd

    from curate.output import output_folder, write_json, write_table, write_text

    syn = res.synthetic
    with output_folder(out, kind="represent") as tmp:
        write_text(tmp / "representativeness.md", "# Representativeness of " + res.source + "\n\n"
                   + section_markdown(res, chart=CHART if chart else None), synthetic=syn, atomic=False)
        write_json(tmp / "representativeness.json", _finite(result_json(res)), counts=JSON_COUNTS,
                   synthetic=syn, atomic=False)
        rows = strata_rows(res)
        write_table(pd.DataFrame(rows, columns=list(rows[0])), tmp / "strata.csv", synthetic=syn,
                    roles={**{c: "group" for c in res.by}, **STRATA_ROLES}, atomic=False)
        if chart:
            draw_pyramid(res, tmp / CHART, atomic=False)
    names = ["representativeness.md", "representativeness.json", "strata.csv"] + ([CHART] if chart else [])
    return [Path(out) / n for n in names]


def _finite(v: Any) -> Any:
    """NaN and infinities (a ratio over a zero population) as null: the file stays valid JSON."""
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_finite(x) for x in v]
    return v


# ------------------------------------------------------------------------------------------- the card
CARD_CHART = "representativeness.png"


def card_section(res: RepresentResult, *, chart: bool = True) -> Any:
    """The card's *Representativeness* section (STANDING Together *Use* items, Healthsheet demographic
    composition, TRIPOD+AI item 5a); its summary also goes to Croissant's ``rai:dataBiases``."""
    from curate.cards.context import Section
    from curate.cards.model import Answer

    body = section_markdown(res, chart=CARD_CHART if chart else None, heading="")
    body += ("\nThis answers the Healthsheet and STANDING Together question of how well the data represent "
             "the population they are meant to serve (TRIPOD+AI item 5a); `curate represent` gives the same "
             "with other references.\n")
    return Section("Representativeness", body, rai_biases=[res.summary()],
                   answers={"representativeness": Answer(
                       res.summary(), "measured by curate represent (see Representativeness)")})
