"""Hugging Face dataset card (``README.md``): validated YAML metadata plus a templated body.

The YAML goes through :class:`huggingface_hub.DatasetCardData` so the hub accepts it; the body follows the
sections of the hub's dataset-card template (Dataset Details, Uses, Dataset Structure, Dataset Creation,
Bias, Risks, and Limitations, Citation) and lives in ``templates/hubcard.md.j2``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from curate.cards._render import render

if TYPE_CHECKING:  # pragma: no cover
    from huggingface_hub import DatasetCard, DatasetCardData

    from curate.cards.context import CardContext
    from curate.catalog import Dataset

#: The hub's size buckets (``size_categories``), upper bounds exclusive.
_SIZES: tuple[tuple[float, str], ...] = (
    (1e3, "n<1K"), (1e4, "1K<n<10K"), (1e5, "10K<n<100K"), (1e6, "100K<n<1M"), (1e7, "1M<n<10M"),
    (1e8, "10M<n<100M"), (1e9, "100M<n<1B"), (1e10, "1B<n<10B"), (1e11, "10B<n<100B"),
    (1e12, "100B<n<1T"), (float("inf"), "n>1T"),
)

_TASKS: tuple[tuple[str, str], ...] = (
    (r"segment|mask|contour|delineat|outline|sub-region|tumou?r core", "image-segmentation"),
    (r"bounding box|detection|locali[sz]", "object-detection"),
    (r"report|caption|text", "image-to-text"),
)


def size_category(n: int | None) -> str | None:
    """The hub bucket for ``n`` images, e.g. 16,266 → ``10K<n<100K``."""
    if n is None:
        return None
    for bound, label in _SIZES:
        if n < bound:
            return label
    return None  # pragma: no cover


def task_categories(ds: Dataset) -> list[str]:
    """Hub task categories derived from the record's labels and framework (empty when no labels).

    Each label maps to segmentation / detection / image-to-text when its wording says so (outlines,
    masks, bounding boxes, reports), otherwise to image-classification.
    """
    tasks: list[str] = []
    for label in ds.labels:
        text = label.lower()
        hits = [task for pattern, task in _TASKS if re.search(pattern, text)]
        tasks += hits or ["image-classification"]
    if ds.framework == "multimodal":
        tasks.append("image-to-text")
    order = ["image-classification", "image-segmentation", "object-detection", "image-to-text"]
    return [t for t in order if t in tasks]


#: Access classes whose images need the data holder's permission: a card pushed to the Hub is gated.
GATED_ACCESS: tuple[str, ...] = ("credentialed", "restricted")
GATED_CONFIRM = "I have been granted access to this dataset by its data holder under its licence"


def gated_prompt(ds: Dataset) -> str:
    """The Hub's gated-access prompt: where access is granted and under which terms (from the record)."""
    where = ds.url or "the data holder"
    return (f"This card documents {ds.name}. Its images are not distributed here: access is "
            f"{ds.access} and is granted by the data holder ({where}) under {ds.licence.value}. "
            "Request access there; confirm below that you hold it.")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-")


def card_data(ctx: CardContext, n_images: int | None = None) -> DatasetCardData:
    """The validated YAML metadata of the card."""
    from huggingface_hub.repocard_data import DatasetCardData

    from curate.catalog.licences import hf_license_id
    from curate.countries import name as country_name

    ds = ctx.dataset
    lic = hf_license_id(ds.licence.value)
    extra: dict[str, Any] = {}
    if ctx.synthetic:  # the files are curate's synthetic data, not the real dataset's: not under its licence
        lic, extra["license_name"] = "other", "synthetic-data-see-card"
    elif lic == "other":
        extra["license_name"] = _slug(ds.licence.value)
        if ds.url:
            extra["license_link"] = ds.url
    tags = ["medical", "medical-imaging", *ds.modalities, _slug(ds.anatomy.value)]
    tags += [_slug(country_name(c)) for c in ds.countries.value]
    if ds.multinational:
        tags.append("multinational")
    tags += [f"access-{ds.access or 'unknown'}", "curate"]
    if ds.derived_from is not None and ds.derived_from.value:
        # the Hub's lineage field: "extended|<source>" for each dataset this one was built from
        extra["source_datasets"] = [f"extended|{parent}" for parent in ds.derived_from.value]
    if (ds.access or "unknown") in GATED_ACCESS:
        extra["extra_gated_prompt"] = gated_prompt(ds)
        extra["extra_gated_fields"] = {GATED_CONFIRM: "checkbox"}
    # synthetic data: the size of what was measured, never the real dataset's
    size = size_category(n_images if ctx.synthetic or ds.n_images is None else ds.n_images)
    return DatasetCardData(
        language=list(ds.language) or None,
        license=lic,
        pretty_name=ctx.title_name if ctx.synthetic else ds.name,
        size_categories=[size] if size else None,
        task_categories=task_categories(ds) or None,
        tags=list(dict.fromkeys(tags)),
        **extra,
    )


def render_hubcard_text(ctx: CardContext) -> str:
    """The card's text (YAML front matter + body). Only ``DatasetCardData`` is imported: the full
    ``huggingface_hub.DatasetCard`` pulls in the Hub client (~0.5 s), which build-card does not need."""
    n = ctx.composition.n_images if ctx.composition is not None else None
    data = card_data(ctx, n)
    body = render("hubcard.md.j2", ctx=ctx, ds=ctx.dataset)
    return f"---\n{data.to_yaml()}\n---\n\n{body}"


def render_hubcard(ctx: CardContext) -> DatasetCard:
    """The full card (YAML front matter + body) as a :class:`huggingface_hub.DatasetCard`."""
    from huggingface_hub import DatasetCard

    return DatasetCard(render_hubcard_text(ctx))
