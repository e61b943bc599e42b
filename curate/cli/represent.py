"""``curate represent``: a dataset's patients against a reference population (thin wrapper)."""

from __future__ import annotations

import typer

from curate.output import Counts, Measure, Shown, note, say


def represent(
    meta: str = typer.Argument(..., metavar="META",
                               help="Per-image or per-patient metadata (CSV/TSV/parquet)."),
    out: str = typer.Option(..., "--out", "-o", metavar="DIR",
                            help="Folder to write (replaced if curate wrote it)."),
    country: str = typer.Option(None, "--country",
                                help="ISO3 code(s) or name(s); several (BRA,PRT): their population-weighted "
                                     "mixture. Default: the metadata's nationality/country column."),
    year: int = typer.Option(None, "--year", help="Reference year, 1950-2100 (default 2020; years between "
                                                  "the WPP decades are interpolated)."),
    by: str = typer.Option(None, "--by", help="Attributes to compare (default age,sex; with --reference: "
                                              "its stratum columns)."),
    reference: str = typer.Option(None, "--reference", metavar="CSV",
                                  help="Your reference: stratum columns + population, or MIDRC REACT's "
                                       "one-row census format (with --by ATTRIBUTE)."),
    column: list[str] = typer.Option(None, "--column", metavar="ROLE=COL",
                                     help="Name a column: age=, sex=, patient=, nationality= (repeatable)."),
    sex_codes: str = typer.Option(None, "--sex-codes", metavar="CODE=F|M|O,...",
                                  help="Meaning of coded sex values, e.g. 1=M,2=F (ISO/IEC 5218)."),
    factor: float = typer.Option(2.0, "--factor", help="Flag strata under 1/FACTOR or over FACTOR times "
                                                       "their population share (interval beyond it)."),
    reps: int = typer.Option(2000, "--reps", help="Bootstrap and sampling-alone draws."),
    seed: int = typer.Option(0, "--seed", help="Random seed: same seed, same intervals."),
    chart: bool = typer.Option(True, "--chart/--no-chart", help="Write the population pyramid (PNG)."),
) -> None:
    """Representativeness: Jensen-Shannon distance of age x sex (or your strata) to WPP 2024 or your table.

    Reports the distance with a bootstrap interval over patients, the distance a perfectly representative
    sample of the same size would show, and per-stratum representation ratios; small strata are merged or
    withheld first, and every number is computed on what is published.
    """
    from curate.cards.representativeness import write_represent
    from curate.pipeline.represent import representativeness

    res = representativeness(meta, country=country, year=year, by=by, reference=reference, columns=column,
                             sex_codes=sex_codes, factor=factor, reps=reps, seed=seed, out=out)
    if chart:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            chart = False
            note("no chart (matplotlib missing: {hint})", hint='pip install "curate[geo]"')
    paths = write_represent(res, out, chart=chart)
    _print(res)
    say("wrote {names} to {out}", names=", ".join(p.name for p in paths), out=str(out))


def _print(res) -> None:
    """The console summary: protected counts (``Shown``) and measures (distances, p, ratios) only."""
    from curate.cards.representativeness import distance_rows, ratio_text, strata_rows

    o, cells = res.overall, res.cells
    if res.synthetic:
        say("SYNTHETIC DATA: not a real dataset")
    say("reference: {name}", name=res.reference.name)
    if cells.excluded:
        say("patients compared: {n} of {total} (left out: {left})", n=Shown(o.n), total=Shown(cells.total),
            left=Counts(cells.excluded, protected=True, item="{label} {count}", sep="; "))
    else:
        say("patients compared: {n} of {total}", n=Shown(o.n), total=Shown(cells.total))
    for r in distance_rows(res):
        p = r["p_value"]
        say("  {name} JS distance {d} (CI {lo}-{hi}); sampling alone {e}, p {p}",
            name=f"{r['attribute']:<16}",
            d=Measure(r["distance"], ".3f"), lo=Measure(r["ci_low"], ".3f"), hi=Measure(r["ci_high"], ".3f"),
            e=Measure(r["expected_from_sampling"], ".3f"),
            p="< 0.001" if p < 0.001 else "= " + format(p, ".3f"))
    flagged = [f"{' × '.join(r[c] for c in res.by)} ({r['flag']}, ratio {ratio_text(r['ratio'])})"
               for r in strata_rows(res) if r["flag"] not in ("", "withheld")]
    say("flagged strata: {f}", f="; ".join(flagged) if flagged else "none")
    if cells.withheld:
        say("withheld strata (small cells): {n}", n=Measure(len(cells.withheld)))
    for c, v in res.countries.items():
        if isinstance(v, str):
            say("  {c}: {why}", c=c, why=v)
        else:
            say("  {c}: {n} patients, JS distance {d} (CI {lo}-{hi}); sampling alone {e}", c=c, n=Shown(v.n),
                d=Measure(v.distance, ".3f"), lo=Measure(v.interval[0], ".3f"),
                hi=Measure(v.interval[1], ".3f"), e=Measure(v.expected, ".3f"))


def register(app: typer.Typer) -> None:
    app.command("represent")(represent)
