"""Train/validation/test leakage: duplicate images and patients that cross split boundaries.

Two checks, both from metadata keyed by image id:

1. duplicate pairs (from :func:`curate.dedup` or the image-folder dedup) whose two images lie in
   different splits — counted per split pair (e.g. ``test|train``);
2. patients with images in more than one split — counted per split pair. Patient ids are never written
   or printed, only counts. The counts are raw; they leave through the exit gate
   (:func:`curate.output.protect_leakage`, small cells and their complements suppressed).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

from curate.errors import InputError


@dataclass
class LeakageResult:
    """``summary`` (JSON-able counts) and ``pairs`` (cross-split duplicate pairs, no patient ids)."""

    summary: dict[str, Any] = field(default_factory=dict)
    pairs: Any = None  # DataFrame id_a, id_b, <score columns>, split_a, split_b[, same_patient]

    def write_into(self, folder: str | os.PathLike) -> None:
        from curate.output import protect_leakage, write_json, write_local

        folder = Path(folder)
        write_json(folder / "leakage.json", protect_leakage(self.summary), counts=("patients",), atomic=False)
        roles = {c: "group" if c in ("split_a", "split_b") else "value" for c in self.pairs.columns
                 if c not in ("id_a", "id_b")}
        write_local(self.pairs, folder / "leakage_pairs.parquet", ids=["id_a", "id_b"], roles=roles,
                    atomic=False)


def align_metadata(meta: Any, ids: Any, *, meta_id_col: str = "id", split_col: str = "split",
                   patient_col: str | None = None) -> Any:
    """Check the metadata covers every embedding id once; return it indexed by id in embedding order."""
    for col, what in ((meta_id_col, "--id-col"), (split_col, "--split-col"), (patient_col, "--patient-col")):
        if col is not None and col not in meta.columns:
            cols = ", ".join(map(str, meta.columns))
            raise InputError(f"metadata has no column '{col}' ({what}); columns: {cols}")
    m = meta.copy()
    m[meta_id_col] = m[meta_id_col].astype(str)
    dup = int(m[meta_id_col].duplicated().sum())
    if dup:
        raise InputError(f"metadata lists {dup} ids more than once in column '{meta_id_col}'")
    ids = np.asarray(ids).astype(str)
    m = m.set_index(meta_id_col)
    missing = int((~np.isin(ids, m.index.to_numpy(dtype=str))).sum())
    if missing:
        raise InputError(f"metadata does not match the embeddings: {missing} of {len(ids)} ids have no row "
                         f"in column '{meta_id_col}'")
    m = m.loc[ids]
    for col in (split_col, patient_col):
        if col is not None:
            blank = int(m[col].isna().sum() + (m[col].astype(str).str.strip() == "").sum())
            if blank:
                raise InputError(f"{blank} rows have no value in metadata column '{col}'")
    return m


def leakage(pairs: Any, meta: Any, ids: Any, *, meta_id_col: str = "id", split_col: str = "split",
            patient_col: str | None = None) -> LeakageResult:
    """Cross-split duplicate pairs and patients in more than one split.

    ``pairs``: DataFrame with ``id_a``, ``id_b`` (+ score columns, kept); ``meta``: DataFrame with the id,
    split and (optional) patient columns covering every id in ``ids`` (the dedup input ids). Counts are
    raw (the engine never suppresses): protect them with :func:`curate.output.protect_leakage`.
    """
    import pandas as pd

    m = align_metadata(meta, ids, meta_id_col=meta_id_col, split_col=split_col, patient_col=patient_col)
    split = m[split_col].astype(str)
    p = pairs.copy()
    p["split_a"] = split.reindex(p["id_a"].astype(str)).to_numpy()
    p["split_b"] = split.reindex(p["id_b"].astype(str)).to_numpy()
    if patient_col is not None:
        pat = m[patient_col].astype(str)
        p["same_patient"] = (pat.reindex(p["id_a"].astype(str)).to_numpy()
                             == pat.reindex(p["id_b"].astype(str)).to_numpy())
    cross = p[p["split_a"] != p["split_b"]].reset_index(drop=True)
    key = [f"{min(a, b)}|{max(a, b)}" for a, b in zip(cross["split_a"], cross["split_b"])]
    by_pair = {k: int(v) for k, v in sorted(pd.Series(key, dtype=object).value_counts().items())}
    splits = sorted(split.unique().tolist())
    summary: dict[str, Any] = {
        "images": int(len(m)),
        "splits": {s: int(c) for s, c in split.value_counts().sort_index().items()},
        "metadata_rows_not_embedded": int(len(meta) - len(m)),
        "duplicate_pairs": int(len(p)),
        "cross_split_pairs": int(len(cross)),
        "cross_split_pairs_by_split": by_pair,
        "images_in_cross_split_pairs": int(len(set(cross["id_a"]) | set(cross["id_b"]))),
    }
    if patient_col is not None:
        summary["cross_split_pairs_same_patient"] = int(cross["same_patient"].sum())
        per_patient = pd.DataFrame({"p": m[patient_col].astype(str).to_numpy(), "s": split.to_numpy()})
        sets = per_patient.groupby("p")["s"].agg(lambda s: tuple(sorted(set(s))))
        multi = sets[sets.map(len) > 1]
        counts: dict[str, int] = {f"{a}|{b}": 0 for a, b in combinations(splits, 2)}
        for st in multi:
            for a, b in combinations(st, 2):
                counts[f"{a}|{b}"] += 1
        n_img = int(per_patient["p"].isin(multi.index).sum())
        summary["patients"] = {
            "total": int(len(sets)),
            "in_multiple_splits": int(len(multi)),
            "in_multiple_splits_by_split": counts,
            "images_of_patients_in_multiple_splits": n_img,
        }
    summary["leak"] = bool(len(cross) or (patient_col is not None and len(multi)))
    return LeakageResult(summary=summary, pairs=cross)
