"""What the Curation section of a card prints, counted in the pipeline so the template has nothing left
to compute: :func:`curation_view` (identical vs near pairs, shares, best levels, verdicts) and
:func:`sample_counts` (the per-split counts of a ``curate sample`` file, through the exit gate).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: Cosine similarity from which a duplicate pair counts as *identical* embeddings (float32 rounding).
IDENTICAL_COSINE = 0.9999


def sample_counts(df: pd.DataFrame, *, split_col: str, patient_col: str | None, id_col: str,
                   pairs: pd.DataFrame) -> dict[str, Any]:
    """Per-split image and patient counts of a ``curate sample`` file (patients < 11 suppressed), and how
    many of the engine's duplicate pairs have both images in the sample."""

    from curate.output import protect_count, split_counts

    split = df[split_col].astype(str)
    order = [s for s in ("train", "validation", "test", "all") if (split == s).any()]
    order += sorted(set(split) - set(order))
    images = {s: int((split == s).sum()) for s in order}
    out: dict[str, Any] = {"splits": order, "images": split_counts(images)[0], "rows": int(len(df)),
                           "balanced_by_cluster": any(str(c).startswith("cluster_l") for c in df.columns)}
    if patient_col and patient_col in df.columns:  # counts leave through the exit gate
        pats = {s: int(df.loc[split == s, patient_col].nunique()) for s in order}
        out["images"], out["patients"] = split_counts(images, pats)
        total = int(df[patient_col].nunique())
        out["patients_total"] = protect_count(total)
        per = df.groupby(patient_col)[split_col].nunique()
        out["patients_in_several_splits"] = protect_count(int((per > 1).sum()), total)
    if id_col in df.columns:
        ids = set(df[id_col].astype(str))
        both = pairs["id_a"].astype(str).isin(ids) & pairs["id_b"].astype(str).isin(ids)
        out["duplicate_pairs_in_sample"] = int(both.sum())
    return out


def _pct(a: int, b: int) -> str:
    return f"{a / b:.1%}" if b else "n/a"


def _by_split(d: dict[str, Any]) -> str:
    items = [f"{k.replace('|', '–')}: {v}" for k, v in d.items() if v != 0]
    return ", ".join(items) if items else "none"


def curation_view(*, n: int, d: int, emb_name: str, meta_name: str, id_col: str, dedup_summary: dict,
          dedup_pairs: pd.DataFrame, leak: dict | None, split_col: str | None, patient_col: str | None,
          ks: list[int], sizes: dict, evaluation: dict | None, sample: dict | None,
          commands: dict[str, str]) -> dict[str, Any]:
    """Every number and phrase the Curation section prints, from the engine's summaries (no ids)."""
    from curate.engine.cluster import VERDICTS
    from curate.engine.dedup import describe_recall
    from curate.output.counts import shown

    s = dedup_summary
    cos = dedup_pairs["cosine"].to_numpy() if len(dedup_pairs) else []
    identical = int(sum(1 for c in cos if c >= IDENTICAL_COSINE))
    rows = []
    for attr, r in (evaluation or {}).get("attributes", {}).items():
        if not r.get("levels"):
            rows.append({"attr": attr, "level": None, "verdict": r["verdict"]})
            continue
        best = r["best_level"]
        m = r["levels"][best]
        rows.append({"attr": attr, "level": best[9:], "k": m["k"], "ami": m["ami"], "nmi": m["nmi"],
                     "ari": m["ari"], "purity": m["purity"], "baseline": r["baseline_purity"],
                     "strength": r["strength"],
                     "verdict": r["verdict"] + (f" ({r['note']})" if r.get("note") else "")})
    samp = None
    if sample is not None:
        samp = dict(sample)
        samp["has_patients"] = "patients" in sample
        samp["images_text"] = {sp: shown(v) for sp, v in sample["images"].items()}
        samp["suppressed"] = samp["has_patients"] and any(isinstance(v, str)
                                                          for v in sample["patients"].values())
    return {
        "n": n, "d": d, "emb_name": emb_name, "meta_name": meta_name, "id_col": id_col,
        "identical_cosine": IDENTICAL_COSINE,
        "dedup": dict(s, identical=identical, near=int(len(cos) - identical),
                      removed_share=_pct(s["removed"], s["n"]), recall_text=describe_recall(s),
                      greedy=s.get("keep_rule", "components") == "greedy"),
        "leak": None if leak is None else dict(
            leak, splits_text=", ".join(f"{k} {shown(v)}" for k, v in leak["splits"].items()),
            cross_text=_by_split(leak["cross_split_pairs_by_split"]),
            patients_text=(_by_split(leak["patients"]["in_multiple_splits_by_split"])
                           if "patients" in leak else None)),
        "split_col": split_col, "patient_col": patient_col,
        "levels": [{"level": i + 1, "k": k} for i, k in enumerate(ks)], "sizes": sizes,
        "verdict_thresholds": ", ".join(f"≥ {lo:g} {w}" for lo, w in VERDICTS if lo > -1),
        "evaluation": rows, "sample": samp, "commands": commands,
    }
