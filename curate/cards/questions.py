"""The datasheet's questions and the STANDING Together items, each with the sourced answers that answer it.

Why a registry in the card model: coverage ("how many questions do the sources answer?") must be counted
from exactly what the datasheet prints, so the datasheet template prints ``ctx.questions[key]`` and
``curate catalog coverage`` counts the same objects. A question is answered when at least one of its
answers is reported (has a source); everything here is assembled once, the templates only print it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from curate.cards.model import Answer, demographic_name, fact_answer

if TYPE_CHECKING:  # pragma: no cover
    from curate.cards.model import CardContext
    from curate.catalog import Dataset


@dataclass
class Question:
    key: str
    section: str
    text: str
    answers: list[Answer] = field(default_factory=list)

    @property
    def answered(self) -> bool:
        return any(a.reported for a in self.answers)


def _lab(a: Answer, label: str) -> Answer:
    """The same answer with a sub-item label ("Devices"), for questions answered by several fields."""
    return Answer(a.text, a.source, a.printed, a.conflicts, label=label)


#: (key, section, question) in datasheet order (Gebru et al. 2021; the template prints them in this order).
DATASHEET: tuple[tuple[str, str, str], ...] = (
    ("purpose", "1. Motivation", "For what purpose was the dataset created?"),
    ("creators", "1. Motivation",
     "Who created the dataset (team, research group) and on behalf of which entity?"),
    ("funding", "1. Motivation", "Who funded the creation of the dataset?"),
    ("comments", "1. Motivation", "Any other comments?"),
    ("instances", "2. Composition", "What do the instances represent?"),
    ("count", "2. Composition", "How many instances are there in total?"),
    ("sample", "2. Composition", "Does the dataset contain all possible instances or is it a sample?"),
    ("label", "2. Composition", "Is there a label or target associated with each instance?"),
    ("missing", "2. Composition", "Is any information missing from individual instances?"),
    ("relationships", "2. Composition", "Are relationships between individual instances made explicit?"),
    ("splits", "2. Composition", "Are there recommended data splits?"),
    ("errors", "2. Composition", "Are there any errors, sources of noise, or redundancies in the dataset?"),
    ("confidential", "2. Composition",
     "Does the dataset contain data that might be considered confidential?"),
    ("subpopulations", "2. Composition",
     "Does the dataset identify any subpopulations (e.g., by age, gender)?"),
    ("identifiable", "2. Composition", "Is it possible to identify individuals from the dataset?"),
    ("acquired", "3. Collection process", "How was the data associated with each instance acquired?"),
    ("timeframe", "3. Collection process", "Over what timeframe was the data collected?"),
    ("where", "3. Collection process", "Where was the data collected?"),
    ("sampling", "3. Collection process", "What was the sampling strategy?"),
    ("ethics", "3. Collection process", "Were any ethical review processes conducted?"),
    ("consent", "3. Collection process",
     "Did the individuals consent to the collection and use of their data?"),
    ("preprocessing", "4. Preprocessing, cleaning and labeling",
     "Was any preprocessing, cleaning or labeling of the data done?"),
    ("raw", "4. Preprocessing, cleaning and labeling",
     "Was the raw data saved in addition to the preprocessed data?"),
    ("software", "4. Preprocessing, cleaning and labeling",
     "Is the software used to preprocess or label the data available?"),
    ("used", "5. Uses", "Has the dataset been used for any tasks already?"),
    ("repository", "5. Uses",
     "Is there a repository that links to any or all papers or systems that use the dataset?"),
    ("other_tasks", "5. Uses", "What (other) tasks could the dataset be used for?"),
    ("impact", "5. Uses",
     "Is there anything about the composition or collection that might impact future uses?"),
    ("avoid", "5. Uses", "Are there tasks for which the dataset should not be used?"),
    ("distribution", "6. Distribution", "How will the dataset be distributed?"),
    ("licence", "6. Distribution", "Under which licence or terms of use is it distributed?"),
    ("third_party", "6. Distribution", "Have any third parties imposed restrictions on the data?"),
    ("export", "6. Distribution", "Do any export controls or other regulatory restrictions apply?"),
    ("maintainer", "7. Maintenance", "Who is supporting, hosting or maintaining the dataset?"),
    ("contact", "7. Maintenance", "How can the owner, curator or manager be contacted?"),
    ("erratum", "7. Maintenance", "Is there an erratum?"),
    ("updated", "7. Maintenance", "Will the dataset be updated?"),
    ("cite", "7. Maintenance", "How should the dataset be cited?"),
)

#: STANDING Together (2024) documentation items the catalog schema can hold, with the record paths that
#: answer each (any one reported answers it). Not all 29 recommendations: those about the process of
#: dataset creation that no record field represents are left out rather than counted as answered.
STANDING: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("summary", "Plain-language summary of the dataset", ("description",)),
    ("custodian", "Data custodian / maintainer and contact",
     ("maintenance.maintainer", "maintenance.contact")),
    ("purpose", "Purpose of the dataset and intended uses", ("intended_uses",)),
    ("avoid", "Purposes or uses to avoid", ("out_of_scope_uses",)),
    ("attributes", "Demographic attributes available", ("demographics_reported",)),
    ("categories", "How each attribute was categorised", ("population.*.categories",)),
    ("assigned", "Who assigned each attribute (self-reported, clinician, estimated)",
     ("population.*.assigned_by", "population.*.recorded_from")),
    ("distribution", "Distribution of the attributes (e.g. age, sex)",
     ("age", "population.*.shares", "population.*.stats")),
    ("missing", "Missing-data rate per attribute", ("population.*.missing_rate",)),
    ("setting", "Care setting and location of collection", ("care_setting", "countries")),
    ("period", "Collection period", ("years_collected",)),
    ("criteria", "Inclusion and exclusion criteria", ("inclusion_criteria", "exclusion_criteria")),
    ("devices", "Acquisition devices and protocol", ("acquisition.devices", "acquisition.protocol")),
    ("labels", "Label provenance (method, annotators, qualification)",
     ("labelling.method", "labelling.annotators", "labelling.qualification")),
    ("ethics", "Ethics approval and consent", ("ethics.irb", "ethics.consent")),
    ("deid", "De-identification method", ("deidentification",)),
    ("biases", "Known biases, errors and limitations", ("errata",)),
    ("versions", "Versions and changes", ("versions",)),
    ("licence", "Licence and conditions of access", ("licence",)),
)


#: TRIPOD+AI (Collins et al., BMJ 2024;385:e078378, Table 1; checklist text as in
#: https://www.tripod-statement.org/wp-content/uploads/2019/12/TRIPODAI_checklist.pdf): the items about the
#: data that a dataset record can answer, with the record paths that answer each. The checklist's items about
#: the model, its analysis and its results (9a-c, 10, 12b-g, 13-16, 21-25, 27a-c) and those no record field
#: represents (3c health inequalities, 6c treatments, 7 pre-processing and quality checking, 8c blinding,
#: 18b-d, 19, 20a) are left out rather than counted as answered.
TRIPOD_AI: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("5a", "Sources of data (e.g. routine care, registry), rationale and representativeness",
     ("care_setting", "measured.representativeness")),
    ("5b", "Dates of the collected participant data (start and end of accrual)", ("years_collected",)),
    ("6a", "Study setting, number and location of centres", ("care_setting", "countries")),
    ("6b", "Eligibility criteria for study participants", ("inclusion_criteria", "exclusion_criteria")),
    ("8a", "Outcome definition: how and when it was assessed", ("labelling.method",)),
    ("8b", "Qualifications and demographic characteristics of the outcome assessors",
     ("labelling.annotators", "labelling.qualification")),
    ("11", "How missing data were handled", ("population.*.missing_rate",)),
    ("12a", "How the data were used and partitioned", ("official_splits",)),
    ("17", "Ethics committee approval and informed consent (or waiver)", ("ethics.irb", "ethics.consent")),
    ("18a", "Source of funding", ("funding",)),
    ("18e", "Availability of the study data", ("licence",)),
    ("18f", "Availability of the analytical code", ("software",)),
    ("20b", "Participant characteristics, including demographics",
     ("age", "population.*.shares", "population.*.stats")),
    ("26", "Limitations (non-representative sample, missing data, ...)", ("errata",)),
)

#: MINIMAR (Hernandez-Boussard et al., JAMIA 2020;27(12):2011-2015, Table 1): its items about the study
#: population, patient demographics and the data the model learns from; the model items (3.1 output,
#: 3.2 target user, 3.5 task, 3.6 architecture, 3.7 features, 4.1-4.3 optimisation and validation) are
#: about a model, not a dataset, and are left out.
MINIMAR: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("1.1", "Population from which the study sample was drawn", ("care_setting", "inclusion_criteria")),
    ("1.2", "Study setting (e.g. academic medical center, community healthcare system, rural clinic)",
     ("care_setting",)),
    ("1.3", "Source from which the data were collected", ("care_setting", "countries")),
    ("1.4", "Cohort selection: inclusion and exclusion criteria",
     ("inclusion_criteria", "exclusion_criteria")),
    ("2.1", "Age of the patients", ("age", "population.age.*")),
    ("2.2", "Sex breakdown of the cohort", ("population.sex.*",)),
    ("2.3", "Race of the patients", ("population.race.*",)),
    ("2.4", "Ethnicity breakdown of the patients", ("population.ethnicity.*",)),
    ("2.5", "Socioeconomic status (a measure or proxy)",
     ("population.income.*", "population.education.*", "population.insurance.*")),
    ("3.3", "How data were split for training, testing and validation", ("official_splits",)),
    ("3.4", "Gold standard: the labelled data used to train and test",
     ("labelling.method", "labelling.annotators")),
    ("3.8", "How missingness was addressed", ("population.*.missing_rate",)),
    ("4.4", "Transparency: how code and data are shared", ("licence", "software")),
)

#: The reporting standards whose coverage ``curate catalog coverage`` and the datasheet report, beside the
#: datasheet questions: key -> (name, items).
REPORTING_STANDARDS: dict[str, tuple[str, tuple[tuple[str, str, tuple[str, ...]], ...]]] = {
    "standing": ("STANDING Together", STANDING),
    "tripod_ai": ("TRIPOD+AI", TRIPOD_AI),
    "minimar": ("MINIMAR", MINIMAR),
}


def _v2(ctx: CardContext, *paths: str, labels: tuple[str, ...] = ()) -> list[Answer]:
    out = []
    for i, p in enumerate(paths):
        a = ctx.answers.get(p, Answer(None))
        out.append(_lab(a, labels[i]) if i < len(labels) and labels[i] else a)
    return out


def _real(ctx: CardContext, label: str) -> str:
    """A catalog fact's label in a card of synthetic data: it describes the real dataset, not this data."""
    return f"{label} (real dataset)" if ctx.synthetic else label


