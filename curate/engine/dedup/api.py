"""``dedup``: every pair with cosine similarity >= threshold, its duplicate groups and the rows to keep.

Three methods answer the same question; similarities are always computed exactly, so no method reports a
false pair; they differ in how much of the pair space they scan and in how their recall is known:

- ``exact`` — all pairs, the ground truth: blocked upper-triangle ``X @ Xᵀ`` (BLAS) on the CPU, FAISS flat
  k-NN with a CPU range fallback on the GPU (:mod:`~curate.engine.dedup.exact`).
- ``semantic`` — SemDeDup-style clusters with a triangle-inequality band (:mod:`~curate.engine.dedup.bands`):
  only the rows that *can* reach the threshold are compared with each cluster, so the recall is 1 by
  construction. Fast when the embeddings are clustered (real image embeddings are). With ``neighbors=m``
  the older approximate search (each cluster against its m nearest clusters) instead.
- ``ivf`` — inverted lists (:mod:`~curate.engine.dedup.ivf`): each vector scans its ``nprobe`` nearest
  lists. ``nprobe`` is the smallest whose one-sided 95 % Clopper–Pearson bound over duplicate groups, on an
  exact-searched sample of rows, clears ``target_recall`` (:mod:`~curate.engine.dedup.recall`: a
  fixed-sequence test, so ``target_recall`` is certified at 95 %). When the bound cannot reach
  ``target_recall``, the search falls back to ``exact`` (the summary says why, and a progress stage says
  so before it starts, with the estimated time) — except under ``auto`` on clean data, where too few
  duplicates make the target uncertifiable: the search then runs anyway and the summary bounds the share
  of rows with a missed partner (:func:`~curate.engine.dedup.recall.row_bound_search`). From
  :data:`~curate.engine.cluster.kmeans.TWO_LEVEL_MIN_K` lists on (by default from about 262,000 rows:
  lists of :data:`~curate.engine.dedup.lists.ROWS_PER_LIST` rows) the lists are two-level, so that the
  cost stays linear in n.

``method="auto"``: see :mod:`~curate.engine.dedup.plan`. ``threshold=1.0`` means identical up to float32
rounding: pairs with cosine >= ``1 - IDENTICAL_TOL``. Duplicate groups and the keep list follow
``keep_rule`` (:mod:`~curate.engine.dedup.groups`: connected components, or greedy as in SemDeDup).
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from curate.engine.cluster.kmeans import TWO_LEVEL_MIN_K
from curate.engine.dedup.exact import exact_pairs
from curate.engine.dedup.groups import DedupResult, build_result, check_keep_rule
from curate.engine.dedup.kernel import ProgressFn, lowp_bound, lowp_off, use_lowp
from curate.engine.dedup.lists import ROWS_PER_LIST
from curate.engine.dedup.plan import AUTO_EXACT_BELOW, SearchPlan, approximate
from curate.engine.devices import resolve_device
from curate.engine.embeddings import Embeddings, as_embeddings
from curate.errors import InputError, UsageError
from curate.validation import Options

METHODS = ("auto", "exact", "ivf", "semantic")
IDENTICAL_TOL = 1e-5  # float32 normalisation + dot products of identical rows: observed up to ~1e-6


def check_threshold(threshold: Any) -> float:
    try:
        t = float(threshold)
    except (TypeError, ValueError):
        raise UsageError(f"threshold must be a number in (0, 1], got {threshold!r}") from None
    if not (0.0 < t <= 1.0):
        raise UsageError(f"threshold must be in (0, 1], got {threshold}")
    return t


def check_method(method: str | None) -> str:
    """The pair-search method (:data:`METHODS`, ``None`` = auto), lower-cased; the one check of it."""
    return Options(METHODS).check("method", method or "auto")


def default_nlist(n: int) -> int:
    """About sqrt(n) clusters (semantic), at least ~40 training points each."""
    return int(max(1, min(int(round(np.sqrt(n))), n // 40)))


def default_lists(n: int) -> int:
    """IVF lists: about sqrt(n), and lists of at most ROWS_PER_LIST rows once that is more (two-level)."""
    return max(default_nlist(n), n // ROWS_PER_LIST)


def search_threshold(t: float) -> float:
    """The similarity actually searched for: ``1.0`` becomes ``1 - IDENTICAL_TOL`` (float32 rounding)."""
    return min(t, 1.0 - IDENTICAL_TOL)


def dedup(emb: Embeddings | np.ndarray, threshold: float = 0.95, method: str = "auto", device: str = "auto",
          *, ids: Any = None, quality: Any = None, nlist: int | None = None, nprobe: int | None = None,
          neighbors: int | None = None, target_recall: float = 0.99, sample_queries: int = 2000,
          keep_rule: str = "components", seed: int = 0, progress: ProgressFn | None = None) -> DedupResult:
    """Find near-duplicate pairs (cosine >= ``threshold``), group them and choose the rows to keep.

    Parameters
    ----------
    emb : Embeddings, (n, d) array (then ``ids`` optional; rows are L2-normalised on a copy) or a path.
    threshold : cosine similarity in (0, 1]; pairs at or above it are duplicates (1.0: identical up to
        float32 rounding, see :data:`IDENTICAL_TOL`).
    method : ``auto`` | ``exact`` | ``ivf`` | ``semantic`` (see the module docstring).
    device : ``auto`` | ``cpu`` | ``gpu`` (FAISS GPU; ``gpu`` without one is an error).
    quality : optional per-row score (array aligned with the rows, or mapping id -> score); the highest
        score is kept first.
    nlist : ivf lists / semantic clusters (default about sqrt(n); ivf lists of at most 256 rows from
        about 262,000 rows on, see :func:`default_lists`).
    nprobe, neighbors : fix the ivf / approximate-semantic parameter (its recall is then bounded, not
        tuned); otherwise ivf chooses ``nprobe`` for ``target_recall``.
    target_recall : the recall the approximate search must certify (one-sided 95 % lower bound).
    sample_queries : rows of the exact-searched recall sample to start with (grown until it holds enough
        duplicate groups to certify ``target_recall``, at most 1/8 of the rows).
    keep_rule : ``components`` (one row per connected group) or ``greedy`` (SemDeDup).

    Examples
    --------
    >>> import numpy as np, curate
    >>> x = np.random.default_rng(0).normal(size=(100, 16)).astype("float32")
    >>> res = curate.dedup(np.vstack([x, x[:3]]), threshold=0.99, method="exact", device="cpu")
    >>> res.summary["pairs"], res.summary["removed"]
    (3, 3)
    """
    if isinstance(emb, (str, os.PathLike)):  # a path (parquet / .npy / folder), as curate.cluster accepts
        from curate.engine.embeddings import load_embeddings

        emb = load_embeddings(emb)
    t0 = time.perf_counter()
    plan, e, qual = _check(emb, ids, quality, threshold, method, device, nlist, nprobe, neighbors,
                           target_recall, sample_queries, keep_rule, seed)
    t = check_threshold(threshold)
    x, info = e.vectors, {}
    t1 = time.perf_counter()
    try:
        pairs, meth, info = _search(x, plan, progress)
    finally:
        lowp_off()
    t2 = time.perf_counter()
    res = build_result(e.ids, *pairs, quality=qual, keep_rule=keep_rule)
    t3 = time.perf_counter()
    timings = info.pop("timings", {})
    ts = plan.threshold
    res.summary = {
        "n": e.n, "d": e.d, "pairs": len(res.pairs), "groups": int(res.groups["group"].nunique()),
        "removed": e.n - len(res.keep), "kept": len(res.keep), "method": meth, "threshold": t,
        **({"search_threshold": ts} if ts != t else {}), "keep_rule": keep_rule, "device": plan.device,
        **info, "timings": {"search_s": round(t2 - t1, 3), "groups_s": round(t3 - t2, 3),
                            "total_s": round(t3 - t0, 3), **timings},
    }
    return res


def _search(x: np.ndarray, plan: SearchPlan, progress: ProgressFn | None) -> tuple[Any, str, dict[str, Any]]:
    """The pairs (a, b, similarity), the method that found them and what the summary says of it."""
    n, d = x.shape
    pairs, meth, info = None, plan.method, {}
    lowp = False
    if meth != "exact" and n >= 2:
        pairs, meth, info = approximate(x, plan, progress)
    if pairs is None:
        if meth != "exact":
            info["fallback"] = f"{meth} -> exact"
        meth = "exact"
        lowp = plan.device == "cpu" and use_lowp(n * float(n) * d / 2, d)
        if "fallback" in info:  # said before the quadratic search starts, with its estimated time
            _announce_exact(x, plan.device, info, progress)
        pairs = exact_pairs(x, plan.threshold, device=plan.device, progress=progress)
        info.update(recall_lower_bound=1.0, recall_confidence=1.0, recall_basis="exact search")
    if lowp:
        info["scores"] = (f"bfloat16 candidates within their proven error bound ({lowp_bound(d):.4f}) of "
                          "the threshold, each verified in float32")
    return pairs, meth, info


def _check(emb: Any, ids: Any, quality: Any, threshold: Any, method: str, device: str, nlist: int | None,
           nprobe: int | None, neighbors: int | None, target_recall: Any, sample_queries: int,
           keep_rule: str, seed: int) -> tuple[SearchPlan, Embeddings, np.ndarray | None]:
    """Every parameter of :func:`dedup` checked once (errors name the parameter); the search plan."""
    if isinstance(emb, (str, os.PathLike)):  # a path (parquet / .npy / folder), as curate.cluster accepts
        from curate.engine.embeddings import load_embeddings

        emb = load_embeddings(emb)
    t = check_threshold(threshold)
    meth = check_method(method)
    check_keep_rule(keep_rule)
    try:
        target_recall = float(target_recall)
    except (TypeError, ValueError):
        raise UsageError(f"target_recall must be a number in (0, 1), got {target_recall!r}") from None
    if not (0.0 < target_recall < 1.0):
        raise UsageError(f"target_recall must be in (0, 1) (1 needs method exact), got {target_recall}")
    for name, v in (("nlist", nlist), ("nprobe", nprobe), ("neighbors", neighbors),
                    ("sample_queries", sample_queries)):
        if v is not None and int(v) < 1:
            raise UsageError(f"{name} must be a positive integer, got {v}")
    dev = resolve_device(device)
    e = as_embeddings(emb, ids)
    if e.n == 0:
        raise InputError("no embeddings to deduplicate (0 rows)")
    k = int(nlist or default_nlist(e.n))
    if not (1 <= k <= e.n):
        raise UsageError(f"nlist must be between 1 and the number of vectors ({e.n}), got {k}")
    k_ivf = int(nlist or default_lists(e.n))
    if nprobe is not None and int(nprobe) > k_ivf:
        raise UsageError(f"nprobe must be between 1 and nlist ({k_ivf}), got {nprobe}")
    if neighbors is not None and int(neighbors) > k:
        raise UsageError(f"neighbors must be between 1 and the number of clusters ({k}), got {neighbors}")
    if meth == "auto" and e.n < AUTO_EXACT_BELOW:
        meth = "exact"
    if meth == "auto" and nlist is None and k_ivf < TWO_LEVEL_MIN_K:
        k = k_ivf  # one k-means serves the band plan and, when that is too wide, the IVF lists
    plan = SearchPlan(search_threshold(t), meth, dev, k, k_ivf, None if nprobe is None else int(nprobe),
                      None if neighbors is None else int(neighbors), target_recall, int(sample_queries), seed)
    return plan, e, quality_array(quality, e)


def _announce_exact(x: np.ndarray, device: str, info: dict[str, Any], progress: ProgressFn | None) -> None:
    """The fallback to the quadratic exact search, with its estimated time (summary and progress stage)."""
    from curate.engine.dedup.exact import estimate_seconds

    if device == "gpu":  # pragma: no cover - GPU machines only
        return
    est = estimate_seconds(x)
    info["exact_estimate_s"] = float(f"{est:.3g}")
    if progress:
        progress(f"exact search ({info['fallback']}: {info.get('fallback_reason', '')}; about {est:,.0f} s)",
                 0, 1)


def describe_recall(s: dict[str, Any]) -> str:
    """``recall 1 (exact search ...)`` or ``recall ≥ 0.993 (95 %; held-out: ...)`` for summaries and cards."""
    low = s.get("recall_lower_bound")
    if "missed_row_share_upper" in s:  # clean data: the certified statement is about rows
        held = s.get("recall_sample_rows", {}).get("held_out", 0)
        pair = "pair recall not bounded" if low is None else f"pair recall ≥ {low:.3f}"
        return (f"rows with a missed duplicate partner ≤ {s['missed_row_share_upper']:.3%} (at most "
                f"{s['missed_rows_upper']:,} of {s['n']:,}; 95%, {held:,} held-out rows; clean data: too few "
                f"duplicates to certify recall {s.get('target_recall', 0.99):g}; {pair})")
    if low is None:
        return f"recall not bounded ({s.get('recall_basis', 'no estimate')})"
    if s.get("recall_confidence", 1.0) >= 1.0:
        return f"recall 1 ({s['recall_basis']})"
    return f"recall ≥ {low:.3f} ({s['recall_confidence']:.0%}; {s['recall_basis']})"


# ------------------------------------------------------------------------------------ quality
def quality_array(quality: Any, e: Embeddings) -> np.ndarray | None:
    """Per-row scores aligned with ``e`` (array or mapping id -> score); NaN ranks last."""
    if quality is None:
        return None
    if isinstance(quality, dict) or hasattr(quality, "reindex"):
        import pandas as pd

        s = pd.Series(quality) if isinstance(quality, dict) else quality
        s.index = s.index.astype(str)
        missing = int((~pd.Index(e.ids).isin(s.index)).sum())
        if missing:
            raise InputError(f"quality scores missing for {missing} of {e.n} ids")
        q = s.reindex(e.ids).to_numpy(dtype=np.float64)
    else:
        q = np.asarray(quality, dtype=np.float64)
        if q.shape != (e.n,):
            raise InputError(f"quality must have one value per row ({e.n}), got shape {q.shape}")
    return np.where(np.isnan(q), -np.inf, q)
