"""Reference populations: UN World Population Prospects 2024 (vendored), their mixtures, users' tables.

The vendored table ``data/wpp2024_population.csv.gz`` holds the WPP 2024 medium-variant population by
country (ISO 3166-1 alpha-3), sex and 5-year age group, every ten years 1950–2100 (``data/SOURCES.md``:
citation, licence CC BY 3.0 IGO, derivation). Years between two decades are interpolated linearly, group by
group (:func:`wpp_population`); that is an approximation — WPP itself publishes single years.

A reference is a :class:`Reference`: a long table with stratum columns (``sex``: ``F``/``M``; ``age_lo`` and
``age_hi``: the band ``[lo, hi)`` in years, ``inf`` for the open top band) and ``population``.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from curate.errors import InputError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

DATA = Path(__file__).with_name("data")
WPP_FILE = DATA / "wpp2024_population.csv.gz"
WPP_YEARS = (1950, 2100)
WPP_CITATION = ("United Nations, Department of Economic and Social Affairs, Population Division (2024). "
                "World Population Prospects 2024, medium variant.")
WPP_LICENCE = "CC BY 3.0 IGO"
WPP_URL = "https://population.un.org/wpp/"
SEXES = ("F", "M")
#: Source line for tables that divide by these populations.
POPULATION_NOTE = ("Inhabitants: UN World Population Prospects 2024, medium variant, {year} (CC BY 3.0 IGO); "
                   "multinational rows have no single population.")


@dataclass
class Reference:
    """A reference population: ``table`` has stratum columns and ``population`` (persons or weights)."""

    table: pd.DataFrame
    name: str
    source: str
    licence: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def attributes(self) -> list[str]:
        cols = [c for c in self.table.columns if c != "population"]
        return ["age" if c in ("age_lo", "age_hi") else c for c in cols if c != "age_hi"]


@lru_cache(maxsize=1)
def load_wpp() -> pd.DataFrame:
    """The vendored WPP table (one row per ISO3 and decade; columns ``F0 .. F100``, ``M0 .. M100``)."""
    import pandas as pd

    return pd.read_csv(WPP_FILE, keep_default_na=False, dtype={"iso3": str, "location": str})


def wpp_countries() -> dict[str, str]:
    """ISO3 → WPP location name, for the 187 countries of the vendored table."""
    df = load_wpp()
    return dict(zip(df["iso3"], df["location"].str.replace("_", " ")))


def resolve_country(value: str) -> str:
    """A country code or name → ISO3 present in the WPP table; else :class:`UsageError` naming the nearest.

    >>> resolve_country("Brazil"), resolve_country("bra")
    ('BRA', 'BRA')
    """
    known = wpp_countries()
    text = str(value).strip()
    if text.upper() in known:
        return text.upper()
    from curate.countries import to_alpha3

    try:
        iso3 = to_alpha3(text)
    except InputError:
        iso3 = None
    if iso3 in known:
        return iso3
    names = {n.upper(): c for c, n in known.items()}
    close = difflib.get_close_matches(text.upper(), list(known) + list(names), n=4, cutoff=0.5)
    codes = list(dict.fromkeys(names.get(c, c) for c in close))
    hint = ", ".join(f"{c} ({known[c]})" for c in codes) if codes else "none close"
    what = f"'{text}'" + (f" ({iso3})" if iso3 and iso3 != text.upper() else "")
    raise UsageError(f"country {what} is not in the WPP 2024 reference (187 countries); nearest: {hint}")


def check_year(year: int) -> int:
    lo, hi = WPP_YEARS
    if not isinstance(year, (int, float)) or isinstance(year, bool) or int(year) != year:
        raise UsageError(f"year must be a whole year between {lo} and {hi}")
    if not lo <= int(year) <= hi:
        raise UsageError(f"year {int(year)} is outside the WPP 2024 reference ({lo}-{hi})")
    return int(year)


def wpp_population(iso3: str, year: int) -> pd.DataFrame:
    """Long table ``sex, age_lo, age_hi, population`` for one country and year (interpolated between decades).

    WPP's oldest group is ``100+`` (``age_hi = inf``).
    """
    import numpy as np
    import pandas as pd

    year = check_year(year)
    df = load_wpp()
    rows = df[df["iso3"] == iso3].set_index("year").sort_index()
    if rows.empty:
        raise UsageError(f"country '{iso3}' is not in the WPP 2024 reference")
    lo_year = (year // 10) * 10
    hi_year = min(lo_year + 10, WPP_YEARS[1])
    t = (year - lo_year) / 10
    value_cols = [c for c in df.columns if c[0] in SEXES and c[1:].isdigit()]
    lo_vec, hi_vec = (rows.loc[y, value_cols].astype(float) for y in (lo_year, hi_year))
    vec = (1 - t) * lo_vec + t * hi_vec
    ages = sorted({int(c[1:]) for c in value_cols})
    out = []
    for sex in SEXES:
        for i, a in enumerate(ages):
            top = ages[i + 1] if i + 1 < len(ages) else np.inf
            out.append((sex, float(a), float(top), float(vec[f"{sex}{a}"])))
    return pd.DataFrame(out, columns=["sex", "age_lo", "age_hi", "population"])


def wpp_reference(countries: list[str], year: int) -> Reference:
    """The WPP reference for one country, or the population-weighted mixture of several.

    The mixture adds the countries' populations stratum by stratum, so each country weighs in proportion
    to its population (the distribution of a person drawn at random from all of them).
    """
    codes = list(dict.fromkeys(resolve_country(c) for c in countries))
    if not codes:
        raise UsageError("give at least one country")
    year = check_year(year)
    tables = [wpp_population(c, year) for c in codes]
    table = tables[0].copy()
    for t in tables[1:]:
        table["population"] += t["population"].to_numpy()
    names = wpp_countries()
    label = ", ".join(f"{names[c]} ({c})" for c in codes)
    notes = []
    if year % 10:
        notes.append(f"{year}: interpolated linearly between the WPP decades {year // 10 * 10} and "
                     f"{year // 10 * 10 + 10}")
    if len(codes) > 1:
        notes.append("population-weighted mixture of the countries' populations")
    return Reference(table, name=f"{label}, {year}", source=f"{WPP_CITATION} {WPP_URL}",
                     licence=WPP_LICENCE, notes=notes)


def country_populations(year: int) -> dict[str, float]:
    """ISO3 → total population in ``year`` (both sexes, all ages; interpolated between decades)."""
    year = check_year(year)
    df = load_wpp()
    cols = [c for c in df.columns if c[0] in SEXES and c[1:].isdigit()]
    tot = df.assign(total=df[cols].sum(axis=1)).pivot(index="iso3", columns="year", values="total")
    lo = (year // 10) * 10
    hi = min(lo + 10, WPP_YEARS[1])
    t = (year - lo) / 10
    return {k: float(v) for k, v in ((1 - t) * tot[lo] + t * tot[hi]).items()}


def per_million(counts: dict[str, float | None], year: int) -> dict[str, float | None]:
    """``counts[iso3]`` per million inhabitants (WPP 2024) in ``year``; None where either is unknown."""
    pops = country_populations(year)
    return {c: (v / pops[c] * 1e6 if v is not None and pops.get(c) else None) for c, v in counts.items()}


# ------------------------------------------------------------------------------------------- users' tables
def _is_react_census(df: pd.DataFrame) -> bool:
    """MIDRC REACT's census sheets: one data row, a label in the first column, one column per category."""
    if len(df) != 1 or df.shape[1] < 3:
        return False
    import pandas as pd

    values = pd.to_numeric(df.iloc[0, 1:], errors="coerce")
    return bool(values.notna().all()) and "population" not in [str(c).lower() for c in df.columns]


