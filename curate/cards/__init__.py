"""Cards: datasheet (Markdown + HTML), Hugging Face dataset card and Croissant RAI record per dataset.

``build_card("BRSET")`` renders all three from one card model (:mod:`curate.cards.context`) built from the
sourced catalog record, optionally with the measured composition of a per-image metadata file
(:mod:`curate.pipeline.composition`) and extra sections such as the curation engine's findings.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CardBuild", "Section", "build_all", "build_card", "measure_composition"]

_LAZY = {
    "CardBuild": "curate.cards.build",
    "build_all": "curate.cards.build",
    "build_card": "curate.cards.build",
    "Section": "curate.cards.context",
    "measure_composition": "curate.pipeline.composition",
}


def __getattr__(name: str) -> Any:
    import importlib

    if name not in _LAZY:
        raise AttributeError(f"module 'curate.cards' has no attribute '{name}'")
    return getattr(importlib.import_module(_LAZY[name]), name)
