"""Load, merge, validate and query the catalog (the built-in YAML files plus the user's own)."""

from __future__ import annotations

import difflib
import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curate.catalog._yaml import parse_model_file as parse_model_file
from curate.catalog.files import builtin_dir as builtin_dir
from curate.catalog.schema import Dataset
from curate.errors import CatalogError, UnknownDatasetError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from curate.catalog.collections import Collection

ENV_VAR = "CURATE_CATALOG"


def parse_file(path: Path) -> tuple[Dataset | None, list[str]]:
    """Parse one dataset record file."""
    return parse_model_file(path, Dataset)


def _yaml_files(folder: Path) -> list[Path]:
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])


def _scan(folder: Path) -> tuple[list[Dataset], dict[str, Path], list[str]]:
    """Parse every file of a folder once: the valid records, their files, and all problems."""
    if not folder.is_dir():
        return [], {}, [f"{folder}: not a folder"]
    files = _yaml_files(folder)
    if not files:
        return [], {}, [f"{folder}: no .yaml files"]
    items: list[Dataset] = []
    origins: dict[str, Path] = {}
    problems: list[str] = []
    seen: dict[str, Path] = {}
    for path in files:
        ds, errs = parse_file(path)
        problems += errs
        if ds is None:
            continue
        for key in dict.fromkeys(k.upper() for k in (ds.id, *ds.aliases)):
            if key in seen:
                problems.append(f"{path}: id/alias '{key}' is also used by {seen[key].name}")
            seen[key] = path
        items.append(ds)
        origins[ds.id] = path
    return items, origins, problems


#: Records migrated from schema v1 that still have facts with ``locator: not recorded`` (one id per line).
#: Only these may: every other record must say where in its source each figure is. Remove a line once
#: the record's sources have been re-read.
LEGACY_LOCATORS = "LEGACY_LOCATORS.txt"


def legacy_ids(folder: str | os.PathLike) -> set[str]:
    path = Path(folder) / LEGACY_LOCATORS
    if not path.is_file():
        return set()
    lines = path.read_text(encoding="utf-8").splitlines()
    return {ln.split("#")[0].strip() for ln in lines if ln.split("#")[0].strip()}


def unlocated(ds: Dataset) -> int:
    """How many of a record's facts still carry the migration's ``locator: not recorded``."""
    from curate.catalog.facts import LOCATOR_NOT_RECORDED

    return sum(1 for _, f in ds.facts() if f.locator == LOCATOR_NOT_RECORDED)


def records_in(folder: str | os.PathLike) -> list[Dataset]:
    """The valid records of one folder (the problems are :func:`validate_dir`'s)."""
    return list(_scan(Path(folder))[0])


def validate_dir(folder: str | os.PathLike) -> list[str]:
    """All problems in a folder of catalog files (empty list = valid).

    Besides the schema: a record outside :data:`LEGACY_LOCATORS` may not have a fact whose locator is
    ``not recorded`` (the migration's placeholder), so every new record cites where each figure is.
    """
    from curate.catalog.facts import LOCATOR_NOT_RECORDED

    items, _, found = _scan(Path(folder))
    problems = list(found)  # _scan's result may be shared: never extend it in place
    legacy = legacy_ids(folder)
    for ds in items:
        n = unlocated(ds)
        if n and ds.schema_version >= 2 and ds.id not in legacy:
            problems.append(f"{ds.id}: {n} fact(s) with locator '{LOCATOR_NOT_RECORDED}': a record must say "
                            "where in its source each figure is (Table 1, Section 2, README ...)")
    return problems


def schema_notes(folder: str | os.PathLike) -> list[str]:
    """What a valid folder still lacks for schema v2: v1 records, facts whose locator was never recorded."""
    from curate.catalog.facts import LOCATOR_NOT_RECORDED
    from curate.catalog.sections import SCHEMA_VERSION

    items = _scan(Path(folder))[0]
    old = [ds.id for ds in items if ds.schema_version < SCHEMA_VERSION]
    n_unlocated = sum(unlocated(ds) for ds in items)
    notes = []
    if old:
        notes.append(f"{len(old)} record(s) on schema_version 1 ({', '.join(old[:5])}"
                     f"{', …' if len(old) > 5 else ''}): run `python -m curate.catalog.migrate {folder}`")
    if n_unlocated:
        notes.append(f"{n_unlocated} fact(s) have locator '{LOCATOR_NOT_RECORDED}': re-read their sources")
    return notes


