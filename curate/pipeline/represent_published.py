"""The representativeness of counts another output already publishes (the card's composition tables).

Used by ``build-card --meta``: the comparison adds no count to the card, because it is computed from the
card's own published age-band and sex tables (hidden cells withheld), each attribute on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from curate.errors import InputError
from curate.pipeline.represent import DEFAULT_YEAR, RepresentResult, _check_params, _compare_cells
from curate.policy.disclosure import MIN_CELL

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from curate.engine.represent.reference import Reference
    from curate.engine.represent.stats import Comparison



def representativeness_of_published(
    tables: dict[str, dict[str, object]],
    *,
    country: str | list[str],
    year: int | None = None,
    total: object = None,
    source: str = "metadata",
    factor: float = 2.0,
    reps: int = 1000,
    confidence: float = 0.95,
    seed: int | None = 0,
) -> RepresentResult:
    """The comparison computed only from counts another output has already published (a card's age-band
    and sex tables: ``{"age": {"30-39": 25, "0-9": "<11", ...}, "sex": {"Female": 113, ...}}``).

    Hidden cells (``<11``, ``*``) are withheld, so the result adds nothing to what is already public: no
    joint age × sex table (the card publishes only the margins), each attribute compared on its own.
    """
    import pandas as pd

    from curate.engine.represent.reference import wpp_reference
    from curate.pipeline.represent_cells import Cells

    _check_params(factor=factor, reps=reps, confidence=confidence, year=year)
    ref = wpp_reference([country] if isinstance(country, str) else list(country), year or DEFAULT_YEAR)
    kw = dict(reps=reps, confidence=confidence, factor=factor, seed=seed)
    comps: dict[str, Comparison] = {}
    cells_by: dict[str, Cells] = {}
    for attr in ("age", "sex"):
        if attr not in tables:
            continue
        shown = dict(tables[attr])
        if attr == "age":  # a band the table does not list holds no patient (its population still counts)
            from curate.policy.disclosure import age_bands

            bands = list(age_bands(pd.Series([0.0])).cat.categories)
            if set(shown) <= set(bands):
                shown = {b: shown.get(b, 0) for b in bands}
        table = _published_marginal(attr, shown, ref)
        shown_int = [isinstance(v, int) for v in table["shown"]]
        pub = table.loc[shown_int].reset_index(drop=True) if len(table) else table
        cells = Cells(by=[attr], table=table, published=pub,
                      withheld=[str(r[attr]) for r in table.to_dict("records")
                                if not isinstance(r["shown"], int)],
                      excluded={}, total=total, age_labels=list(table["age"]) if attr == "age" else [])
        if int(pub["patients"].sum()) < MIN_CELL:
            continue
        cells_by[attr] = cells
        comps[attr] = _compare_cells(cells, **kw)[0]
    if not comps:
        raise InputError(f"the published tables hold fewer than {MIN_CELL} patients of known age or sex")
    first = next(iter(comps))
    notes = list(ref.notes) + ["computed from the counts the card's composition tables publish (each "
                               "attribute on its own; hidden cells withheld)"]
    return RepresentResult(source=source, reference=ref, by=[first], cells=cells_by[first],
                           overall=comps[first], marginals={a: c for a, c in comps.items() if a != first},
                           notes=notes)


def _published_marginal(attr: str, shown: dict[str, object], ref: Reference) -> pd.DataFrame:
    """One published margin (label → count or marker) beside the reference summed to the same strata."""
    import numpy as np
    import pandas as pd

    from curate.ages import parse_age_interval
    from curate.engine.represent.strata import normalise_sex

    rows = []
    t = ref.table
    for label, value in shown.items():
        count = int(value) if isinstance(value, int) or str(value).isdigit() else None
        if attr == "age":
            try:
                lo, hi = parse_age_interval(label) or (None, None)
            except ValueError:
                continue
            if lo is None:
                continue
            hi = hi if hi > lo else lo + 1
            if np.isinf(hi) or hi > 100:  # the open band: everything from lo
                pop = t.loc[t["age_lo"] >= lo, "population"].sum()
            else:
                pop = t.loc[(t["age_lo"] >= lo) & (t["age_hi"] <= hi), "population"].sum()
            rows.append({"age": str(label), "patients": count or 0, "population": float(pop),
                         "shown": count if count is not None else str(value)})
        else:
            code = normalise_sex(pd.Series([label]), codes={}).iloc[0] if _is_sex(label) else None
            if code not in ("F", "M"):
                continue
            rows.append({"sex": code, "patients": count or 0,
                         "population": float(t.loc[t["sex"] == code, "population"].sum()),
                         "shown": count if count is not None else str(value)})
    return pd.DataFrame(rows, columns=[attr, "patients", "population", "shown"])


def _is_sex(label: str) -> bool:
    from curate.engine.represent.strata import FEMALE, MALE

    return str(label).strip().lower() in FEMALE + MALE


def card_representativeness(ds: Any, composition: Any) -> RepresentResult | None:
    """``build-card --meta``: the patients counted in the card's own age-band and sex tables against WPP 2024
    for the record's countries (their population-weighted mixture), in the last year of collection (2020
    when the record gives none). Only counts the card already publishes are used, so the section reveals no
    hidden cell. None when it cannot be computed (no patient counts, too few, a country WPP lacks)."""
    from curate.errors import CurateError


    countries = list(getattr(ds.countries, "value", None) or [])
    if not countries or composition is None or composition.counted_by != "patients":
        return None
    tables: dict[str, dict[str, object]] = {}
    for t in composition.tables:  # the published patient counts, as numbers (markers where hidden)
        attr = "age" if t.title.startswith("Age bands") else "sex" if t.title.startswith("Sex (") else None
        if attr and t.counts is not None and "patients" in t.counts:
            tables[attr] = dict(t.counts["patients"])
    if not tables:
        return None
    yr = getattr(getattr(ds, "years_collected", None), "value", None)
    year = (getattr(yr, "end", None) or getattr(yr, "start", None)) if yr is not None else None
    year = min(max(int(year), 1950), 2100) if isinstance(year, int) else DEFAULT_YEAR
    try:
        return representativeness_of_published(tables, country=countries, year=year,
                                               total=composition.n_patients, source=composition.source)
    except CurateError:
        return None
