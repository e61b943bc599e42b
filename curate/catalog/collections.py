"""Collections: a named, sourced list of catalog datasets, such as one table of a paper.

Why a separate record: a paper's table is itself a claim ("we curated 74,184,415 images") that can be
checked against the rows it lists. A :class:`Collection` keeps the stated totals as sourced
:class:`~curate.catalog.schema.Fact` values, lists its member dataset ids, and records where the source
disagrees with itself (queiroz2025, Section 3.1 text total vs the sum of its Table 1) as ``conflicts``,
exactly as dataset records do.

Files live in ``<catalog dir>/collections/*.yaml``; ``curate.catalog.load().collections`` reads them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from pydantic import Field, field_validator, model_validator

from curate.catalog._yaml import parse_model_file
from curate.catalog.facts import Conflict, Fact, Reference, _Strict
from curate.catalog.schema import CatalogId, Dataset
from curate.catalog.vocab import SEEDS
from curate.errors import CatalogError


class Catalog(Protocol):
    """What a collection needs of a :class:`curate.catalog.store.Catalog` (which holds the collections)."""

    def __contains__(self, key: object) -> bool: ...

    def get(self, key: str) -> Dataset: ...

#: Totals a collection may state; each is summed over its member datasets by :meth:`Collection.computed`.
TOTAL_FIELDS: tuple[str, ...] = ("datasets", "images", "patients")

SUBDIR = "collections"


class Collection(_Strict):
    """A sourced list of datasets (e.g. ``queiroz2025-table1``) with the totals its source states."""

    id: CatalogId = Field(description="short unique id, e.g. queiroz2025-table1")
    title: str
    source: str = Field(description="a key of references or a seed key: where the list is printed")
    locator: str | None = Field(None, description="table or section inside the source")
    datasets: list[str] = Field(description="member dataset ids, in the source's order")
    totals: dict[str, Fact[int]] = Field(default_factory=dict, description="totals the source states")
    references: dict[str, Reference] = Field(default_factory=dict)
    conflicts: list[Conflict] = Field(default_factory=list)
    notes: str | None = None

    @field_validator("datasets")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        seen: set[str] = set()
        dupes = []
        for d in v:
            if d.upper() in seen:
                dupes.append(d)
            seen.add(d.upper())
        if dupes:
            raise ValueError(f"listed more than once: {', '.join(dupes)}")
        if not v:
            raise ValueError("a collection needs at least one dataset id")
        return v

    @model_validator(mode="after")
    def _consistency(self) -> Collection:
        known = set(self.references) | set(SEEDS)
        if self.source not in known:
            raise ValueError(
                f"source: '{self.source}' is not a key of references (or a seed: {', '.join(SEEDS)})"
            )
        for name, fact in self.totals.items():
            if name not in TOTAL_FIELDS:
                raise ValueError(f"totals.{name}: not one of {', '.join(TOTAL_FIELDS)}")
            if fact.source not in known:
                raise ValueError(f"totals.{name}.source: '{fact.source}' is not a key of references")
        for i, c in enumerate(self.conflicts):
            if c.field not in TOTAL_FIELDS:
                raise ValueError(f"conflicts[{i}].field: '{c.field}' is not one of {', '.join(TOTAL_FIELDS)}")
            if c.source not in known:
                raise ValueError(f"conflicts[{i}].source: '{c.source}' is not a key of references")
        return self

    # ----------------------------------------------------------------- helpers
    def reference(self, key: str) -> Reference:
        if key in self.references:
            return self.references[key]
        return Reference(**SEEDS[key])

    def missing(self, catalog: Catalog) -> list[str]:
        """Member ids the catalog does not know (by id or alias)."""
        return [d for d in self.datasets if d not in catalog]

    def members(self, catalog: Catalog) -> list:
        """The member :class:`Dataset` records, in the collection's order."""
        missing = self.missing(catalog)
        if missing:
            raise CatalogError(f"collection '{self.id}': unknown dataset id(s) {', '.join(missing)}")
        return [catalog.get(d) for d in self.datasets]

    def computed(self, catalog: Catalog) -> dict[str, int]:
        """Totals recomputed from the member records: dataset count, and images/patients summed where known.

        ``patients`` sums only members that state a patient count, so it is a lower bound.
        """
        members = self.members(catalog)
        return {
            "datasets": len(members),
            "images": sum(ds.n_images or 0 for ds in members),
            "patients": sum(ds.n_patients or 0 for ds in members),
        }

    def differences(self, catalog: Catalog) -> dict[str, int]:
        """``computed - stated`` for every stated total (0 = the source agrees with its own rows)."""
        comp = self.computed(catalog)
        return {name: comp[name] - fact.value for name, fact in self.totals.items()}

    def record(self) -> dict:
        return self.model_dump(mode="json")


def parse_collection(path: Path) -> tuple[Collection | None, list[str]]:
    """Parse one collection file. Returns the collection or the problems found, each naming file and field."""
    return parse_model_file(path, Collection)


def collection_files(folder: str | os.PathLike) -> list[Path]:
    sub = Path(folder) / SUBDIR
    if not sub.is_dir():
        return []
    return sorted([*sub.glob("*.yaml"), *sub.glob("*.yml")])


def validate_collections(folder: str | os.PathLike, catalog: Catalog | None = None) -> list[str]:
    """Problems in ``<folder>/collections/*.yaml``; with ``catalog``, also member ids it does not know."""
    problems: list[str] = []
    seen: dict[str, Path] = {}
    for path in collection_files(folder):
        col, errs = parse_collection(path)
        problems += errs
        if col is None:
            continue
        if col.id.upper() in seen:
            problems.append(f"{path}: id '{col.id}' is also used by {seen[col.id.upper()].name}")
        seen[col.id.upper()] = path
        if catalog is not None:
            missing = col.missing(catalog)
            if missing:
                problems.append(f"{path}: datasets: unknown dataset id(s) {', '.join(missing)}")
    return problems


@lru_cache(maxsize=8)
def _load_cached(dirs: tuple[str, ...], _stamp: tuple) -> dict[str, tuple[Collection, Path]]:
    out: dict[str, tuple[Collection, Path]] = {}
    for d in dirs:
        for path in collection_files(d):
            col, errs = parse_collection(path)
            if errs:
                more = f" (and {len(errs) - 1} more)" if len(errs) > 1 else ""
                raise CatalogError(errs[0] + more)
            out.pop(col.id, None)  # a later folder replaces an earlier collection with the same id
            out[col.id] = (col, path)
    return out


def load_collections(
    dirs: Iterable[str | os.PathLike], catalog: Catalog | None = None
) -> dict[str, Collection]:
    """All collections under ``<dir>/collections`` for each catalog dir (later dirs win).

    With ``catalog``, every member id must be known to it (else :class:`CatalogError` naming the file).
    """
    folders = [Path(d) for d in dirs]
    stamp = tuple((str(p), p.stat().st_mtime_ns) for d in folders for p in collection_files(d))
    cols = _load_cached(tuple(str(d.resolve()) for d in folders), stamp)
    if catalog is not None:
        for col, path in cols.values():
            missing = col.missing(catalog)
            if missing:
                raise CatalogError(f"{path}: datasets: unknown dataset id(s) {', '.join(missing)}")
    return {k: col.model_copy(deep=True) for k, (col, _) in cols.items()}


def get_collection(collections: dict[str, Collection], key: str) -> Collection | None:
    """Case-insensitive lookup by id; ``None`` when absent."""
    k = key.strip().upper()
    for cid, col in collections.items():
        if cid.upper() == k:
            return col
    return None
