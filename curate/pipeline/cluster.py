"""What ``curate cluster`` and ``curate sample`` run: every check first, then the engine, then the outputs.

The outputs are written only after everything is computed, each to a temporary file first and all moved
into place together, so a failure leaves none of them. The CLI prints the returned results.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class ClusterRun:
    """One clustering run: the engine's result, the proxy evaluation and the summaries (when asked)."""

    result: Any
    report: dict | None
    summary: dict | None
    ks: list[int]
    eval_path: str


def run_cluster(emb: str, out: str, *, k: str, levels: int = 1, seed: int = 0, niter: int = 20,
                metric: str = "cosine", device: str = "auto", dask: str | None = None,
                workers: int | None = None, meta_id_col: str = "id", emb_id_col: str = "id",
                sample_per_centroid: int | None = None, kmeans_method: str = "auto",
                meta: str | None = None, attr: str | None = None, eval_out: str | None = None,
                summary: str | None = None) -> ClusterRun:
    """Cluster ``emb`` into ``out`` (see ``curate cluster``); with ``meta`` + ``attr``, test the clusters as
    proxies for those attributes; with ``summary``, write per-cluster summaries."""
    evaluate = meta
    import numpy as np

    from curate.engine.cluster import cluster, summarize
    from curate.engine.cluster import evaluate as evaluate_fn
    from curate.engine.embeddings import load_embeddings
    from curate.errors import UsageError

    eval_path, ks, meta, attrs = _check_inputs(
        emb, out, evaluate=evaluate, attr=attr, eval_out=eval_out, summary=summary, niter=niter,
        workers=workers, k=k, levels=levels, kmeans_method=kmeans_method, dask=dask, id_col=meta_id_col,
        sample_per_centroid=sample_per_centroid)
    emb_ids = None
    if dask:  # the workers read the shards; cluster() checks shard metadata and ids first (no vectors)
        data = emb
        if meta is not None:
            from curate.engine.dask_shards import validate_shards as _validate
            from curate.engine.embeddings import list_shards

            emb_ids = _validate(list_shards(emb, id_col=emb_id_col), emb_id_col, None)[2]
    else:
        data = load_embeddings(emb, id_col=emb_id_col, normalize=metric == "cosine")
        emb_ids = data.ids
    if meta is not None and emb_ids is not None:
        missing = ~np.isin(emb_ids, meta[meta_id_col].astype(str).to_numpy())
        if missing.any():
            raise UsageError(f"{int(missing.sum())} of {len(emb_ids)} embedding ids are not in '{evaluate}' "
                             f"column '{meta_id_col}'")
    res = cluster(data, k=ks, niter=niter, seed=seed, metric=metric, device=device, dask=dask,
                  emb_id_col=emb_id_col, n_workers=workers, max_points_per_centroid=sample_per_centroid,
                  kmeans_method=kmeans_method)
    report = evaluate_fn(res, meta, attrs, meta_id_col=meta_id_col) if meta is not None else None
    summ = summarize(res, meta, attrs=attrs or (), meta_id_col=meta_id_col)[1] if summary else None

    from curate.synthetic import SUMMARY_NOTE, any_synthetic

    if any_synthetic(emb, evaluate):  # summaries of synthetic data say so first
        marker = {"synthetic": True, "note": SUMMARY_NOTE}
        report = {**marker, **report} if report is not None else None
        summ = {**marker, **summ} if summ is not None else None
    _write_outputs(out, res.table, report, summ, eval_path=eval_path, summary=summary, info=res.info)
    return ClusterRun(result=res, report=report, summary=summ, ks=ks, eval_path=eval_path)


