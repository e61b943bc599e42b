"""The sourced value: :class:`Fact` (a value with its source) and the small models every record uses.

A leaf of :mod:`curate.catalog`: :mod:`curate.catalog.sections` (schema v2) and
:mod:`curate.catalog.schema` (the record) both build on it, so neither has to import the other.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

T = TypeVar("T")

#: How a source relates to the dataset (Data Provenance Initiative): the dataset's own paper, page or
#: repository (primary); a re-hosted copy such as Kaggle or a Hugging Face re-upload (mirror); a paper
#: or review that reports on the dataset, e.g. the seed papers' tables (secondary).
SOURCE_TYPES: tuple[str, ...] = ("primary", "mirror", "secondary")
SourceType = Literal["primary", "mirror", "secondary"]
#: The locator the v1 -> v2 migration wrote where a source's place was never recorded.
LOCATOR_NOT_RECORDED = "not recorded"


_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


def _check_id(v: str) -> str:
    if not _ID_RE.match(v):
        raise ValueError("id must be letters, digits, '.', '_', '+' or '-' (e.g. BRSET, queiroz2025-table1)")
    return v


#: Ids of datasets and collections (file names, CLI arguments): one shape, one check.
CatalogId = Annotated[str, AfterValidator(_check_id)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Reference(_Strict):
    """Where a figure comes from: a seed paper, a dataset paper, or the dataset's own page."""

    title: str
    authors: str | None = None
    year: int | str | None = None
    doi: str | None = None
    url: str | None = None
    seed: str | None = Field(None, description="file name in shared/seeds when the source is a seed paper")

    def short(self) -> str:
        bits = [self.title]
        if self.year:
            bits.append(f"({self.year})")
        if self.doi:
            bits.append(f"doi:{self.doi}")
        elif self.url:
            bits.append(self.url)
        return " ".join(bits)


class Fact(_Strict, Generic[T]):
    """A value with its source. ``source`` is a key of the record's ``references`` or a seed key."""

    value: T
    source: str
    locator: str | None = Field(None, description="table, section or page inside the source")
    as_printed: str | None = Field(None, description="the source's exact text when it differs in form")
    note: str | None = None
    source_type: SourceType | None = Field(None, description="primary, mirror or secondary (schema v2)")
    checked: _dt.date | None = Field(None, description="date someone re-read the source for this value")

    @model_validator(mode="after")
    def _located_when_checked(self) -> Fact[T]:
        if self.checked is not None and (self.locator or "").strip().lower() in ("", "not recorded"):
            raise ValueError(f"a fact re-read on {self.checked} must say where in the source it is "
                             "(locator: Table 1, Section 2, README ...)")
        return self


class Conflict(_Strict):
    """Another source's value for a field; the record keeps the seed/table value (see issue 3)."""

    field: str
    value: Any
    source: str
    locator: str | None = None
    note: str | None = None
    source_type: SourceType | None = None
    checked: _dt.date | None = None


class Search(_Strict):
    """What was read, and found, looking for a field no readable source states (kept, never guessed)."""

    field: str = Field(description="the field looked for, e.g. licence")
    read: list[str] = Field(min_length=1, description="the pages, files or papers read (URL or title)")
    found: str = Field(description="what they say, e.g. 'no licence or terms of use stated'")
    checked: _dt.date


class YearRange(_Strict):
    start: int
    end: int | None = None

    @model_validator(mode="after")
    def _ordered(self) -> YearRange:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"end year {self.end} is before start year {self.start}")
        return self

    def __str__(self) -> str:
        return f"{self.start}" if self.end in (None, self.start) else f"{self.start}–{self.end}"


class AgeStats(_Strict):
    """Age of the cohort as the source reports it (years)."""

    mean: float | None = None
    sd: float | None = None
    median: float | None = None
    min: float | None = None
    max: float | None = None

    def __str__(self) -> str:
        parts = []
        if self.mean is not None:
            parts.append(f"{self.mean:g}" + (f" ± {self.sd:g}" if self.sd is not None else ""))
        if self.median is not None:
            parts.append(f"median {self.median:g}")
        if self.min is not None or self.max is not None:
            lo = "?" if self.min is None else f"{self.min:g}"
            hi = "?" if self.max is None else f"{self.max:g}"
            parts.append(f"range {lo}–{hi}")
        return ", ".join(parts) or "reported"
