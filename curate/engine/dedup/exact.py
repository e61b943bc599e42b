"""Exact search (every pair) and threshold search on FAISS indexes, CPU and GPU.

On the CPU the exact search is :func:`~curate.engine.dedup.kernel.gemm_pairs` (blocked BLAS products, the
upper triangle only): several times faster than FAISS ``IndexFlatIP.range_search`` on the same cores (see
docs/benchmarks.md). FAISS GPU indexes have no range search; there :func:`range_pairs` uses
``faiss.contrib.exhaustive_search.range_search_gpu``: a k-NN search of ``GPU_K`` neighbours, with the
queries whose ``GPU_K``-th neighbour still passes the threshold re-run on a CPU index over the same base.
Both give every pair with inner product >= threshold, so CPU and GPU runs return the same pairs (up to
float rounding exactly at the threshold).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from curate.engine.dedup.kernel import Pairs, ProgressFn, block_seconds, blocked, canonical_pairs, gemm_pairs
from curate.engine.devices import faiss_module, to_device

QUERY_BLOCK = 4096
GPU_K = 1024  # neighbours per GPU k-NN query before the CPU range search takes over (contrib's default)


def radius_for(threshold: float) -> float:
    """FAISS keeps inner products strictly above the radius; step one float32 below to get >=."""
    return float(np.nextafter(np.float32(threshold), np.float32(-np.inf)))


def flat_ip(x: np.ndarray, device: str) -> Any:
    """Exact inner-product index over ``x`` (copied into the index), on CPU or GPU."""
    faiss = faiss_module()
    index = faiss.IndexFlatIP(x.shape[1])
    index.add(np.ascontiguousarray(x, dtype=np.float32))
    return to_device(index, device)


class LazyCpuIndex:
    """A CPU index over ``base`` built only when a GPU k-NN search needs the range fallback; ``nprobe`` for
    an IVF ``index`` (a CPU copy of the GPU one)."""

    def __init__(self, base: np.ndarray | None = None, index: Any = None, nprobe: int | None = None) -> None:
        self.base, self.index, self.nprobe = base, index, nprobe

    def range_search(self, xq: np.ndarray, radius: float) -> Any:
        if self.index is None:
            self.index = flat_ip(self.base, "cpu")
        if self.nprobe is not None:
            self.index.nprobe = self.nprobe
        return self.index.range_search(xq, radius)


def range_pairs(index: Any, xq: np.ndarray, threshold: float, *, offset: int = 0, device: str = "cpu",
                cpu_index: Any = None, gpu_k: int = GPU_K) -> Pairs:
    """All ``(query_row + offset, base_row, ip)`` with ``ip >= threshold`` for one block of queries.

    ``device="gpu"``: ``index`` answers k-NN (``range_search_gpu``); ``cpu_index`` (a CPU index over the
    same base, e.g. :class:`LazyCpuIndex`) answers the queries with more than ``gpu_k`` hits."""
    xq = np.ascontiguousarray(xq, dtype=np.float32)
    if device == "gpu":
        from faiss.contrib.exhaustive_search import range_search_gpu

        lims, dist, idx = range_search_gpu(xq, radius_for(threshold), index, cpu_index, gpu_k=gpu_k)
    else:
        lims, dist, idx = index.range_search(xq, radius_for(threshold))
    q = np.repeat(np.arange(len(xq), dtype=np.int64), np.diff(lims).astype(np.int64))
    j, d = idx.astype(np.int64), dist.astype(np.float32)
    keep = d >= np.float32(threshold)
    return q[keep] + offset, j[keep], d[keep]


def exact_pairs(x: np.ndarray, threshold: float, *, device: str = "cpu", base: np.ndarray | None = None,
                base_offset: int = 0, query_offset: int = 0, progress: ProgressFn | None = None) -> Pairs:
    """Every pair with inner product >= threshold, canonical ``i < j``.

    With ``base`` the queries ``x`` are searched against ``base`` instead of themselves (the Dask path's
    off-diagonal blocks); row numbers are shifted by the offsets. CPU: blocked products; GPU: FAISS flat
    k-NN with the CPU range search for queries with many hits (:func:`range_pairs`).
    """
    if device != "gpu":
        return gemm_pairs(x, threshold, base=base, base_offset=base_offset, query_offset=query_offset,
                          progress=progress)
    b = x if base is None else base  # pragma: no cover - GPU machines only
    index, cpu = flat_ip(b, device), LazyCpuIndex(b)
    qs, js, ds = [], [], []
    spans = blocked(len(x), QUERY_BLOCK)
    for k, (s, e) in enumerate(spans):
        q, j, d = range_pairs(index, x[s:e], threshold, offset=s, device=device, cpu_index=cpu)
        qs.append(q + query_offset)
        js.append(j + base_offset)
        ds.append(d)
        if progress:
            progress("exact search", k + 1, len(spans))
    return canonical_pairs(np.concatenate(qs), np.concatenate(js), np.concatenate(ds))


def estimate_seconds(x: np.ndarray, rows: int = 1024, cols: int = 16_384) -> float:
    """Estimated time of the CPU exact search of ``x``: one timed ``rows x cols`` block product, scaled
    to the ``n² / 2`` products of the upper triangle (the threshold filter adds to it; an estimate)."""
    n = len(x)
    r, c = min(rows, n), min(cols, n)
    dt = block_seconds(x[:r], x[:c])
    return float(dt * (n * float(n) / 2) / (r * float(c)))
