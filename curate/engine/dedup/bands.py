"""SemDeDup-style clustered search (Abbas et al. 2023, arXiv:2303.09540), exact by a triangle inequality.

Spherical k-means (:func:`curate.engine.cluster.lloyd.train_flat`, on a sample of ``sample_per_centroid`` rows
per centroid) partitions the unit rows into clusters. For unit vectors the angle is a metric, so for a pair
with ``cos(x, y) >= t`` (angle <= ``α = arccos t``) and ``y`` in a cluster whose member angles to its
centroid ``c`` lie in ``[θ_min, θ_max]``::

    θ_min - α  <=  angle(x, c)  <=  θ_max + α.

Every cluster is therefore compared (blocked matrix products) only with the rows whose centroid similarity
lies in that band: no pair at or above the threshold can be missed, so the recall is 1 by construction,
not an estimate (small float32 margins are added to the band). The cost is the sum over clusters of
band rows x members; :meth:`ProvableSearch.plan` counts it before any product is computed, so ``auto``
can choose another method when the clusters are too loose for the band to prune much.

With a fixed ``neighbors = m`` the older, approximate SemDeDup search is available instead: each cluster
is compared with its ``m`` nearest clusters (recall then bounded by ``_recall`` on a held-out sample).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from curate.engine.dedup.kernel import ProgressFn, blocked, canonical_pairs, cell_pairs, dense_pairs, no_pairs
from curate.errors import UsageError

BAND_EPS = 2e-6  # float32 error allowance on the similarities that define the bands


def clusters(x: np.ndarray, k: int, dev: str, seed: int, sample_per_centroid: int = 64, niter: int = 10,
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit centroids, each row's nearest centroid and its similarity to it.

    Spherical k-means (the local trainer) on a seeded sample of ``sample_per_centroid`` rows per centroid
    (as FAISS subsamples), from ``random`` distinct rows: a k-means++ start costs more than the band search
    it would prune on the benchmark data. Rows that share a mean direction are clustered centred
    (:func:`curate.engine.dedup.lists.centred_centroids`): the same bands, about balanced clusters.
    """
    from curate.engine.cluster.lloyd import train_flat
    from curate.engine.dedup.lists import centred_centroids, nearest

    n = len(x)
    if not (1 <= k <= n):
        raise UsageError(f"nlist must be between 1 and the number of vectors ({n}), got {k}")
    cent = centred_centroids(x, k, seed, niter) if dev != "gpu" else None
    if cent is not None:  # rows sharing a mean direction: clusters trained centred (about balanced)
        labels = nearest(x, cent)
        return cent, labels, assigned_sims(x, cent, labels)
    res = train_flat(np.ascontiguousarray(x, dtype=np.float32), k, niter=niter, seed=seed, spherical=True,
                     device=dev, init="random", max_points_per_centroid=sample_per_centroid)
    return res.centroids, res.labels, (1.0 - res.distances).astype(np.float32)


def assigned_sims(x: np.ndarray, cent: np.ndarray, labels: np.ndarray, block: int = 65_536) -> np.ndarray:
    """Each row's similarity to its assigned centroid (any assignment: the bands hold for all)."""
    out = np.empty(len(x), dtype=np.float32)
    for s, e in blocked(len(x), block):
        out[s:e] = np.einsum("ij,ij->i", x[s:e], cent[labels[s:e]])
    return out


