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

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from curate.cards.composition import Composition
    from curate.cards.provenance import Provenance
    from curate.catalog import Catalog, Dataset

NOT_REPORTED = "Not reported by the source"
RECORD = "curate catalog record"
COMPUTED = "computed from the curate catalog"

_DEMOGRAPHIC_NAMES = {"skin_type": "skin type", "marital_status": "marital status"}
_MODALITY_NAMES = {"cxr": "chest X-ray", "oct": "OCT", "slo": "SLO", "ct": "CT", "mri": "MRI", "pet": "PET",
                   "spect": "SPECT"}


@dataclass
class Answer:
    """One answer with its source; ``text is None`` means the sources do not answer the question."""

    text: str | None
    source: str | None = None
    printed: str | None = None
    conflicts: list[str] = field(default_factory=list)
    label: str | None = None  # sub-item name when several fields answer one question ("Devices")

    @property
    def reported(self) -> bool:
        return self.text is not None

    def plain(self) -> str:
        """Answer with its citation as one line of plain text (Croissant, YAML)."""
        if not self.reported:
            return f"{NOT_REPORTED}."
        out = f"{self.text} (source: {self.source})" if self.source else str(self.text)
        if self.conflicts:
            out += " Sources disagree: " + "; ".join(self.conflicts) + "."
        return out


@dataclass
class Section:
    """An extra section (e.g. "Curation" findings from the engine) appended to datasheet and hub card."""

    title: str
    markdown: str


@dataclass
class Share:
    """The dataset's share of the catalog's images within a group (a modality or a country)."""

    group: str
    images: int | None
    group_images: int
    group_datasets: int
    group_unknown: int  # datasets of the group whose image count is not reported
    reason: str | None = None  # why the share is not computed

    @property
    def fraction(self) -> float | None:
        if self.reason or self.images is None or not self.group_images:
            return None
        return self.images / self.group_images

    def text(self) -> str:
        if self.fraction is None:
            return f"{self.group}: not computed ({self.reason or 'image count not reported'})"
        unknown = (f"; {self.group_unknown} more dataset(s) of the group report no image count"
                   if self.group_unknown else "")
        return (f"{self.group}: {self.images:,} of {self.group_images:,} catalog images "
                f"({fmt_fraction(self.fraction)}) across {self.group_datasets} dataset(s){unknown}")


def fmt_fraction(f: float) -> str:
    """12.3%; shares below 0.1% as "<0.1%", not a misleading 0.0% (one rule: :func:`curate.fmt.share`)."""
    from curate.fmt import share

    return share(f)


@dataclass
class Representation:
    countries: list[dict[str, str]]
    multinational: bool
    countries_answer: Answer
    demographics_reported: list[str]
    demographics_missing: list[str]
    demographics_answer: Answer
    modality_shares: list[Share]
    country_shares: list[Share]
    catalog_share: Share
    access: str
    access_note: str
    measured_attributes: list[str] | None = None  # from the metadata file, when given


@dataclass
class CardContext:
    """Everything the renderers need; built by :func:`build_context`."""

    dataset: Dataset
    answers: dict[str, Answer]
    representation: Representation
    sources: list[tuple[str, str]]
    biases: list[str]
    limitations: list[str]
    uses: list[str]
    composition: Composition | None = None
    provenance: Provenance | None = None
    extra_sections: list[Section] = field(default_factory=list)
    not_reported: str = NOT_REPORTED
    population_answers: list[tuple[str, str, Answer]] = field(default_factory=list)
    measured: dict[str, Answer] = field(default_factory=dict)
    questions: dict[str, Any] = field(default_factory=dict)  # datasheet key -> questions.Question
    standing: dict[str, Any] = field(default_factory=dict)  # STANDING Together item -> Question
    # reporting standard (questions.REPORTING_STANDARDS key) -> item -> Question; "standing" is the same
    standards: dict[str, dict[str, Any]] = field(default_factory=dict)
    synthetic: bool = False  # built from data marked synthetic (curate.synthetic): title and intro say so

    def coverage(self) -> dict[str, Any]:
        """How many datasheet questions and STANDING Together items the sources answer."""
        ds_answered = [k for k, q in self.questions.items() if q.answered]
        st_answered = [k for k, q in self.standing.items() if q.answered]
        row = {"id": self.id, "datasheet_answered": len(ds_answered),
               "datasheet_total": len(self.questions),
               "standing_answered": len(st_answered), "standing_total": len(self.standing),
               "datasheet_unanswered": [k for k in self.questions if k not in ds_answered],
               "standing_unanswered": [k for k in self.standing if k not in st_answered]}
        for key, items in self.standards.items():
            if key != "standing":
                done = [k for k, q in items.items() if q.answered]
                row |= {f"{key}_answered": len(done), f"{key}_total": len(items),
                        f"{key}_unanswered": [k for k in items if k not in done]}
        return row

    def standards_table(self) -> list[dict[str, Any]]:
        """Per reporting standard: its name, answered / total items and the items no source answers."""
        from curate.cards.questions import REPORTING_STANDARDS

        out = []
        for key, items in self.standards.items():
            missing = [f"{k} {q.text}" if key != "standing" else q.text for k, q in items.items()
                       if not q.answered]
            out.append({"name": REPORTING_STANDARDS[key][0], "answered": len(items) - len(missing),
                        "total": len(items), "missing": missing})
        return out

    @property
    def id(self) -> str:
        return self.dataset.id

    @property
    def title_name(self) -> str:
        """``Name (ID)``, or for synthetic data "SYNTHETIC data shaped like Name (ID)"."""
        from curate.synthetic import title

        plain = f"{self.dataset.name} ({self.dataset.id})"
        return title(plain) if self.synthetic else plain

    @property
    def synthetic_note(self) -> str:
        """The first paragraph of a card built from synthetic data ("" otherwise)."""
        from curate.synthetic import note

        n = self.composition.n_images if self.composition is not None else None
        return note(f"{self.dataset.name} ({self.dataset.id})", n) if self.synthetic else ""

    @property
    def name(self) -> str:
        return self.dataset.name


