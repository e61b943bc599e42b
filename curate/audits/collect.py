"""From per-seed replicate arrays to the tidy results table: seed mean, interval, seed spread, notes.

The runner collects, for every (audit, metric, label, attribute, group), one array per seed whose entry 0
is the point estimate and entries 1.. the bootstrap replicates — the same patient resamples for every seed
(:mod:`curate.audits.bootstrap`). Here they become one row each.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from curate.audits import bootstrap as boot
from curate.audits.metrics import SMALL_GROUP

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


def metric_ranges(chosen: Sequence[Any]) -> dict[tuple[str, str], tuple[float, float]]:
    """Each metric's natural range (intervals are clipped to it); summaries inherit their metric's range."""
    ranges: dict[tuple[str, str], tuple[float, float]] = {}
    for a in chosen:
        for metric, rng_ in (getattr(a, "ranges", None) or {}).items():
            ranges[(a.name, metric)] = (float(rng_[0]), float(rng_[1]))
        for metric, summary in getattr(a, "across_labels", {}).items():
            if (a.name, metric) in ranges:
                ranges[(a.name, summary)] = ranges[(a.name, metric)]
    return ranges


def metric_intervals(chosen: Sequence[Any]) -> dict[tuple[str, str], str]:
    """Each metric's interval kind (``corrected``/``bca``; percentile when absent); summaries inherit it."""
    kinds: dict[tuple[str, str], str] = {}
    for a in chosen:
        for metric, kind in (getattr(a, "intervals", None) or {}).items():
            kinds[(a.name, metric)] = kind
        for metric, summary in getattr(a, "across_labels", {}).items():
            if (a.name, metric) in kinds:
                kinds[(a.name, summary)] = kinds[(a.name, metric)]
    return kinds


def _interval(kind: str | None, value: float, per_seed: list[np.ndarray], bootstrap: int, n_jack: int,
              level: float) -> tuple[float, float]:
    """The bootstrap interval of one row: percentile, corrected (max − min) or BCa (audits.nulltests)."""
    from curate.audits import nulltests as NT

    reps = boot.shared_seed_replicates(np.stack([v[1:1 + bootstrap] for v in per_seed]))
    if kind == "corrected":
        return NT.corrected_interval(value, reps, level)
    if kind == "bca" and n_jack and all(v.size >= 1 + bootstrap + n_jack for v in per_seed):
        jk = np.stack([v[1 + bootstrap:1 + bootstrap + n_jack] for v in per_seed])
        jack = boot.shared_seed_replicates(jk)
        return NT.bca_interval(value, reps, jack, level)
    return boot.percentile_ci(reps, level)


def _p_value(slot: dict[str, Any], value: float) -> float:
    """Permutation p-value of "no disparity": seed-averaged null (same permutations in every seed)."""
    from curate.audits import nulltests as NT

    nulls = slot.get("null")
    if not nulls or np.isnan(value):
        return float("nan")
    null = boot.shared_seed_replicates(np.stack([nulls[si] for si in sorted(nulls)]))
    return NT.permutation_p_value(value, null, slot.get("null_u", 0.5))


def add_label_summaries(acc: dict[tuple, dict[str, Any]], chosen: Sequence[Any], all_labels: str) -> None:
    """Cross-label summaries (bahre2025 average Gap): average the per-label arrays, replicate by replicate."""
    for a in chosen:
        for metric, summary in getattr(a, "across_labels", {}).items():
            keys = [k for k in acc if k[0] == a.name and k[1] == metric]
            for attr, group in dict.fromkeys((k[3], k[4]) for k in keys):
                per_label = [acc[k] for k in keys if k[3] == attr and k[4] == group]
                vals = {}
                for si in per_label[0]["vals"]:
                    stack = np.stack([np.concatenate(p["vals"][si]) for p in per_label])
                    ok = ~np.all(np.isnan(stack), axis=0)
                    mean = np.full(stack.shape[1], np.nan)
                    mean[ok] = np.nanmean(stack[:, ok], axis=0)
                    vals[si] = [mean]
                first = per_label[0]
                acc[(a.name, summary, all_labels, attr, group)] = {
                    "vals": vals, "n": first["n"], "units": first["units"], "note": set(),
                    "small": first["small"], "reportable": all(p["reportable"] for p in per_label)}


def summarise(acc: dict[tuple, dict[str, Any]], chosen: Sequence[Any], *, bootstrap: int, level: float,
              columns: Sequence[str], all_labels: str, n_jack: int = 0) -> pd.DataFrame:
    """One row per key: seed-mean value, interval (shared-resample percentile, corrected or BCa — the audit's
    ``intervals`` — or seed t), seed_sd, permutation p-value of "no disparity", notes.

    Each per-seed array is [point, ``bootstrap`` replicates, ``n_jack`` grouped-jackknife values]."""
    import pandas as pd

    ranges = metric_ranges(chosen)
    kinds = metric_intervals(chosen)
    add_label_summaries(acc, chosen, all_labels)
    rows = []
    for (aname, metric, lab, attr, group), slot in acc.items():
        per_seed = [np.concatenate(slot["vals"][si]) for si in sorted(slot["vals"])]
        points = np.array([v[0] for v in per_seed])
        value = float(np.nanmean(points)) if np.isfinite(points).any() else float("nan")
        p_value = _p_value(slot, value)
        if bootstrap > 0:
            lo, hi = _interval(kinds.get((aname, metric)), value, per_seed, bootstrap, n_jack, level)
            if kinds.get((aname, metric)) == "corrected" and p_value > 1 - level:
                lo = min(lo, 0.0)  # the test does not reject "no disparity": 0 stays in the interval
        elif len(per_seed) > 1:
            lo, hi = boot.seed_t_ci(points, level)
        else:
            lo = hi = float("nan")
        if (aname, metric) in ranges:  # mean ± t·SE over few seeds can leave the range (AUC CI to 1.25)
            low, high = ranges[(aname, metric)]
            lo, hi = float(np.clip(lo, low, high)), float(np.clip(hi, low, high))
        notes = sorted(slot["note"])
        if notes and len(per_seed) > 1 and not np.isnan(value):
            notes = [f"in some seeds {n}" for n in notes]  # defined on average, undefined in a few runs
        if slot["small"]:
            notes.append(f"small group (fewer than {SMALL_GROUP} {slot['small']}): not reportable")
        elif not slot["reportable"]:
            notes.append(f"a group has fewer than {SMALL_GROUP} individuals: not reportable")
        rows.append([aname, metric, lab, attr, group, value, lo, hi, slot["n"], "; ".join(notes) or None,
                     slot["units"], bool(slot["reportable"]), boot.seed_sd(points), p_value])
    res = pd.DataFrame(rows, columns=list(columns))
    res["n"] = res["n"].astype("Int64")
    res["n_units"] = res["n_units"].astype("Int64")
    return res
