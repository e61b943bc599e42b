"""``curate cluster`` (k-means / hierarchical k-means, proxy evaluation) and ``curate sample``."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    app.command("cluster")(cluster_cmd)
    app.command("sample")(sample_cmd)


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
    meta_id_col: str = typer.Option("id", "--id-col", help="Id column of the --meta metadata."),
    emb_id_col: str = typer.Option("id", "--emb-id-col", help="Id column of parquet embeddings."),
    sample_per_centroid: int = typer.Option(None, "--sample-per-centroid", min=1,
                                            help="FAISS trains on N points per cluster (default all)."),
    kmeans_method: str = typer.Option("auto", "--kmeans",
                                      help="k-means training: flat (every iteration over all k centroids), "
                                           "two-level (coarse clusters, then clusters inside each, then "
                                           "one flat iteration: for thousands of centroids) or auto "
                                           "(two-level from 1,024 clusters)."),
    meta: str = typer.Option(None, "--meta", metavar="FILE",
                             help="Metadata table to test clusters as proxies for the --attr columns."),
    attr: str = typer.Option(None, "--attr", help="Attribute columns or roles, e.g. sex,age_group,site."),
    eval_out: str = typer.Option(None, "--eval-out", help="Default: evaluation.json by --out."),
    summary: str = typer.Option(None, "--summary", help="Write per-cluster summaries (JSON, with ids)."),
) -> None:
    """Cluster embeddings with FAISS k-means (optionally hierarchical) and check them as attribute proxies."""
    from curate.pipeline.cluster import run_cluster

    run = run_cluster(emb, out, k=k, levels=levels, seed=seed, niter=niter, metric=metric, device=device,
                      dask=dask, workers=workers, meta_id_col=meta_id_col, emb_id_col=emb_id_col,
                      sample_per_centroid=sample_per_centroid, kmeans_method=kmeans_method, meta=meta,
                      attr=attr, eval_out=eval_out, summary=summary)
    _print_cluster(run, metric=metric, out=out, summary=summary)


def _print_cluster(run, *, metric: str, out: str, summary: str | None) -> None:
    import numpy as np

    from curate.output import Measure, Shown, say, say_table

    res, report, summ, ks, eval_path = run.result, run.report, run.summary, run.ks, run.eval_path
    sizes = [np.bincount(res.table[c]) for c in res.level_columns]
    where = f" on Dask ({res.info['dask']['workers']} workers, {res.info['dask']['shards']} shards)" \
        if "dask" in res.info else ""
    trained = res.info["kmeans"]
    how = (f"; level 1 trained two-level: {trained['coarse_clusters']} coarse clusters, then "
           f"{trained['refine_iterations']} flat iteration(s)") if trained["method"] == "two-level" else ""
    # embeddings of the user's own files and the k asked for: they count no one (Measure)
    levels = ", ".join(f"level {i + 1}: {kk}" for i, kk in enumerate(ks))
    say("clustered {n} embeddings (d={d}, {metric}){where} into {levels}{how} -> {out}",
        n=Measure(res.info["n"], ","), d=Measure(res.info["d"]), metric=metric, where=where, levels=levels,
        how=how, out=out)

    hidden = bool(((sizes[0] > 0) & (sizes[0] < 11)).any())  # a small cluster: its size would be the min
    lo, mid, hi = ("<11", "*", "*") if hidden else (  # an order statistic could be a hidden size
        int(sizes[0].min()), int(np.median(sizes[0])), int(sizes[0].max()))
    say("level-1 cluster sizes: min {lo}, median {mid}, max {hi}; inertia {inertia}", lo=Shown(lo),
        mid=Shown(mid), hi=Shown(hi), inertia=Measure(res.inertia, ".4g"))
    if report is not None:
        cols = ["attribute", "level", "k", "AMI", "NMI", "ARI", "purity", "baseline"]
        scores = ("ami", "nmi", "ari", "purity")
        rows = [[a, lvl[9:], Measure(m["k"]), *(Measure(m[x], ".2f") for x in scores),
                 Measure(r["baseline_purity"], ".2f")]
                for a, r in report["attributes"].items() for lvl, m in r["levels"].items()]
        say_table("clusters as proxies for attributes (baseline = purity of the majority value)", cols, rows,
                  right=set(cols[1:]))
        for r in report["attributes"].values():
            say("- {verdict}", verdict=r["verdict"])
        say("evaluation -> {path}", path=eval_path)
    if summ is not None:
        say("summary -> {path}", path=summary)


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
    from curate.engine.sample import report_table
    from curate.output import Count, Shown, note, say, say_table
    from curate.pipeline.cluster import run_sample

    rep = run_sample(meta_arg, out, meta_opt=meta_opt, balance_by=balance_by, n=n, emb=emb, clusters=clusters,
                     k=k, levels=levels, patient_col=patient_col, splits=splits, cap_per_group=cap_per_group,
                     keep=keep, id_col=id_col, seed=seed)
    shown = report_table(rep)
    label = str(rep["group_column"])
    cols = [str(c) for c in shown.columns]
    rows = [[str(g), *(Shown(v) for v in row)] for g, row in shown.iterrows()]  # protected by report_table
    say_table(f"{rep['unit']} per {label}", [label, *cols], rows, right=set(cols),
              caption="<11: fewer than 11; *: hidden so that a <11 cell cannot be recovered")
    if rep.get("left_out"):
        note("{n} rows without a value of {col} were left out", n=Count(rep["left_out"]),
             col=rep["group_column"])
    for text in rep["notes"]:
        note("{text}", text=text)
    if rep.get("removed_by_keep"):
        say("keep-list removed {n} rows before sampling", n=Count(rep["removed_by_keep"]))
    say("sampled {n} {unit} ({rows} rows) -> {out}", n=Count(rep["n_units"]), unit=rep["unit"],
        rows=Count(rep["n_rows"]), out=out)
