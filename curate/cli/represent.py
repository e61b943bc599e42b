"""``curate represent``: a dataset's patients against a reference population (thin wrapper)."""

from __future__ import annotations

import typer

from curate.cli._common import console


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
    from curate.cards.representativeness import console_lines, write_represent
    from curate.pipeline.represent import representativeness

    res = representativeness(meta, country=country, year=year, by=by, reference=reference, columns=column,
                             sex_codes=sex_codes, factor=factor, reps=reps, seed=seed, out=out)
    if chart:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            chart = False
            console.print('note: no chart (matplotlib missing: pip install "curate[geo]")', markup=False)
    paths = write_represent(res, out, chart=chart)
    for line in console_lines(res):
        console.print(line, markup=False, soft_wrap=True)
    console.print(f"wrote {', '.join(p.name for p in paths)} to {out}", markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("represent")(represent)
