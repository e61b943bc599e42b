"""``curate demo``: write a synthetic, catalog-shaped dataset to try the whole flow offline."""

from __future__ import annotations

import typer

from curate.cli._common import console


def demo(
    dataset: str = typer.Argument("BRSET", help="Catalog dataset whose shape to mimic."),
    out: str = typer.Option(..., "--out", "-o", help="Folder to create (replaced if written by curate)."),
    n_patients: int = typer.Option(200, "--n-patients", min=1, help="Synthetic patients (2 images each)."),
    seed: int = typer.Option(0, "--seed", help="Random seed: same seed, same files."),
    image_size: int = typer.Option(64, "--image-size", min=16, max=1024, help="Image side in pixels."),
    dim: int = typer.Option(64, "--dim", help="Embedding dimension."),
) -> None:
    """Write a SYNTHETIC dataset shaped like a catalog entry: images, labels.csv, embeddings, truth.json.

    Planted: exact and near duplicates, duplicates and patients crossing splits (leakage), clusters driven
    by the camera and sex, and a diabetic-retinopathy signal — so dedup, cluster, probe and audit have
    something real to find. Every file says it is synthetic.
    """
    from curate.errors import need

    need("engine", "PIL")
    from curate.demo import make_demo

    ds = make_demo(out, dataset, n_patients=n_patients, seed=seed, image_size=image_size, dim=dim)
    t = ds.truth
    console.print(f"[bold]Synthetic {t['shape']}-shaped demo[/bold] written to {ds.root}")
    console.print(f"  images:      {t['n_images']} ({ds.images})")
    console.print(f"  patients:    {t['n_patients']}")
    console.print(f"  labels:      {ds.labels}")
    console.print(f"  embeddings:  {ds.embeddings} ({t['embedding_dim']}-d)")
    console.print(f"  planted:     {len(t['exact_duplicate_pairs'])} exact + {len(t['near_duplicate_pairs'])}"
                  f" near-duplicate pairs, {t['cross_split_duplicate_pairs']} crossing splits, "
                  f"{t['patients_in_several_splits']} patients in several splits")
    console.print("[yellow]All of it is synthetic: not real patients, not for clinical use.[/yellow]")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
