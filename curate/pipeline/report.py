"""The compute context the review cites: regional shares of Top500 supercomputer capacity (November 2024).

Sourced data, not computed: the figures are reproduced exactly as printed in queiroz2025, Section 5.2
"Resource Allocation", paragraph "Computing" (which in turn analyses the November 2024 Top500 list).
Africa is listed with 0 because the review states its absence from the rankings.
"""

from __future__ import annotations

from dataclasses import dataclass

from curate.engine.represent.reference import POPULATION_NOTE  # noqa: F401  (the report states it)

SOURCE = "queiroz2025"
LOCATOR = "Section 5.2 (Resource Allocation), paragraph 'Computing'"
LIST_EDITION = "Top500, November 2024"
QUOTE = (
    "Analysis of the November 2024 Top500 supercomputer rankings demonstrates pronounced regional "
    "disparities: North America holds 55.6% of capacity, Europe 27.4%, and Asia 15.9%, while South America "
    "and Oceania represent just 0.6% and 0.5% respectively."
)
NOTE = (
    "The review adds that in the Global South only Brazil, Australia and Argentina maintain Top500-listed "
    "facilities, and that Africa is absent from the rankings."
)


@dataclass(frozen=True)
class ComputeShare:
    region: str
    share_pct: float
    as_printed: str
    note: str = ""


#: Regional share of Top500 capacity, as printed in the review.
TOP500_NOV2024: tuple[ComputeShare, ...] = (
    ComputeShare("North America", 55.6, "55.6%"),
    ComputeShare("Europe", 27.4, "27.4%"),
    ComputeShare("Asia", 15.9, "15.9%"),
    ComputeShare("South America", 0.6, "0.6%"),
    ComputeShare("Oceania", 0.5, "0.5%"),
    ComputeShare("Africa", 0.0, "absent", "the review: \"Africa's absence from these rankings\""),
)


def compute_context() -> dict:
    """The table plus its citation, ready for a template."""
    from curate.catalog.schema import SEEDS

    ref = SEEDS[SOURCE]
    return {
        "rows": [r.__dict__ for r in TOP500_NOV2024],
        "source": SOURCE,
        "citation": f"{ref['authors']} ({ref['year']}). {ref['title']}",
        "locator": LOCATOR,
        "edition": LIST_EDITION,
        "quote": QUOTE,
        "note": NOTE,
    }


def per_million(images_by_alpha3, year: int) -> dict:
    """Images per million inhabitants of each country (UN WPP 2024, ``year``); see
    :func:`curate.engine.represent.reference.per_million`."""
    from curate.engine.represent.reference import per_million as _per_million

    return _per_million(images_by_alpha3, year)

