"""Outlier manager: images far from every other patient's images in embedding space.

Score = cosine distance (1 − cosine similarity of L2-normalised embeddings, the metric of ``curate dedup``)
from each image to its ``k``-th nearest neighbour among *other patients'* images. A patient's own images
are left out of the neighbours: with several images per patient, an unusual patient's images sit close to
each other and would otherwise hide one another. The neighbours come from the engine's exact FAISS
inner-product index (:func:`curate.engine.dedup.exact.flat_ip`, the index ``curate dedup`` searches on
the GPU), queried for ``k`` + (the most images one patient has) neighbours so that ``k`` remain after
the patient's own are removed. This is the k-th-nearest-neighbour distance outlier score of Ramaswamy,
Rastogi & Shim (2000, "Efficient algorithms for mining outliers from large data sets", SIGMOD, §2).

Flag: the robust z of the score, (score − median) / (1.4826 · MAD), above ``z`` (default 3.5, the
modified z-score cut-off of Iglewicz & Hoaglin 1993, *How to Detect and Handle Outliers*, §2.3). One-sided:
only images farther than usual are outliers. The median and MAD are over all images, so a handful of
outliers moves neither.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from curate.engine.inspect import InspectData, IssueResult
from curate.errors import UsageError

#: 1 / Φ⁻¹(3/4): makes the MAD estimate the standard deviation of a normal sample.
MAD_SCALE = 1.4826


@dataclass
class OutlierOptions:
    k: int = 10
    z: float = 3.5
    device: str = "cpu"
    seed: int = 0  # accepted (the pipeline passes it to every manager); the search is exact
    n_splits: int = 5  # accepted; unused here

    def validate(self) -> None:
        if int(self.k) != self.k or self.k < 1:
            raise UsageError("k must be a whole number ≥ 1")
        if not self.z > 0:
            raise UsageError("z must be > 0")


def normalised(X: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float32; zero rows stay zero), as ``curate dedup`` compares them."""
    x = np.asarray(X, dtype=np.float32)
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return np.ascontiguousarray(x / np.where(norm > 0, norm, 1.0))


def kth_other_patient_distance(X: np.ndarray, patients: np.ndarray, k: int, *, device: str = "cpu"
                               ) -> np.ndarray:
    """Cosine distance from each row to its ``k``-th nearest row of another patient (nan when fewer than
    ``k`` such rows exist), from the engine's exact FAISS index."""
    from curate.engine.dedup.exact import flat_ip

    x = normalised(X)
    _, pid = np.unique(np.asarray(patients).astype(str), return_inverse=True)
    n = len(x)
    own = int(np.bincount(pid).max())
    want = min(n, k + own)
    sims, idx = flat_ip(x, device).search(x, want)
    other = (idx >= 0) & (pid[np.clip(idx, 0, None)] != pid[:, None])
    rank = np.cumsum(other, axis=1)
    hit = other & (rank == k)
    out = np.full(n, np.nan)
    rows, cols = np.nonzero(hit)
    out[rows] = 1.0 - sims[rows, cols].astype(np.float64)
    return np.clip(out, 0.0, 2.0)


def robust_z(score: np.ndarray) -> np.ndarray:
    """(score − median) / (1.4826 · MAD) over the finite scores (0 where the MAD is 0 and score = median)."""
    s = np.asarray(score, dtype=np.float64)
    ok = np.isfinite(s)
    med = float(np.median(s[ok])) if ok.any() else 0.0
    mad = MAD_SCALE * float(np.median(np.abs(s[ok] - med))) if ok.any() else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (s - med) / mad if mad > 0 else np.where(s > med, np.inf, 0.0)
    return np.where(ok, z, np.nan)


class OutlierManager:
    """Images far from other patients' images (k-th neighbour distance, robust threshold)."""

    name = "outlier"
    needs = ("embeddings", "patients")

    def find(self, data: InspectData, **options) -> IssueResult:
        import pandas as pd

        opt = OutlierOptions(**options)
        opt.validate()
        if data.X is None:
            raise UsageError("the outlier check needs embeddings")
        score = kth_other_patient_distance(data.X, data.patients, int(opt.k), device=opt.device)
        z = robust_z(score)
        flagged = np.nan_to_num(z, nan=0.0) > opt.z
        notes = []
        if np.isnan(score).any():
            notes.append(f"fewer than k = {opt.k} images of other patients: outliers are not looked for")
        issues = pd.DataFrame({"row": np.arange(len(score)), "issue": "outlier", "score": score,
                               "flagged": flagged, "robust_z": z})
        issues = issues.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
        summary = {"k": int(opt.k), "z": float(opt.z), "metric": "cosine distance to the k-th neighbour "
                   "of another patient", "rows": len(score), "flagged": int(flagged.sum())}
        return IssueResult(self.name, issues, summary=summary, notes=notes)
