"""The catalog's data model: one :class:`Dataset` per YAML file, every figure a sourced :class:`Fact`.

Why a ``Fact`` wrapper: the mission is documentation people can check. A number without a source is
not allowed by the schema; ``as_printed`` keeps the seed table's exact text (``PHDL``, ``Multiple``) beside
the normalised value, and ``conflicts`` records what other sources say instead of silently choosing.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from curate.catalog.facts import AgeStats, Conflict, Fact, Reference, Search, YearRange, _Strict
from curate.catalog.facts import CatalogId as CatalogId
from curate.catalog.overlaps import Overlap
from curate.catalog.sections import (
    SCHEMA_VERSION,
    V2_FIELDS,
    Acquisition,
    Ethics,
    Labelling,
    Maintenance,
    Population,
    Version,
    walk_facts,
)

# the vocabularies live in vocab.py; re-exported here (``from curate.catalog.schema import SEEDS`` ...)
from curate.catalog.vocab import ACCESS_CLASSES as ACCESS_CLASSES  # noqa: E402
from curate.catalog.vocab import DEMOGRAPHICS as DEMOGRAPHICS  # noqa: E402
from curate.catalog.vocab import MODALITIES as MODALITIES  # noqa: E402
from curate.catalog.vocab import SEEDS, Access, Demographic, Modality  # noqa: E402
from curate.policy.terms import (
    UseTerms,
    access_for_terms,
    more_permissive_fields,
    most_restrictive,
    normalise_licence,
    terms_for_licence,
)

#: Fields whose values are Facts (sourced figures); ``conflicts[].field`` must name one of these.
FACT_FIELDS: tuple[str, ...] = (
    "modality",
    "anatomy",
    "countries",
    "images",
    "patients",
    "studies",
    "years_collected",
    "age",
    "demographics_reported",
    "licence",
    "use_terms",
)


class LicenceOverride(BaseModel):
    """A user catalog record that replaced a built-in record with a different licence, access or terms."""

    model_config = ConfigDict(frozen=True)

    builtin_licence: str
    builtin_access: str
    builtin_terms: UseTerms
    user_licence: str
    user_access: str
    user_file: str

    def statement(self) -> str:
        return (f"a user catalog record ({Path(self.user_file).name}) overrides the built-in record's "
                f"licence '{self.builtin_licence}' ({self.builtin_access} access) with '{self.user_licence}' "
                f"({self.user_access} access)")


class Dataset(_Strict):
    """One catalog record. See ``docs/catalog.md`` for every field with an example."""

    schema_version: Literal[1, 2] = Field(1, description="2 for records with source types and v2 sections")
    id: CatalogId = Field(description="short unique id, e.g. BRSET")
    name: str
    aliases: list[str] = Field(default_factory=list)
    description: str | None = None
    framework: Literal["vision", "multimodal"] | None = Field(
        None, description="Table 1 'Model' column of the review: vision-only or image-text"
    )
    modality: Fact[list[Modality]]
    anatomy: Fact[str]
    countries: Fact[list[str]] = Field(description="ISO 3166-1 alpha-3 codes of where data was collected")
    multinational: bool = False
    institutions: list[str] = Field(default_factory=list)
    images: Fact[int] | None = None
    patients: Fact[int] | None = None
    studies: Fact[int] | None = None
    years_collected: Fact[YearRange] | None = None
    age: Fact[AgeStats] | None = None
    labels: list[str] = Field(default_factory=list, description="labels / tasks annotated")
    demographics_reported: Fact[list[Demographic]]
    licence: Fact[str] = Field(description="SPDX id where one exists, else the named terms")
    access: Access | None = Field(None, description="derived from the licence; set only for named terms")
    use_terms: Fact[UseTerms] | None = Field(
        None, description="structured use terms read from the licence (and its conflicts); derived if absent"
    )
    language: list[str] = Field(default_factory=list, description="language(s) of reports/labels, ISO 639-1")
    url: str | None = None
    doi: str | None = None
    citation: str | None = None
    collections: list[str] = Field(
        default_factory=list, description="tables this record reproduces, e.g. queiroz2025-table1"
    )
    # ---- schema v2: health-data documentation (curate/catalog/sections.py); absent = not reported
    acquisition: Acquisition | None = None
    population: Population | None = None
    care_setting: Fact[str] | None = None
    inclusion_criteria: Fact[str] | None = None
    exclusion_criteria: Fact[str] | None = None
    ethics: Ethics | None = None
    deidentification: Fact[str] | None = None
    labelling: Labelling | None = None
    derived_from: Fact[list[CatalogId]] | None = Field(
        None, description="datasets it derives from: catalog ids, or the names of sources not in the catalog")
    overlaps: list[Overlap] | None = Field(
        None, description="measured lineage: the share of this record's images found in other catalog "
                          "datasets (curate/catalog/overlaps.py); distinct from derived_from (stated)")
    versions: Fact[list[Version]] | None = None
    official_splits: Fact[str] | None = None
    errata: Fact[list[str]] | None = None
    maintenance: Maintenance | None = None
    intended_uses: Fact[list[str]] | None = None
    out_of_scope_uses: Fact[list[str]] | None = None
    funding: Fact[str] | None = Field(None, description="who funded its creation, as the source says")
    software: Fact[str] | None = Field(None, description="code used to collect, preprocess or label it (URL)")
    relationships: Fact[str] | None = Field(
        None, description="links between instances the data makes explicit (patient ids, eyes, studies)")
    references: dict[str, Reference] = Field(default_factory=dict)
    conflicts: list[Conflict] = Field(default_factory=list)
    searched: list[Search] = Field(
        default_factory=list, description="where a field was looked for and not found (e.g. the licence)")
    notes: str | None = None
    _override: LicenceOverride | None = PrivateAttr(None)
    _builtin: Dataset | None = PrivateAttr(None)  # the built-in record this user record replaced
    _lineage: tuple[tuple[Dataset, ...], tuple[str, ...]] | None = PrivateAttr(None)  # set by the loader
    _measured: tuple[tuple[tuple[Dataset, str], ...], tuple[str, ...]] | None = PrivateAttr(None)  # loader

    # ----------------------------------------------------------------- validation
    @field_validator("countries")
    @classmethod
    def _alpha3(cls, fact: Fact[list[str]]) -> Fact[list[str]]:
        from curate.countries import is_alpha3

        bad = [c for c in fact.value if not is_alpha3(c)]
        if bad:
            raise ValueError(f"not ISO 3166-1 alpha-3 code(s): {', '.join(bad)}")
        return fact

    @model_validator(mode="after")
    def _consistency(self) -> Dataset:
        if not self.countries.value and not self.multinational:
            raise ValueError("countries: empty list needs `multinational: true`")
        known = set(self.references) | set(SEEDS)
        paths = []
        for name, fact in self.facts():
            paths.append(name)
            if fact.source not in known:
                raise ValueError(
                    f"{name}.source: '{fact.source}' is not a key of references "
                    f"(or a seed: {', '.join(SEEDS)})"
                )
            if self.schema_version >= SCHEMA_VERSION:
                missing = [k for k in ("locator", "source_type") if getattr(fact, k) is None]
                if missing:
                    raise ValueError(f"{name}: schema_version 2 needs {' and '.join(missing)} on every fact")
        for i, c in enumerate(self.conflicts):
            if c.field not in FACT_FIELDS and c.field not in paths:
                raise ValueError(f"conflicts[{i}].field: '{c.field}' is not a sourced field")
            if c.source not in known:
                raise ValueError(f"conflicts[{i}].source: '{c.source}' is not a key of references")
        derived_terms = self.derived_terms()
        if self.use_terms is not None:
            bad = more_permissive_fields(self.use_terms.value, derived_terms)
            if bad:
                raise ValueError(f"use_terms: {', '.join(bad)} contradict(s) licence '{self.licence.value}' "
                                 f"({derived_terms.describe()})")
        derived = access_for_terms(self.terms)
        if self.access is None:
            self.access = derived
        elif derived != "unknown" and self.access != derived:
            raise ValueError(
                f"access: '{self.access}' contradicts licence '{self.licence.value}' (which is '{derived}')"
            )
        return self

    # ----------------------------------------------------------------- helpers
    def facts(self):
        """Every Fact of the record with its dotted path: the v1 fields, then the v2 sections."""
        for name in (*FACT_FIELDS, *V2_FIELDS):
            yield from walk_facts(getattr(self, name), name)

    def fact(self, path: str) -> Fact | None:
        """The Fact at a dotted path (``images``, ``acquisition.devices``), or None when absent."""
        return dict(self.facts()).get(path)

    def derived_terms(self) -> UseTerms:
        """Use terms read from the licence and every licence given in ``conflicts`` (restrictions win)."""
        others = [terms_for_licence(str(c.value)) for c in self.conflicts if c.field == "licence"]
        return most_restrictive(terms_for_licence(self.licence.value), *others)

    @property
    def terms(self) -> UseTerms:
        """The effective use terms: the record's ``use_terms`` when given, else derived from the licence."""
        return self.use_terms.value if self.use_terms is not None else self.derived_terms()

    @property
    def terms_source(self) -> str:
        fact = self.use_terms or self.licence
        return fact.source + (f", {fact.locator}" if fact.locator else "")

    @property
    def licence_override(self) -> LicenceOverride | None:
        """Set by the catalog loader when a user record replaced a built-in one with other terms."""
        return self._override

    def note_override(self, builtin: Dataset, user_file: str | Path) -> None:
        """Record that this (user) record replaced ``builtin`` (its terms bound this record's upload
        decision); a licence conflict is kept only when licence, access or terms differ."""
        self._builtin = builtin
        same = (normalise_licence(builtin.licence.value) == normalise_licence(self.licence.value)
                and builtin.access == self.access and builtin.terms == self.terms)
        if not same:
            self._override = LicenceOverride(
                builtin_licence=builtin.licence.value, builtin_access=builtin.access or "unknown",
                builtin_terms=builtin.terms, user_licence=self.licence.value,
                user_access=self.access or "unknown", user_file=str(user_file))

    @property
    def builtin_record(self) -> Dataset | None:
        """The built-in record this user record replaced (same id or alias), or None."""
        return self._builtin

    @property
    def lineage(self) -> tuple[tuple[Dataset, ...], tuple[str, ...]]:
        """``(sources in the catalog, transitively; names of sources not in it)``. Set by the catalog
        loader; a record not loaded through a catalog has every source unresolved."""
        if self._lineage is None:
            return (), tuple(self.derived_from.value) if self.derived_from is not None else ()
        return self._lineage

    @property
    def measured_lineage(self) -> tuple[tuple[tuple[Dataset, str], ...], tuple[str, ...]]:
        """``((dataset, how), ...), names not in the catalog)``: the datasets a measurement links this record
        to by shared images (:func:`curate.catalog.lineage.resolve_lineage`), each with a sentence saying
        how. Set by the catalog loader; a record not loaded through a catalog has every link unresolved."""
        if self._measured is None:
            return (), tuple(o.dataset for o in self.overlaps or [] if o.contains)
        return self._measured

    @property
    def modalities(self) -> list[str]:
        return list(self.modality.value)

    @property
    def n_images(self) -> int | None:
        return self.images.value if self.images else None

    @property
    def n_patients(self) -> int | None:
        return self.patients.value if self.patients else None

    def reference(self, key: str) -> Reference:
        if key in self.references:
            return self.references[key]
        return Reference(**{k: v for k, v in SEEDS[key].items()})

    def cite(self, fact_field: str) -> str:
        """Human-readable source of one field, e.g. ``queiroz2025, Table 1``."""
        fact = self.fact(fact_field)
        if fact is None:
            return "Not reported by the source"
        return fact.source + (f", {fact.locator}" if fact.locator else "")

    def conflicts_for(self, fact_field: str) -> list[Conflict]:
        return [c for c in self.conflicts if c.field == fact_field]

    def record(self) -> dict[str, Any]:
        """JSON-ready dict of every schema field (``countries`` as alpha-3 codes)."""
        return self.model_dump(mode="json", exclude_none=False)

    def record_hash(self) -> str:
        """sha256 of the canonical JSON record: the provenance of every generated card."""
        blob = json.dumps(self.record(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


Dataset.model_rebuild()
