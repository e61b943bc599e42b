"""Fairness model card (Markdown + HTML) from an :class:`~curate.pipeline.audit.AuditResult`.

Layout follows Model Cards for Model Reporting (Mitchell et al. 2019): model details, intended use,
factors, metrics, evaluation data, training data, quantitative analyses, ethical considerations, caveats
and recommendations. The templates own the prose (``templates/model_card.*.j2``); this module only fills
fields and draws the gap charts. Counts under 11 are shown as "<11" (small-cell rule) and their groups are
flagged, not hidden: the card reports metrics, never individuals or ids. In the evaluation-data composition a
second cell hidden only so that a "<11" cell cannot be recovered from the total is shown as "*" (it may hold
any count), with a footnote.
"""

from __future__ import annotations

import base64
import math
import os
from pathlib import Path
from typing import Any

from curate.cards.charts import gap_chart  # noqa: F401 - re-exported (charts live in charts.py)
from curate.cards.model import NOT_REPORTED
from curate.cards.modeltext import conventions_text_of, interval_text, task_text, threshold_text
from curate.pipeline.audit import ALL_LABELS, AuditResult
from curate.policy.disclosure import COMPLEMENT, MIN_CELL, SUPPRESSED
from curate.policy.disclosure import MIN_CELL as SMALL_GROUP  # the audits' small-group rule is this cell
from curate.policy.disclosure_audit import ALL, OVERALL, protect_results, shown_n

TEMPLATES = Path(__file__).parent / "templates"
# column order of the per-group tables (metric → heading)
GROUP_METRICS = [("AUC", "AUC"), ("TPR", "TPR"), ("FPR", "FPR"), ("TPRDisp", "TPRDisp"), ("EOD", "EOD"),
                 ("AOD_sum", "AOD_sum"), ("ECE", "ECE"), ("prevalence", "Prevalence")]
SUMMARY_METRICS = ["Gap", "TPR_diff", "DPD", "DEOdds", "ES-AUC", "max_abs_EOD", "max_abs_AOD_sum", "ECE_gap"]
METRIC_TEXT = {
    "AUC": "ROC AUC, overall and within each group (luo2024 group-wise AUC); threshold-free.",
    "TPR": "True positive rate (sensitivity) at the decision threshold; bahre2025 compares it across groups.",
    "FPR": "False positive rate at the decision threshold.",
    "TPRDisp": "bahre2025 eq. (1)/(2): TPR of the group minus TPR of the other group (binary attribute) or "
               "minus the median group TPR; negative = under-served.",
    "Gap": "bahre2025 eq. (3): max − min TPRDisp for a label; average_Gap is its mean over labels. "
           "As printed, a binary attribute's Gap is 2× its TPR difference; compare attributes by TPR_diff.",
    "TPR_diff": "TPR difference (fairlearn true_positive_rate_difference): max − min TPR, one scale for "
                "every attribute.",
    "DPD": "luo2024: demographic parity difference, max − min rate of positive predictions.",
    "DEOdds": "luo2024: equalized-odds difference, the larger of the TPR and FPR ranges.",
    "ES-AUC": "luo2024: equity-scaled AUC, AUC / (1 + Σ_g |AUC − AUC_g|).",
    "EOD": "germani2025: TPR of the group minus TPR of the rest.",
    "AOD_sum": "germani2025: EOD plus the FPR difference (their definition: a sum, not an average; "
               "AOD_mean in the results is the usual average).",
    "ECE": "Expected calibration error, 10 equal-width bins.",
}


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return f"{v:.{digits}f}"


WITHHELD = "withheld"


def _cell(row) -> str:
    if row is None:
        return ""
    if bool(row.get("suppressed", False)):
        return WITHHELD
    text = _fmt(row["value"])
    if not math.isnan(row["ci_low"]) and not math.isnan(row["ci_high"]):
        text += f" ({_fmt(row['ci_low'])} to {_fmt(row['ci_high'])})"
    p = row.get("p_value")
    if p is not None and not (isinstance(p, float) and math.isnan(p)):  # test of no disparity
        text += f" p={p:.3f}" if p >= 0.001 else " p<0.001"
    return text


def _note(v: Any) -> str:
    return v if isinstance(v, str) else ""


def _n(n: Any) -> str:
    if isinstance(n, str):
        return n
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return "n/a"
    n = int(n)
    return f"<{SMALL_GROUP}" if n < SMALL_GROUP else f"{n:,}"