def _check_inputs(emb, out, *, evaluate, attr, eval_out, summary, niter, workers, k, levels, kmeans_method,
                  dask, id_col, sample_per_centroid):
    """Every check before the long work; returns the evaluation path, the ks, the metadata and attributes."""
    from curate._paths import check_io
    from curate.engine.cluster import check_attrs, level_sizes
    from curate.errors import UsageError
    from curate.limits import check_range
    from curate.tables import read_table

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
    check_range("niter", niter)
    check_range("workers", workers)
    ks = level_sizes(k, levels)
    from curate.engine.cluster.kmeans import check_method

    check_method(kmeans_method, dask)  # before reading the embeddings
    meta = attrs = None
    if evaluate is not None:
        meta = read_table(evaluate)
        attrs = check_attrs(meta, attr.split(","))
        if id_col not in meta.columns:
            raise UsageError(f"id column '{id_col}' not in '{evaluate}' (pass --id-col)")
    if workers is not None and dask != "local":
        raise UsageError("--workers sizes a local cluster: use it with --dask local")
    if dask and sample_per_centroid:
        raise UsageError("--sample-per-centroid is FAISS's subsampling; the Dask path trains on every point")
    return eval_path, ks, meta, attrs


def _write_outputs(out, table, report, summ, *, eval_path, summary, info) -> None:
    """Write (all computed; nothing written before this point): every output goes to a temporary file first
    and all are moved into place together, so a failure leaves none of them."""
    import contextlib

    from curate.engine.cluster.result import write_local_table
    from curate.output import output_file, write_json

    with contextlib.ExitStack() as stack:  # local files of the user's own rows (curate.output.write_local)
        write_local_table(table, stack.enter_context(output_file(out)), atomic=False)
        if report is not None:
            report["clustering"] = info
            write_json(stack.enter_context(output_file(eval_path)), report, atomic=False)
        if summ is not None:
            write_json(stack.enter_context(output_file(summary)), summ, atomic=False)


def run_sample(meta_arg: str | None, out: str, *, meta_opt: str | None = None, balance_by: str,
               **options: Any) -> dict:
    """``curate sample``: check, sample (:func:`curate.engine.sample.sample_with_report`), write ``out``;
    returns the report (counts per group, notes)."""
    from curate.tables import read_table

    emb, clusters, k, levels, keep = (options.get(x) for x in ("emb", "clusters", "k", "levels", "keep"))
    from curate._paths import check_io
    from curate.engine.sample import check_cluster_options, sample_with_report
    from curate.errors import UsageError

    if (meta_arg is None) == (meta_opt is None):
        raise UsageError("give the metadata once: as META or with --meta FILE")
    meta = meta_arg if meta_arg is not None else meta_opt
    _check_out(out)
    check_io({"META": meta, "--emb": emb, "--clusters": clusters, "--keep": keep}, {"--out": out})
    check_cluster_options(balance_by, clusters, emb, k, levels)  # before reading META
    table = read_table(meta)
    own = [str(c) for c in table.columns]
    df, rep = sample_with_report(table, balance_by=balance_by, **options)
    from curate.output import write_local

    # a subset of the user's own rows, every input column unchanged, plus the split the sample assigned
    added = {str(c): "group" if c == "split" else "value" for c in df.columns if str(c) not in own}
    write_local(df, out, ids=[], input_columns=own, roles=added)
    return rep


def _check_out(path: str) -> None:
    from curate._io import check_parent
    from curate.errors import UsageError

    if not path.endswith((".parquet", ".csv")):
        raise UsageError(f"--out must end in .parquet or .csv (got '{path}')")
    check_parent(Path(path))


def _check_outputs(paths: dict[str, str]) -> None:
    """Every output's folder exists, no output is a folder and no two options name the same file.

    Run before any work, so a typo in ``--eval-out`` or ``--summary`` never costs a clustering run.
    """
    from curate._io import check_parent
    from curate.errors import InputError, UsageError

    seen: dict[Path, str] = {}
    for opt, path in paths.items():
        p = Path(path)
        check_parent(p)
        if p.is_dir():
            raise InputError(f"{opt} '{path}' is a folder; give a file name")
        key = p.resolve()
        if key in seen:
            raise UsageError(f"{seen[key]} and {opt} both name '{path}'; give different files")
        seen[key] = opt
