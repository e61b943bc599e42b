"""FAISS ``IndexIVFFlat`` threshold search: each vector scans only its ``nprobe`` nearest inverted lists.

Similarities are exact, so every reported pair is real; only recall can drop. A pair (a, b) is found
when b's list is among a's ``nprobe`` nearest lists or a's list among b's, so for a sampled pair the
smallest ``nprobe`` that finds it (``need``) is read off the centroid ranks; ``_recall`` turns that into
the choice of ``nprobe`` and the held-out bound.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from curate.engine._faiss import ProgressFn, blocked, faiss_module, range_pairs, set_nprobe
from curate.errors import UsageError


class IvfSearch:
    """An IVF index over ``x`` (unit rows) with a ``need`` function and a threshold search at ``p``."""

    param = "nprobe"

    def __init__(self, x: np.ndarray, t: float, dev: str, nlist: int, seed: int,
                 progress: ProgressFn | None = None, centroids: np.ndarray | None = None) -> None:
        faiss = faiss_module()
        n, d = x.shape
        if not (1 <= nlist <= n):
            raise UsageError(f"nlist must be between 1 and the number of vectors ({n}), got {nlist}")
        t0 = time.perf_counter()
        self.x, self.t, self.dev, self.nlist, self.progress = x, t, dev, int(nlist), progress
        self.quantizer = faiss.IndexFlatIP(d)
        self.index = faiss.IndexIVFFlat(self.quantizer, d, self.nlist, faiss.METRIC_INNER_PRODUCT)
        self.index.cp.seed = int(seed)
        if centroids is not None:  # reuse the k-means of the semantic attempt (auto)
            self.quantizer.add(np.ascontiguousarray(centroids, dtype=np.float32))
            self.index.is_trained = True
        else:
            rng = np.random.default_rng(seed)
            ntrain = min(n, self.nlist * 64)
            train = x[np.sort(rng.choice(n, ntrain, replace=False))] if ntrain < n else x
            if progress:
                progress("ivf: training", 0, 1)
            if dev == "gpu":  # pragma: no cover - GPU machines only
                self.index.clustering_index = faiss.index_cpu_to_all_gpus(faiss.IndexFlatIP(d))
            self.index.train(np.ascontiguousarray(train))
        for s, e in blocked(n, 65_536):
            self.index.add(np.ascontiguousarray(x[s:e]))
        self.cent = self.quantizer.reconstruct_n(0, self.nlist)
        self.build_s = time.perf_counter() - t0

    @property
    def cap(self) -> int:
        return self.nlist

    def need(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Smallest nprobe that finds each pair (a[i], b[i]) from either end."""
        if not len(a):
            return np.zeros(0, np.int64)
        x = self.x
        la = self.quantizer.search(np.ascontiguousarray(x[a]), 1)[1][:, 0]
        lb = self.quantizer.search(np.ascontiguousarray(x[b]), 1)[1][:, 0]
        return np.minimum(list_rank(x[a], self.cent, lb), list_rank(x[b], self.cent, la)) + 1

    def search(self, p: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        from curate.engine.dedup import QUERY_BLOCK, canonical_pairs

        faiss = faiss_module()
        dev, x = self.dev, self.x
        index = faiss.index_cpu_to_all_gpus(self.index) if dev == "gpu" else self.index
        set_nprobe(index, p, dev)
        fallback = _LazyIvfCpu(self.index, p) if dev == "gpu" else None
        qs, js, ds = [], [], []
        spans = blocked(len(x), QUERY_BLOCK)
        for k, (s, e) in enumerate(spans):
            q, j, dd = range_pairs(index, x[s:e], self.t, offset=s, device=dev, cpu_fallback=fallback)
            qs.append(q)
            js.append(j)
            ds.append(dd)
            if self.progress:
                self.progress(f"ivf search (nprobe {p}/{self.nlist})", k + 1, len(spans))
        return canonical_pairs(np.concatenate(qs), np.concatenate(js), np.concatenate(ds))

    def describe(self, p: int) -> dict[str, Any]:
        return {"nlist": self.nlist, "nprobe": int(p)}


class _LazyIvfCpu:
    def __init__(self, index: Any, nprobe: int) -> None:
        self.index, self.nprobe = index, nprobe

    def range_search(self, xq: np.ndarray, radius: float):
        self.index.nprobe = self.nprobe
        return self.index.range_search(xq, radius)


def list_rank(xa: np.ndarray, cent: np.ndarray, target_list: np.ndarray) -> np.ndarray:
    """For each row, how many centroids are strictly closer to it than centroid ``target_list``."""
    out = np.empty(len(xa), dtype=np.int64)
    for s, e in blocked(len(xa), 4096):
        sim = xa[s:e] @ cent.T
        tgt = sim[np.arange(e - s), target_list[s:e]]
        out[s:e] = (sim > tgt[:, None]).sum(axis=1)
    return out