def _worst(label: str, attr: str, rows) -> str | None:
    """One plain sentence naming the worst-served group for a label and attribute (none when a group's
    values are withheld: the worst of the shown groups need not be the worst group)."""
    if "suppressed" in rows.columns and rows[rows["group"] != "all"]["suppressed"].astype(bool).any():
        return None
    if "reportable" in rows:  # groups under the reporting threshold are not presented as findings
        rows = rows[rows["reportable"].fillna(False).astype(bool)]
    disp = rows[(rows["metric"] == "TPRDisp")].dropna(subset=["value"])
    if len(disp):
        r = disp.loc[disp["value"].idxmin()]
        if r["value"] >= 0:
            return f"{label}, by {attr}: no group has a lower true positive rate than the comparison."
        ref = "the other group" if disp["group"].nunique() == 2 else "the median group"
        ci = ""
        if not math.isnan(r["ci_high"]):
            ci = (f" (95% CI {_fmt(r['ci_low'])} to {_fmt(r['ci_high'])}"
                  + ("; the interval includes 0, so this may be chance)" if r["ci_high"] >= 0 else ")"))
        return (f"{label}, by {attr}: the worst-served group is {r['group']} — its true positive rate is "
                f"{abs(r['value']):.3f} below {ref}{ci}.")
    auc = rows[(rows["metric"] == "AUC") & (rows["audit"] == "performance")].dropna(subset=["value"])
    if len(auc):
        r = auc.loc[auc["value"].idxmin()]
        return f"{label}, by {attr}: the lowest AUC is in group {r['group']} ({_fmt(r['value'])})."
    return None


def _composition(res) -> list[dict[str, str]]:
    """Test-split composition per audited attribute: images (and patients, from the ``group_sizes`` audit)
    per group, from the protected results (:func:`curate.policy.disclosure_audit.protect_results`): a
    withheld count is printed as its marker. ``suppressed`` says whether the line hides any cell (the card
    then prints the footnote)."""
    if res.empty:
        return []
    first = res["label"].iloc[0]
    rows = res[(res["label"] == first) & (res["attribute"] != OVERALL) & (res["group"] != ALL)]
    out = []
    for attr in dict.fromkeys(rows["attribute"]):
        r = rows[rows["attribute"] == attr].drop_duplicates("group")
        pats = rows[(rows["attribute"] == attr) & (rows["metric"] == "n_patients")].set_index("group")
        whole = res[res["attribute"] == OVERALL]["n"]  # all test images (published as the test split)
        total = int(whole.iloc[0]) if len(whole) and whole.iloc[0] is not None else 0
        parts, hidden = [], False
        for _, g in r.iterrows():
            n = shown_n(g)
            if g["n_shown"]:
                hidden = True
                text = f"{g['group']} {n} images"
            else:
                text = f"{g['group']} {n} images" + (f" ({int(g['n']) / total:.0%})" if total else "")
            if g["group"] in pats.index:
                p = pats.loc[g["group"]]
                text += ", " + (f"{p['n_shown'] or COMPLEMENT} patients" if p["suppressed"]
                                else f"{int(round(p['value'])):,} patients")
            parts.append(text)
        out.append({"attribute": str(attr), "text": "; ".join(parts), "suppressed": hidden})
    return out


def _dataset_facts(dataset_id: str | None, datasheet: str | None = None) -> dict[str, Any] | None:
    if not dataset_id:
        return None
    from curate.catalog import load
    from curate.countries import name

    ds = load().get(dataset_id)

    def fact(field: str, fmt=str) -> str:
        f = getattr(ds, field, None)
        if f is None or f.value in (None, [], ""):
            return NOT_REPORTED
        return fmt(f.value)

    return {
        "id": ds.id, "name": ds.name,
        "datasheet": datasheet or f"../cards/{ds.id}/datasheet.html",
        "countries": fact("countries", lambda v: ", ".join(name(c) for c in v)),
        "demographics": fact("demographics_reported", lambda v: ", ".join(map(str, v))),
        "images": f"{ds.n_images:,}" if ds.n_images else NOT_REPORTED,
        "patients": f"{ds.n_patients:,}" if ds.n_patients else NOT_REPORTED,
        "access": ds.access or NOT_REPORTED,
        "licence": fact("licence"),
    }


def protected(result: AuditResult) -> AuditResult:
    """The result with its small cells withheld (idempotent): what every output of ``audit`` shows."""
    from dataclasses import replace

    from curate.output import protect_count

    if "suppressed" in result.results.columns:
        return result
    res, notes = protect_results(result.results, result.settings)
    st = dict(result.settings)
    for key in ("n_test_rows", "n_test_units"):
        if isinstance(st.get(key), int):
            st[key] = protect_count(st[key])
    warnings = list(result.warnings) + [f"{a}: {n}" for a, n in notes.items()]
    return replace(result, results=res, settings=st, warnings=warnings)


