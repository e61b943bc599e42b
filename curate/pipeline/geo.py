"""Per-country and per-group totals of datasets, images and patients, from the catalog or the user's file.

Why its own module: the map, the CSV and the policy report must show the same numbers, so all of them
read one table built here. Two rules keep the totals honest:

* Multinational datasets (flag ``multinational`` or more than one country) are never dropped. By default
  they form one ``Multinational`` row; with ``split=True`` their images and patients are divided equally
  among their listed member countries (a dataset then counts once in each member country). Those without
  listed members stay in the ``Multinational`` row either way.
* "No data" differs from zero: a country absent from the table has no dataset; a country whose datasets do
  not report a metric gets ``NaN`` for it (never a silent 0).

Groupings (all keyed by ISO 3166-1 alpha-3):

* continent: country_converter's ``Continent_7`` (North America and South America separate);
* UN region: country_converter's ``UNregion`` (UN M49 sub-regions);
* World Bank income group: FY2026 classification, vendored in ``data/wb_income_fy2026.csv`` (see the README
  there; country_converter carries no income classification);
* Global North / South: UNCTAD's development-status grouping (UNCTADstat "Classifications"): developed
  economies are Northern America and Europe (UN M49), Israel, Japan, the Republic of Korea, Australia and New
  Zealand; every other economy is "developing", reported here as Global South.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from curate.catalog.stats import MULTINATIONAL
from curate.errors import CurateError, InputError, UsageError
from curate.groupings import (  # noqa: F401  (re-exported: one set of groupings)
    GROUPING_LABELS,
    GROUPING_SOURCES,
    GROUPINGS,
    INCOME_ORDER,
    NORTH,
    NOT_CLASSIFIED,
    SOUTH,
    continent,
    group_of,
    income_group,
    north_south,
    un_region,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from curate.catalog.store import Catalog

METRICS: tuple[str, ...] = ("images", "datasets", "patients")
COUNTRY_COLUMNS = ("country", "alpha3", "iso3", "country_code", "code")
NAME_COLUMNS = ("dataset", "name", "id")


# ------------------------------------------------------------------------------------------- entries
@dataclass
class Entry:
    """One dataset (or one row of the user's file) reduced to what the totals need."""

    key: str
    countries: tuple[str, ...]
    multinational: bool = False
    images: float | None = None
    patients: float | None = None
    weight: int = 1  # how many datasets the row stands for (a ``datasets`` column in the user's file)
    extra: dict = field(default_factory=dict)

    @property
    def is_multi(self) -> bool:
        return self.multinational or len(self.countries) != 1


def entries_from_catalog(catalog: Catalog) -> list[Entry]:
    """One entry per dataset; a derived set whose sources are all in ``catalog`` adds no images."""
    from curate.catalog.lineage import counted_patients, image_counts

    ids = {ds.id for ds in catalog}
    counts = image_counts(catalog)
    return [Entry(key=ds.id, countries=tuple(ds.countries.value), multinational=ds.multinational,
                  images=counts[ds.id].images, patients=counted_patients(ds, ids)) for ds in catalog]


def select_catalog(catalog: Catalog | None = None, *, modality: str | None = None, access: str | None = None,
                   collection: str | None = None) -> Catalog:
    """Filter the catalog; an empty result is an error that names the filters."""
    from curate.catalog import ACCESS_CLASSES, load

    mods = parse_modalities(modality)
    if access and access.lower() not in ACCESS_CLASSES:
        raise UsageError(f"unknown access class '{access}' (choose from {', '.join(ACCESS_CLASSES)})")
    cat = catalog if catalog is not None else load()
    sub = cat.filter(modality=mods, access=access, collection=collection)
    if len(sub) == 0:
        raise CurateError(f"no datasets match {describe_filters(modality, access, collection)}")
    return sub


def parse_modalities(modality: str | None) -> list[str] | None:
    """``"fundus,OCT"`` → ``["fundus", "oct"]`` (any of them matches); unknown names are a usage error."""
    from curate.catalog import MODALITIES

    if not modality:
        return None
    mods = [m.strip().lower() for m in modality.split(",") if m.strip()]
    bad = [m for m in mods if m not in MODALITIES]
    if bad or not mods:
        raise UsageError(f"unknown modality '{', '.join(bad) or modality}' "
                         f"(choose from {', '.join(MODALITIES)}; several: fundus,oct)")
    return mods


def describe_filters(modality: str | None = None, access: str | None = None,
                     collection: str | None = None) -> str:
    bits = [f"--{k} {v}" for k, v in (("modality", modality), ("access", access), ("collection", collection))
            if v]
    return " ".join(bits) if bits else "(no filter)"


def _find_column(columns: list[str], wanted: tuple[str, ...]) -> str | None:
    lower = {c.strip().lower(): c for c in columns}
    for w in wanted:
        if w in lower:
            return lower[w]
    return None


#: the largest images/patients count a row may give (a trillion; totals stay exact in int64 and float64)
MAX_COUNT = 10**12


def _number(value: object, column: str, row: int, path: Path) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip().replace(",", "").replace("_", "")
    if text in ("", "<11", "*", "—", "-", "NA", "nan", "None"):
        return None  # "<11" / "*" are suppressed cells (small / complementary) written by curate itself
    try:
        num = float(text)
    except ValueError:
        raise InputError(f"{path}: row {row}: '{column}' is not a number: '{value}'") from None
    if not math.isfinite(num) or num > MAX_COUNT:  # 1e400 reads as infinity; 1e300 overflows the totals
        raise InputError(f"{path}: row {row}: '{column}' is not a count of images or patients "
                         f"(at most {MAX_COUNT:.0e}): '{str(value)[:40]}'")
    if num < 0:
        raise InputError(f"{path}: row {row}: '{column}' is negative: {value}")
    return num


def _dedupe_hint(message: str) -> str:
    """``'Brasil' (did you mean Brazil, Brazil, Bahrain?)`` → ``... (did you mean Brazil, Bahrain?)``."""
    import re

    m = re.search(r"\(did you mean (.*)\?\)$", message)
    if not m:
        return message
    names = ", ".join(dict.fromkeys(n.strip() for n in m.group(1).split(", ")))
    return f"{message[:m.start()]}(did you mean {names}?)"


def entries_from_file(path: str | os.PathLike, *, modality: str | None = None,
                      access: str | None = None) -> list[Entry]:
    """Entries from the user's own list. Columns: ``country`` (required; name, alpha-2, alpha-3 or numeric;
    ``Multinational`` or several codes joined by ``;`` for multinational rows), optional ``images``,
    ``patients``, ``dataset``/``name``, ``datasets`` (a count), ``modality``, ``access``."""
    from curate.countries import to_alpha3
    from curate.tables import read_table

    path = Path(path)
    frame = read_table(path, what="input", text=True, empty_as_na=False)  # text: ISO codes stay as written
    cols = list(frame.columns)
    ccol = _find_column(cols, COUNTRY_COLUMNS)
    if ccol is None:
        raise InputError(f"'{path}' has no country column (expected one of: {', '.join(COUNTRY_COLUMNS)}; "
                         f"found: {', '.join(map(str, cols))})")
    icol, pcol = _find_column(cols, ("images",)), _find_column(cols, ("patients",))
    ncol, wcol = _find_column(cols, NAME_COLUMNS), _find_column(cols, ("datasets",))
    filters = {}
    for opt, val in (("modality", modality), ("access", access)):
        if val:
            col = _find_column(cols, (opt,))
            if col is None:
                raise UsageError(f"--{opt} needs a '{opt}' column in '{path}' (it has: {', '.join(cols)})")
            filters[col] = {v.strip().lower() for v in val.split(",")} if opt == "modality" else {val.lower()}

    unknown: dict[str, str] = {}
    entries: list[Entry] = []
    for i, rec in enumerate(frame.to_dict(orient="records"), start=2):  # row 1 is the header
        if any(str(rec[c]).strip().lower() not in v for c, v in filters.items()):
            continue
        raw = str(rec[ccol]).strip()
        if raw.endswith(".0") and raw[:-2].isdigit():
            raw = raw[:-2]
        parts = [p.strip() for p in raw.replace("|", ";").split(";") if p.strip()]
        multinational = False
        codes: list[str] = []
        for p in parts:
            if p.lower() in ("multinational", "multiple"):
                multinational = True
                continue
            try:
                codes.append(to_alpha3(p))
            except InputError as exc:
                unknown.setdefault(p, _dedupe_hint(str(exc).removeprefix("unknown country ")))
        if not parts:
            raise InputError(f"{path}: row {i}: empty country")
        weight = 1
        if wcol is not None:
            w = _number(rec[wcol], wcol, i, path)
            weight = int(w) if w is not None else 1
        entries.append(Entry(
            key=str(rec[ncol]).strip() if ncol and str(rec[ncol]).strip() else f"row {i}",
            countries=tuple(dict.fromkeys(codes)), multinational=multinational or len(set(codes)) > 1,
            images=_number(rec[icol], icol, i, path) if icol else None,
            patients=_number(rec[pcol], pcol, i, path) if pcol else None,
            weight=weight, extra={k: rec[k] for k in cols if k not in (ccol, icol, pcol, ncol, wcol)}))
    if unknown:
        listed = "; ".join(unknown.values())
        raise InputError(f"unknown country name{'s' if len(unknown) > 1 else ''} in '{path}': {listed}")
    if not entries:
        raise CurateError(f"no rows of '{path}' match {describe_filters(modality, access)}")
    return entries


# ------------------------------------------------------------------------------------------- totals
def _allocate(entries: list[Entry], by: str, split: bool) -> list[tuple[str, str, int, float | None,
                                                                         float | None]]:
    """(group, dataset key, dataset weight, images share, patients share) rows, one per entry and group."""
    rows = []
    for e in entries:
        if e.is_multi and not (split and e.countries):
            rows.append((MULTINATIONAL, e.key, e.weight, e.images, e.patients))
            continue
        n = len(e.countries)
        per: dict[str, int] = {}
        for c in e.countries:
            g = group_of(c, by)
            per[g] = per.get(g, 0) + 1
        for g, k in per.items():
            frac = k / n
            rows.append((g, e.key, e.weight, None if e.images is None else e.images * frac,
                         None if e.patients is None else e.patients * frac))
    return rows


def group_table(entries: list[Entry], by: str = "country", *, split: bool = False,
                metric: str = "images") -> pd.DataFrame:
    """Totals per group: ``group, datasets, images, patients, share`` (share of ``metric``'s total).

    ``datasets`` counts each dataset once per group it has data in (so with ``split`` the rows may sum to
    more than the number of datasets); ``images``/``patients`` are NaN where no dataset of the group reports
    them. Rows are sorted by ``metric``, the ``Multinational`` row last.
    """
    import pandas as pd

    if metric not in METRICS:
        raise UsageError(f"--metric must be one of {', '.join(METRICS)} (got '{metric}')")
    if by not in GROUPINGS:
        raise UsageError(f"grouping must be one of {', '.join(GROUPINGS)} (got '{by}')")
    rows = _allocate(entries, by, split)
    df = pd.DataFrame(rows, columns=["group", "key", "weight", "images", "patients"])
    df["images"] = df["images"].astype("float64")
    df["patients"] = df["patients"].astype("float64")
    uniq = df.drop_duplicates(["group", "key"])
    out = pd.DataFrame({
        "datasets": uniq.groupby("group", sort=False)["weight"].sum(),
        "images": df.groupby("group", sort=False)["images"].sum(min_count=1),
        "patients": df.groupby("group", sort=False)["patients"].sum(min_count=1),
    }).reset_index()
    total = out[metric].sum(min_count=1)
    out["share"] = out[metric] / total if total and not math.isnan(total) else float("nan")
    out["_multi"] = out["group"] == MULTINATIONAL
    out = out.sort_values(["_multi", metric, "group"], ascending=[True, False, True],
                          na_position="last", ignore_index=True).drop(columns="_multi")
    for col in ("images", "patients"):
        if not split:  # whole numbers stay whole numbers
            out[col] = out[col].round().astype("Int64")
    out["datasets"] = out["datasets"].astype(int)
    return out


def country_table(entries: list[Entry], *, split: bool = False, metric: str = "images") -> pd.DataFrame:
    """Per-country totals with the groupings: the table behind the map and its ``--csv``.

    Columns: ``alpha3, country, continent, un_region, income_group, north_south, datasets, images, patients,
    share``. The ``Multinational`` row has an empty ``alpha3`` and ``Multinational`` as its country.
    """
    from curate.countries import name

    t = group_table(entries, "country", split=split, metric=metric).rename(columns={"group": "alpha3"})
    multi = t["alpha3"] == MULTINATIONAL
    t.insert(1, "country", [MULTINATIONAL if m else name(a) for a, m in zip(t["alpha3"], multi)])
    for pos, by in enumerate(("continent", "un_region", "income_group", "north_south"), start=2):
        t.insert(pos, by, ["" if m else group_of(a, by) for a, m in zip(t["alpha3"], multi)])
    t.loc[multi, "alpha3"] = ""
    return t


def suppress_column(values) -> list:
    """A column of patient counts whose sum is printed (the report's totals): through the disclosure layer,
    so a lone small cell also hides a complement and cannot be recovered by subtraction. Missing stays
    missing."""
    import pandas as pd

    from curate.output import protect_crosstab

    vals = [None if v is None or (isinstance(v, float) and math.isnan(v)) or str(v) == "<NA>" else v
            for v in values]
    known = [i for i, v in enumerate(vals) if v is not None]
    if not known:
        return vals
    shown = protect_crosstab(pd.Series([int(round(float(vals[i]))) for i in known]))
    out = list(vals)
    for j, i in enumerate(known):
        out[i] = shown.iloc[j] if isinstance(shown.iloc[j], str) else vals[i]
    return out


def table_for_csv(table: pd.DataFrame) -> pd.DataFrame:
    """The CSV form: small patient counts suppressed, shares rounded, header names spelled out."""
    out = table.copy()
    out["patients"] = suppress_column(list(out["patients"]))
    out["share"] = [f"{v:.6f}" if v == v else "" for v in out["share"]]
    for col in ("images", "patients"):  # split volumes are fractional: two decimals are plenty
        out[col] = [round(v, 2) if isinstance(v, float) and v == v else v for v in out[col]]
    return out.rename(columns={"north_south": "global_north_south"})


def concentration(table: pd.DataFrame, metric: str = "images") -> dict[str, float | int]:
    """Top-3 share and Herfindahl–Hirschman index of the per-country distribution of ``metric``.

    Computed over the volume attributed to single countries (the ``Multinational`` row excluded, since its
    location is unknown). HHI = Σ sᵢ² with sᵢ in percent, from 0 to 10,000 (10,000 = one country holds
    everything; above 2,500 is "highly concentrated" in the U.S. DOJ/FTC merger guidelines' convention).
    """
    vals = table.loc[table["country"] != MULTINATIONAL, metric].astype("float64").fillna(0.0)
    total = float(vals.sum())
    if total <= 0:
        return {"countries": 0, "top3_share": float("nan"), "hhi": float("nan"), "attributed": 0.0}
    shares = sorted((v / total for v in vals), reverse=True)
    return {"countries": int((vals > 0).sum()), "top3_share": float(sum(shares[:3])),
            "hhi": float(sum((100 * s) ** 2 for s in shares)), "attributed": total}


# ---------------------------------------------------------------------- what `curate map` counts
def multinational_note(entries: list[Entry], *, split: bool, metric: str = "images") -> str:
    """The sentence that accounts for multinational datasets on the map and in the report (empty when there
    are none)."""
    multi = [e for e in entries if e.is_multi]
    if not multi:
        return ""

    def vol(es: list[Entry]) -> str:
        n = sum(e.weight for e in es)
        images = sum(e.images or 0 for e in es)
        patients = [e.patients for e in es if e.patients is not None]
        bits = [f"{n} dataset{'s' if n != 1 else ''}", f"{images:,.0f} images"]
        if metric == "patients" and patients:
            bits.append(f"{sum(patients):,.0f} patients")
        return ", ".join(bits)

    if not split:
        return f"Not on the map — multinational datasets: {vol(multi)} (no single country of origin; " \
               "see the 'Multinational' row of the CSV)."
    spread = [e for e in multi if e.countries]
    kept = [e for e in multi if not e.countries]
    lines = []
    if spread:
        lines.append("Multinational datasets split equally among their listed member countries: "
                     f"{vol(spread)}.")
    if kept:
        lines.append(f"Not on the map — multinational datasets without listed members: {vol(kept)}.")
    return "\n".join(lines)


def load_entries(*, from_file: str | os.PathLike | None = None, modality: str | None = None,
                 access: str | None = None, collection: str | None = None,
                 catalog: Catalog | None = None) -> tuple[list[Entry], Catalog | None]:
    """Entries from the user's file, or from the (filtered) catalog; the catalog is returned too."""
    if from_file is not None:
        if collection:
            raise UsageError("--collection filters the built-in catalog; it cannot be used with --from")
        return entries_from_file(from_file, modality=modality, access=access), None
    cat = select_catalog(catalog, modality=modality, access=access, collection=collection)
    return entries_from_catalog(cat), cat


def describe_source(from_file, modality, access, collection, n: int) -> str:
    src = f"file {Path(from_file).name}" if from_file else "curate catalog"
    filt = describe_filters(modality, access, collection)
    return f"{src}, {n} dataset{'s' if n != 1 else ''}" + ("" if filt == "(no filter)" else f", {filt}")
