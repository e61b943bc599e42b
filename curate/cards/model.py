"""The card data model: :class:`CardContext` and the :class:`Answer` each of its statements is made of.

The model and its formatting helpers; :mod:`curate.cards.context` assembles it from a record, and
:mod:`curate.cards.questions` / :mod:`curate.cards.representation` add their parts (each imports this module,
none imports the assembly, so the card package has no import cycle).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from curate.cards.provenance import Provenance
    from curate.catalog import Dataset
    from curate.pipeline.composition import Composition

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
    #: one-line summaries for the Croissant RAI ``rai:dataBiases`` field (e.g. the representativeness verdict)
    rai_biases: list[str] = field(default_factory=list)
    #: what this section measured that answers a question, as an :class:`Answer`: a datasheet question key
    #: (``errors``: the Known issues section) or a ``measured.<key>`` path a reporting standard's table names
    #: (``representativeness``: TRIPOD+AI 5a)
    answers: dict[str, Answer] = field(default_factory=dict)


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
    standard_names: dict[str, str] = field(default_factory=dict)  # standard key -> its name
    synthetic: bool = False  # built from data marked synthetic (curate.synthetic): title and intro say so

    def coverage(self) -> dict[str, Any]:
        """How many datasheet questions and reporting-standard items (STANDING Together, TRIPOD+AI,
        MINIMAR) the sources answer."""
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
        out = []
        for key, items in self.standards.items():
            missing = [f"{k} {q.text}" if key != "standing" else q.text for k, q in items.items()
                       if not q.answered]
            out.append({"name": self.standard_names.get(key, key), "answered": len(items) - len(missing),
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
