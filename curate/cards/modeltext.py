"""The model card's sentences about how its numbers were made: task, threshold, intervals, conventions.

Plain text from the audit's settings (:class:`~curate.pipeline.audit.AuditResult`), filled into the
templates by :func:`curate.cards.modelcard.card_context`.
"""

from __future__ import annotations

from typing import Any


def task_text(probe_info: dict | None) -> str:
    """The probe's task in a reader's words: one 0/1 label is "binary", not "multilabel"."""
    if not probe_info:
        return ""
    task, labels = probe_info.get("task"), list(probe_info.get("labels") or [])
    if task == "multilabel":
        return "binary (1 label)" if len(labels) == 1 else f"multilabel ({len(labels)} binary labels)"
    if task == "multiclass":
        return f"multiclass ({len(probe_info.get('classes') or [])} classes, 1 label)"
    return str(task)


def threshold_text(st: dict[str, Any], thresholds: dict[str, list[float]]) -> tuple[str, dict[str, str]]:
    """Where the decision threshold comes from (given, the default, or F1-optimal on validation) and why.

    A fixed threshold is stated once; per-label values are listed only when they were chosen (one per
    seed), so a reader never meets unexplained repeated 0.500s."""
    thr = st["threshold"]
    n_seeds = st.get("n_seeds", 1)
    seeds = f"one per training seed ({n_seeds} seeds)" if n_seeds > 1 else "one value"
    if thr == "f1":
        text = ("F1-optimal on the validation split, per label and per training seed (bahre2025), then "
                "applied unchanged to the test split, so the test rows never choose their own threshold; "
                "values below, " + seeds)
        values = {lab: ", ".join(f"{v:.3f}" for v in vals) for lab, vals in thresholds.items()}
        return text, values
    source = st.get("threshold_source")
    if source == "default":
        why = ("the default of `curate audit` (no --threshold given); it is not tuned to the model — pass "
               "--threshold f1 for F1-optimal thresholds chosen on the validation split")
    else:
        why = "given with --threshold"
    return f"{thr:g} for every label and every seed — {why}", {}


def conventions_text_of(conv: dict[str, Any], threshold: int) -> str:
    """One sentence stating how the numbers were scored (docs/audits.md "Conventions")."""
    method = {"between_groups": "max − min over groups (fairlearn's between_groups)",
              "to_overall": "the largest difference to the overall rate (fairlearn's to_overall)",
              "to_reference": "the largest difference to the reference group"}.get(conv.get("method", ""),
                                                                                   "max − min over groups")
    compare = {"rest": "the rest of the test set", "overall": "the whole test set",
               "reference": "the reference group"}.get(conv.get("compare", ""), "the rest of the test set")
    undefined = ("scores 0, as in fairlearn" if conv.get("undefined", "zero") == "zero"
                 else "is left out of the comparison")
    ref = conv.get("reference")
    ref_text = ""
    if ref:
        ref_text = " Reference groups: " + (", ".join(f"{a} = {g}" for a, g in ref.items())
                                            if isinstance(ref, dict) else str(ref)) + "."
    return (f"DPD, DEOdds and TPR_diff compare groups by {method}; EOD and AOD compare each group with "
            f"{compare}; inside DEOdds and TPR_diff, the TPR (FPR) of a group without positives (negatives) "
            f"{undefined}, and the row's note names such groups. Per-group rates that are undefined stay "
            f"n/a. Groups under {threshold} individuals are marked not reportable and are not named as "
            f"findings.{ref_text}")



def interval_text(st: dict[str, Any]) -> str:
    """How the intervals (and p-values) were made, in one paragraph."""
    if st["ci"] == "bootstrap":
        ci_text = (f"{int(st['ci_level'] * 100)}% bootstrap intervals, {st['bootstrap']} "
                   f"replicates resampling {st['resampling_unit']} (percentile; BCa for AUC; for a max − min "
                   "disparity the lower end is bias-corrected and reaches 0 when the test of no disparity "
                   "does not reject)"
                   + (f"; all {st['n_seeds']} training seeds are scored on the same resamples, so the "
                      "interval covers the test set once (the seed-to-seed spread is seed_sd in the "
                      "results)" if st["n_seeds"] > 1 else ""))
    elif st["ci"] == "seeds":
        from scipy import stats

        k = st["n_seeds"]
        t = float(stats.t.ppf((1 + st["ci_level"]) / 2, k - 1))
        ci_text = (f"mean over {k} training seeds with a {int(st['ci_level'] * 100)}% t interval "
                   "(bahre2025), clipped to each metric's range. With few seeds this interval is wide: "
                   f"with {k} it spans ±{t:.2f} standard errors (t with {k - 1} degrees of freedom), and it "
                   "reflects seed-to-seed variation only, not the finite test set; rerun with "
                   "--bootstrap 1000 for intervals that also resample the test set")
    else:
        ci_text = "no intervals (single seed, no bootstrap); rerun with --bootstrap 1000"
    if st.get("permutations"):
        ci_text += (f". p: permutation test of no disparity ({st['permutations']} shuffles of the "
                    f"{st['resampling_unit']}' group labels, within the true label for TPR/FPR metrics)")
    return ci_text