def _population(ctx: CardContext) -> list[Answer]:
    return [_lab(a, _real(ctx, label)) for key, label, a in ctx.population_answers]


def datasheet_questions(ctx: CardContext) -> dict[str, Question]:
    """Each datasheet question with the answers the template prints for it (in the same order)."""
    a = ctx.answers
    m = ctx.measured
    ans: dict[str, list[Answer]] = {
        "purpose": _v2(ctx, "intended_uses"),
        "creators": [a["institutions"], a["citation"]],
        "funding": _v2(ctx, "funding"),
        "comments": [a["notes"]],
        "instances": [a["modality"], a["anatomy"]],
        "count": [a["images"], a["patients"], a["studies"]],
        "sample": _v2(ctx, "inclusion_criteria", "exclusion_criteria", labels=("Inclusion", "Exclusion")),
        "label": [a["labels"]],
        "missing": [m["missing"], *[_lab(x, _real(ctx, lab)) for k, lab, x in ctx.population_answers
                                    if k.endswith("missing_rate")]],
        "relationships": [*_v2(ctx, "relationships", labels=("Stated",)), m["relationships"]],
        "splits": [*_v2(ctx, "official_splits", labels=("Official split",)), m["splits"]],
        "errors": [*_v2(ctx, "errata", labels=("Known errata",)), m["errors"],
                   *[sec.answers["errors"] for sec in ctx.extra_sections if "errors" in sec.answers]],
        "confidential": [a["demographics_reported"]],
        "subpopulations": [a["demographics_reported"], a["age"], *_population(ctx)],
        "identifiable": _v2(ctx, "deidentification", labels=("De-identification",)),
        "acquired": [a["modality"], *_v2(ctx, "acquisition.devices", "acquisition.protocol",
                                         "acquisition.resolution", "acquisition.field_strength",
                                         "acquisition.file_format",
                                         labels=("Devices", "Protocol", "Resolution", "Field strength",
                                                 "File format"))],
        "timeframe": [a["years_collected"]],
        "where": [a["countries"], a["institutions"], *_v2(ctx, "care_setting", labels=("Care setting",))],
        "sampling": _v2(ctx, "inclusion_criteria", "exclusion_criteria", labels=("Inclusion", "Exclusion")),
        "ethics": _v2(ctx, "ethics.irb"),
        "consent": _v2(ctx, "ethics.consent"),
        "preprocessing": [a["labels"], *_v2(ctx, "labelling.method", "labelling.annotators",
                                            "labelling.qualification", "labelling.agreement",
                                            labels=("Labelling method", "Annotators", "Qualification",
                                                    "Agreement"))],
        "raw": [],
        "software": _v2(ctx, "software", labels=("Code",)),
        "used": [Answer(u, "listed") for u in ctx.uses],
        "repository": [],
        "other_tasks": _v2(ctx, "intended_uses"),
        "impact": [Answer(b, "listed") for b in ctx.biases],
        "avoid": [*_v2(ctx, "out_of_scope_uses"), m["noncommercial"]],
        "distribution": [a["url"], a["doi"]],
        "licence": [a["licence"], a["access"], a["use_terms"], a["upload"]],
        "third_party": [],
        "export": [],
        "maintainer": [*_v2(ctx, "maintenance.maintainer", labels=("Maintainer",)), a["host"]],
        "contact": _v2(ctx, "maintenance.contact"),
        "erratum": _v2(ctx, "errata"),
        "updated": _v2(ctx, "versions", labels=("Versions",)),
        "cite": [a["citation"]],
    }
    return {key: Question(key, section, text, ans[key]) for key, section, text in DATASHEET}