def _sections(res, st: dict[str, Any]) -> list[dict[str, Any]]:
    """One section per label × attribute: the per-group table, the summary disparities, the worst group."""
    sections = []
    for label in st["labels"]:
        for attr in [a for a in dict.fromkeys(res["attribute"]) if a != OVERALL]:
            rows = res[(res["label"] == label) & (res["attribute"] == attr)]
            if rows.empty:
                continue
            grp = rows[rows["group"] != "all"]
            present = [(m, h) for m, h in GROUP_METRICS if (grp["metric"] == m).any()]
            table = []
            for g in dict.fromkeys(grp["group"]):
                gr = grp[grp["group"] == g]
                small = gr["note"].fillna("").str.contains("small group").any()
                cells = [(_cell(gr[gr["metric"] == m].iloc[0]) if (gr["metric"] == m).any() else "")
                         for m, _ in present]
                table.append({"group": str(g), "n": shown_n(gr.iloc[0]), "small": bool(small),
                              "cells": cells})
            summary = []
            for m in SUMMARY_METRICS:
                hit = rows[(rows["metric"] == m) & (rows["group"] == "all")]
                if len(hit):
                    summary.append({"metric": m, "value": _cell(hit.iloc[0]),
                                    "note": _note(hit.iloc[0]["note"])})
            sections.append({"label": label, "attribute": attr, "headers": [h for _, h in present],
                             "rows": table, "summary": summary, "worst": _worst(label, attr, rows)})
    return sections


def card_context(result: AuditResult, *, dataset: str | None = None, probe_info: dict | None = None,
                 model_name: str | None = None, charts: dict[str, bytes] | None = None,
                 datasheet: str | None = None, synthetic: bool = False) -> dict[str, Any]:
    """Everything the templates show, as plain strings/lists (no computation happens in templates).

    ``synthetic``: the predictions were made on data marked synthetic (:mod:`curate.synthetic`): the
    title and the first paragraph say so, and the catalog's figures are the real dataset's."""
    result = protected(result)
    res = result.results
    st = result.settings
    sections = _sections(res, st)
    worst = [sec["worst"] for sec in sections if sec["worst"]]
    overall = []
    for label in st["labels"]:
        o = res[(res["label"] == label) & (res["attribute"] == OVERALL)]
        overall.append({"label": label, **{m: _cell(o[o["metric"] == m].iloc[0]) if (o["metric"] == m).any()
                                           else "" for m in ("AUC", "TPR", "FPR", "ECE")}})
    avg_gaps = [{"attribute": r["attribute"], "value": _cell(r)}
                for _, r in res[(res["metric"] == "average_Gap") & (res["label"] == ALL_LABELS)].iterrows()]
    thr_text, thr_values = threshold_text(st, result.thresholds)
    ci_text = interval_text(st)
    used_metrics = [m for m in METRIC_TEXT if (res["metric"] == m).any()]
    conventions_text = conventions_text_of(st.get("conventions") or {},
                                           st.get("reporting_threshold", MIN_CELL))
    composition = _composition(res)
    composition_note = None
    if any(c["suppressed"] for c in composition):
        composition_note = (f'"{SUPPRESSED}": fewer than {MIN_CELL} individuals; "{COMPLEMENT}": hidden so '
                            f'that a "{SUPPRESSED}" cell cannot be recovered from the totals')
    from curate.synthetic import note, title

    synthetic = synthetic or bool(st.get("synthetic"))  # the predictions carried the marker
    on = (f" on {title(dataset) if synthetic else dataset}" if dataset else
          (" on SYNTHETIC data" if synthetic else ""))
    return {
        "title": f"Fairness model card: {model_name or (probe_info or {}).get('model', 'model')}" + on,
        "synthetic_note": (note(dataset or "a catalog dataset", result.settings.get("n_test_rows"))
                           .replace("(", "(test split: ", 1) if synthetic else ""),
        "synthetic": synthetic, "task_text": task_text(probe_info),
        "model_name": model_name, "probe": probe_info, "dataset": _dataset_facts(dataset, datasheet),
        "composition": composition,
        "composition_note": composition_note,
        "settings": st, "audits": result.audits, "threshold_text": thr_text, "thresholds": thr_values,
        "ci_text": ci_text, "conventions_text": conventions_text,
        "metrics": [(m, METRIC_TEXT[m]) for m in used_metrics],
        "overall": overall, "sections": sections, "worst": worst, "avg_gaps": avg_gaps,
        "warnings": result.warnings, "small": SMALL_GROUP,
        "n_test": _n(st["n_test_rows"]), "n_test_units": _n(st["n_test_units"]),
        "charts": [{"attribute": a, "file": f"charts/gap_{_slug(a)}.png",
                    "b64": base64.b64encode(png).decode("ascii")} for a, png in (charts or {}).items()],
        "not_reported": NOT_REPORTED,
    }


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text)


