"""The report's ophthalmology view: the catalog's ophthalmic datasets by region beside Khan et al. 2021.

``curate report --modality fundus,oct`` (any selection of ophthalmic modalities only) adds a table with
Khan et al.'s published counts of open ophthalmic datasets per world region
(``pipeline/data/khan2021.yaml``, each figure with its source) next to the same count over the catalog, so
readers see what changed since. The counts are region memberships, as Khan's are: a dataset from two regions
counts in each, and a dataset naming no country is counted apart. Countries are mapped to Khan's seven
regions in :func:`curate.groupings.khan_region`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from curate.catalog.store import Catalog

#: Modalities of the eye; a report whose --modality selects only these gets the comparison.
OPHTHALMIC: tuple[str, ...] = ("fundus", "oct", "slo")
DATA = Path(__file__).resolve().parent / "data" / "khan2021.yaml"


def is_ophthalmic(modalities: list[str] | None) -> bool:
    return bool(modalities) and set(modalities) <= set(OPHTHALMIC)  # type: ignore[arg-type]


@lru_cache(maxsize=1)
def khan2021() -> dict[str, Any]:
    """Khan et al. 2021's published figures, with their sources (figures only)."""
    import yaml

    return yaml.safe_load(DATA.read_text(encoding="utf-8"))


def khan_comparison(cat: Catalog) -> dict[str, Any]:
    """Rows ``{region, khan, catalog, datasets}`` for Khan's regions, "other" and "country not specified"."""
    from curate.groupings import KHAN_OTHER, KHAN_REGIONS, khan_region

    data = khan2021()
    members: dict[str, list[str]] = {r: [] for r in (*KHAN_REGIONS, KHAN_OTHER)}
    unspecified = []
    for d in cat:
        regions = {khan_region(c) for c in d.countries.value}
        if not regions:
            unspecified.append(d.id)
        for r in regions:
            members[r].append(d.id)
    rows = [{"region": r, "khan": data["regions"]["counts"].get(r), "catalog": len(members[r]),
             "datasets": ", ".join(sorted(members[r])) or "—"} for r in (*KHAN_REGIONS, KHAN_OTHER)]
    rows.append({"region": "country not specified", "khan": data["regions"]["country_not_specified"],
                 "catalog": len(unspecified), "datasets": ", ".join(sorted(unspecified)) or "—"})
    return {"rows": rows, "khan_total": data["totals"]["datasets"], "catalog_total": len(cat),
            "citation": " ".join(data["paper"]["citation"].split()), "doi": data["paper"]["doi"],
            "totals_source": data["totals"]["source"],
            "regions_source": " ".join(data["regions"]["source"].split()),
            "regions_note": " ".join(data["regions"]["note"].split())}
