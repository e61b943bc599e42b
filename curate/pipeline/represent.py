"""``curate represent`` / ``curate.representativeness``: how far a dataset's patients are from a population.

Reads the metadata, keeps one row per patient, parses age and sex, builds the reference (WPP 2024 for one
country or the population-weighted mixture of several, or the user's table), protects the strata table
(:mod:`curate.pipeline.represent_cells`) and compares what is published (:mod:`curate.engine.represent`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curate.errors import InputError, UsageError
from curate.policy.disclosure import MIN_CELL

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from curate.engine.represent.reference import Reference
    from curate.pipeline.represent_cells import Cells

from curate.engine.represent.stats import Comparison  # noqa: E402  (what a result holds; renderers read it)

DEFAULT_YEAR = 2020
DEFAULT_BY = ("age", "sex")


@dataclass
class RepresentResult:
    """Everything ``curate represent`` reports; counts here are already protected (see ``cells``)."""

    source: str
    reference: Reference
    by: list[str]
    cells: Cells
    overall: Comparison
    marginals: dict[str, Comparison]
    countries: dict[str, Comparison | str] = field(default_factory=dict)  # ISO3 → comparison or why not
    notes: list[str] = field(default_factory=list)
    synthetic: bool = False  # the metadata is marked synthetic (curate.synthetic): every output says so

    def summary(self) -> str:
        """One sentence for the Croissant RAI field and the card."""
        o = self.overall
        verdict = ("farther from the reference than sampling alone explains" if o.beyond_sampling
                   else "within what sampling alone explains")
        under = [s for s, f in zip(self.strata_labels, o.flags) if f == "under"]
        over = [s for s, f in zip(self.strata_labels, o.flags) if f == "over"]
        parts = [f"Jensen-Shannon distance {o.distance:.3f} ({o.confidence:.0%} CI {o.interval[0]:.3f}-"
                 f"{o.interval[1]:.3f}) between the patients' {' × '.join(self.by)} and "
                 f"{self.reference.name}; "
                 f"a representative sample of the same size would show {o.expected:.3f}: {verdict}."]
        if under:
            parts.append(f"Under-represented (more than {o.factor:g}x): {', '.join(under)}.")
        if over:
            parts.append(f"Over-represented (more than {o.factor:g}x): {', '.join(over)}.")
        return " ".join(parts)

    @property
    def strata_labels(self) -> list[str]:
        from curate.pipeline.represent_cells import stratum_label

        return [stratum_label(r, self.by) for r in self.cells.published.to_dict("records")]


def _patients(df: pd.DataFrame, roles: dict[str, list[str]], notes: list[str]) -> pd.DataFrame:
    """One row per patient (the first non-missing value of each column), or every row when there is no
    patient column."""
    if "patient" not in roles:
        notes.append("no patient column: each row is counted as one patient")
        return df.reset_index(drop=True)
    pid = roles["patient"][0]
    if df[pid].isna().any():
        raise InputError(f"patient column '{pid}' has {int(df[pid].isna().sum()):,} empty value(s)")
    return df.groupby(pid, sort=False).first().reset_index()


def _resolve_by(by: Any, reference: Reference | None) -> list[str]:
    if by is None:
        attrs = list(DEFAULT_BY) if reference is None else reference.attributes
    else:
        attrs = [b.strip().lower() for b in (by.split(",") if isinstance(by, str) else by) if b.strip()]
    if not attrs or len(set(attrs)) != len(attrs):
        raise UsageError("by: give one or more distinct attributes, e.g. age,sex")
    allowed = set(DEFAULT_BY) if reference is None else set(reference.attributes)
    bad = [a for a in attrs if a not in allowed]
    if bad:
        src = "the WPP reference has" if reference is None else "the reference table has"
        raise UsageError(f"by: {', '.join(bad)} not available ({src} {', '.join(sorted(allowed))})")
    return attrs


def _column(df: pd.DataFrame, roles: dict[str, list[str]], attr: str) -> str:
    if attr in roles:
        return roles[attr][0]
    if attr in df.columns:
        return attr
    raise InputError(f"no {attr} column found in the metadata: name it with --column {attr}=COLUMN "
                     f"(columns: {', '.join(map(str, df.columns[:12]))})")


def _strata(pts: pd.DataFrame, roles: dict, ref: Reference, by: list[str], sex_codes: dict, k: int):
    """Patients' strata (``age`` = band index on the shared grid) → (patients, reference on grid, excluded,
    edges)."""
    import numpy as np
    import pandas as pd

    from curate.ages import age_intervals
    from curate.engine.represent.strata import OTHER, UNKNOWN, age_grid, normalise_sex, reference_on_grid

    out = pd.DataFrame(index=pts.index)
    keep = np.ones(len(pts), dtype=bool)
    excluded: dict[str, int] = {}
    refs = ref.table
    edges = None
    if "sex" in by:
        col = _column(pts, roles, "sex")
        out["sex"] = normalise_sex(pts[col], codes=sex_codes, column=col)
        for code, reason in ((OTHER, "sex other (O)"), (UNKNOWN, "sex unknown")):
            n = int(((out["sex"] == code) & keep).sum())
            if n:
                excluded[reason] = n
            keep &= (out["sex"] != code).to_numpy()
    if "age" in by:
        col = _column(pts, roles, "age")
        iv = age_intervals(pts[col], col)
        lo, hi = iv["lo"].to_numpy(), iv["hi"].to_numpy()
        missing = np.isnan(lo) & keep
        if missing.any():
            excluded["age missing"] = int(missing.sum())
        keep &= ~np.isnan(lo)
        ref_edges = sorted(set(refs["age_lo"]) | set(refs["age_hi"]))
        from curate.engine.represent.strata import assign_bands

        edges = age_grid(ref_edges, lo[keep], hi[keep])
        out["age"] = assign_bands(lo, edges)
        refs = reference_on_grid(refs, edges)
    for attr in by:
        if attr in ("age", "sex"):
            continue
        col = _column(pts, roles, attr)
        vals = pts[col].astype(str).str.strip()
        known = set(refs[attr].astype(str))
        unknown = ~vals.isin(known) & keep
        if unknown.any():
            excluded[f"{attr} not in the reference"] = int(unknown.sum())
        keep &= vals.isin(known).to_numpy()
        out[attr] = vals
        refs = refs.assign(**{attr: refs[attr].astype(str)})
    refs = refs.groupby(by, as_index=False)["population"].sum()
    return out[keep].reset_index(drop=True), refs, excluded, edges


def _marginal(cells: Cells, attr: str, **kw) -> Comparison:
    from curate.engine.represent.stats import compare

    g = cells.published.groupby(attr, observed=True, sort=True)[["patients", "population"]].sum()
    return compare([(v,) for v in g.index], g["patients"].to_numpy(), g["population"].to_numpy(), **kw)


def _compare_cells(cells: Cells, **kw) -> tuple[Comparison, dict[str, Comparison]]:
    from curate.engine.represent.stats import compare

    pub = cells.published
    if pub.empty or int(pub["patients"].sum()) < MIN_CELL:
        raise InputError("after small strata are merged and withheld, fewer than "
                         f"{MIN_CELL} patients remain to compare: nothing can be reported")
    zero_pop = pub[(pub["population"] <= 0) & (pub["patients"] > 0)]
    if not zero_pop.empty:
        raise InputError(f"{len(zero_pop)} stratum(s) hold patients but have no population in the reference")
    overall = compare([tuple(r) for r in pub[cells.by].astype(str).itertuples(index=False)],
                      pub["patients"].to_numpy(), pub["population"].to_numpy(), **kw)
    marg = {a: _marginal(cells, a, **kw) for a in cells.by} if len(cells.by) > 1 else {}
    return overall, marg


def representativeness(
    metadata: str | Path | pd.DataFrame,
    *,
    country: str | list[str] | None = None,
    year: int | None = None,
    by: str | list[str] | None = None,
    reference: str | Path | pd.DataFrame | None = None,
    columns: Any = None,
    sex_codes: str | dict | None = None,
    factor: float = 2.0,
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int | None = 0,
    out: str | Path | None = None,
) -> RepresentResult:
    """Compare a dataset's patients (age × sex, or the strata of ``reference``) with a reference population.

    ``country``: ISO3 codes or names (several: the population-weighted mixture of their WPP 2024
    populations); without it and without ``reference``, the metadata's nationality/country column names
    the countries. ``year``: 1950–2100 (default 2020; between decades interpolated). ``reference``: a CSV
    with stratum columns and ``population``, or MIDRC REACT's one-row census format. ``columns``: role
    specs (``["age=patient_age", "sex=gender", "patient=pid"]``). ``sex_codes``: ``"1=M,2=F"``. ``factor``:
    flag strata whose representation ratio's interval lies beyond ``factor`` or ``1/factor``. ``out``: the
    folder the caller will write; checked before any work (it may not be, or hold, an input).

    >>> import curate  # doctest: +SKIP
    >>> res = curate.representativeness("labels.csv", country="BRA", year=2020)  # doctest: +SKIP
    >>> res.overall.distance, res.overall.expected  # doctest: +SKIP
    """
    from curate.pipeline.represent_cells import build_cells
    from curate.policy.roles import infer_roles, parse_column_specs
    from curate.synthetic import is_synthetic
    from curate.tables import read_table

    if out is not None:
        from curate._paths import check_io

        check_io({"META": metadata, "--reference": reference}, {"--out": out}, folders=["--out"])
    _check_params(factor=factor, reps=reps, confidence=confidence, year=year)
    source = metadata if not isinstance(metadata, (str, Path)) else Path(metadata).name
    df = read_table(metadata, text=True)
    roles = infer_roles(df, parse_column_specs(columns))
    notes: list[str] = []
    pts = _patients(df, roles, notes)
    if len(pts) < MIN_CELL:
        raise InputError(f"the metadata describes fewer than {MIN_CELL} patients: a distance on a handful of "
                         "people is noise, and their counts cannot be published; nothing was written")
    ref, countries = _reference(reference, country, year, pts, roles, by)
    attrs = _resolve_by(by, ref if reference is not None else None)
    from curate.engine.represent.strata import parse_sex_codes

    codes = parse_sex_codes(sex_codes)
    patients, refs, excluded, edges = _strata(pts, roles, ref, attrs, codes, MIN_CELL)
    cells = build_cells(patients, refs, attrs, excluded, edges=edges, k=MIN_CELL)
    kw = dict(reps=reps, confidence=confidence, factor=factor, seed=seed)
    overall, marg = _compare_cells(cells, **kw)
    result = RepresentResult(source=str(source if not hasattr(source, "shape") else "metadata"),
                             reference=ref, by=attrs, cells=cells, overall=overall, marginals=marg,
                             notes=notes + cells.notes + list(ref.notes), synthetic=is_synthetic(df))
    if len(countries) > 1 and reference is None:
        result.countries = _per_country(pts, roles, countries, attrs, codes, year or DEFAULT_YEAR, kw)
    return result


def _check_params(*, factor: float, reps: int, confidence: float, year: int | None) -> None:
    if not (isinstance(factor, (int, float)) and factor > 1):
        raise UsageError("factor must be a number above 1 (e.g. 2: flag strata at under half or over twice "
                         "their share of the population)")
    if not (isinstance(reps, int) and 100 <= reps <= 100_000):
        raise UsageError("reps must be a whole number between 100 and 100000")
    if not (0.5 <= confidence < 1):
        raise UsageError("confidence must be between 0.5 and 1 (e.g. 0.95)")
    if year is not None:
        from curate.engine.represent.reference import check_year

        check_year(year)


def _reference(reference, country, year, pts, roles, by) -> tuple[Reference, list[str]]:
    from curate.engine.represent.reference import reference_from_table, resolve_country, wpp_reference

    if reference is not None:
        if country:
            raise UsageError("give either country or reference, not both")
        from curate.tables import read_table

        name = reference if not hasattr(reference, "shape") else "reference"
        df = read_table(reference, what="reference", text=True)
        attr = by if isinstance(by, str) and "," not in by else None
        return reference_from_table(df, attribute=attr, name=str(Path(str(name)).name)), []
    if country:
        codes = [c.strip() for c in country.split(",")] if isinstance(country, str) else list(country)
        return wpp_reference(codes, year or DEFAULT_YEAR), [resolve_country(c) for c in codes]
    if "nationality" not in roles:
        raise UsageError("give a country (--country BRA), a reference table (--reference), or a "
                         "nationality/country column (--column nationality=COLUMN)")
    col = roles["nationality"][0]
    vals = pts[col].dropna().astype(str).str.strip()
    codes = []
    for v in sorted(set(vals)):
        try:
            codes.append(resolve_country(v))
        except UsageError:
            continue
    if not codes:
        raise InputError(f"column '{col}' names no country of the WPP 2024 reference; give --country")
    return wpp_reference(codes, year or DEFAULT_YEAR), list(dict.fromkeys(codes))


def _per_country(pts, roles, countries, attrs, codes, year, kw) -> dict[str, Any]:
    """Each country against its own population, where publishing it reveals no small count: the countries'
    patient counts (and those of no resolvable country) are protected as one table whose total is
    published, and a country's comparison is shown only when its count is, and its patients left out of
    the comparison (unknown sex, small strata) number 0 or at least MIN_CELL."""
    from curate.engine.represent.reference import resolve_country, wpp_reference
    from curate.output.counts import protect_table
    from curate.pipeline.represent_cells import build_cells

    if "nationality" not in roles:
        return {}
    col = roles["nationality"][0]
    iso = pts[col].map(lambda v: _try_country(v, resolve_country))
    sizes = [int((iso == c).sum()) for c in countries]
    marks, _ = protect_table([*sizes, len(pts) - sum(sizes)], k=MIN_CELL, totals=True)
    out: dict[str, Any] = {}
    for c, size, mark in zip(countries, sizes, marks):
        if mark:
            out[c] = f"withheld ({mark} patients)" if mark != "*" else "withheld (protects a small count)"
            continue
        try:
            patients, refs, excluded, edges = _strata(pts[iso == c].reset_index(drop=True), roles,
                                                       wpp_reference([c], year), attrs, codes, MIN_CELL)
            cells = build_cells(patients, refs, attrs, excluded, edges=edges, k=MIN_CELL)
            comp = _compare_cells(cells, **kw)[0]
        except InputError as exc:
            out[c] = str(exc)
            continue
        left_out = size - comp.n
        out[c] = comp if left_out == 0 or left_out >= MIN_CELL else "withheld (small strata)"
    return out


def _try_country(v, resolve) -> str | None:
    try:
        return resolve(str(v)) if v is not None and str(v).strip() else None
    except UsageError:
        return None

