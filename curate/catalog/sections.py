"""Schema v2 sections: health-data documentation (Healthsheet, STANDING Together, CLAIM) as sourced Facts.

Why small models of Facts rather than free text: each answer a datasheet gives must cite the page it came
from, and a question the sources do not answer must stay visibly unanswered. So every leaf is a
:class:`~curate.catalog.schema.Fact` (value + source + locator + source type + checked date) and every
section is optional: absent means "not reported by the source", never a guess.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from curate.catalog.facts import SOURCE_TYPES as SOURCE_TYPES  # noqa: F401  (re-exported)
from curate.catalog.facts import AgeStats, Fact
from curate.catalog.facts import SourceType as SourceType  # noqa: F401  (re-exported)
from curate.catalog.vocab import DEMOGRAPHICS

#: Who assigned a demographic attribute (STANDING Together recommendation on categorisation).
ASSIGNERS: tuple[str, ...] = ("self-reported", "clinician", "estimated", "health-record", "mixed")
Assigner = Literal["self-reported", "clinician", "estimated", "health-record", "mixed"]

SCHEMA_VERSION = 2


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Device(_Strict):
    """One acquisition device and, where the source gives it, the share of images it took."""

    manufacturer: str | None = None
    model: str | None = None
    share: float | None = Field(None, ge=0, le=1, description="fraction of images (0-1)")

    def __str__(self) -> str:
        name = " ".join(x for x in (self.manufacturer, self.model) if x) or "device"
        return name + (f" ({self.share:.1%})" if self.share is not None else "")


class Version(_Strict):
    version: str
    released: str | None = Field(None, description="release date, ISO 8601 (YYYY, YYYY-MM or YYYY-MM-DD)")
    doi: str | None = None

    def __str__(self) -> str:
        bits = [self.version]
        if self.released:
            bits.append(f"released {self.released}")
        if self.doi:
            bits.append(f"doi:{self.doi}")
        return ", ".join(bits)


class Acquisition(_Strict):
    devices: Fact[list[Device]] | None = None
    resolution: Fact[str] | None = None
    field_strength: Fact[str] | None = None
    file_format: Fact[str] | None = None
    protocol: Fact[str] | None = None


class Attribute(_Strict):
    """One demographic attribute: its categories, who assigned them, its distribution, its missing rate."""

    categories: Fact[list[str]] | None = None
    assigned_by: Fact[Assigner] | None = None
    recorded_from: Fact[str] | None = Field(None, description="where the value was taken from, e.g. EHR")
    shares: Fact[dict[str, float]] | None = Field(None, description="category -> fraction (0-1)")
    stats: Fact[AgeStats] | None = Field(None, description="numeric attributes (age): mean, median, range")
    missing_rate: Fact[float] | None = None

    @field_validator("shares")
    @classmethod
    def _fractions(cls, fact: Any) -> Any:
        if fact is not None and any(not 0 <= v <= 1 for v in fact.value.values()):
            raise ValueError("shares are fractions between 0 and 1")
        return fact


class Population(_Strict):
    attributes: dict[str, Attribute] = Field(default_factory=dict, description="keyed by demographic name")

    @field_validator("attributes")
    @classmethod
    def _known(cls, v: dict[str, Attribute]) -> dict[str, Attribute]:
        bad = [k for k in v if k not in DEMOGRAPHICS]
        if bad:
            raise ValueError(f"unknown demographic attribute(s) {', '.join(bad)} "
                             f"(use: {', '.join(DEMOGRAPHICS)})")
        return v


class Ethics(_Strict):
    irb: Fact[str] | None = Field(None, description="ethics committee / IRB approval as the source states it")
    consent: Fact[str] | None = Field(None, description="consent model, e.g. waived for retrospective data")


class Labelling(_Strict):
    """Label provenance (CLAIM: reference standard, annotators and their qualifications)."""

    method: Fact[str] | None = None
    annotators: Fact[str] | None = None
    qualification: Fact[str] | None = None
    agreement: Fact[str] | None = None


class Maintenance(_Strict):
    maintainer: Fact[str] | None = None
    contact: Fact[str] | None = None


#: Top-level v2 fields of :class:`~curate.catalog.schema.Dataset` (each optional).
V2_FIELDS: tuple[str, ...] = (
    "acquisition", "population", "care_setting", "inclusion_criteria", "exclusion_criteria", "ethics",
    "deidentification", "labelling", "derived_from", "versions", "official_splits", "errata",
    "maintenance", "intended_uses", "out_of_scope_uses", "funding", "software",
    "relationships",
)


def walk_facts(obj: Any, prefix: str = "") -> Iterator[tuple[str, Fact]]:
    """Every Fact inside a record or section, with its dotted path (``population.sex.shares``)."""
    if isinstance(obj, Fact):
        yield prefix, obj
        return
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from walk_facts(getattr(obj, name), f"{prefix}.{name}" if prefix else name)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, BaseModel):
                yield from walk_facts(v, f"{prefix}.{k}" if prefix else str(k))
