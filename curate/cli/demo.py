"""``curate demo``: write a synthetic, catalog-shaped dataset to try the whole flow offline."""

from __future__ import annotations

import typer


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
    from curate.output import Measure, say

    t = ds.truth  # synthetic patients and images: they count no one (Measure)
    say("[bold]Synthetic {shape}-shaped demo[/bold] written to {root}", shape=t["shape"], root=ds.root)
    say("  images:      {n} ({path})", n=Measure(t["n_images"]), path=ds.images)
    say("  patients:    {n}", n=Measure(t["n_patients"]))
    say("  labels:      {path}", path=ds.labels)
    say("  embeddings:  {path} ({d}-d)", path=ds.embeddings, d=Measure(t["embedding_dim"]))
    say("  planted:     {exact} exact + {near} near-duplicate pairs, {cross} crossing splits, {multi} "
        "patients in several splits", exact=Measure(len(t["exact_duplicate_pairs"])),
        near=Measure(len(t["near_duplicate_pairs"])), cross=Measure(t["cross_split_duplicate_pairs"]),
        multi=Measure(t["patients_in_several_splits"]))
    o = t["other"]
    say("  other/:      {n} images of {p} patients, {c} of them copies of {s} patients' images here "
        "(for curate overlap)", n=Measure(o["n_images"]), p=Measure(o["n_patients"]),
        c=Measure(len(o["copies"])), s=Measure(o["shared_patients"]))
    say("[yellow]All of it is synthetic: not real patients, not for clinical use.[/yellow]")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
