"""``curate probe`` (torch heads on frozen embeddings) and ``curate audit`` (fairness audits + model card)."""

from __future__ import annotations

import typer


def probe(
    emb: str = typer.Argument(..., metavar="EMB", help="Embeddings: .npy or .parquet (id + vector column)."),
    meta: str = typer.Option(..., "--meta", metavar="META", help="Metadata table (.csv/.parquet) with ids."),
    labels: str = typer.Option(..., "--labels", help="Label column(s), comma-separated."),
    model: str = typer.Option("mlp", "--model", help="mlp (bahre2025) or linear (germani2025)."),
    mitigation: str = typer.Option("none", "--mitigation", help="none, reweight or groupdro."),
    group_col: str = typer.Option(None, "--group-col", help="Sensitive attribute for reweight/groupdro."),
    seeds: int = typer.Option(5, "--seeds", min=1, help="Number of training runs (seeds SEED..SEED+N-1)."),
    patient_col: str = typer.Option(None, "--patient-col", help="Patient column: patient-level splits."),
    split_col: str = typer.Option(None, "--split-col", help="train/validation/test column (else 80/10/10)."),
    epochs: int = typer.Option(100, "--epochs", min=1, help="Maximum epochs (early stopping, patience 5)."),
    lr: float = typer.Option(None, "--lr", help="Learning rate (default 1e-4 mlp, 1e-3 linear)."),
    batch_size: int = typer.Option(48, "--batch-size", min=2),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda; gpu is an alias of cuda, as "
                                                        "in `curate dedup`/`cluster`."),
    meta_id_col: str = typer.Option("id", "--id-col", help="Id column in META (rows are matched by id)."),
    emb_id_col: str = typer.Option(None, "--emb-id-col", help="Id column in the parquet embeddings "
                                   "(default: same as --id-col)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the patient-level split and of the first training "
                                               "run."),
    allow_leaky_split: bool = typer.Option(False, "--allow-leaky-split", help="Train on a --split-col that "
                                           "puts a patient in two splits (warn instead of refusing)."),
    out: str = typer.Option(..., "--out", "-o", help="Output predictions (.parquet)."),
) -> None:
    """Train probes on frozen embeddings and write validation + test predictions for `curate audit`."""
    from curate.cards.probe_out import probe_to_file
    from curate.cli._common import progress_bar

    with progress_bar() as progress:  # one bar per training seed, on terminals (like dedup/scan/embed)
        res, path, sidecar = probe_to_file(
            emb, meta, out, labels=labels, model=model, mitigation=mitigation, group_col=group_col,
            seeds=seeds, patient_col=patient_col, split_col=split_col, epochs=epochs, lr=lr,
            batch_size=batch_size, device=device, meta_id_col=meta_id_col, emb_id_col=emb_id_col, seed=seed,
            allow_leaky_split=allow_leaky_split, progress=progress)
    from curate.output import Count, Measure, say, warn

    sp = res.info["split"]
    say("wrote {path} ({rows} rows: {seeds} seeds × {val} validation + {test} test) and {sidecar}",
        path=str(path), rows=Measure(len(res.preds), ","), seeds=Measure(len(res.info["runs"])),
        val=Count(sp["validation"]), test=Count(sp["test"]), sidecar=str(sidecar))
    for w in res.info.get("warnings", []):
        warn("{w}", w=w)


def _list_audits(value: bool) -> None:
    """``--list`` is eager: it runs before PREDS and the required options are checked."""
    if not value:
        return
    from curate.audits.registry import available_audits
    from curate.output import say

    for name, a in available_audits().items():
        say("{name}: {title} — {source}", name=name, title=getattr(a, "title", ""),
            source=getattr(a, "source", ""))
    raise typer.Exit()


def audit(
    preds: str = typer.Argument(..., metavar="PREDS", help="Predictions table (.parquet/.csv)."),
    label_cols: str = typer.Option(..., "--label-cols", help="True label columns, comma-separated."),
    score_cols: str = typer.Option(None, "--score-cols", help="Probability columns (default score_<label>)."),
    groups: str = typer.Option(..., "--groups", help="Sensitive attributes, e.g. sex,age_group,race."),
    audits: str = typer.Option(None, "--audits", help="Audit names (default: all registered)."),
    intersect: list[str] = typer.Option(None, "--intersect", help="Intersection, e.g. sex,age_group "
                                        "(repeatable)."),
    patient_col: str = typer.Option(None, "--patient-col", help="Bootstrap resamples patients, not images."),
    threshold: str = typer.Option(None, "--threshold", help="A number in [0, 1], or f1 (F1-optimal on "
                                  "validation rows, per label); default 0.5."),
    bootstrap: int = typer.Option(0, "--bootstrap", min=0, help="Bootstrap replicates for 95% CIs."),
    permutations: int = typer.Option(999, "--permutations", help="Permutations of the patients' group labels "
                                     "for the p-value of 'no disparity' (0 = no test)."),
    seed_col: str = typer.Option(None, "--seed-col", help="Training-seed column (default: seed if present)."),
    split_col: str = typer.Option(None, "--split-col", help="Split column (default: split if present)."),
    dataset: str = typer.Option(None, "--dataset", help="Catalog id: link its datasheet in the model card."),
    datasheet: str = typer.Option(None, "--datasheet", metavar="FILE",
                                  help="The datasheet to link (from `curate build-card`; default "
                                       "../cards/ID/datasheet.html). Needs --dataset."),
    model_name: str = typer.Option(None, "--model-name", help="Model name for the card title."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap."),
    method: str = typer.Option("between_groups", "--method", help="DPD/DEOdds/TPR_diff comparison: "
                               "between_groups (fairlearn default), to_overall or to_reference."),
    compare: str = typer.Option("rest", "--compare", help="EOD/AOD compare each group with: rest, overall "
                                "or reference."),
    reference: list[str] = typer.Option(None, "--reference", help="Reference group as ATTRIBUTE=GROUP "
                                        "(repeatable), for --method to_reference / --compare reference."),
    undefined: str = typer.Option("zero", "--undefined", help="A rate with no positives/negatives in a "
                                  "present group: zero (fairlearn) or exclude."),
    allow_leaky_split: bool = typer.Option(False, "--allow-leaky-split", help="Audit a split column that "
                                           "puts a patient in two splits (warn instead of refusing)."),
    list_audits: bool = typer.Option(False, "--list", callback=_list_audits, is_eager=True,
                                     help="List registered audits and exit (needs no other argument)."),
    out: str = typer.Option(..., "--out", "-o", metavar="DIR", help="Output folder."),
) -> None:
    """Fairness audits → results.parquet, results.json, model_card.md/.html (+ gap charts)."""
    from curate.cards.modelcard import audit_folder

    res = audit_folder(preds, out, dataset=dataset, datasheet=datasheet, model_name=model_name,
                       reference=reference, label_cols=label_cols, score_cols=score_cols, groups=groups,
                       audits=audits, patient_col=patient_col, threshold=threshold, bootstrap=bootstrap,
                       seed_col=seed_col, split_col=split_col, intersect=intersect or None,
                       seed=seed, method=method, compare=compare, undefined=undefined,
                       allow_leaky_split=allow_leaky_split, permutations=permutations)
    from curate.output import Measure, say, warn

    say("wrote {out}/ ({n} result rows; model_card.md, model_card.html)", out=out,
        n=Measure(len(res.results), ","))
    for w in res.warnings:
        warn("{w}", w=w)


def register(app: typer.Typer) -> None:
    app.command("probe")(probe)
    app.command("audit")(audit)