def catalog_hash(catalog: Iterable[Dataset]) -> str:
    """sha256 over the sorted record hashes: changes whenever any record of ``catalog`` changes.

    The one catalog hash: the cards' provenance and the policy report both print it.
    """
    h = hashlib.sha256()
    for rh in sorted(ds.record_hash() for ds in catalog):
        h.update(rh.encode("ascii"))
    return h.hexdigest()


class Catalog:
    """An ordered collection of :class:`Dataset` records with lookup by id or alias.

    >>> import curate
    >>> cat = curate.catalog.load()
    >>> cat.get("brset").id
    'BRSET'
    """

    def __init__(self, datasets: Iterable[Dataset], origins: dict[str, Path] | None = None) -> None:
        self._items: dict[str, Dataset] = {}
        for ds in datasets:
            self._items[ds.id] = ds
        self.origins: dict[str, Path] = dict(origins or {})
        self._keys: dict[str, str] = {}
        for ds in self._items.values():
            for alias in ds.aliases:
                self._keys.setdefault(alias.upper(), ds.id)
        for ds in self._items.values():  # ids win over aliases
            self._keys[ds.id.upper()] = ds.id

    # mapping-like API -------------------------------------------------------------------
    def __iter__(self) -> Iterator[Dataset]:
        return iter(self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.strip().upper() in self._keys

    def __repr__(self) -> str:
        return f"Catalog({len(self)} datasets)"

    @property
    def ids(self) -> list[str]:
        return list(self._items)

    @property
    def collections(self) -> dict[str, Collection]:
        """Named dataset lists (e.g. ``queiroz2025-table1``) from ``<catalog dir>/collections/*.yaml``."""
        from curate.catalog.collections import load_collections

        dirs = getattr(self, "_dirs", None) or list(dict.fromkeys(p.parent for p in self.origins.values()))
        return load_collections(dirs)

    def get(self, key: str) -> Dataset:
        """Look up by id or alias, case-insensitively; unknown ids suggest close matches."""
        k = key.strip().upper()
        if k in self._keys:
            return self._items[self._keys[k]]
        # nothing can be close (a ratio ≥ 0.6 needs similar lengths); difflib on a 100k-character key took
        # minutes
        if len(k) > 2 * max(map(len, self._keys), default=0):
            raise UnknownDatasetError(key, [])
        scored = sorted(((difflib.SequenceMatcher(None, k, c).ratio(), c) for c in self._keys), reverse=True)
        best = scored[0][0] if scored else 0.0
        # only the closest few: 'BRST' suggests BRSET, not every id that shares two letters
        close = [c for r, c in scored[:3] if r >= 0.6 and r >= best - 0.05]
        suggestions = list(dict.fromkeys(self._keys[c] for c in close))
        raise UnknownDatasetError(key, suggestions)

    def __getitem__(self, key: str) -> Dataset:
        return self.get(key)

    # queries ------------------------------------------------------------------------------
    def filter(
        self,
        *,
        modality: str | Iterable[str] | None = None,
        country: str | Iterable[str] | None = None,
        access: str | Iterable[str] | None = None,
        collection: str | None = None,
        where: Callable[[Dataset], bool] | None = None,
    ) -> Catalog:
        """A sub-catalog. ``country`` accepts names or codes; multinational datasets match a country
        only when it is listed among their member countries."""

        def _set(v: str | Iterable[str] | None) -> set[str] | None:
            if v is None:
                return None
            return {v.lower()} if isinstance(v, str) else {x.lower() for x in v}

        mods, accs = _set(modality), _set(access)
        if collection is not None:
            known = set(self.collections) | {c for ds in self for c in ds.collections}
            if collection not in known:
                raise UsageError(f"unknown collection '{collection}' (collections: "
                                 f"{', '.join(sorted(known)) or 'none in this catalog'})")
        countries = None
        if country is not None:
            from curate.countries import to_alpha3

            countries = {to_alpha3(c) for c in ([country] if isinstance(country, str) else country)}
        out = []
        for ds in self:
            if mods is not None and not mods & {m.lower() for m in ds.modality.value}:
                continue
            if countries is not None and not countries & set(ds.countries.value):
                continue
            if accs is not None and (ds.access or "unknown") not in accs:
                continue
            if collection is not None and collection not in ds.collections:
                continue
            if where is not None and not where(ds):
                continue
            out.append(ds)
        return Catalog(out, {d.id: self.origins[d.id] for d in out if d.id in self.origins})

    def records(self) -> list[dict[str, Any]]:
        return [ds.record() for ds in self]

    def to_frame(self) -> pd.DataFrame:
        """One row per dataset with the headline fields (lists stay lists)."""
        import pandas as pd

        rows = []
        for ds in self:
            rows.append(
                {
                    "id": ds.id,
                    "name": ds.name,
                    "modality": ds.modalities,
                    "anatomy": ds.anatomy.value,
                    "countries": list(ds.countries.value),
                    "multinational": ds.multinational,
                    "images": ds.n_images,
                    "patients": ds.n_patients,
                    "studies": ds.studies.value if ds.studies else None,
                    "demographics_reported": list(ds.demographics_reported.value),
                    "licence": ds.licence.value,
                    "access": ds.access,
                    "language": list(ds.language),
                    "framework": ds.framework,
                    "collections": list(ds.collections),
                    "url": ds.url,
                }
            )
        frame = pd.DataFrame(rows)
        for col in ("images", "patients", "studies"):
            if col in frame:
                frame[col] = frame[col].astype("Int64")
        return frame


def _load_dir(folder: Path) -> tuple[list[Dataset], dict[str, Path]]:
    items, origins, problems = _scan(folder)
    if problems:
        more = f" (and {len(problems) - 1} more; run `curate catalog validate --catalog {folder}`)"
        raise CatalogError(problems[0] + (more if len(problems) > 1 else ""))
    return items, origins


def _load_merged(dirs: tuple[str, ...]) -> tuple[tuple[Dataset, ...], dict[str, Path]]:
    """Fresh records for every load (each caller may change its own): validating the cached parsed
    YAML (curate._cache) is cheaper than deep-copying cached models."""
    merged: dict[str, Dataset] = {}
    origins: dict[str, Path] = {}
    builtins: dict[str, Dataset] = {}  # id -> the built-in record a user record replaced
    builtin_root = builtin_dir().resolve()
    for d in dirs:
        items, orig = _load_dir(Path(d))
        for ds in items:
            # A user's record replaces the built-in record with the same id or alias; a different licence,
            # access or use terms is kept as a conflict (shown, and it blocks image upload).
            clash = [k for k, v in merged.items() if {v.id.upper(), *(a.upper() for a in v.aliases)}
                     & {ds.id.upper()}]
            for k in clash:
                if merged[k].id.upper() != ds.id.upper():  # an alias: the old id would vanish
                    raise CatalogError(
                        f"{orig[ds.id]}: id '{ds.id}' is an alias of the dataset '{merged[k].id}' "
                        f"({origins.get(k, 'an earlier catalog folder')}); a record that replaces it "
                        f"must use its id: name the file {merged[k].id}.yaml and write id: {merged[k].id}")
                old = merged.pop(k)
                old_origin = origins.pop(k, None)
                base = builtins.pop(k, None)
                if base is None and old_origin is not None and old_origin.resolve().parent == builtin_root:
                    base = old
                if base is not None:
                    builtins[ds.id] = base
                    ds.note_override(base, orig[ds.id])
            merged[ds.id] = ds
            origins[ds.id] = orig[ds.id]
    return tuple(merged.values()), origins


def catalog_dirs(extra: str | os.PathLike | Iterable[str | os.PathLike] | None = None,
                 *, builtin: bool = True) -> list[Path]:
    dirs: list[Path] = [builtin_dir()] if builtin else []
    env = os.environ.get(ENV_VAR)
    if env:
        dirs += [Path(p) for p in env.split(os.pathsep) if p]
    if extra is not None:
        dirs += [Path(extra)] if isinstance(extra, (str, os.PathLike)) else [Path(p) for p in extra]
    for d in dirs:
        if not d.is_dir():
            raise CatalogError(f"catalog folder '{d}' does not exist")
    return dirs


def load(catalog_dir: str | os.PathLike | Iterable[str | os.PathLike] | None = None,
         *, builtin: bool = True) -> Catalog:
    """Load the built-in catalog, merged with ``$CURATE_CATALOG`` and ``catalog_dir`` (later wins)."""
    dirs = catalog_dirs(catalog_dir, builtin=builtin)
    items, origins = _load_merged(tuple(str(d.resolve()) for d in dirs))
    cat = Catalog(list(items), origins)
    cat._dirs = list(dirs)
    from curate.catalog.lineage import resolve_lineage

    resolve_lineage(cat)  # licences inherit along derived_from: each record knows its sources
    from curate.catalog.collections import load_collections

    load_collections(dirs, cat)  # collections must name known datasets: fail here, naming the file
    return cat
