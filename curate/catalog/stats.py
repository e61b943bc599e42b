"""Totals of images / patients / datasets grouped by country, continent, modality or access.

Multinational datasets without a single origin are counted under ``MULTINATIONAL`` rather than dropped,
so totals always add up to the catalog total (the review's Figure 2 leaves them off its map; we state them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from curate.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from curate.catalog.store import Catalog

MULTINATIONAL = "Multinational"
#: Country groupings come from :mod:`curate.groupings` (the same as the map, its CSV and the report).
REGION_GROUPINGS = ("continent", "world_region", "un_region", "income_group", "north_south")
GROUPINGS = ("country", *REGION_GROUPINGS, "modality", "access")


def _keys(ds, by: str) -> list[str]:
    if by == "country":
        if ds.multinational or len(ds.countries.value) != 1:
            return [MULTINATIONAL]
        return list(ds.countries.value)
    if by in REGION_GROUPINGS:
        from curate.groupings import group_of

        groups = {group_of(c, by) for c in ds.countries.value}
        return [groups.pop()] if len(groups) == 1 and not ds.multinational else [MULTINATIONAL]
    if by == "modality":
        return list(ds.modality.value)
    if by == "access":
        return [ds.access or "unknown"]
    raise UsageError(f"--by must be one of {', '.join(GROUPINGS)} (got '{by}')")


def _member_keys(ds, by: str) -> list[str]:
    """Every group of the countries a dataset lists (multinational ones included); none → Multinational."""
    from curate.groupings import group_of

    groups = sorted({group_of(c, by) for c in ds.countries.value}) if by != "country" else \
        list(ds.countries.value)
    return groups or [MULTINATIONAL]


def member_stats(catalog: Catalog, by: str = "continent") -> pd.DataFrame:
    """Datasets *with a country in* each group: ``key, datasets, single_country, countries, images``.

    Unlike :func:`catalog_stats`, a multinational dataset counts under every group of its listed member
    countries ("datasets with an African country"), so rows add up to more than the catalog. ``images``
    sums those datasets' images without splitting a multinational one by country (no source does), so
    image rows overlap too and no share is given; a derived set whose sources are all in ``catalog``
    adds none (:mod:`curate.catalog.lineage`), as in every total.
    """
    import pandas as pd

    if by not in ("country", *REGION_GROUPINGS):
        raise UsageError(f"--members needs a country grouping: --by country or one of "
                         f"{', '.join(REGION_GROUPINGS)} (got '{by}')")
    from curate.catalog.lineage import image_counts
    from curate.groupings import group_of

    counts = image_counts(catalog)
    rows = []
    for ds in catalog:
        keys = _member_keys(ds, by)
        for key in keys:
            members = sorted(c for c in ds.countries.value if by == "country" or group_of(c, by) == key)
            rows.append({"key": key, "dataset": ds.id, "single": len(ds.countries.value) == 1 and
                         not ds.multinational, "countries": members, "images": counts[ds.id].images})
    cols = ["key", "datasets", "single_country", "countries", "images"]
    if not rows:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame(rows)
    out = df.groupby("key", sort=False).agg(
        datasets=("dataset", "nunique"), single_country=("single", "sum"),
        countries=("countries", lambda s: len({c for cs in s for c in cs})),
        images=("images", lambda s: int(s.fillna(0).sum())))
    out["single_country"] = out["single_country"].astype(int)
    return out.reset_index().sort_values(["datasets", "key"], ascending=[False, True], ignore_index=True)


def catalog_stats(catalog: Catalog, by: str = "country") -> pd.DataFrame:
    """One row per group: ``key, datasets, images, patients, patients_reported, image_share``, by images.

    ``patients`` sums only the datasets whose sources report a patient count (``patients_reported`` of
    ``datasets``); it is missing (not 0) when none of them does.

    A dataset with several modalities is counted under each (so modality rows can sum to more than the
    total); every other grouping partitions the catalog. A derived dataset whose sources are all in
    ``catalog`` adds no images or patients (they are its sources'; :mod:`curate.catalog.lineage`).
    """
    import pandas as pd

    if by not in GROUPINGS:
        raise UsageError(f"--by must be one of {', '.join(GROUPINGS)} (got '{by}')")
    from curate.catalog.lineage import counted_patients, image_counts

    ids = {ds.id for ds in catalog}
    counts = image_counts(catalog)
    rows = []
    for ds in catalog:  # images counted once along stated and measured lineage (lineage.py)
        for key in _keys(ds, by):
            rows.append({"key": key, "dataset": ds.id, "images": counts[ds.id].images,
                         "patients": counted_patients(ds, ids)})
    cols = ["key", "datasets", "images", "patients", "patients_reported", "image_share"]
    if not rows:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame(rows)
    out = df.groupby("key", sort=False).agg(
        datasets=("dataset", "nunique"),
        images=("images", lambda s: int(s.fillna(0).sum())),
        # patients: a sum over the datasets whose sources report it; missing, not 0, when none do
        patients=("patients", lambda s: int(s.sum()) if s.notna().any() else None),
        patients_reported=("patients", lambda s: int(s.notna().sum())),
    )
    out["patients"] = out["patients"].astype("Int64")
    from curate.catalog.lineage import unique_total

    total_images = unique_total(catalog)
    out["image_share"] = out["images"] / total_images if total_images else 0.0
    out = out.reset_index().sort_values(["images", "key"], ascending=[False, True], ignore_index=True)
    if by == "country":
        from curate.countries import name

        out.insert(1, "name", [MULTINATIONAL if k == MULTINATIONAL else name(k) for k in out["key"]])
    return out
