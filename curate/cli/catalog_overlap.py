"""``curate catalog add-overlap``: record measured lineage (``overlaps``) in a record of your own catalog
folder, from one measurement or from a ``curate overlap`` summary
(:func:`curate.pipeline.catalog.add_overlap`).
"""

from __future__ import annotations

import typer

from curate.cli._common import catalog_app


@catalog_app.command("add-overlap")
def add_overlap(
    record: str = typer.Argument(..., metavar="ID", help="The record whose images were measured."),
    catalog_dir: str = typer.Option(None, "--catalog", metavar="DIR",
                                    help="Your own catalog folder: the record is written (or copied) there."),
    dataset: str = typer.Option(None, "--dataset", help="The catalog dataset the images were found in."),
    share: float = typer.Option(None, "--share", help="Share (0-1) of ID's images found in --dataset."),
    tier: str = typer.Option(None, "--tier", help="bytes, pixels, perceptual (copies) or embedding "
                             "(candidates only, never counted as containment)."),
    evidence: str = typer.Option(None, "--evidence", help="The overlap summary: a path, URL or DOI."),
    images: int = typer.Option(None, "--images", help="How many of ID's images were found (optional)."),
    measured_by: str = typer.Option(None, "--measured-by", help="The tool and version that measured it "
                                    "(default: the summary's, else 'entered by hand')."),
    date: str = typer.Option(None, "--date", help="When it was measured, YYYY-MM-DD (default: the "
                             "summary's, else today)."),
    summary: str = typer.Option(None, "--summary", metavar="FILE",
                                help="curate overlap's summary.json: every dataset ID's images were "
                                "found in."),
    builtin: bool = typer.Option(False, "--builtin", help="Allow editing the built-in catalog folder."),
) -> None:
    """Record a measured overlap: the share of a record's images found in another catalog dataset."""
    from curate.output import say
    from curate.pipeline.catalog import add_overlap as run

    done = run(record, catalog_dir=catalog_dir, dataset=dataset, share=share, tier=tier, evidence=evidence,
               method=measured_by, date=date, images=images, summary=summary, builtin=builtin)
    how = f"copied from {done.copied_from} and " if done.created else ""
    say("{path}: {how}overlaps of {id} now:", path=str(done.path), how=how, id=done.record)
    for o in done.overlaps:
        say("  {line}", line=o.describe())
