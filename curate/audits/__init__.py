"""Fairness audits (entry-point plugins) and probes on frozen embeddings: the computation.

``curate.audit(preds, ...)`` (:mod:`curate.pipeline.audit`) runs the registered audits on a predictions
table; ``curate.probe(emb, meta, ...)`` trains torch heads on frozen foundation-model embeddings and writes
such a table; the fairness model card is rendered by :mod:`curate.cards.modelcard` (``curate.write_audit``).
Submodules are imported lazily so ``import curate.audits`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "probe": "curate.audits.probes:probe",
    "available_audits": "curate.audits.registry:available_audits",
    "f1_optimal_threshold": "curate.audits.thresholds:f1_optimal_threshold",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'curate.audits' has no attribute '{name}'")
    module, _, attr = target.partition(":")
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value