def reference_from_table(df: pd.DataFrame, *, attribute: str | None = None, name: str = "your reference"
                         ) -> Reference:
    """A user's reference: long format (stratum columns + ``population``) or REACT's census format.

    Long format: one row per stratum; columns named after attributes (``age`` as bands ``40-44``/``90+``,
    ``sex`` as ``F``/``M`` or words, or any other column the metadata has) and ``population`` (persons,
    counts or shares; only proportions matter). REACT format (one row, e.g. ``Group, Female, Male, Not
    reported`` / ``Percent of US population, 50.75, 49.25, 0``): the categories of one ``attribute``.
    """
    import pandas as pd

    df = df.copy()
    df.columns = [str(c).strip() for c in df.columns]
    if _is_react_census(df):
        if not attribute:
            raise UsageError("a REACT census table holds one attribute: name it with --by (e.g. --by sex)")
        cats = [c for c in df.columns[1:] if not _not_reported(c)]
        df = pd.DataFrame({attribute: cats, "population": [float(df.iloc[0][c]) for c in cats]})
    lower = {c.lower(): c for c in df.columns}
    if "population" not in lower:
        raise InputError(f"reference table {name} needs a 'population' column (or REACT's one-row census "
                         f"format); columns: {', '.join(df.columns)}")
    df = df.rename(columns={lower["population"]: "population"})
    pop = pd.to_numeric(df["population"], errors="coerce")
    if pop.isna().any() or (pop < 0).any() or pop.sum() <= 0:
        raise InputError(f"reference table {name}: 'population' must hold non-negative numbers, not all zero")
    df["population"] = pop.astype(float)
    strata = [c for c in df.columns if c != "population"]
    if not strata:
        raise InputError(f"reference table {name} has no stratum column besides 'population'")
    if "age" in [c.lower() for c in strata]:
        df = _split_age(df, next(c for c in strata if c.lower() == "age"))
    if "sex" in [c.lower() for c in df.columns]:
        from curate.engine.represent.strata import normalise_sex

        col = next(c for c in df.columns if c.lower() == "sex")
        df[col] = normalise_sex(df[col], column=f"{col} (reference)")
        df = df.rename(columns={col: "sex"})
    keys = [c for c in df.columns if c != "population"]
    if df.duplicated(keys).any():
        raise InputError(f"reference table {name} lists a stratum twice")
    return Reference(df.reset_index(drop=True), name=name, source=f"user table {name}")


