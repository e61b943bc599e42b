"""How well each dataset's sources document it: answered datasheet questions and STANDING Together items.

Counted from the same card model the datasheet renders (:func:`curate.cards.context.build_context`), so
the figure is exactly the number of questions a reader of the datasheet sees answered with a citation.
"""

from __future__ import annotations

from statistics import median
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from curate.catalog import Catalog


def catalog_coverage(cat: Catalog) -> dict[str, Any]:
    """Per-dataset coverage rows (catalog order) and the catalog medians of the answered fractions."""
    from curate.cards.context import build_context

    rows = [build_context(ds, cat).coverage() for ds in cat]
    for r in rows:
        r["datasheet_fraction"] = r["datasheet_answered"] / r["datasheet_total"]
        r["standing_fraction"] = r["standing_answered"] / r["standing_total"]
    return {
        "datasets": rows,
        "median_datasheet_fraction": median(r["datasheet_fraction"] for r in rows) if rows else None,
        "median_standing_fraction": median(r["standing_fraction"] for r in rows) if rows else None,
    }