class ProvableSearch:
    """Exact threshold search restricted by the centroid-angle bands (see the module docstring).

    The search cells are the non-empty clusters (``cell_cluster``: their cluster numbers; ``members``:
    their rows)."""

    def __init__(self, x: np.ndarray, t: float, cent: np.ndarray, labels: np.ndarray, sims: np.ndarray,
                 progress: ProgressFn | None = None) -> None:
        self.x, self.t, self.cent, self.labels, self.progress = x, t, cent, labels, progress
        k = len(cent)
        alpha = float(np.arccos(np.clip(t - BAND_EPS, -1, 1)))
        order = np.argsort(labels, kind="stable")
        starts = np.searchsorted(labels[order], np.arange(k + 1))
        cells, lo, hi, members = [], [], [], []
        for c in range(k):
            rows = order[starts[c]:starts[c + 1]]
            if not len(rows):
                continue
            a_min = float(np.arccos(min(1.0, float(sims[rows].max()) + BAND_EPS)))
            a_max = float(np.arccos(max(-1.0, float(sims[rows].min()) - BAND_EPS)))
            cells.append(c)
            lo.append(np.cos(min(np.pi, a_max + alpha)) - BAND_EPS)  # centroid sim must be >= lo
            hi.append(np.cos(max(0.0, a_min - alpha)) + BAND_EPS)  # ... and <= hi
            members.append(np.sort(rows))
        self.cell_cluster = np.array(cells, dtype=np.int64)
        self.lo = np.array(lo, dtype=np.float32)
        self.hi = np.array(hi, dtype=np.float32)
        self.members = members
        self.sizes = np.array([len(m) for m in members], dtype=np.int64)
        self.cand: list[np.ndarray] | None = None
        self.truth_volume = 0.0  # row-by-row products computed by pairs_of so far

    def plan(self, max_volume: float = np.inf, block: int = 2048) -> float:
        """Collect the band rows of every cluster; return the pair volume (inf if above ``max_volume``).

        Only queries whose own cluster number is <= the cell's cluster are kept: a pair whose rows lie
        in clusters a <= b is found from b's cell with the row of a as query, so each pair is computed
        once (within one cluster, twice).
        """
        x, lab = self.x, self.labels
        cc = self.cell_cluster
        cent, check_hi = self._cell_centroids()
        qs, cs = [], []
        volume = 0.0
        for s, e in blocked(len(x), block):
            q, c = self._band_hits(x[s:e] @ cent.T, check_hi)
            keep = lab[q + s] <= cc[c]
            q, c = q[keep], c[keep]
            volume += float(self.sizes[c].sum())
            if volume > max_volume:
                self.cand = None
                return float("inf")
            qs.append((q + s).astype(np.int32 if len(x) < 2**31 else np.int64))  # int32: half the memory
            cs.append(c.astype(np.int32))
        self.cand = self._per_cell(qs, cs)
        return volume

    def _band_hits(self, blk: np.ndarray, check_hi: bool) -> tuple[np.ndarray, np.ndarray]:
        """(row, cell) of a block of centroid similarities that lie in the cell's band: one dense pass
        (sim >= lo), then hi only on the survivors, read off the same block (not recomputed from gathered
        rows: on loose clusters most (row, cell) survive)."""
        q, c = np.nonzero(blk >= self.lo)
        if check_hi:
            keep = blk[q, c] <= self.hi[c]
            q, c = q[keep], c[keep]
        return q, c

    def _per_cell(self, qs: list[np.ndarray], cs: list[np.ndarray]) -> list[np.ndarray]:
        """The query rows ``qs`` (int64) grouped by their cells ``cs``, one array per cell."""
        q = np.concatenate(qs) if qs else np.zeros(0, np.int64)
        c = np.concatenate(cs) if cs else np.zeros(0, np.int64)
        order = np.argsort(c, kind="stable")
        q, c = q[order], c[order]
        bounds = np.searchsorted(c, np.arange(len(self.members) + 1))
        return [q[bounds[i]:bounds[i + 1]].astype(np.int64) for i in range(len(self.members))]

    def _cell_centroids(self) -> tuple[np.ndarray, bool]:
        # no empty cluster (the usual case): the centroid columns are the cells' own, so no gathered copy
        # of the similarity block is needed
        cc = self.cell_cluster
        cent = self.cent[cc] if not np.array_equal(cc, np.arange(len(self.cent))) else self.cent
        return cent, bool((self.hi <= 1.0).any())  # hi > 1 bounds nothing (similarities are <= 1)

    def pairs_of(self, rows: np.ndarray, block: int = 2048) -> tuple[np.ndarray, np.ndarray]:
        """Every pair (a < b) at or above the threshold with one end in ``rows``: each query row is
        compared with the clusters whose band holds it, so none is missed (the exact truth of a recall
        sample at the cost of a few clusters per row, not of all ``n`` rows)."""
        x = self.x
        cent, check_hi = self._cell_centroids()
        rows = np.asarray(rows, dtype=np.int64)
        qs, cs = [], []
        for s, e in blocked(len(rows), block):
            q, c = self._band_hits(x[rows[s:e]] @ cent.T, check_hi)
            qs.append(rows[s + q])
            cs.append(c)
        per = self._per_cell(qs, cs)
        self.truth_volume += float(sum(len(q) * int(m) for q, m in zip(per, self.sizes)))
        a, b, _ = cell_pairs(x, self.t, zip(per, self.members))
        return a, b

    def search(self, _p: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.cand is None:
            self.plan()
        ncell = len(self.members)
        label = f"semantic search ({ncell} non-empty of {len(self.cent)} clusters)"
        return cell_pairs(self.x, self.t, zip(self.cand, self.members), progress=self.progress, label=label,
                          n_cells=ncell)


class NeighbourSearch:
    """Approximate SemDeDup: each cluster against its ``m`` nearest clusters (``need`` from their ranks)."""

    param = "neighbors"

    def __init__(self, x: np.ndarray, t: float, cent: np.ndarray, labels: np.ndarray,
                 progress: ProgressFn | None = None) -> None:
        self.x, self.t, self.labels, self.progress = x, t, labels, progress
        k = len(cent)
        cc = cent @ cent.T
        np.fill_diagonal(cc, np.inf)
        self.order = np.argsort(-cc, axis=1, kind="stable")  # order[c, r]: r-th closest cluster (0: itself)
        self.rank = np.empty_like(self.order)
        self.rank[np.arange(k)[:, None], self.order] = np.arange(k)[None, :]
        self.k = k

    @property
    def cap(self) -> int:
        return self.k

    def need(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        la, lb = self.labels[a], self.labels[b]
        return np.minimum(self.rank[la, lb], self.rank[lb, la]) + 1

    def search(self, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x, t, k, labels = self.x, self.t, self.k, self.labels
        near = np.zeros((k, k), dtype=bool)
        near[np.arange(k)[:, None], self.order[:, :m]] = True
        near |= near.T
        sort_idx = np.argsort(labels, kind="stable")
        starts = np.searchsorted(labels[sort_idx], np.arange(k + 1))
        members = [sort_idx[starts[c]:starts[c + 1]] for c in range(k)]
        qs, js, ds = [], [], []
        for c in range(k):
            if not len(members[c]):
                continue
            partners = [c2 for c2 in np.nonzero(near[c])[0] if c2 >= c and len(members[c2])]
            brows = np.concatenate([members[c2] for c2 in partners])
            q, j, dd = dense_pairs(x[members[c]], x[brows], t, members[c], brows)
            qs.append(q)
            js.append(j)
            ds.append(dd)
            if self.progress and (c % 16 == 0 or c == k - 1):
                self.progress(f"semantic search ({m} neighbouring clusters of {k})", c + 1, k)
        if not qs:  # pragma: no cover
            return no_pairs()
        return canonical_pairs(np.concatenate(qs), np.concatenate(js), np.concatenate(ds))

    def describe(self, m: int) -> dict[str, Any]:
        return {"clusters": self.k, "neighbors": int(m)}

