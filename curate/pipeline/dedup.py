"""What ``curate dedup`` runs: checks, the search (embeddings or an image folder), leakage, the outputs.

Every check runs before the search; the outputs are written into ``out`` atomically (pairs.parquet,
groups.parquet, keep.txt, summary.json, and with metadata leakage.json + leakage_pairs.parquet). The CLI
prints the returned summaries.

Review (docs/dedup.md, "Review gallery"): with ``decisions`` (a reviewer's ``decisions.csv``) the pairs
marked "not a copy" are removed before groups and the keep list are formed (the pseudonyms in the file are
matched by recomputing the pseudonyms of this run's ids with the same key); with ``gallery`` the duplicate
groups are written as a review gallery (``gallery/``, by ``gallery_writer``:
:func:`curate.report.gallery.write_review_gallery`, which :func:`curate.report.gallery.dedup_with_gallery`
passes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Groups shown in a dedup review gallery (the largest first), and images shown per group.
GALLERY_MAX_GROUPS = 500
GALLERY_MAX_ITEMS = 12
#: Pair kinds of ``dedup --images`` → gallery tiers, weakest evidence last.
TIERS = {"exact": "bytes", "pixels": "pixels", "perceptual": "perceptual"}


@dataclass
class DedupRun:
    """The summaries of one run (what the CLI prints) and the engine's results."""

    summary: dict
    leakage: dict | None
    result: Any = None
    leak: Any = None
    key_created: bool = False  # the review's pseudonym key was created by this run


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
    decisions: str | Path | None = None,
    gallery: bool = False,
    key_file: str | Path | None = None,
    gallery_writer: Callable[..., Any] | None = None,
    progress: Any = None,
) -> DedupRun:
    """Deduplicate embeddings ``emb`` (or the image folder ``images``) into ``out``; see ``curate dedup``.
    ``decisions``, ``gallery``, ``key_file``, ``gallery_writer``: the review (see the module docstring)."""
    from curate._io import atomic_dir

    _check_options(emb, out, meta=meta, images=images, max_distance=max_distance, workers=workers, dask=dask,
                   method=method, nlist=nlist, nprobe=nprobe, neighbors=neighbors, keep_rule=keep_rule,
                   target_recall=target_recall, skip_bad=skip_bad)
    from curate.engine.dedup import check_threshold
    from curate.engine.devices import resolve_device

    threshold = check_threshold(threshold)
    dev = resolve_device(device)
    key, dec = _review_inputs(out, images, decisions=decisions, gallery=gallery, key_file=key_file,
                              gallery_writer=gallery_writer)
    meta_id_col = meta_id_col or emb_id_col
    meta_df, patient_col = _read_meta(meta, patient_col, quality_col)

    with atomic_dir(out, kind="dedup") as tmp:
        res, ids = _search(emb, images, meta_df, threshold=threshold, method=method, device=dev, seed=seed,
                           max_distance=max_distance, emb_id_col=emb_id_col, meta_id_col=meta_id_col,
                           vector_col=vector_col, split_col=split_col, patient_col=patient_col,
                           quality_col=quality_col, dask=dask, workers=workers, nlist=nlist, nprobe=nprobe,
                           neighbors=neighbors, target_recall=target_recall, keep_rule=keep_rule,
                           skip_bad=skip_bad, progress=progress)
        res = _apply_review(res, ids, dec, key, meta_df, meta_id_col=meta_id_col, split_col=split_col,
                            patient_col=patient_col, quality_col=quality_col, keep_rule=keep_rule)
        from curate.synthetic import SUMMARY_NOTE, any_synthetic

        if any_synthetic(emb, meta):  # the summary of synthetic data says so first
            res.summary = {"synthetic": True, "note": SUMMARY_NOTE, **res.summary}
        if gallery:
            res.summary["gallery"] = _write_gallery(tmp / "gallery", res, images, key, gallery_writer)
        res.write_into(tmp)
        if getattr(res, "skipped", None):
            _write_skipped(tmp / "skipped.csv", res.skipped)
        leak = None
        if meta_df is not None:
            from curate.engine.leakage import leakage

            leak = leakage(res.pairs, meta_df, ids, meta_id_col=meta_id_col, split_col=split_col,
                           patient_col=patient_col)
            leak.write_into(tmp)
    return DedupRun(summary=res.summary, leakage=leak.summary if leak else None, result=res, leak=leak,
                    key_created=bool(key and key.created))


def _read_meta(meta, patient_col, quality_col):
    """The metadata table (ids matched as strings) and the patient column (default ``patient_id``)."""
    from curate.errors import UsageError
    from curate.tables import read_table

    if meta is None:
        if quality_col:
            raise UsageError("--quality-col needs --meta")
        return None, patient_col
    meta_df = read_table(meta, text=True, empty_as_na=False)  # ids are matched as strings
    if patient_col is None and "patient_id" in meta_df.columns:
        patient_col = "patient_id"
    return meta_df, patient_col


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
                   keep_rule, target_recall, skip_bad) -> None:
    """Every check of the options, before anything is read."""
    from curate._paths import check_io
    from curate.errors import UsageError
    from curate.limits import check_range

    check_io({"EMB": emb, "--meta": meta, "--images": images}, {"--out": out}, folders=["--out"])
    check_range("max_distance", max_distance)
    check_range("workers", workers)
    if (emb is None) == (images is None):
        raise UsageError("give either EMB (embeddings) or --images DIR, not both / neither")
    if skip_bad and images is None:
        raise UsageError("--skip-bad applies to --images (embeddings have no unreadable files)")
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


