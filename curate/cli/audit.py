"""``curate probe`` (torch heads on frozen embeddings) and ``curate audit`` (fairness audits + model card)."""

from __future__ import annotations

import typer

from curate.cli._common import console


def probe(
    emb: str = typer.Argument(..., metavar="EMB", help="Embeddings: .npy or .parquet (id + vector column)."),
    meta: str = typer.Option(..., "--meta", metavar="META", help="Metadata table (.csv/.parquet) with ids."),
    labels: str = typer.Option(..., "--labels", help="Label column(s), comma-separated."),
    model: str = typer.Option("mlp", "--model", help="mlp (bahre2025) or linear (germani2025)."),
    mitigation: str = typer.Option("none", "--mitigation", help="none, reweight or groupdro."),
    group_col: str = typer.Option(None, "--group-col", help="Sensitive attribute for reweight/groupdro."),
    seeds: int = typer.Option(5, "--seeds", min=1, help="Number of training seeds (0..N-1)."),
    patient_col: str = typer.Option(None, "--patient-col", help="Patient column: patient-level splits."),
    split_col: str = typer.Option(None, "--split-col", help="train/validation/test column (else 80/10/10)."),
    epochs: int = typer.Option(100, "--epochs", min=1, help="Maximum epochs (early stopping, patience 5)."),
    lr: float = typer.Option(None, "--lr", help="Learning rate (default 1e-4 mlp, 1e-3 linear)."),
    batch_size: int = typer.Option(48, "--batch-size", min=2),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda; gpu is an alias of cuda, as "
                                                        "in `curate dedup`/`cluster`."),
    id_col: str = typer.Option("id", "--id-col", help="Id column in META (rows are matched by id)."),
    emb_id_col: str = typer.Option(None, "--emb-id-col", help="Id column in the parquet embeddings "
                                   "(default: same as --id-col)."),
    split_seed: int = typer.Option(0, "--split-seed", help="Seed of the patient-level split."),
    allow_leaky_split: bool = typer.Option(False, "--allow-leaky-split", help="Train on a --split-col that "
                                           "puts a patient in two splits (warn instead of refusing)."),
    out: str = typer.Option(..., "--out", "-o", help="Output predictions (.parquet)."),
) -> None:
    """Train probes on frozen embeddings and write validation + test predictions for `curate audit`."""
    from curate._paths import check_io, sidecar_of
    from curate.errors import need
    from curate.limits import check_range

    need("embed", "torch")
    from curate.audits.probes import check_probe_out, write_probe
    from curate.audits.probes import probe as run_probe

    check_probe_out(out)
    check_io({"EMB": emb, "--meta": meta}, {"--out": out, "--out's sidecar": sidecar_of(out)})
    for opt, value in (("--seeds", seeds), ("--epochs", epochs), ("--batch-size", batch_size)):
        check_range(opt, value)
    from curate.cli._common import progress_bar

    with progress_bar() as progress:  # one bar per training seed, on terminals (like dedup/scan/embed)
        res = run_probe(emb, meta, labels=labels, model=model, mitigation=mitigation, group_col=group_col,
                        seeds=seeds, patient_col=patient_col, split_col=split_col, epochs=epochs, lr=lr,
                        batch_size=batch_size, device=device, id_col=id_col, emb_id_col=emb_id_col,
                        split_seed=split_seed, allow_leaky_split=allow_leaky_split, progress=progress)
    path, sidecar = write_probe(res, out)
    sp = res.info["split"]
    console.print(f"wrote {path} ({len(res.preds):,} rows: {len(res.info['runs'])} seeds × "
                  f"{sp['validation']:,} validation + {sp['test']:,} test) and {sidecar}")
    for w in res.info.get("warnings", []):
        console.print(f"[yellow]warning:[/yellow] {w}")


def _list_audits(value: bool) -> None:
    """``--list`` is eager: it runs before PREDS and the required options are checked."""
    if not value:
        return
    from curate.audits.registry import available_audits

    for name, a in available_audits().items():
        console.print(f"{name}: {getattr(a, 'title', '')} — {getattr(a, 'source', '')}")
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
    random_state: int = typer.Option(0, "--random-state", help="Seed of the bootstrap."),
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
    import json
    import os

    from curate.errors import UsageError, need

    need("audit", "matplotlib")
    from curate._paths import check_io, sidecar_of
    from curate.audits.modelcard import write_audit
    from curate.audits.run import audit as run_audit
    from curate.limits import check_range

    check_io({"PREDS": preds, "PREDS's sidecar": sidecar_of(preds), "--datasheet": datasheet},
             {"--out": out}, folders=["--out"])
    check_range("--bootstrap", bootstrap)
    check_range("--permutations", permutations)
    if dataset:  # unknown ids fail before the work starts
        from curate.catalog import load

        dataset = load().get(dataset).id
    if datasheet is not None:
        from curate.errors import InputError

        if not dataset:
            raise UsageError("--datasheet links the datasheet of --dataset ID: give both")
        if not os.path.isfile(datasheet):
            raise InputError(f"datasheet '{datasheet}' does not exist (write it with `curate build-card`)")
    refs = {}
    for r in reference or []:
        attr, sep, grp = r.partition("=")
        if not sep or not attr.strip() or not grp.strip():
            raise UsageError(f"--reference takes ATTRIBUTE=GROUP (got '{r}')")
        refs[attr.strip()] = grp.strip()
    res = run_audit(preds, label_cols=label_cols, score_cols=score_cols, groups=groups, audits=audits,
                    patient_col=patient_col, threshold=threshold, bootstrap=bootstrap, seed_col=seed_col,
                    split_col=split_col, intersect=intersect or None, random_state=random_state,
                    method=method, compare=compare, reference=refs or None, undefined=undefined,
                    allow_leaky_split=allow_leaky_split, permutations=permutations)
    probe_info = None
    sidecar = os.path.splitext(preds)[0] + ".probe.json"
    if os.path.exists(sidecar):
        with open(sidecar, encoding="utf-8") as f:
            probe_info = json.load(f)
    from curate.synthetic import is_synthetic

    write_audit(res, out, dataset=dataset, probe_info=probe_info, model_name=model_name, datasheet=datasheet,
                synthetic=is_synthetic(preds))
    console.print(f"wrote {out}/ ({len(res.results):,} result rows; model_card.md, model_card.html)")
    for w in res.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}")


def register(app: typer.Typer) -> None:
    app.command("probe")(probe)
    app.command("audit")(audit)
