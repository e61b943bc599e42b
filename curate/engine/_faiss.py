"""FAISS helpers shared by the engine: device choice, CPU/GPU indexes, threshold (range) search.

CPU indexes answer ``range_search`` directly. FAISS GPU indexes have no range search, so on the GPU the
same question is answered by :func:`range_via_knn`: a k-nearest-neighbour search whose ``k`` doubles for
the queries whose k-th neighbour still passes the threshold (up to the GPU limit of 2048, after which those
few queries are re-run on the CPU). Both give every pair with inner product >= threshold, so CPU and GPU
runs return the same pairs (up to float rounding exactly at the threshold).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from curate.errors import UsageError, require

DEVICES = ("auto", "cpu", "gpu")
GPU_MAX_K = 2048


def faiss_module() -> Any:
    return require("faiss", "engine")


def num_gpus() -> int:
    faiss = faiss_module()
    get = getattr(faiss, "get_num_gpus", None)
    return int(get()) if get is not None else 0


def resolve_device(device: str) -> str:
    """``auto`` -> ``gpu`` when FAISS sees a GPU, else ``cpu``; ``gpu`` without one is a clear error."""
    dev = (device or "auto").lower()
    if dev not in DEVICES:
        raise UsageError(f"device must be one of {', '.join(DEVICES)}, got '{device}'")
    if dev == "auto":
        return "gpu" if num_gpus() > 0 else "cpu"
    if dev == "gpu" and num_gpus() == 0:
        raise UsageError("device 'gpu' requested but FAISS sees no GPU (needs faiss-gpu and a CUDA device; "
                         "use --device cpu)")
    return dev


def to_device(index: Any, device: str) -> Any:
    """Copy a CPU index to all visible GPUs (sharded) when ``device == 'gpu'``."""
    if device != "gpu":
        return index
    faiss = faiss_module()
    co = faiss.GpuMultipleClonerOptions()
    co.shard = True
    return faiss.index_cpu_to_all_gpus(index, co=co)


def set_nprobe(index: Any, nprobe: int, device: str) -> None:
    faiss = faiss_module()
    if device == "gpu":
        faiss.GpuParameterSpace().set_index_parameter(index, "nprobe", int(nprobe))
    else:
        faiss.extract_index_ivf(index).nprobe = int(nprobe)


def radius_for(threshold: float) -> float:
    """FAISS keeps inner products strictly above the radius; step one float32 below to get >=."""
    return float(np.nextafter(np.float32(threshold), np.float32(-np.inf)))


def range_pairs(index: Any, xq: np.ndarray, threshold: float, *, offset: int = 0, device: str = "cpu",
                cpu_fallback: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All ``(query_row + offset, base_row, ip)`` with ``ip >= threshold`` for one block of queries."""
    if device == "gpu":
        q, j, d = range_via_knn(index, xq, threshold, cpu_fallback=cpu_fallback)
    else:
        xq = np.ascontiguousarray(xq, dtype=np.float32)
        lims, dist, idx = index.range_search(xq, radius_for(threshold))
        q = np.repeat(np.arange(len(xq), dtype=np.int64), np.diff(lims).astype(np.int64))
        j, d = idx.astype(np.int64), dist
    keep = d >= np.float32(threshold)
    return q[keep] + offset, j[keep], d[keep]


def range_via_knn(index: Any, xq: np.ndarray, threshold: float, *, k0: int = 64, kmax: int = GPU_MAX_K,
                  cpu_fallback: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Threshold search with repeated k-NN: double ``k`` for queries whose k-th hit is still >= threshold.

    Works for any index with ``search`` (GPU or CPU). Queries that need more than ``kmax`` neighbours are
    answered by ``cpu_fallback.range_search`` (a CPU index over the same base); without one, an error.
    """
    t = np.float32(threshold)
    xq = np.ascontiguousarray(xq, dtype=np.float32)
    ntotal = int(index.ntotal)
    out_q, out_j, out_d = [], [], []
    todo = np.arange(len(xq))
    k = min(k0, ntotal)
    while len(todo):
        dist, idx = index.search(xq[todo], k)
        full = (dist[:, -1] >= t) & (idx[:, -1] >= 0) & (k < ntotal)
        done = ~full
        sel_d, sel_i = dist[done], idx[done]
        mask = (sel_d >= t) & (sel_i >= 0)
        rows = np.repeat(todo[done], mask.sum(axis=1))
        out_q.append(rows)
        out_j.append(sel_i[mask].astype(np.int64))
        out_d.append(sel_d[mask])
        todo = todo[full]
        if len(todo) and k >= kmax:
            if cpu_fallback is None:
                raise UsageError(f"{len(todo)} queries have more than {kmax} neighbours above the threshold; "
                                 "use device cpu")
            lims, dist2, idx2 = cpu_fallback.range_search(xq[todo], radius_for(threshold))
            out_q.append(np.repeat(todo, np.diff(lims).astype(np.int64)))
            out_j.append(idx2.astype(np.int64))
            out_d.append(dist2)
            break
        k = min(k * 2, kmax, ntotal)
    q = np.concatenate(out_q).astype(np.int64) if out_q else np.zeros(0, np.int64)
    j = np.concatenate(out_j) if out_j else np.zeros(0, np.int64)
    d = np.concatenate(out_d).astype(np.float32) if out_d else np.zeros(0, np.float32)
    return q, j, d


def flat_ip(x: np.ndarray, device: str) -> Any:
    """Exact inner-product index over ``x`` (copied into the index), on CPU or GPU."""
    faiss = faiss_module()
    index = faiss.IndexFlatIP(x.shape[1])
    index.add(np.ascontiguousarray(x, dtype=np.float32))
    return to_device(index, device)


def kmeans(x: np.ndarray, k: int, *, device: str, seed: int, niter: int = 20,
           max_points_per_centroid: int = 256) -> np.ndarray:
    """Spherical k-means centroids (unit norm) with FAISS; GPU when ``device == 'gpu'``."""
    faiss = faiss_module()
    km = faiss.Kmeans(x.shape[1], int(k), niter=niter, seed=int(seed), spherical=True, verbose=False,
                      gpu=device == "gpu", max_points_per_centroid=max_points_per_centroid,
                      min_points_per_centroid=1)
    km.train(np.ascontiguousarray(x, dtype=np.float32))
    return np.ascontiguousarray(km.centroids, dtype=np.float32)


def blocked(n: int, block: int) -> list[tuple[int, int]]:
    return [(s, min(s + block, n)) for s in range(0, n, block)]


ProgressFn = Callable[[str, int, int], None]
