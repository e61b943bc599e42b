"""curate: document and curate medical-imaging datasets.

The public API is imported lazily so ``import curate`` (and the CLI) stays fast::

    import curate
    cat = curate.catalog.load()
    curate.build_card("BRSET")            # datasheet, hub card, croissant.json
    keep = curate.dedup(emb, threshold=0.95)
"""

from __future__ import annotations

import importlib
from typing import Any

from curate._version import __version__

# name -> "module:attribute" (resolved on first access)
_LAZY: dict[str, str] = {
    "catalog": "curate.catalog",
    "make_demo": "curate.demo:make_demo",
    "dedup": "curate.engine.dedup:dedup",
    "load_embeddings": "curate.engine.embeddings:load_embeddings",
    "embed": "curate.engine.embed:embed",
    "publish": "curate.publish.folder:publish",
    "audit": "curate.pipeline.audit:audit",
    "probe": "curate.audits.probes:probe",
    "build_map": "curate.geo.build:build_map",
    "write_report": "curate.report:write_report",
    "build_card": "curate.cards.build:build_card",
    "cluster": "curate.engine.cluster:cluster",
    "sample": "curate.engine.sample:sample",
    "CurationOptions": "curate.pipeline.curation:CurationOptions",
    "run_curation": "curate.pipeline.curation:run_curation",
    "AuditResult": "curate.pipeline.audit:AuditResult",
    "write_audit": "curate.cards.modelcard:write_audit",
    "representativeness": "curate.pipeline.represent:representativeness",
    "deid_check": "curate.report.pixels:deid_check",
    "overlap": "curate.report.overlap:overlap",
    "inspect": "curate.pipeline.inspect:inspect",
    # <more lazy exports>
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'curate' has no attribute '{name}'")
    module, _, attr = target.partition(":")
    mod = importlib.import_module(module)
    value = getattr(mod, attr) if attr else mod
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