def standing_items(ctx: CardContext) -> dict[str, Question]:
    """The STANDING Together items, each answered by any reported record path it lists."""
    return standard_items(ctx, "standing")


def standard_items(ctx: CardContext, standard: str) -> dict[str, Question]:
    """A reporting standard's items (:data:`REPORTING_STANDARDS`), each answered by any reported path it
    lists: ``population.*.<part>`` is that part of any attribute, ``population.<attribute>.*`` any part of
    one attribute, ``measured.<key>`` what a section of this card measured (:func:`measured_answers`)."""
    name, table = REPORTING_STANDARDS[standard]
    out = {}
    for key, text, paths in table:
        answers = []
        for p in paths:
            if p.startswith("population.*."):
                leaf = p.rsplit(".", 1)[1]
                answers += [x for k, _, x in ctx.population_answers if k.endswith("." + leaf)]
            elif p.startswith("population.") and p.endswith(".*"):
                attr = p.split(".")[1]
                answers += [x for k, _, x in ctx.population_answers
                            if k.startswith(f"population.attributes.{attr}.")]
            elif p.startswith("measured."):  # measured for this card (build-card --meta), not in the record
                answers.append(ctx.measured.get(p.removeprefix("measured."), Answer(None)))
            else:
                answers.append(ctx.answers.get(p, Answer(None)))
        out[key] = Question(key, name, text, answers)
    return out