def render_model_card(ctx: dict[str, Any]) -> tuple[str, str]:
    """(markdown, html) from the two templates; HTML is autoescaped."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    md_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=False, undefined=StrictUndefined,
                         trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    from curate.policy.html import jinja_env

    html_env = jinja_env(FileSystemLoader(TEMPLATES), undefined=StrictUndefined, trim_blocks=True,
                         lstrip_blocks=True)  # autoescaped by the .html.j2 name; safe_url for links
    return (md_env.get_template("model_card.md.j2").render(**ctx),
            html_env.get_template("model_card.html.j2").render(**ctx))


#: What each column of results.parquet is, for the exit gate (:func:`curate.output.write_table`).
RESULT_ROLES = {"audit": "label", "metric": "label", "label": "label", "attribute": "label", "group": "group",
                "value": "value", "ci_low": "value", "ci_high": "value", "n": "count", "note": "text",
                "n_units": "count", "reportable": "value", "seed_sd": "value", "p_value": "value",
                "suppressed": "value", "n_shown": "value"}
#: Keys of results.json whose values count individuals.
RESULT_COUNTS = ("n", "n_units", "n_test_rows", "n_test_units")


def write_audit(result: AuditResult, out: str | os.PathLike, *, dataset: str | None = None,
                probe_info: dict | None = None, model_name: str | None = None,
                datasheet: str | os.PathLike | None = None, synthetic: bool = False) -> Path:
    """Write results.parquet, results.json, model_card.md/.html and charts/*.png into ``out`` atomically.

    ``datasheet``: the dataset's datasheet (e.g. ``card/datasheet.md`` from ``curate build-card``); the
    card links it relative to ``out`` (default: ``../cards/<ID>/datasheet.html``, the gallery).
    """
    from curate.output import output_folder, write_bytes, write_json, write_table, write_text

    if dataset:  # fail on an unknown id before doing any work
        _dataset_facts(dataset)
    result = protected(result)  # results files, charts and card all show the same protected numbers
    attrs = [a for a in dict.fromkeys(result.results["attribute"]) if a != OVERALL]
    charts = {a: png for a in attrs if (png := gap_chart(result.results, a)) is not None}
    link = None
    if datasheet is not None:
        link = Path(os.path.relpath(Path(datasheet).resolve(), Path(out).resolve())).as_posix()
    ctx = card_context(result, dataset=dataset, probe_info=probe_info, model_name=model_name, charts=charts,
                       datasheet=link, synthetic=synthetic)
    md, html = render_model_card(ctx)
    with output_folder(out, kind="audit") as tmp:
        write_table(result.results, tmp / "results.parquet", roles=RESULT_ROLES, atomic=False)
        payload = result.to_json()
        if dataset:
            payload["dataset"] = dataset
        write_json(tmp / "results.json", payload, counts=RESULT_COUNTS, atomic=False)
        write_text(tmp / "model_card.md", md, atomic=False)
        write_text(tmp / "model_card.html", html, atomic=False)
        if charts:
            (tmp / "charts").mkdir()
            for c in ctx["charts"]:
                write_bytes(tmp / c["file"], base64.b64decode(c["b64"]), atomic=False)
    return Path(out)


def audit_folder(preds: str, out: str, *, dataset: str | None = None, datasheet: str | None = None,
                 model_name: str | None = None, reference: list[str] | None = None,
                 **options: Any) -> AuditResult:
    """``curate audit``: check the inputs, run the audits (:func:`curate.pipeline.audit.audit`) and write
    the results and the model card into ``out`` (:func:`write_audit`)."""
    from curate.pipeline.audit import audit
    from curate.pipeline.audit_inputs import audit_inputs

    got = audit_inputs(preds, out, dataset=dataset, datasheet=datasheet, reference=reference,
                       bootstrap=options.get("bootstrap", 0))
    res = audit(preds, reference=got.reference, **options)
    write_audit(res, out, dataset=got.dataset, probe_info=got.probe_info, model_name=model_name,
                datasheet=datasheet, synthetic=got.synthetic)
    return res
