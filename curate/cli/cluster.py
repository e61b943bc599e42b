"""``curate cluster`` (k-means / hierarchical k-means, proxy evaluation) and ``curate sample``."""

from __future__ import annotations

from pathlib import Path

import typer

from curate.cli._common import console


def register(app: typer.Typer) -> None:
    app.command("cluster")(cluster_cmd)
    app.command("sample")(sample_cmd)


def _read_meta(path: str):
    from curate.tables import read_table

    return read_table(path)


def _check_out(path: str) -> None:
    from curate._io import _check_parent
    from curate.errors import UsageError

    if not path.endswith((".parquet", ".csv")):
        raise UsageError(f"--out must end in .parquet or .csv (got '{path}')")
    _check_parent(Path(path))


def _check_outputs(paths: dict[str, str]) -> None:
    """Every output's folder exists, no output is a folder and no two options name the same file.

    Run before any work, so a typo in ``--eval-out`` or ``--summary`` never costs a clustering run.
    """
    from curate._io import _check_parent
    from curate.errors import InputError, UsageError

    seen: dict[Path, str] = {}
    for opt, path in paths.items():
        p = Path(path)
        _check_parent(p)
        if p.is_dir():
            raise InputError(f"{opt} '{path}' is a folder; give a file name")
        key = p.resolve()
        if key in seen:
            raise UsageError(f"{seen[key]} and {opt} both name '{path}'; give different files")
        seen[key] = opt


