"""The card's Representation block: the dataset's share of the catalog's images by modality and country.

Split from :mod:`curate.cards.context` (the card model) because it is the one part that reads the whole
catalog: shares count each derived dataset's images once (:mod:`curate.catalog.lineage`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from curate.cards.model import Representation, Share, demographic_name, fact_answer, modality_name

if TYPE_CHECKING:  # pragma: no cover
    from curate.catalog import Catalog, Dataset
    from curate.pipeline.composition import Composition


def modality_share(ds: Dataset, catalog: Catalog, modality: str) -> Share:
    """``ds``'s images over all catalog images of ``modality`` (datasets listing it among theirs)."""
    from curate.catalog.lineage import unique_total

    group = [d for d in catalog if modality in d.modalities]
    known = [d for d in group if d.n_images is not None]
    return Share(  # derived sets' images counted once, in their sources (curate.catalog.lineage)
        group=modality_name(modality), images=ds.n_images, group_images=unique_total(known),
        group_datasets=len(known), group_unknown=len(group) - len(known),
    )


def country_share(ds: Dataset, catalog: Catalog, alpha3: str) -> Share:
    """``ds``'s images over all images of the catalog's single-country datasets from ``alpha3``."""
    from curate.countries import name as country_name

    label = country_name(alpha3)
    if ds.multinational or len(ds.countries.value) != 1:
        return Share(label, ds.n_images, 0, 0, 0,
                     reason="multinational dataset; the source does not split its images by country")
    from curate.catalog.lineage import unique_total

    group = [d for d in catalog if not d.multinational and list(d.countries.value) == [alpha3]]
    known = [d for d in group if d.n_images is not None]
    return Share(label, ds.n_images, unique_total(known), len(known), len(group) - len(known))


def access_note(access: str) -> str:
    return {
        "open": "anyone may download and reuse the data under the licence",
        "open-noncommercial": "anyone may download the data; reuse is limited to non-commercial purposes",
        "credentialed": "download requires credentialed access (training and a signed data use agreement)",
        "restricted": "access requires an application or agreement with the data holder",
        "unknown": "the licence does not map to a known access class",
    }.get(access, "")


def representation(ds: Dataset, catalog: Catalog, composition: Composition | None) -> Representation:
    from curate.catalog import DEMOGRAPHICS
    from curate.countries import name as country_name

    reported = list(ds.demographics_reported.value)
    from curate.catalog.lineage import unique_total

    everything = [d for d in catalog if d.n_images is not None]
    all_images = unique_total(everything)
    total = Share("all modalities", ds.n_images, all_images, len(everything), len(catalog) - len(everything))
    return Representation(
        countries=[{"code": c, "name": country_name(c)} for c in ds.countries.value],
        multinational=ds.multinational,
        countries_answer=fact_answer(ds, "countries"),
        demographics_reported=[demographic_name(d) for d in reported],
        demographics_missing=[demographic_name(d) for d in DEMOGRAPHICS if d not in reported],
        demographics_answer=fact_answer(ds, "demographics_reported"),
        modality_shares=[modality_share(ds, catalog, m) for m in ds.modalities],
        country_shares=[country_share(ds, catalog, c) for c in ds.countries.value],
        catalog_share=total,
        access=ds.access or "unknown",
        access_note=access_note(ds.access or "unknown"),
        measured_attributes=None if composition is None else composition.reported_attributes,
    )
