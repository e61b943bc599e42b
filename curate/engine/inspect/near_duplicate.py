"""Near-duplicate manager: groups of near-identical images, found by ``curate dedup``'s engine.

The search is :func:`curate.engine.dedup.dedup` itself (cosine ≥ ``threshold`` on L2-normalised embeddings;
exact below a few thousand rows, otherwise an approximate search with a certified recall; the same default
threshold): no second implementation. Every image in a group is flagged ``near_duplicate``; its score is
its highest cosine similarity to another member, and ``group`` numbers the group (the first image of each
group by id is the one ``curate dedup`` would keep). The summary adds how many pairs join images of two
*different* patients: copies filed under two patients, or one patient under two ids — each a leak across
any patient-level split.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from curate.engine.inspect import InspectData, IssueResult
from curate.errors import UsageError


@dataclass
class NearDuplicateOptions:
    threshold: float | None = None  # None: curate dedup's default
    method: str = "auto"
    device: str = "cpu"
    seed: int = 0
    n_splits: int = 5  # accepted (the pipeline passes it to every manager); unused here


def near_duplicate_groups(X: np.ndarray, opt: NearDuplicateOptions):
    """(row_a, row_b, cosine) of every pair and the dedup result, rows as positions in ``X``."""
    from curate.engine.dedup import dedup

    n = len(X)
    ids = np.char.zfill(np.arange(n).astype(str), len(str(n)))  # sort as numbers do
    kw = {} if opt.threshold is None else {"threshold": opt.threshold}
    res = dedup(np.asarray(X, dtype=np.float32), method=opt.method, device=opt.device, ids=ids, seed=opt.seed,
                **kw)
    a = res.pairs["id_a"].astype(int).to_numpy()
    b = res.pairs["id_b"].astype(int).to_numpy()
    return a, b, res.pairs["cosine"].to_numpy(dtype=np.float64), res


class NearDuplicateManager:
    """Near-duplicate groups from the dedup engine."""

    name = "near_duplicate"
    needs = ("embeddings", "patients")

    def find(self, data: InspectData, **options) -> IssueResult:
        import pandas as pd

        opt = NearDuplicateOptions(**options)
        if data.X is None:
            raise UsageError("the near_duplicate check needs embeddings")
        a, b, cos, res = near_duplicate_groups(data.X, opt)
        n = len(data.X)
        best = np.full(n, -np.inf)
        np.maximum.at(best, a, cos)
        np.maximum.at(best, b, cos)
        g = res.groups
        rows = g["id"].astype(int).to_numpy()
        issues = pd.DataFrame({"row": rows, "issue": "near_duplicate", "score": best[rows], "flagged": True,
                               "group": g["group"].to_numpy(dtype=np.int64),
                               "kept": g["is_representative"].to_numpy(dtype=bool)})
        patients = np.asarray(data.patients).astype(str)
        across = int((patients[a] != patients[b]).sum()) if len(a) else 0
        summary = {"threshold": res.summary["threshold"], "method": res.summary["method"],
                   "recall_lower_bound": res.summary.get("recall_lower_bound"), "rows": n,
                   "flagged": len(rows), "groups": int(g["group"].nunique()), "pairs": len(a),
                   "pairs_across_patients": across}
        return IssueResult(self.name, issues, summary=summary)
