"""How well each dataset's sources document it: datasheet questions, STANDING Together, TRIPOD+AI, MINIMAR.

Counted from the same card model the datasheet renders (:func:`curate.cards.context.build_context`), so
the figure is exactly the number of questions a reader of the datasheet sees answered with a citation.
"""

from __future__ import annotations

from statistics import median
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from curate.catalog import Catalog


#: The reporting standards counted beside the datasheet (keys of ``questions.REPORTING_STANDARDS``).
STANDARDS: tuple[str, ...] = ("standing", "tripod_ai", "minimar")

#: What a fairness audit of a dataset needs its sources to say (STANDING Together items): which demographic
#: attributes exist, how they are distributed, and where the labels come from ...
AUDIT_ITEMS: tuple[str, ...] = ("attributes", "distribution", "labels")
#: ... and at least this share of the datasheet questions answered.
AUDIT_MIN_DATASHEET = 0.5
AUDIT_RULE = ("documented well enough to audit: the sources name the demographic attributes, report their "
              "distribution and the label provenance (STANDING Together), and answer at least half of the "
              "datasheet questions")


def auditable(row: dict[str, Any]) -> tuple[bool, list[str]]:
    """(passes, what is missing) for one coverage row, by :data:`AUDIT_ITEMS` and the datasheet share."""
    missing = [k for k in AUDIT_ITEMS if k in row["standing_unanswered"]]
    if row["datasheet_answered"] / row["datasheet_total"] < AUDIT_MIN_DATASHEET:
        missing.append(f"datasheet < {AUDIT_MIN_DATASHEET:.0%}")
    return not missing, missing


def catalog_coverage(cat: Catalog) -> dict[str, Any]:
    """Per-dataset coverage rows (catalog order) and the catalog medians of the answered fractions."""
    from curate.cards.context import build_context

    rows = [build_context(ds, cat).coverage() for ds in cat]
    for r in rows:
        for key in ("datasheet", *STANDARDS):
            r[f"{key}_fraction"] = r[f"{key}_answered"] / r[f"{key}_total"]
        r["auditable"], r["audit_missing"] = auditable(r)
    return {
        "datasets": rows,
        **{f"median_{key}_fraction": median(r[f"{key}_fraction"] for r in rows) if rows else None
           for key in ("datasheet", *STANDARDS)},
        "auditable": sum(r["auditable"] for r in rows),
        "audit_rule": AUDIT_RULE,
    }
