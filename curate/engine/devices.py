"""Device choice, the one place for it: FAISS (dedup, k-means: ``auto`` / ``cpu`` / ``gpu``) and torch
(embed, probes: ``auto`` / ``cpu`` / ``cuda`` / ``cuda:N``, with ``gpu`` an alias of ``cuda``).

Pair search (CPU blocked products, GPU k-NN range emulation) lives in :mod:`curate.engine.dedup.kernel` and
:mod:`curate.engine.dedup.exact`; k-means in :mod:`curate.engine.cluster.kmeans`.
"""

from __future__ import annotations

from typing import Any

from curate.errors import UsageError, require
from curate.validation import ParameterError

DEVICES = ("auto", "cpu", "gpu")


def faiss_module() -> Any:
    return require("faiss", "engine")


def num_gpus() -> int:
    faiss = faiss_module()
    get = getattr(faiss, "get_num_gpus", None)
    return int(get()) if get is not None else 0


def resolve_device(device: str, *, backend: str = "faiss") -> str:
    """The device to run on; errors name the parameter ``device``.

    ``backend="faiss"``: ``auto`` -> ``gpu`` when FAISS sees a GPU, else ``cpu``; ``gpu`` without one is a
    clear error. ``backend="torch"``: ``auto`` -> ``cuda`` when torch sees a GPU, else ``cpu``; ``gpu`` /
    ``gpu:N`` are aliases of ``cuda`` / ``cuda:N`` (the spelling dedup and cluster use).
    """
    if backend == "torch":
        return _torch_device(device)
    dev = (device or "auto").lower()
    if dev not in DEVICES:
        raise ParameterError("device", f"must be one of {', '.join(DEVICES)} (got '{device}')")
    if dev == "auto":
        return "gpu" if num_gpus() > 0 else "cpu"
    if dev == "gpu" and num_gpus() == 0:
        raise UsageError("device 'gpu' requested but FAISS sees no GPU (needs faiss-gpu and a CUDA device; "
                         "use device cpu)")
    return dev


def _torch_device(device: str) -> str:
    import torch

    given = device = (device or "auto").lower()
    if device == "gpu" or device.startswith("gpu:"):
        device = "cuda" + device[3:]
    if device not in ("auto", "cpu", "cuda") and not device.startswith("cuda:"):
        raise ParameterError("device", f"must be auto, cpu, cuda or gpu (got '{given}')")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ParameterError("device", f"'{given}' requested but no CUDA GPU is available to torch "
                                       "(use cpu or auto)")
    return device


def to_device(index: Any, device: str) -> Any:
    """Copy a CPU index to all visible GPUs (sharded) when ``device == 'gpu'``."""
    if device != "gpu":
        return index
    faiss = faiss_module()
    co = faiss.GpuMultipleClonerOptions()
    co.shard = True
    return faiss.index_cpu_to_all_gpus(index, co=co)
