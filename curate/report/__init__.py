"""Policy reports (``curate report``): one self-contained HTML page or Markdown file.

>>> from curate.report import write_report
>>> write_report("report.html", collection="queiroz2025-table1")  # doctest: +SKIP
"""

from curate.catalog.store import catalog_hash
from curate.pipeline.report import TOP500_NOV2024, compute_context
from curate.report.report import build_report, report_context, write_report

__all__ = ["TOP500_NOV2024", "build_report", "catalog_hash", "compute_context", "report_context",
           "write_report"]
