""":func:`find_overlap`: run the tiers over every pair of inputs and keep each pair at its strongest tier."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from curate.engine.dedup.kernel import ProgressFn
from curate.engine.overlap.features import HASH_BOXES, HASH_SIZE, THUMB, ImageKeys, image_keys
from curate.engine.overlap.inputs import OverlapInput, check_inputs
from curate.engine.overlap.result import PAIR_COLUMNS, TIERS, OverlapResult, check_tiers, empty_pairs
from curate.engine.overlap.search import embedding_pairs, equal_key_pairs, hash_candidates
from curate.engine.overlap.verify import (
    CROP_STEP,
    EDGE_SHARE,
    HIGHPASS_SIGMA,
    MAX_CROP,
    MIN_SIMILARITY,
    TILE_ENERGY,
    TILES,
    VERIFY,
    verify_pairs,
)
from curate.validation import Interval, Options, ParameterError, validate_params

MAX_DISTANCE = 8
CONSTRAINTS = {"max_distance": Interval(0, HASH_SIZE ** 2 - 1),
               "threshold": Interval(0.0, 1.0, integer=False),
               "min_similarity": Interval(0.0, 1.0, integer=False),
               "seed": Interval(0, None)}


def find_overlap(inputs: list[OverlapInput], *, tiers: Any = TIERS, max_distance: int = MAX_DISTANCE,
                 threshold: float = 0.95, min_similarity: float = MIN_SIMILARITY, device: str = "auto",
                 seed: int = 0, progress: ProgressFn | None = None, skip_bad: bool = True,
                 dask: Any = None) -> OverlapResult:
    """Pairs of images shared between datasets, each at its strongest tier (bytes > pixels > perceptual >
    embedding); only pairs *between* datasets.

    ``max_distance``: Hamming radius (bits of a 64-bit robust hash) for tier 3 candidates; ``min_similarity``:
    the verification score (aligned, intensity-matched, high-passed correlation on the decoded pixels,
    :mod:`.verify`) a candidate needs to be reported as a copy; ``threshold``: the cosine (in (0, 1]) of a
    tier 4 candidate. ``device`` (``auto`` / ``cpu`` / ``gpu``) and ``dask`` (``"local"``,
    a scheduler address or a ``distributed.Client``) run tier 4. Tiers run where both datasets have what
    they need (files for 1-3, embeddings for 4). ``seed`` is recorded; no step is random.
    """
    validate_params({"max_distance": max_distance, "threshold": threshold, "min_similarity": min_similarity,
                     "seed": seed}, CONSTRAINTS)
    if not float(threshold) > 0:
        raise ParameterError("threshold", f"must be in (0, 1] (got {threshold})")
    tiers = check_tiers(tiers)
    from curate.engine.devices import DEVICES, resolve_device

    Options(DEVICES).check("device", device or "auto")
    dev = resolve_device(device) if "embedding" in tiers else "cpu"
    inputs = check_inputs(inputs)
    t0 = time.perf_counter()
    with_files = [i for i in inputs if i.files is not None]
    with_emb = [i for i in inputs if i.embeddings is not None]
    run = tuple(t for t in tiers if (len(with_files) >= 2 if t != "embedding" else len(with_emb) >= 2))
    if not run:
        from curate.errors import InputError

        raise InputError(f"no tier of {', '.join(tiers)} can run: tiers 1-3 need image files and tier 4 "
                         "embeddings in at least two inputs")
    keys, skipped = {}, []
    perceptual = "perceptual" in run
    for inp in with_files if any(t in run for t in TIERS[:3]) else []:
        keys[inp.name], bad = image_keys(inp.name, inp.files, inp.ids, perceptual=perceptual,
                                         skip_bad=skip_bad, progress=progress)
        skipped += bad
    t1 = time.perf_counter()
    frames, stats = [], {"perceptual_candidates": 0, "perceptual_rejected": 0}
    for x, a in enumerate(inputs):
        for b in inputs[x + 1:]:
            if a.name in keys and b.name in keys:
                frames.append(_image_tiers(keys[a.name], keys[b.name], a.name, b.name, run, max_distance,
                                           min_similarity, stats))
    t2 = time.perf_counter()
    if "embedding" in run:
        frames.append(_embedding_tier(with_emb, threshold, dev, dask, progress))
    t3 = time.perf_counter()
    pairs = _strongest(frames)
    sizes = {i.name: len(keys[i.name].ids) if i.name in keys else len(i.ids) for i in inputs}
    ids = {i.name: keys[i.name].ids if i.name in keys else list(i.ids) for i in inputs}
    patients = {i.name: dict(zip(i.ids, i.patients)) for i in inputs if i.patients is not None}
    params = _params(tiers, run, max_distance, min_similarity, threshold, dev, dask, seed, stats, skip_bad)
    timings = {"hash_s": round(t1 - t0, 3), "image_search_s": round(t2 - t1, 3),
               "embedding_s": round(t3 - t2, 3), "total_s": round(time.perf_counter() - t0, 3)}
    return OverlapResult(names=[i.name for i in inputs], sizes=sizes, pairs=pairs, skipped=skipped,
                         timings=timings, params=params, patients=patients, ids=ids)


def _frame(da: str, ids_a: list[str], ia: np.ndarray, db: str, ids_b: list[str], ib: np.ndarray, tier: str,
           score: np.ndarray, verified: bool) -> pd.DataFrame:
    return pd.DataFrame({"dataset_a": da, "id_a": np.asarray(ids_a, dtype=object)[ia] if len(ia) else [],
                         "dataset_b": db, "id_b": np.asarray(ids_b, dtype=object)[ib] if len(ib) else [],
                         "tier": tier, "score": np.asarray(score, dtype=np.float64), "verified": verified},
                        columns=PAIR_COLUMNS)


def _image_tiers(ka: ImageKeys, kb: ImageKeys, da: str, db: str, run: tuple[str, ...], max_distance: int,
                 min_similarity: float, stats: dict[str, int]) -> pd.DataFrame:
    out, done = [], set()
    for tier, attr in (("bytes", "sha256"), ("pixels", "pixels")):
        if tier in run:
            ia, ib = equal_key_pairs(getattr(ka, attr), getattr(kb, attr))
            out.append(_frame(da, ka.ids, ia, db, kb.ids, ib, tier, np.ones(len(ia)), True))
            done |= set(zip(ia.tolist(), ib.tolist()))
    if "perceptual" in run:
        ia, ib = hash_candidates(ka.hashes, kb.hashes, max_distance)
        new = np.array([(a, b) not in done for a, b in zip(ia.tolist(), ib.tolist())], dtype=bool)
        ia, ib = ia[new] if len(ia) else ia, ib[new] if len(ib) else ib
        sim = verify_pairs(ka.thumbs, kb.thumbs, ia, ib)
        ok = sim >= min_similarity
        stats["perceptual_candidates"] += int(len(ia))
        stats["perceptual_rejected"] += int((~ok).sum())
        out.append(_frame(da, ka.ids, ia[ok], db, kb.ids, ib[ok], "perceptual", sim[ok], True))
    return pd.concat(out, ignore_index=True) if out else empty_pairs()


def _embedding_tier(inputs: list[OverlapInput], threshold: float, device: str, dask: Any,
                    progress: ProgressFn | None) -> pd.DataFrame:
    from curate.engine.dedup.api import search_threshold

    t = search_threshold(threshold)
    out = []
    for x, a in enumerate(inputs):
        for b in inputs[x + 1:]:
            if dask is None:
                ia, ib, sim = embedding_pairs(a.embeddings, b.embeddings, t, device=device, progress=progress)
            else:
                from curate.engine.dask_shards import dask_client

                with dask_client(dask) as client:
                    ia, ib, sim = embedding_pairs(a.embeddings, b.embeddings, t, client=client)
            out.append(_frame(a.name, a.ids, ia, b.name, b.ids, ib, "embedding", sim, False))
    return pd.concat(out, ignore_index=True)


def _strongest(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """One row per (dataset_a, id_a, dataset_b, id_b): the strongest tier's."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_pairs()
    p = pd.concat(frames, ignore_index=True)
    p["_rank"] = p["tier"].map({t: k for k, t in enumerate(TIERS)})
    p = p.sort_values(["dataset_a", "dataset_b", "_rank", "id_a", "id_b"], kind="stable")
    p = p.drop_duplicates(["dataset_a", "id_a", "dataset_b", "id_b"], keep="first")
    p = p.drop(columns="_rank").reset_index(drop=True)
    p["verified"] = p["verified"].astype(bool)
    return p


