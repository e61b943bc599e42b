"""Policy reports (``curate report``): one self-contained HTML page or Markdown file.

>>> from curate.report import write_report
>>> write_report("report.html", collection="queiroz2025-table1")  # doctest: +SKIP
"""

from importlib import import_module
from typing import Any

# loaded on first use, so that commands rendering one page (``curate dedup``'s review gallery through
# :mod:`curate.report.gallery`) do not load the catalog and the report pipeline
_LAZY = {"TOP500_NOV2024": "curate.pipeline.report", "compute_context": "curate.pipeline.report",
         "catalog_hash": "curate.catalog.store", "build_report": "curate.report.report",
         "report_context": "curate.report.report", "write_report": "curate.report.report"}

__all__ = ["TOP500_NOV2024", "build_report", "catalog_hash", "compute_context", "report_context",
           "write_report"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'curate.report' has no attribute {name!r}")
