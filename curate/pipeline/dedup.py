"""What ``curate dedup`` runs: checks, the search (embeddings or an image folder), leakage, the outputs.

Every check runs before the search; the outputs are written into ``out`` atomically (pairs.parquet,
groups.parquet, keep.txt, summary.json, and with metadata leakage.json + leakage_pairs.parquet). The CLI
prints the returned summaries.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class DedupRun:
    """The summaries of one run (what the CLI prints) and the engine's results."""

    summary: dict
    leakage: dict | None
    result: Any = None
    leak: Any = None


def run_dedup(
    emb: str | None,
    out: str | Path,
    *,
    threshold: float = 0.95,
    method: str = "auto",
    device: str = "auto",
    meta: str | Path | None = None,
    split_col: str = "split",
    patient_col: str | None = None,
    images: str | Path | None = None,
    max_distance: int = 4,
    emb_id_col: str = "id",
    meta_id_col: str | None = None,
    vector_col: str | None = None,
    quality_col: str | None = None,
    dask: str | None = None,
    workers: int | None = None,
    seed: int = 0,
    nlist: int | None = None,
    nprobe: int | None = None,
    neighbors: int | None = None,
    target_recall: float = 0.99,
    keep_rule: str = "components",
    skip_bad: bool = False,
    progress: Any = None,
) -> DedupRun:
    """Deduplicate embeddings ``emb`` (or the image folder ``images``) into ``out``; see ``curate dedup``."""
    from curate._io import atomic_dir
    from curate.errors import UsageError
    from curate.tables import read_table

    _check_options(emb, out, meta=meta, images=images, max_distance=max_distance, workers=workers, dask=dask,
                   method=method, nlist=nlist, nprobe=nprobe, neighbors=neighbors, keep_rule=keep_rule,
                   target_recall=target_recall)
    if skip_bad and images is None:
        raise UsageError("--skip-bad applies to --images (embeddings have no unreadable files)")
    from curate.engine.dedup import check_threshold
    from curate.engine.devices import resolve_device

    threshold = check_threshold(threshold)
    dev = resolve_device(device)
    meta_df = None
    meta_id_col = meta_id_col or emb_id_col
    if meta is not None:
        meta_df = read_table(meta, text=True, empty_as_na=False)  # ids are matched as strings
        if patient_col is None and "patient_id" in meta_df.columns:
            patient_col = "patient_id"
    elif quality_col:
        raise UsageError("--quality-col needs --meta")

    with atomic_dir(out, kind="dedup") as tmp:
        res, ids = _search(emb, images, meta_df, threshold=threshold, method=method, device=dev, seed=seed,
                           max_distance=max_distance, emb_id_col=emb_id_col, meta_id_col=meta_id_col,
                           vector_col=vector_col, split_col=split_col, patient_col=patient_col,
                           quality_col=quality_col, dask=dask, workers=workers, nlist=nlist, nprobe=nprobe,
                           neighbors=neighbors, target_recall=target_recall, keep_rule=keep_rule,
                           skip_bad=skip_bad, progress=progress)
        from curate.synthetic import SUMMARY_NOTE, any_synthetic

        if any_synthetic(emb, meta):  # the summary of synthetic data says so first
            res.summary = {"synthetic": True, "note": SUMMARY_NOTE, **res.summary}
        res.write_into(tmp)
        if getattr(res, "skipped", None):
            _write_skipped(tmp / "skipped.csv", res.skipped)
        leak = None
        if meta_df is not None:
            from curate.engine.leakage import leakage

            leak = leakage(res.pairs, meta_df, ids, meta_id_col=meta_id_col, split_col=split_col,
                           patient_col=patient_col)
            leak.write_into(tmp)
    return DedupRun(summary=res.summary, leakage=leak.summary if leak else None, result=res, leak=leak)


