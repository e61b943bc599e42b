"""The card data model: one :class:`CardContext` per dataset, assembled once, rendered three ways.

Everything a datasheet, a hub card or a Croissant record says comes from here, so the three outputs can
never disagree. Every answer is an :class:`Answer` that carries its source (a reference key and locator
from the catalog record); a question the sources do not answer is an :class:`Answer` with no text, which
each renderer prints as "Not reported by the source" — nothing is invented.

The Representation figures (the dataset's share of all catalog images of its modality and of its country)
are computed from the catalog here, with the same grouping rules as :func:`curate.catalog.stats.catalog_stats`
(multi-modality datasets count under each modality; a country's group holds the single-country datasets
of that country) but without pandas, so ``curate build-card ID`` starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from curate.cards.model import (  # noqa: F401  (the model's names, re-exported for existing imports)
    COMPUTED,
    NOT_REPORTED,
    RECORD,
    Answer,
    CardContext,
    Representation,
    Section,
    Share,
    _record_answer,
    demographic_name,
    fact_answer,
    fmt_fraction,
    modality_name,
)
from curate.cards.questions import (
    REPORTING_STANDARDS,
    datasheet_questions,
    measured_answers,
    population_answers,
    standard_items,
)
from curate.cards.representation import access_note, representation

if TYPE_CHECKING:  # pragma: no cover
    from curate.cards.provenance import Provenance
    from curate.catalog import Catalog, Dataset
    from curate.pipeline.composition import Composition
    from curate.policy.terms import TermsDecision

def _collection_text(key: str) -> str:
    from curate.catalog import SEEDS

    seed, _, rest = key.partition("-")
    if seed in SEEDS:
        s = SEEDS[seed]
        where = rest.replace("table", "Table ").replace("fig", "Figure ") if rest else ""
        first = s["authors"].split(",")[0]
        return f"{first} et al. {s['year']}, “{s['title']}”" + (f", {where}" if where else "")
    return key


# ------------------------------------------------------------------------------------------- assembly
def _answers(ds: Dataset, decision: TermsDecision | None = None) -> dict[str, Answer]:
    from urllib.parse import urlparse

    from curate.catalog import FACT_FIELDS

    a = {f: fact_answer(ds, f) for f in FACT_FIELDS}
    for path, _ in ds.facts():  # schema v2 sections, by dotted path (acquisition.devices, ...)
        a.setdefault(path, fact_answer(ds, path))
    a["description"] = _record_answer(ds.description)
    a["institutions"] = _record_answer(ds.institutions)
    a["labels"] = _record_answer(ds.labels)
    a["language"] = _record_answer(ds.language)
    a["url"] = _record_answer(ds.url)
    a["doi"] = _record_answer(f"https://doi.org/{ds.doi}" if ds.doi else None)
    a["citation"] = _record_answer(ds.citation)
    a["notes"] = _record_answer(ds.notes)
    a["aliases"] = _record_answer(ds.aliases)
    a["host"] = _record_answer(urlparse(ds.url).netloc if ds.url else None)
    a["collections"] = _record_answer([_collection_text(c) for c in ds.collections])
    a["framework"] = _record_answer(
        {"vision": "vision-only (images)", "multimodal": "multimodal (image and text)"}.get(
            ds.framework or "")
    )
    access = ds.access or "unknown"
    a["access"] = Answer(f"{access} — {access_note(access)}",
                         f"derived from the licence ({ds.cite('licence')})")
    if ds.use_terms is None:
        a["use_terms"] = Answer(ds.terms.describe(), f"derived from the licence ({ds.cite('licence')})")
    if decision is None:  # the one decision (pipeline.guard passes it): the record, its built-in, its lineage
        from curate.catalog.licences import upload_decision

        decision = upload_decision(ds)
    upload = {"allowed": "images may be re-published",
              "refused": "card-only: the images are never re-published",
              "needs-rights": "card-only unless the publisher confirms holding the rights"}[decision.images]
    a["upload"] = Answer(f"{upload} ({decision.reason})",
                         "computed by curate from the licence, the built-in record, the sources it "
                         "derives from and the datasets measured to share images with it")
    override = ds.licence_override
    a["licence_conflict"] = Answer(None) if override is None else Answer(
        f"⚠ {override.statement()[0].upper()}{override.statement()[1:]}; images are not uploaded unless the "
        "publisher confirms holding the rights", "computed by curate from the built-in catalog")
    return a


def _sources(ds: Dataset, origin: str | None) -> list[tuple[str, str]]:
    from curate.catalog import FACT_FIELDS

    keys = [getattr(ds, f).source for f in FACT_FIELDS if getattr(ds, f) is not None]
    keys += [f.source for _, f in ds.facts()]
    keys += [c.source for c in ds.conflicts]
    out = [(k, ds.reference(k).short()) for k in dict.fromkeys(keys)]
    out.append((RECORD, f"`{origin or ds.id + '.yaml'}` (record sha256 `{ds.record_hash()[:16]}…`)"))
    return out


def _statements(ds: Dataset, rep: Representation, a: dict[str, Answer],
                composition: Composition | None) -> tuple[list[str], list[str], list[str]]:
    """Bias, limitation and use statements, each derived from a sourced field (never free text)."""
    biases: list[str] = []
    if rep.multinational:
        biases.append(f"Multinational collection ({a['countries'].text}); images are not split by country "
                      f"(source: {a['countries'].source}).")
    elif len(rep.countries) == 1:
        biases.append(f"All images come from one country, {rep.countries[0]['name']} "
                      f"(source: {a['countries'].source}).")
    else:
        biases.append(f"Images come from {a['countries'].text} (source: {a['countries'].source}).")
    demo_src = a["demographics_reported"].source
    if rep.demographics_reported:
        biases.append(f"Demographic attributes reported: {', '.join(rep.demographics_reported)}; "
                      f"not reported: {', '.join(rep.demographics_missing)} (source: {demo_src}).")
    else:
        biases.append(f"No demographic attributes are reported (source: {demo_src}); "
                      "subgroup performance cannot be audited from the metadata.")
    for sh in rep.modality_shares:
        if sh.fraction is not None:
            biases.append(f"Share of the catalog's {sh.group} images: {sh.text().split(': ', 1)[1]} "
                          f"({COMPUTED}).")
    for sh in rep.country_shares:
        if sh.fraction is not None:
            biases.append(f"Share of the catalog's images from {sh.group}: {sh.text().split(': ', 1)[1]} "
                          f"({COMPUTED}).")
    if composition is not None and composition.reported_attributes:
        biases.append(f"Measured in `{composition.source}`: attributes present "
                      f"{', '.join(composition.reported_attributes)}.")

    limitations: list[str] = []
    missing = [label for key, label in (("images", "image count"), ("patients", "patient count"),
                                        ("years_collected", "collection years"), ("age", "age statistics"))
               if not a[key].reported]
    if missing:
        limitations.append(f"{NOT_REPORTED}: {', '.join(missing)}.")
    limitations.append(f"Access class {rep.access}: {rep.access_note} (licence: {a['licence'].text}; "
                       f"source: {a['licence'].source}).")
    for key in ("images", "patients", "licence", "countries", "modality"):
        if a[key].conflicts:
            limitations.append(f"Sources disagree on {key}: {a[key].text} (source: {a[key].source}) vs "
                               + "; ".join(a[key].conflicts) + ".")

    uses: list[str] = []
    if a["collections"].reported:
        uses.append(f"Listed in {a['collections'].text} (source: {RECORD}).")
    if a["framework"].reported:
        uses.append(f"Model framework in the review: {a['framework'].text} (source: {RECORD}).")
    if a["labels"].reported:
        uses.append(f"Annotated for: {a['labels'].text} (source: {RECORD}).")
    return biases, limitations, uses


def build_context(
    ds: Dataset,
    catalog: Catalog,
    *,
    composition: Composition | None = None,
    provenance: Provenance | None = None,
    extra_sections: list[Section] | None = None,
    synthetic: bool = False,
    upload: TermsDecision | None = None,
) -> CardContext:
    """Assemble the card model for one dataset from its record, the catalog and optional measurements.

    ``upload`` is the licence guard's decision for the record (:func:`curate.pipeline.guard.decision_for`);
    when not given it is the policy's decision from the record's use terms (the same function).
    """
    origin = catalog.origins.get(ds.id)
    answers = _answers(ds, upload)
    rep = representation(ds, catalog, composition)
    biases, limitations, uses = _statements(ds, rep, answers, composition)
    if synthetic:  # catalog figures describe the real dataset, never the synthetic data
        biases = [f"The real dataset this imitates — {b[0].lower()}{b[1:]}" if b.startswith("Share of") else b
                  for b in biases]
    ctx = CardContext(
        dataset=ds,
        answers=answers,
        representation=rep,
        sources=_sources(ds, origin.name if origin else None),
        biases=biases,
        limitations=limitations,
        uses=uses,
        composition=composition,
        provenance=provenance,
        extra_sections=list(extra_sections or []),
        population_answers=population_answers(ds),
        synthetic=synthetic,
    )
    ctx.measured = measured_answers(ctx)
    ctx.questions = datasheet_questions(ctx)
    ctx.standards = {key: standard_items(ctx, key) for key in REPORTING_STANDARDS}
    ctx.standing = ctx.standards["standing"]
    ctx.standard_names = {key: REPORTING_STANDARDS[key][0] for key in ctx.standards}
    return ctx


def as_sections(extra: Any) -> list[Section]:
    """Normalise ``extra_sections``: Section objects, (title, markdown) pairs or {"title", "markdown"}."""
    from curate.errors import UsageError

    out: list[Section] = []
    for item in extra or []:
        if isinstance(item, Section):
            out.append(item)
        elif isinstance(item, dict) and {"title", "markdown"} <= set(item):
            out.append(Section(str(item["title"]), str(item["markdown"])))
        elif isinstance(item, (tuple, list)) and len(item) == 2:
            out.append(Section(str(item[0]), str(item[1])))
        else:
            raise UsageError("extra_sections: give (title, markdown) pairs or Section objects")
    return out
