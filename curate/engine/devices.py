"""FAISS device choice shared by the engine (dedup and k-means): ``auto`` / ``cpu`` / ``gpu``.

Pair search (CPU blocked products, GPU k-NN range emulation) lives in :mod:`curate.engine.dedup.kernel` and
:mod:`curate.engine.dedup.exact`; k-means in :mod:`curate.engine.cluster.kmeans`.
"""

from __future__ import annotations

from typing import Any

from curate.errors import UsageError, require

DEVICES = ("auto", "cpu", "gpu")


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
                         "use device cpu)")
    return dev


def to_device(index: Any, device: str) -> Any:
    """Copy a CPU index to all visible GPUs (sharded) when ``device == 'gpu'``."""
    if device != "gpu":
        return index
    faiss = faiss_module()
    co = faiss.GpuMultipleClonerOptions()
    co.shard = True
    return faiss.index_cpu_to_all_gpus(index, co=co)
