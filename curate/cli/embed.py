"""``curate embed``: image folder or metadata table -> embeddings parquet (id, embedding)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    app.command("embed")(embed_cmd)
    app.command("backbones")(backbones_cmd)


def embed_cmd(
    source: str = typer.Argument(..., metavar="IMAGES_DIR_OR_METADATA",
                                 help="A folder of images (searched recursively) or a .csv/.parquet table."),
    backbone: str = typer.Option(..., "--backbone", "-b",
                                 help="hf, pixels, torchvision:<arch> or a plugin (`curate backbones`)."),
    out: str = typer.Option(..., "--out", "-o", help="Output .parquet: columns id, embedding."),
    weights: str = typer.Option(None, "--weights", "-w", metavar="PATH",
                                help="Local model folder (hf) or state-dict file; never downloaded."),
    image_col: str = typer.Option("image", "--image-col", help="Column of image paths in a metadata table."),
    id_col: str = typer.Option(None, "--id-col", help="Id column of a metadata table (default: id, else "
                                                      "the image path)."),
    id_from: str = typer.Option("path", "--id-from", help="Folder input: id = relative path, or 'stem' "
                                                          "(path without extension)."),
    batch_size: int = typer.Option(32, "--batch-size", min=1),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda (or cuda:N); gpu is an alias of "
                                                        "cuda, as in `curate dedup`/`cluster`."),
    precision: str = typer.Option("fp32", "--precision", help="fp32, fp16 (CUDA) or bf16 (autocast)."),
    pool: str = typer.Option(None, "--pool", help="hf models: auto, cls, pooler or mean."),
    num_workers: int = typer.Option(0, "--num-workers", min=0, help="DataLoader worker processes."),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="Skip unreadable images (count reported) "
                                                            "instead of stopping."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Embed images with a backbone (batched, deterministic preprocessing) and write a parquet file."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from curate.errors import need

    need("embed", "torch", "PIL")
    from curate.pipeline.embed import check_embed_paths, embed_to_file

    check_embed_paths(source, out, weights=weights, batch_size=batch_size, num_workers=num_workers)
    bar = Progress(TextColumn("embedding"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   console=Console(stderr=True), transient=True, disable=quiet)
    task = bar.add_task("embed", total=None)

    def progress(done: int, total: int) -> None:  # the bar starts with the first batch, after all checks
        if not bar.live.is_started:
            bar.start()
        bar.update(task, completed=done, total=total)

    try:
        res = embed_to_file(source, out, backbone=backbone, weights=weights, image_col=image_col,
                            id_col=id_col, batch_size=batch_size, device=device, precision=precision,
                            num_workers=num_workers, skip_bad=skip_bad, id_from=id_from, pool=pool,
                            progress=progress)
    finally:
        if bar.live.is_started:  # stopping a bar that never started prints a stray blank line
            bar.stop()
    from curate.output import Measure, say

    e = res.embeddings  # images of the user's own folder, on the user's console: they count files (Measure)
    say("embedded {n} images with {backbone} on {device} ({precision}): dimension {d} -> {out}",
        n=Measure(e.n, ","), backbone=res.backbone, device=res.device, precision=res.precision,
        d=Measure(e.d), out=out)
    if res.skipped:
        say("[yellow]skipped {n} unreadable image(s)[/yellow] (first: {first})", n=Measure(len(res.skipped)),
            first=res.skipped[0])


def backbones_cmd() -> None:
    """List the backbones `curate embed --backbone` accepts (built-ins and `curate.backbones` plugins)."""
    from curate.engine.backbones import available_backbones
    from curate.output import say_table

    rows = [[name, where] for name, where in available_backbones().items()]
    say_table("backbones", ["name", "source"], rows, column_kw={"name": {"style": "bold"}})