# ------------------------------------------------------------------------------------------- formatting
def demographic_name(d: str) -> str:
    return _DEMOGRAPHIC_NAMES.get(d, d)


def modality_name(m: str) -> str:
    return _MODALITY_NAMES.get(m, m)


def _fmt_value(field_name: str, value: Any) -> str:
    from curate.countries import name as country_name

    if field_name.endswith(".shares") and isinstance(value, dict):
        return ", ".join(f"{k} {fmt_fraction(v)}" for k, v in value.items())
    if field_name.endswith(".missing_rate") and isinstance(value, float):
        return fmt_fraction(value) + " missing"
    if field_name.endswith("age.stats"):
        return f"{value} years"
    if isinstance(value, list) and value and hasattr(value[0], "model_fields"):  # devices, versions
        return "; ".join(map(str, value))
    if field_name == "countries":
        return ", ".join(f"{country_name(c)} ({c})" for c in value) or "none listed"
    if field_name == "modality":
        return ", ".join(modality_name(m) for m in value)
    if field_name == "demographics_reported":
        return ", ".join(demographic_name(d) for d in value) or "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if hasattr(value, "describe"):  # structured use terms
        return value.describe()
    if isinstance(value, dict):  # a conflicting value given as a mapping (e.g. age stats)
        return ", ".join(f"{k} {v}" for k, v in value.items())
    text = str(value)
    return f"{text} years" if field_name == "age" else text


def _cite(source: str, locator: str | None) -> str:
    return source + (f", {locator}" if locator else "")


def fact_answer(ds: Dataset, field_name: str) -> Answer:
    """The sourced answer for one Fact of a record by dotted path, with other sources' conflicting values."""
    fact = ds.fact(field_name)
    if fact is None:
        return Answer(None)
    text = _fmt_value(field_name, fact.value)
    printed = fact.as_printed
    if printed and printed.replace(",", "").strip().lower() in text.replace(",", "").lower():
        printed = None  # same text, only differently formatted
    conflicts = []
    for c in ds.conflicts_for(field_name):
        note = f" ({c.note})" if c.note else ""
        conflicts.append(f"{_cite(c.source, c.locator)} reports {_fmt_value(field_name, c.value)}{note}")
    return Answer(text, _cite(fact.source, fact.locator), printed, conflicts)


def _record_answer(value: Any) -> Answer:
    """A non-Fact field of the record (institutions, labels, url...): cited as the catalog record."""
    if value is None or value == [] or value == "":
        return Answer(None)
    if isinstance(value, list):
        value = "; ".join(map(str, value))
    return Answer(" ".join(str(value).split()), RECORD)


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
def _answers(ds: Dataset) -> dict[str, Answer]:
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
    from curate.cards.representation import access_note

    a["access"] = Answer(f"{access} — {access_note(access)}",
                         f"derived from the licence ({ds.cite('licence')})")
    if ds.use_terms is None:
        a["use_terms"] = Answer(ds.terms.describe(), f"derived from the licence ({ds.cite('licence')})")
    from curate.publish.guard import decision_for

    decision = decision_for(ds)
    upload = {"allowed": "images may be re-published",
              "refused": "card-only: the images are never re-published",
              "needs-rights": "card-only unless the publisher confirms holding the rights"}[decision.images]
    a["upload"] = Answer(f"{upload} ({decision.reason})", "computed from the use terms by curate")
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
) -> CardContext:
    """Assemble the card model for one dataset from its record, the catalog and optional measurements."""
    origin = catalog.origins.get(ds.id)
    answers = _answers(ds)
    from curate.cards.representation import representation

    rep = representation(ds, catalog, composition)
    biases, limitations, uses = _statements(ds, rep, answers, composition)
    if synthetic:  # catalog figures describe the real dataset, never the synthetic data
        biases = [f"The real dataset this imitates — {b[0].lower()}{b[1:]}" if b.startswith("Share of") else b
                  for b in biases]
    from curate.cards.questions import population_answers

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
    from curate.cards.questions import (
        REPORTING_STANDARDS,
        datasheet_questions,
        measured_answers,
        standard_items,
    )

    ctx.measured = measured_answers(ctx)
    ctx.questions = datasheet_questions(ctx)
    ctx.standards = {key: standard_items(ctx, key) for key in REPORTING_STANDARDS}
    ctx.standing = ctx.standards["standing"]
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