def _not_reported(label: str) -> bool:
    import re

    return bool(re.search(r"not\s*reported|unknown", label, flags=re.I))


def _split_age(df: pd.DataFrame, col: str) -> pd.DataFrame:
    """``age`` bands (``40-44``, ``90+``) → ``age_lo``/``age_hi``; bands must not overlap."""
    from curate.ages import age_intervals

    iv = age_intervals(df[col], f"{col} (reference)")
    if iv["lo"].isna().any():
        raise InputError(f"reference age column '{col}' has empty bands")
    df = df.drop(columns=[col]).assign(age_lo=iv["lo"].to_numpy(), age_hi=iv["hi"].to_numpy())
    point = df["age_lo"] == df["age_hi"]
    df.loc[point, "age_hi"] = df.loc[point, "age_lo"] + 1  # "42" in a reference: the single year 42
    others = [c for c in df.columns if c not in ("age_lo", "age_hi", "population")]
    for _, g in (df.groupby(others) if others else [(None, df)]):
        bands = sorted(set(zip(g["age_lo"], g["age_hi"])))
        for (a_lo, a_hi), (b_lo, _) in zip(bands, bands[1:]):
            if b_lo < a_hi:
                raise InputError(f"reference age bands overlap ({_band(a_lo, a_hi)} and {_band(b_lo, None)})")
    return df[[*others, "age_lo", "age_hi", "population"]]


def _band(lo: float, hi: float | None) -> str:
    if hi is None:
        return f"from {lo:g}"
    return f"{lo:g}+" if math.isinf(hi) else f"{lo:g}-{hi - 1:g}"
