"""Inverted-list (IVF) threshold search: each vector scans only its ``nprobe`` nearest inverted lists.

The lists are the k-means cells (each row in the list of its nearest centroid). On the GPU the search is
FAISS ``IndexIVFFlat``; on the CPU it is the same search done as blocked matrix products per list (the
rows that probe a list against the list's members, BLAS), several times faster than FAISS's IVF range
search on the same cores (see docs/benchmarks.md). Similarities are exact, so every reported pair is
real; only recall can drop. A pair (a, b) is found
when b's list is among a's ``nprobe`` nearest lists or a's list among b's, so for a sampled pair the
smallest ``nprobe`` that finds it (``need``) is read off the centroid ranks (from
:data:`~curate.engine.cluster.kmeans.TWO_LEVEL_MIN_K` lists on: off each row's stored two-level order,
:mod:`~curate.engine.dedup.lists`); :mod:`~curate.engine.dedup.recall` turns that into the choice of
``nprobe`` and the held-out bound.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from curate.engine.cluster.kmeans import TWO_LEVEL_MIN_K
from curate.engine.dedup import lists
from curate.engine.dedup.bands import ProvableSearch, assigned_sims, clusters
from curate.engine.dedup.exact import QUERY_BLOCK, LazyCpuIndex, range_pairs
from curate.engine.dedup.kernel import Pairs, ProgressFn, blocked, canonical_pairs, cell_pairs
from curate.engine.devices import faiss_module
from curate.errors import UsageError

SEARCH_ENTRIES = 8_000_000  # (row, probed list) entries per pass of the CPU search (search_lists)


class IvfSearch:
    """An IVF index over ``x`` (unit rows) with a ``need`` function and a threshold search at ``p``."""

    param = "nprobe"

    def __init__(self, x: np.ndarray, t: float, dev: str, nlist: int, seed: int,
                 progress: ProgressFn | None = None, centroids: np.ndarray | None = None,
                 labels: np.ndarray | None = None) -> None:
        faiss = faiss_module()
        n, d = x.shape
        if not (1 <= nlist <= n):
            raise UsageError(f"nlist must be between 1 and the number of vectors ({n}), got {nlist}")
        t0 = time.perf_counter()
        self.x, self.t, self.dev, self.nlist, self.progress = x, t, dev, int(nlist), progress
        self.order: np.ndarray | None = None  # two-level lists: each row's stored probe order
        self.coarse_groups = 0
        self._band: Any = None
        if self.two_level(self.nlist, dev, centroids):
            if progress:
                progress("ivf: two-level lists", 0, 1)
            coarse, self.cent, gstart = lists.train(x, self.nlist, seed)
            self.coarse_groups = len(coarse)
            self.order = lists.probe_order(x, coarse, self.cent, gstart)
            self.labels = self.order[:, 0].astype(np.int64)
            lost = np.nonzero(self.labels < 0)[0]  # rows whose probed groups hold no centroid (rare)
            if len(lost):
                self.labels[lost] = lists.nearest(x[lost], self.cent)
            self.build_s = time.perf_counter() - t0
            return
        if centroids is None:  # train on a sample (64 rows per list), as FAISS does
            if progress:
                progress("ivf: training", 0, 1)
            centroids = clusters(x, self.nlist, dev, seed)[0]
        self.cent = np.ascontiguousarray(centroids, dtype=np.float32)
        if dev == "gpu":  # pragma: no cover - GPU machines only
            self.quantizer = faiss.IndexFlatIP(d)
            self.index = faiss.IndexIVFFlat(self.quantizer, d, self.nlist, faiss.METRIC_INNER_PRODUCT)
            self.quantizer.add(self.cent)
            self.index.is_trained = True
            for s, e in blocked(n, 65_536):
                self.index.add(np.ascontiguousarray(x[s:e]))
            self.labels = None
        else:  # each row's nearest centroid (given with the centroids when the band plan computed it)
            self.labels = lists.nearest(x, self.cent) if labels is None else np.asarray(labels, np.int64)
        self.build_s = time.perf_counter() - t0

    @staticmethod
    def two_level(nlist: int, dev: str, centroids: np.ndarray | None) -> bool:
        """Whether the lists are two-level (:mod:`~curate.engine.dedup.lists`): trained here, on the CPU,
        from TWO_LEVEL_MIN_K lists."""
        return centroids is None and dev != "gpu" and nlist >= TWO_LEVEL_MIN_K

    def exact_rows(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact pairs (a < b) with an end in ``rows``: the band search (:mod:`~curate.engine.dedup.bands`)
        over these lists (each row with the lists whose member-angle band holds it; complete by the
        triangle inequality)."""
        if self._band is None:
            self._band = ProvableSearch(self.x, self.t, self.cent, self.labels,
                                        assigned_sims(self.x, self.cent, self.labels))
        return self._band.pairs_of(rows)

    @property
    def truth_volume(self) -> float:
        """Row-by-row products :meth:`exact_rows` has computed so far."""
        return 0.0 if self._band is None else float(self._band.truth_volume)

    def work(self, p: int) -> float:
        """About the row-by-row products of a search at nprobe ``p``: each row against ``p`` lists."""
        return float(len(self.x)) * min(int(p), self.cap) * len(self.x) / self.nlist

    @property
    def cap(self) -> int:
        return self.nlist if self.order is None else self.order.shape[1]

    def need(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Smallest nprobe that finds each pair (a[i], b[i]) from either end."""
        if not len(a):
            return np.zeros(0, np.int64)
        if self.order is not None:
            return lists.probe_need(self.order, self.labels, a, b)
        x = self.x
        if self.labels is not None:
            la, lb = self.labels[a], self.labels[b]
        else:  # pragma: no cover - GPU machines only
            la = self.quantizer.search(np.ascontiguousarray(x[a]), 1)[1][:, 0]
            lb = self.quantizer.search(np.ascontiguousarray(x[b]), 1)[1][:, 0]
        return np.minimum(lists.list_rank(x[a], self.cent, lb), lists.list_rank(x[b], self.cent, la)) + 1

    def search(self, p: int) -> Pairs:
        if self.labels is not None:
            return self.search_lists(p)
        faiss = faiss_module()  # pragma: no cover - GPU machines only (the CPU searches the lists)
        dev, x = self.dev, self.x
        index = faiss.index_cpu_to_all_gpus(self.index)
        faiss.GpuParameterSpace().set_index_parameter(index, "nprobe", int(p))
        fallback = LazyCpuIndex(index=self.index, nprobe=int(p))
        qs, js, ds = [], [], []
        spans = blocked(len(x), QUERY_BLOCK)
        for k, (s, e) in enumerate(spans):
            q, j, dd = range_pairs(index, x[s:e], self.t, offset=s, device=dev, cpu_index=fallback)
            qs.append(q)
            js.append(j)
            ds.append(dd)
            if self.progress:
                self.progress(f"ivf search (nprobe {p}/{self.nlist})", k + 1, len(spans))
        return canonical_pairs(np.concatenate(qs), np.concatenate(js), np.concatenate(ds))

    def search_lists(self, p: int) -> Pairs:
        """CPU search: for each list, the rows whose ``p`` nearest centroids include it x its members.

        Rows go in passes of at most :data:`SEARCH_ENTRIES` (row, probed list) entries, so the probe
        index arrays (three int64 copies of n x p) stay small beside the data at large ``n`` and ``p``."""
        x, k = self.x, self.nlist
        morder = np.argsort(self.labels, kind="stable")
        mstart = np.searchsorted(self.labels[morder], np.arange(k + 1))
        spans = blocked(len(x), max(1, SEARCH_ENTRIES // max(1, int(p))))
        found = []
        for i, (s, e) in enumerate(spans):
            # (rows, p); with two-level lists the stored order (-1 entries sort before list 0: never searched)
            probes = lists.top_lists(x[s:e], self.cent, p) if self.order is None else self.order[s:e, :p]
            qlist = probes.ravel()
            qorder = np.argsort(qlist, kind="stable")
            qrows = (qorder // p).astype(np.int64) + s
            qstart = np.searchsorted(qlist[qorder], np.arange(k + 1))
            del probes, qlist, qorder
            cells = ((qrows[qstart[c]:qstart[c + 1]], morder[mstart[c]:mstart[c + 1]]) for c in range(k))
            part = f", rows part {i + 1}/{len(spans)}" if len(spans) > 1 else ""
            found.append(cell_pairs(x, self.t, cells, progress=self.progress, n_cells=k,
                                    label=f"ivf search (nprobe {p}/{k}{part})"))
        return found[0] if len(found) == 1 else canonical_pairs(*(np.concatenate(c) for c in zip(*found)))

    def describe(self, p: int) -> dict[str, Any]:
        out: dict[str, Any] = {"nlist": self.nlist, "nprobe": int(p)}
        if self.order is not None:
            out["lists"] = (f"two-level: {self.coarse_groups} coarse groups, {lists.COARSE_PROBE} probed "
                            "per row")
        return out