_ATTRIBUTE_PARTS = {"categories": "categories", "assigned_by": "assigned by",
                    "recorded_from": "recorded from", "shares": "distribution", "stats": "distribution",
                    "missing_rate": "missing rate"}


def population_answers(ds: Dataset) -> list[tuple[str, str, Answer]]:
    """(path, label, answer) for every population fact: "sex — distribution: female 61.8% (source: …)"."""
    if ds.population is None:
        return []
    out = []
    for attr, spec in ds.population.attributes.items():
        for part, words in _ATTRIBUTE_PARTS.items():
            path = f"population.attributes.{attr}.{part}"
            if getattr(spec, part) is not None:
                out.append((path, f"{demographic_name(attr).capitalize()}, {words}", fact_answer(ds, path)))
    return out


def measured_answers(ctx: CardContext) -> dict[str, Answer]:
    """Answers measured from the metadata file or found by the engine (when given), else unreported."""
    comp, rep = ctx.composition, ctx.representation
    where = f"measured from `{comp.source}`" if comp else None
    none = Answer(None)
    a_licence = ctx.answers["licence"].source
    split = comp.role("split") if comp else None
    return {
        "missing": Answer("Yes, see the missing values per column in *Measured composition* below", where)
        if comp else none,
        "relationships": Answer(f"Images are linked to patients through the `{comp.role('patient')}` column: "
                                f"{comp.images_per_patient['mean']} images per patient on average", where)
        if comp and comp.images_per_patient else none,
        "splits": Answer(f"The metadata file has a split column, `{split}` (see *Measured composition*)",
                         where) if split else none,
        "errors": Answer("See the sections after *Representation*", "findings of the curate engine")
        if [sec for sec in ctx.extra_sections if "errors" not in sec.answers] else none,
        "noncommercial": Answer("Commercial uses: the licence is non-commercial", a_licence)
        if rep.access == "open-noncommercial" else none,
        "representativeness": next(
            (sec.answers["representativeness"] for sec in ctx.extra_sections
             if "representativeness" in sec.answers), none),
    }