def _review_inputs(out, images, *, decisions, gallery, key_file, gallery_writer):
    """The pseudonym key and the reviewer's decisions (read and checked before the search), or Nones."""
    from curate.errors import UsageError

    if gallery and images is None:
        raise UsageError("--gallery shows thumbnails of the duplicate groups: it needs --images DIR")
    if gallery and gallery_writer is None:
        raise UsageError("gallery=True needs gallery_writer (curate.report.gallery.dedup_with_gallery passes "
                         "it)")
    if key_file is not None and not (gallery or decisions is not None):
        raise UsageError("--key-file applies with --gallery or --decisions (their pseudonyms)")
    if not (gallery or decisions is not None):
        return None, None
    from curate.pipeline.decisions import read_decisions
    from curate.policy.pseudonyms import load_key

    dec = read_decisions(decisions) if decisions is not None else None
    key = load_key(key_file)
    key.check_outside(out)
    return key, dec


def pseudonyms(key: Any, ids: Any) -> list[str]:
    """The keyed pseudonyms (kind ``image``) the gallery shows and decisions.csv holds for image ids."""
    return key.pseudonymise([str(i) for i in ids], kind="image")


def _apply_review(res, ids, dec, key, meta_df, *, meta_id_col, split_col, patient_col, quality_col,
                  keep_rule):
    """The result formed again without the pairs the reviewer marked not-copy (summary: ``review``); the
    result as it is without decisions (``dec`` None)."""
    if dec is None:
        return res
    from curate.engine.dedup.groups import regroup
    from curate.pipeline.decisions import apply_decisions, matched

    present = set(res.keep) | set(res.groups["id"].astype(str))
    universe = [str(i) for i in ids if str(i) in present]
    pairs = res.pairs.assign(pseudonym_a=pseudonyms(key, res.pairs["id_a"]),
                             pseudonym_b=pseudonyms(key, res.pairs["id_b"]))
    counts = matched(pairs, dec)
    kept = apply_decisions(pairs, dec).drop(columns=["pseudonym_a", "pseudonym_b"])
    quality = None
    if quality_col and meta_df is not None:
        m = _check_meta(meta_df, universe, meta_id_col, split_col, patient_col, quality_col)
        quality = m[quality_col].astype(float).to_numpy()
    new = regroup(universe, kept, quality=quality, keep_rule=keep_rule)
    n = len(universe)
    new.summary = {**res.summary, "pairs": len(new.pairs), "groups": int(new.groups["group"].nunique()),
                   "removed": n - len(new.keep), "kept": len(new.keep), "review": counts}
    if "kind" in new.pairs.columns:
        kinds = new.pairs["kind"].astype(str)
        new.summary.update(exact_pairs=int((kinds == "exact").sum()),
                           pixel_identical_pairs=int((kinds == "pixels").sum()),
                           perceptual_pairs=int((kinds == "perceptual").sum()))
    new.skipped = getattr(res, "skipped", None)
    return new


def gallery_groups(res: Any, images: str | Path, key: Any, *, max_groups: int = GALLERY_MAX_GROUPS,
                   max_items: int = GALLERY_MAX_ITEMS) -> tuple[list, int]:
    """The duplicate groups of an image-folder result as gallery groups (largest first; the kept image
    first, then the others by id), with their thumbnails; returns (groups, number of groups in all)."""
    from curate.engine.dedup.images import list_images
    from curate.pipeline.thumbnails import GalleryGroup, GalleryItem, thumbnail

    root = Path(images)
    files = {}
    for p in list_images(root):
        rel = p.relative_to(root)
        files[rel.as_posix()] = p
        files.setdefault(rel.with_suffix("").as_posix(), p)
    groups = res.groups.sort_values(["group", "is_representative", "id"], ascending=[True, False, True])
    members = {g: list(frame["id"].astype(str)) for g, frame in groups.groupby("group", sort=True)}
    order = sorted(members, key=lambda g: (-len(members[g]), g))
    pairs = res.pairs
    pair_group = groups.set_index("id")["group"]
    pg = pair_group.reindex(pairs["id_a"].astype(str)).to_numpy()
    out = []
    for g in order[:max_groups]:
        ids = members[g]
        mine = pairs[pg == g]
        kinds = [str(k) for k in mine["kind"]] if "kind" in mine.columns else []
        tier = next((TIERS[k] for k in ("perceptual", "pixels", "exact") if k in kinds), "near-duplicate")
        score = float(mine["hamming"].max()) if "hamming" in mine.columns and len(mine) else None
        names = dict(zip(ids, pseudonyms(key, ids)))
        items = [GalleryItem(names[i], thumbnail(files[i])) for i in ids[:max_items]]
        pp = list(zip(pseudonyms(key, mine["id_a"]), pseudonyms(key, mine["id_b"])))
        out.append(GalleryGroup(key="|".join(names[i] for i in ids[:2]), items=items, tier=tier,
                                score=score, pairs=pp, kept_first=True))
    return out, len(order)


def _write_gallery(folder: Path, res: Any, images: Any, key: Any, writer: Callable[..., Any]) -> dict:
    """Write the review gallery of ``res`` into ``folder``; returns what the summary says of it."""
    groups, total = gallery_groups(res, images, key)
    writer(folder, groups, title="Duplicate groups: review gallery",
           intro=f"{len(groups):,} of {total:,} duplicate groups (the largest first). The first image of "
                 "each group is the one dedup keeps; the score is the largest pHash Hamming distance between "
                 "two images of the group (0: identical hashes). Marking a group \"not a copy\" removes "
                 "all of its pairs; \"copy\" confirms them.")
    return {"groups_shown": len(groups), "groups": total, "folder": "gallery"}