def cluster_cmd(
    emb: str = typer.Argument(..., metavar="EMB", help="Embeddings (.npy, .parquet, shards, HF dataset)."),
    k: str = typer.Option(..., "--k", help="Level-1 k, or one k per level (1000,100,10)."),
    out: str = typer.Option(..., "--out", "-o", help="Output: id, cluster_l1..cluster_lL, distance."),
    levels: int = typer.Option(1, "--levels", "-L", help="Hierarchical k-means levels (Vo et al. 2024)."),
    seed: int = typer.Option(0, "--seed"),
    niter: int = typer.Option(20, "--niter", help="Lloyd iterations per level."),
    metric: str = typer.Option("cosine", "--metric", help="cosine (spherical k-means) or l2."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or gpu (FAISS)."),
    dask: str = typer.Option(None, "--dask", metavar="ADDRESS|local",
                             help="Level 1 on Dask: workers read the .parquet/.npy shards themselves "
                                  "('local' = LocalCluster, or tcp://host:8786)."),
    workers: int = typer.Option(None, "--workers", min=1, help="With --dask local: number of workers."),
    id_col: str = typer.Option("id", "--id-col", help="Id column of the --meta metadata."),
    emb_id_col: str = typer.Option("id", "--emb-id-col", help="Id column of parquet embeddings."),
    sample_per_centroid: int = typer.Option(None, "--sample-per-centroid", min=1,
                                            help="FAISS trains on N points per cluster (default all)."),
    kmeans_method: str = typer.Option("auto", "--kmeans",
                                      help="k-means training: flat (every iteration over all k centroids), "
                                           "two-level (coarse clusters, then clusters inside each, then "
                                           "one flat iteration: for thousands of centroids) or auto "
                                           "(two-level from 1,024 clusters)."),
    evaluate: str = typer.Option(None, "--meta", metavar="FILE",
                                 help="Metadata table to test clusters as proxies for the --attr columns."),
    evaluate_old: str = typer.Option(None, "--evaluate", hidden=True, help="Old spelling of --meta."),
    attr: str = typer.Option(None, "--attr", help="Attribute columns or roles, e.g. sex,age_group,site."),
    eval_out: str = typer.Option(None, "--eval-out", help="Default: evaluation.json by --out."),
    summary: str = typer.Option(None, "--summary", help="Write per-cluster summaries (JSON, with ids)."),
) -> None:
    """Cluster embeddings with FAISS k-means (optionally hierarchical) and check them as attribute proxies."""
    import contextlib
    import json

    import numpy as np
    from rich.markup import escape
    from rich.table import Table

    from curate._io import atomic_file
    from curate._paths import check_io
    from curate.cli._common import alias
    from curate.engine.cluster import check_attrs, cluster, level_sizes, summarize
    from curate.engine.cluster import evaluate as evaluate_fn
    from curate.engine.embeddings import load_embeddings
    from curate.errors import UsageError
    from curate.limits import check_range

    # every check before the long work
    evaluate = alias(evaluate, evaluate_old, "--meta", "--evaluate")
    _check_out(out)
    if (evaluate is None) != (attr is None):
        raise UsageError("--meta FILE and --attr COLUMNS go together")
    eval_path = eval_out or str(Path(out).with_name("evaluation.json"))
    outputs = {"--out": out}
    if evaluate is not None:
        outputs["--eval-out"] = eval_path
    elif eval_out is not None:
        raise UsageError("--eval-out is the report of --meta FILE --attr COLUMNS: give those too")
    if summary is not None:
        outputs["--summary"] = summary
    _check_outputs(outputs)
    check_io({"EMB": emb, "--meta": evaluate}, outputs)
    check_range("--niter", niter)
    check_range("--workers", workers)
    ks = level_sizes(k, levels)
    from curate.engine.kmeans import check_method

    check_method(kmeans_method, dask)  # before reading the embeddings
    meta = attrs = None
    if evaluate is not None:
        meta = _read_meta(evaluate)
        attrs = check_attrs(meta, attr.split(","))
        if id_col not in meta.columns:
            raise UsageError(f"id column '{id_col}' not in '{evaluate}' (pass --id-col)")
    if workers is not None and dask != "local":
        raise UsageError("--workers sizes a local cluster: use it with --dask local")
    if dask and sample_per_centroid:
        raise UsageError("--sample-per-centroid is FAISS's subsampling; the Dask path trains on every point")
    emb_ids = None
    if dask:  # the workers read the shards; cluster() checks shard metadata and ids first (no vectors)
        data = emb
        if meta is not None:
            from curate.engine.distributed import _validate
            from curate.engine.embeddings import list_shards

            emb_ids = _validate(list_shards(emb, id_col=emb_id_col), emb_id_col, None)[2]
    else:
        data = load_embeddings(emb, id_col=emb_id_col, normalize=metric == "cosine")
        emb_ids = data.ids
    if meta is not None and emb_ids is not None:
        missing = ~np.isin(emb_ids, meta[id_col].astype(str).to_numpy())
        if missing.any():
            raise UsageError(f"{int(missing.sum())} of {len(emb_ids)} embedding ids are not in '{evaluate}' "
                             f"column '{id_col}'")
    res = cluster(data, k=ks, niter=niter, seed=seed, metric=metric, device=device, dask=dask,
                  id_col=emb_id_col, n_workers=workers, max_points_per_centroid=sample_per_centroid,
                  kmeans_method=kmeans_method)
    report = evaluate_fn(res, meta, attrs, id_col=id_col) if meta is not None else None
    summ = summarize(res, meta, attrs=attrs or (), id_col=id_col)[1] if summary else None

    from curate.synthetic import SUMMARY_NOTE, any_synthetic

    if any_synthetic(emb, evaluate):  # summaries of synthetic data say so first
        marker = {"synthetic": True, "note": SUMMARY_NOTE}
        report = {**marker, **report} if report is not None else None
        summ = {**marker, **summ} if summ is not None else None
    # write (all computed; nothing written before this point): every output goes to a temporary file
    # first and all are moved into place together, so a failure leaves none of them
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(atomic_file(out))
        if out.endswith(".csv"):
            res.table.to_csv(tmp, index=False)
        else:
            res.table.to_parquet(tmp, index=False)
        if report is not None:
            report["clustering"] = res.info
            tmp = stack.enter_context(atomic_file(eval_path))
            tmp.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
        if summ is not None:
            tmp = stack.enter_context(atomic_file(summary))
            tmp.write_text(json.dumps(summ, indent=2, default=str) + "\n", encoding="utf-8")

    sizes = [np.bincount(res.table[c]) for c in res.level_columns]
    where = f" on Dask ({res.info['dask']['workers']} workers, {res.info['dask']['shards']} shards)" \
        if "dask" in res.info else ""
    trained = res.info["kmeans"]
    how = (f"; level 1 trained two-level: {trained['coarse_clusters']} coarse clusters, then "
           f"{trained['refine_iterations']} flat iteration(s)") if trained["method"] == "two-level" else ""
    console.print(f"clustered {res.info['n']:,} embeddings (d={res.info['d']}, {metric}){where} into "
                  + ", ".join(f"level {i + 1}: {kk}" for i, kk in enumerate(ks)) + f"{how} -> {out}")
    from curate.output import Measure, Shown, say

    hidden = bool(((sizes[0] > 0) & (sizes[0] < 11)).any())  # a small cluster: its size would be the min
    lo, mid, hi = ("<11", "*", "*") if hidden else (  # an order statistic could be a hidden size
        int(sizes[0].min()), int(np.median(sizes[0])), int(sizes[0].max()))
    say("level-1 cluster sizes: min {lo}, median {mid}, max {hi}; inertia {inertia}", lo=Shown(lo),
        mid=Shown(mid), hi=Shown(hi), inertia=Measure(res.inertia, ".4g"))
    if report is not None:
        t = Table(title="clusters as proxies for attributes (baseline = purity of the majority value)")
        for col in ("attribute", "level", "k", "AMI", "NMI", "ARI", "purity", "baseline"):
            t.add_column(col, justify="left" if col == "attribute" else "right")
        for a, r in report["attributes"].items():
            for lvl, m in r["levels"].items():
                scores = (f"{m[x]:.2f}" for x in ("ami", "nmi", "ari", "purity"))
                t.add_row(escape(a), lvl[9:], str(m["k"]), *scores, f"{r['baseline_purity']:.2f}")
        console.print(t)
        for r in report["attributes"].values():
            console.print(f"- {escape(r['verdict'])}")
        console.print(f"evaluation -> {eval_path}")
    if summ is not None:
        console.print(f"summary -> {summary}")


def sample_cmd(
    meta_arg: str = typer.Argument(None, metavar="[META]",
                                   help="Metadata table (.csv / .parquet); or give it with --meta."),
    meta_opt: str = typer.Option(None, "--meta", metavar="FILE", help="Metadata table (as META)."),
    balance_by: str = typer.Option(..., "--balance-by", help="Column or role to balance, or 'cluster'."),
    out: str = typer.Option(..., "--out", "-o", help="Sampled rows with a split column (.csv / .parquet)."),
    n: int = typer.Option(None, "--n", help="Total to sample (patients with --patient-col, else images). "
                                            "Default: every group cut to the smallest (or to the cap)."),
    emb: str = typer.Option(None, "--emb", help="Embeddings to cluster now (with --balance-by cluster --k)."),
    clusters: str = typer.Option(None, "--clusters", help="clusters.parquet from `curate cluster`."),
    k: str = typer.Option(None, "--k", help="Clusters when clustering --emb now."),
    levels: int = typer.Option(None, "--levels", help="Levels when clustering --emb now (default 1)."),
    patient_col: str = typer.Option(None, "--patient-col", help="Count and split by patient."),
    splits: str = typer.Option(None, "--splits", help="Patient-level split fractions, e.g. 0.8,0.1,0.1."),
    cap_per_group: int = typer.Option(None, "--cap-per-group", help="At most this many per group."),
    keep: str = typer.Option(None, "--keep", help="keep.txt from `curate dedup`: sample only these ids."),
    id_col: str = typer.Option("id", "--id-col", help="Id column of the metadata."),
    seed: int = typer.Option(0, "--seed", help="Random seed of the sample and the splits."),
) -> None:
    """Balanced sample by an attribute or by clusters, with patient-level train/validation/test splits."""
    from rich.markup import escape
    from rich.table import Table

    from curate._io import atomic_file
    from curate._paths import check_io
    from curate.engine.sample import check_cluster_options, report_table, sample_with_report
    from curate.errors import UsageError
    from curate.output import Count, note, say

    if (meta_arg is None) == (meta_opt is None):
        raise UsageError("give the metadata once: as META or with --meta FILE")
    meta = meta_arg if meta_arg is not None else meta_opt
    _check_out(out)
    check_io({"META": meta, "--emb": emb, "--clusters": clusters, "--keep": keep}, {"--out": out})
    check_cluster_options(balance_by, clusters, emb, k, levels)  # before reading META
    df, rep = sample_with_report(_read_meta(meta), balance_by=balance_by, n=n, clusters=clusters, emb=emb,
                                 k=k, levels=levels, patient_col=patient_col, splits=splits,
                                 cap_per_group=cap_per_group, keep=keep, seed=seed, id_col=id_col)
    with atomic_file(out) as tmp:
        if out.endswith(".csv"):
            df.to_csv(tmp, index=False)
        else:
            df.to_parquet(tmp, index=False)
    shown = report_table(rep)
    label = escape(rep["group_column"])
    t = Table(title=f"{rep['unit']} per {label}",
              caption="<11: fewer than 11; *: hidden so that a <11 cell cannot be recovered")
    t.add_column(label)
    for c in shown.columns:
        t.add_column(str(c), justify="right")
    for g, row in shown.iterrows():
        t.add_row(escape(str(g)), *[str(v) for v in row])
    console.print(t)
    if rep.get("left_out"):
        note("{n} rows without a value of {col} were left out", n=Count(rep["left_out"]),
             col=rep["group_column"])
    for text in rep["notes"]:
        note("{text}", text=text)
    if rep.get("removed_by_keep"):
        say("keep-list removed {n} rows before sampling", n=Count(rep["removed_by_keep"]))
    say("sampled {n} {unit} ({rows} rows) -> {out}", n=Count(rep["n_units"]), unit=rep["unit"],
        rows=Count(rep["n_rows"]), out=out)