def _params(tiers: tuple[str, ...], run: tuple[str, ...], max_distance: int, min_similarity: float,
            threshold: float, device: str, dask: Any, seed: int, stats: dict[str, int],
            skip_bad: bool) -> dict[str, Any]:
    return {
        "tiers": list(tiers), "tiers_run": list(run), "seed": seed, "skip_bad": skip_bad,
        "bytes": "SHA-256 of the file's bytes",
        "pixels": "SHA-256 of the decoded stored values (shape, dtype, data; before any display transform)",
        "perceptual_hash": (f"{HASH_SIZE ** 2}-bit pHash (imagehash.phash) of {len(HASH_BOXES)} regions "
                            "(central 80 %, shifted 5 % each way, a 3x3 grid of 72 % regions) of a "
                            f"{THUMB}x{THUMB} rank-equalised grey thumbnail; candidate when any two hashes "
                            "are within max_distance bits (FAISS IndexBinaryFlat range search)"),
        "max_distance": int(max_distance),
        "verification": ("both directions: the source histogram-matched to the target, aligned as a crop of "
                         f"up to {MAX_CROP:.0%} of each dimension (steps of {CROP_STEP:.1%}, coarse to fine "
                         f"at {VERIFY // 4}, {VERIFY // 2} and {VERIFY} px), then Pearson correlation of the "
                         f"high-passed images (sigma {HIGHPASS_SIGMA} px at {VERIFY} px) over pixels neither "
                         f"clipped nor on the strongest {EDGE_SHARE:.0%} of edges, taken in each of "
                         f"{TILES}x{TILES} tiles holding >= {TILE_ENERGY} x the mean tile's energy; score = "
                         "the lowest tile's (a copy agrees in every region); copy when the larger "
                         "direction's score >= min_similarity"),
        "min_similarity": float(min_similarity), **stats,
        "embedding": "cosine >= threshold, exact search (every cross-dataset pair); candidates, not copies",
        "threshold": float(threshold), "device": device, "dask": dask is not None,
    }