def _search(emb, images, meta_df, *, threshold, method, device, seed, max_distance, emb_id_col, meta_id_col,
            vector_col, split_col, patient_col, quality_col, dask, workers, nlist, nprobe, neighbors,
            target_recall, keep_rule, skip_bad, progress):
    """The duplicate search: an image folder by hashes, or embeddings (locally or on Dask); the metadata is
    checked against the ids first. Returns the engine's result and the ids in its order."""
    if images is not None:
        from curate.engine.dedup.images import image_dedup, image_ids

        strip = False
        ids = image_ids(images)
        if meta_df is not None:
            if meta_id_col in meta_df.columns and not set(ids) <= set(meta_df[meta_id_col].astype(str)):
                stem_ids = image_ids(images, strip_ext=True)  # metadata often lists ids without .png
                if set(stem_ids) <= set(meta_df[meta_id_col].astype(str)):
                    strip, ids = True, stem_ids
            _check_meta(meta_df, ids, meta_id_col, split_col, patient_col, quality_col)
        res = image_dedup(images, max_distance=max_distance, strip_ext=strip, progress=progress,
                          skip_bad=skip_bad)
    else:
        from curate.engine.embeddings import list_shards, load_embeddings

        if dask:
            from curate.engine.dask_shards import validate_shards as _validate

            shards = list_shards(emb, id_col=emb_id_col, vector_col=vector_col)
            ids = _validate(shards, emb_id_col, vector_col)[2]
        else:
            e = load_embeddings(emb, id_col=emb_id_col, vector_col=vector_col)
            ids = e.ids
        quality = None
        if meta_df is not None:
            m = _check_meta(meta_df, ids, meta_id_col, split_col, patient_col, quality_col)
            if quality_col:
                quality = m[quality_col].astype(float).to_numpy()
        if dask:
            from curate.engine.dedup.sharded import dedup_dask

            res = dedup_dask(emb, threshold, address=dask, id_col=emb_id_col, vector_col=vector_col,
                             quality=quality, n_workers=workers, progress=progress, keep_rule=keep_rule)
        else:
            from curate.engine.dedup import dedup

            res = dedup(e, threshold, method, device, quality=quality, seed=seed, progress=progress,
                        nlist=nlist, nprobe=nprobe, neighbors=neighbors, target_recall=target_recall,
                        keep_rule=keep_rule)
    return res, ids


def _check_meta(meta_df, ids, id_col, split_col, patient_col, quality_col):
    """Fail before the search if the metadata does not cover the ids (or lacks a numeric quality column)."""
    from curate.engine.leakage import align_metadata
    from curate.errors import InputError

    m = align_metadata(meta_df, ids, meta_id_col=id_col, split_col=split_col, patient_col=patient_col)
    if quality_col:
        if quality_col not in m.columns:
            raise InputError(f"metadata has no column '{quality_col}' (--quality-col)")
        try:
            m[quality_col].astype(float)
        except (TypeError, ValueError):
            raise InputError(f"--quality-col '{quality_col}' is not numeric") from None
    return m


def _check_options(emb, out, *, meta, images, max_distance, workers, dask, method, nlist, nprobe, neighbors,
                   keep_rule, target_recall) -> None:
    """Every check of the options, before anything is read."""
    from curate._paths import check_io
    from curate.errors import UsageError
    from curate.limits import check_range

    check_io({"EMB": emb, "--meta": meta, "--images": images}, {"--out": out}, folders=["--out"])
    check_range("max_distance", max_distance)
    check_range("workers", workers)
    if (emb is None) == (images is None):
        raise UsageError("give either EMB (embeddings) or --images DIR, not both / neither")
    if images is not None and dask:
        raise UsageError("--dask works on embedding shards, not with --images")
    if dask and method not in ("auto", "exact"):
        raise UsageError("--dask runs the exact method; drop --method or use --method exact")
    if dask and any(v is not None for v in (nlist, nprobe, neighbors)):
        raise UsageError("--dask runs the exact method; --nlist / --nprobe / --neighbors do not apply")
    from curate.engine.dedup import check_keep_rule, check_method
    from curate.validation import ParameterError

    check_method(method)
    check_keep_rule(keep_rule)
    if not (0.0 < target_recall < 1.0):
        raise ParameterError("target_recall", f"must be in (0, 1), got {target_recall:g}")
    if nprobe is not None and method.lower() != "ivf":
        raise UsageError("--nprobe applies to --method ivf")
    if neighbors is not None and method.lower() != "semantic":
        raise UsageError("--neighbors applies to --method semantic")


def _write_skipped(path: Path, skipped: list[tuple[str, str]]) -> None:
    """``skipped.csv`` (path, reason): the files `dedup --images --skip-bad` left out, as `curate scan`
    (a local file: the user's own relative paths)."""
    import pandas as pd

    from curate.output import write_local

    table = pd.DataFrame(skipped, columns=["path", "reason"])
    write_local(table, path, ids=["path"], roles={"reason": "text"}, atomic=False)
