"""Near-duplicate detection on embeddings: every pair with cosine similarity >= threshold.

Three methods answer the same question; similarities are always computed exactly, so no method reports a
false pair; they differ in how much of the pair space they scan and in how their recall is known:

- ``exact`` — all pairs, the ground truth: blocked upper-triangle ``X @ Xᵀ`` (BLAS) on the CPU, FAISS flat
  k-NN with growing k on the GPU.
- ``semantic`` — SemDeDup-style clusters with a triangle-inequality band (``_semantic``): only the rows
  that *can* reach the threshold are compared with each cluster, so the recall is 1 by construction.
  Fast when the embeddings are clustered (real image embeddings are). With ``neighbors=m`` the older
  approximate search (each cluster against its m nearest clusters) instead.
- ``ivf`` — inverted lists (``_ivf``; blocked BLAS per list on the CPU, FAISS ``IndexIVFFlat`` on the
  GPU): each vector scans its ``nprobe`` nearest lists. ``nprobe`` is the smallest whose one-sided 95 %
  Clopper–Pearson bound over duplicate groups, on an exact-searched sample of rows, clears
  ``target_recall`` (``_recall``: a fixed-sequence test, so ``target_recall`` is certified at 95 %).
  When the bound cannot reach ``target_recall``, the search falls back to ``exact`` (the summary says why).
  From :data:`~curate.engine.kmeans.TWO_LEVEL_MIN_K` lists on (by default from about 262,000 rows: lists
  of :data:`~curate.engine._lists.ROWS_PER_LIST` rows) the lists are two-level (``_lists``), so that the
  cost stays linear in n.

``method="auto"``: ``exact`` below :data:`AUTO_EXACT_BELOW` vectors; from there, ``semantic`` when its
planned pair volume is at most 1/:data:`AUTO_MIN_SAVING` of the n² of exact search, else ``ivf`` (and so
``exact`` if ``ivf`` cannot be certified). From :data:`AUTO_IVF_FROM` vectors ``ivf`` is tried first:
the band search compares every row with every centroid (``n * sqrt(n)``), the two-level lists do not.

``threshold=1.0`` means identical up to float32 rounding: pairs with cosine >= ``1 - IDENTICAL_TOL``.

Duplicate groups and the keep list follow ``keep_rule`` (``_groups``: connected components, or greedy
as in SemDeDup).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from curate.engine._faiss import ProgressFn, blocked, flat_ip, range_pairs, resolve_device
from curate.engine._groups import KEEP_RULES, build_result
from curate.engine.embeddings import Embeddings, as_embeddings
from curate.errors import InputError, UsageError

METHODS = ("auto", "exact", "ivf", "semantic")
AUTO_EXACT_BELOW = 20_000
AUTO_MIN_SAVING = 16
AUTO_IVF_FROM = 500_000
IDENTICAL_TOL = 1e-5  # float32 normalisation + dot products of identical rows: observed up to ~1e-6
QUERY_BLOCK = 4096
__all__ = ["KEEP_RULES", "METHODS", "DedupResult", "build_result", "dedup", "describe_recall", "exact_pairs"]


@dataclass
class DedupResult:
    """Pairs, groups and the ids to keep, plus a JSON-able summary (counts only, never ids)."""

    pairs: Any  # DataFrame: id_a, id_b, cosine (id_a < id_b, sorted)
    groups: Any  # DataFrame: id, group, is_representative (only ids that have a duplicate)
    keep: list[str]
    summary: dict[str, Any] = field(default_factory=dict)

    def write_into(self, folder: str | os.PathLike) -> Path:
        """Write the four files into an existing (temporary) folder."""
        folder = Path(folder)
        self.pairs.to_parquet(folder / "pairs.parquet", index=False)
        self.groups.to_parquet(folder / "groups.parquet", index=False)
        (folder / "keep.txt").write_text("".join(f"{i}\n" for i in self.keep), encoding="utf-8")
        (folder / "summary.json").write_text(json.dumps(self.summary, indent=2, default=str) + "\n",
                                             encoding="utf-8")
        return folder

    def write(self, out_dir: str | os.PathLike) -> Path:
        """Write pairs.parquet, groups.parquet, keep.txt and summary.json atomically into ``out_dir``."""
        from curate._io import atomic_dir

        with atomic_dir(out_dir, kind="dedup") as tmp:
            self.write_into(tmp)
        return Path(out_dir)


def check_threshold(threshold: Any) -> float:
    try:
        t = float(threshold)
    except (TypeError, ValueError):
        raise UsageError(f"threshold must be a number in (0, 1], got {threshold!r}") from None
    if not (0.0 < t <= 1.0):
        raise UsageError(f"threshold must be in (0, 1], got {threshold}")
    return t


def default_nlist(n: int) -> int:
    """About sqrt(n) clusters (semantic), at least ~40 training points each."""
    return int(max(1, min(int(round(np.sqrt(n))), n // 40)))


def default_lists(n: int) -> int:
    """IVF lists: about sqrt(n), and lists of at most ROWS_PER_LIST rows once that is more (two-level)."""
    from curate.engine._lists import ROWS_PER_LIST

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
    t = check_threshold(threshold)
    meth = (method or "auto").lower()
    if meth not in METHODS:
        raise UsageError(f"method must be one of {', '.join(METHODS)}, got '{method}'")
    if keep_rule not in KEEP_RULES:
        raise UsageError(f"keep_rule must be one of {', '.join(KEEP_RULES)}, got '{keep_rule}'")
    try:
        target_recall = float(target_recall)
    except (TypeError, ValueError):
        raise UsageError(f"target_recall must be a number in (0, 1), got {target_recall!r}") from None
    if not (0.0 < target_recall < 1.0):
        raise UsageError(f"target_recall must be in (0, 1) (1 needs --method exact), got {target_recall}")
    for name, v in (("nlist", nlist), ("nprobe", nprobe), ("neighbors", neighbors),
                    ("sample_queries", sample_queries)):
        if v is not None and int(v) < 1:
            raise UsageError(f"{name} must be a positive integer, got {v}")
    dev = resolve_device(device)
    e = as_embeddings(emb, ids)
    if e.n == 0:
        raise InputError("no embeddings to deduplicate (0 rows)")
    qual = _quality_array(quality, e)
    x, ts = e.vectors, search_threshold(t)
    k = int(nlist or default_nlist(e.n))
    if not (1 <= k <= e.n):
        raise UsageError(f"nlist must be between 1 and the number of vectors ({e.n}), got {k}")
    k_ivf = int(nlist or default_lists(e.n))
    if nprobe is not None and int(nprobe) > k_ivf:
        raise UsageError(f"nprobe must be between 1 and nlist ({k_ivf}), got {nprobe}")
    if neighbors is not None and int(neighbors) > k:
        raise UsageError(f"neighbors must be between 1 and the number of clusters ({k}), got {neighbors}")
    info: dict[str, Any] = {}
    t1 = time.perf_counter()
    if meth == "auto":
        meth = "exact" if e.n < AUTO_EXACT_BELOW else "auto"
    pairs = None
    if meth in ("auto", "semantic", "ivf") and e.n >= 2:
        from curate.engine._approx import approximate

        pairs, meth = approximate(x, ts, meth, dev, (k, k_ivf), nprobe, neighbors, target_recall,
                                   sample_queries, seed, progress, info)
    if pairs is None:
        if meth != "exact":
            info["fallback"] = f"{meth} -> exact"
        meth = "exact"
        pairs = exact_pairs(x, ts, device=dev, progress=progress)
        info.update(recall_lower_bound=1.0, recall_confidence=1.0, recall_basis="exact search")
    t2 = time.perf_counter()
    res = build_result(e.ids, *pairs, quality=qual, keep_rule=keep_rule)
    t3 = time.perf_counter()
    timings = info.pop("timings", {})
    res.summary = {
        "n": e.n, "d": e.d, "pairs": len(res.pairs), "groups": int(res.groups["group"].nunique()),
        "removed": e.n - len(res.keep), "kept": len(res.keep), "method": meth, "threshold": t,
        **({"search_threshold": ts} if ts != t else {}), "keep_rule": keep_rule, "device": dev, **info,
        "timings": {"search_s": round(t2 - t1, 3), "groups_s": round(t3 - t2, 3),
                    "total_s": round(t3 - t0, 3), **timings},
    }
    return res


def describe_recall(s: dict[str, Any]) -> str:
    """``recall 1 (exact search ...)`` or ``recall ≥ 0.993 (95 %; held-out: ...)`` for summaries and cards."""
    low = s.get("recall_lower_bound")
    if low is None:
        return f"recall not bounded ({s.get('recall_basis', 'no estimate')})"
    if s.get("recall_confidence", 1.0) >= 1.0:
        return f"recall 1 ({s['recall_basis']})"
    return f"recall ≥ {low:.3f} ({s['recall_confidence']:.0%}; {s['recall_basis']})"


# ------------------------------------------------------------------------------------------ exact
class _LazyCpuFlat:
    """CPU flat index built only if a GPU k-NN search needs the range fallback."""

    def __init__(self, x: np.ndarray) -> None:
        self.x, self.index = x, None

    def range_search(self, xq: np.ndarray, radius: float):
        if self.index is None:
            self.index = flat_ip(self.x, "cpu")
        return self.index.range_search(xq, radius)


def exact_pairs(x: np.ndarray, threshold: float, *, device: str = "cpu", base: np.ndarray | None = None,
                base_offset: int = 0, query_offset: int = 0, progress: ProgressFn | None = None,
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair with inner product >= threshold, canonical ``i < j``.

    On the CPU: blocked float32 matrix products (BLAS), only the upper triangle when searching ``x``
    against itself; several times faster than FAISS ``IndexFlatIP.range_search`` on the same cores (see
    benchmarks). On the GPU: FAISS flat k-NN with growing k (``_faiss.range_via_knn``).
    With ``base`` the queries ``x`` are searched against ``base`` instead of themselves (used by the
    Dask path for off-diagonal blocks); row numbers are shifted by the offsets.
    """
    if device != "gpu":
        return gemm_pairs(x, threshold, base=base, base_offset=base_offset, query_offset=query_offset,
                          progress=progress)
    b = x if base is None else base
    index = flat_ip(b, device)
    fallback = _LazyCpuFlat(b) if device == "gpu" else None
    qs, js, ds = [], [], []
    spans = blocked(len(x), QUERY_BLOCK)
    for k, (s, e) in enumerate(spans):
        q, j, d = range_pairs(index, x[s:e], threshold, offset=s, device=device, cpu_fallback=fallback)
        qs.append(q + query_offset)
        js.append(j + base_offset)
        ds.append(d)
        if progress:
            progress("exact search", k + 1, len(spans))
    return canonical_pairs(np.concatenate(qs), np.concatenate(js), np.concatenate(ds))


def gemm_pairs(x: np.ndarray, threshold: float, *, base: np.ndarray | None = None, base_offset: int = 0,
               query_offset: int = 0, progress: ProgressFn | None = None, qblock: int = 2048,
               bblock: int = 8192) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact threshold search by blocked ``X @ Xᵀ`` (upper triangle only without ``base``)."""
    t = np.float32(threshold)
    same = base is None
    b = x if same else base
    bblock = _columns(bblock, qblock, b)
    qs, js, ds = [], [], []
    spans = blocked(len(x), qblock)
    for k, (s, e) in enumerate(spans):
        xq = x[s:e]
        for s2, e2 in blocked(len(b), bblock):
            if same and e2 <= s:
                continue
            sim = xq @ b[s2:e2].T
            r, c = np.nonzero(sim >= t)
            if same:
                keep = r + s < c + s2
                r, c = r[keep], c[keep]
            qs.append(r.astype(np.int64) + s + query_offset)
            js.append(c.astype(np.int64) + s2 + base_offset)
            ds.append(sim[r, c])
        if progress:
            progress("exact search", k + 1, len(spans))
    if not qs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    return canonical_pairs(np.concatenate(qs), np.concatenate(js), np.concatenate(ds))


def _columns(bblock: int, qblock: int, xb: np.ndarray) -> int:
    """Base rows per product block: the similarity block stays below 1/16 of the data (min 8 MiB), so the
    searches' peak memory stays well inside the 2.5 x the embeddings of issue 17."""
    budget = max(8 << 20, xb.nbytes // 16)
    return int(max(256, min(bblock, budget // (4 * qblock))))


def canonical_pairs(q: np.ndarray, j: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Drop self matches, order each pair as (low, high) row and keep one copy of each pair."""
    a, b = np.minimum(q, j).astype(np.int64), np.maximum(q, j).astype(np.int64)
    keep = a != b
    a, b, d = a[keep], b[keep], d[keep]
    if not len(a):
        return a, b, d.astype(np.float32)
    order = np.lexsort((b, a))
    a, b, d = a[order], b[order], d[order]
    first = np.ones(len(a), dtype=bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    return a[first], b[first], d[first].astype(np.float32)


def cell_pairs(x: np.ndarray, threshold: float, cells, *, progress=None, label: str = "search",
               n_cells: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs >= threshold over ``cells`` — (query rows, member rows) per inverted list or shell — by blocked
    products, a block of query rows at a time; canonical (low, high) pairs, each once.

    Many small cells run on a thread per core (:mod:`curate.engine._threads`); when one cell holds a
    large share of the work, one thread with multi-threaded BLAS."""
    from curate.engine._threads import cores, parallel_map

    cells = [(q, m) for q, m in cells]
    n_cells = n_cells or len(cells)
    work = np.array([len(q) * len(m) for q, m in cells], dtype=np.float64)
    per = max(1, -(-len(cells) // (8 * cores())))  # cells per task: a few tasks per thread
    per = min(per, 64)
    tasks = [cells[i:i + per] for i in range(0, len(cells), per)]
    workers = 1 if not len(work) or work.max() > work.sum() / (2 * cores()) else None

    def run(task):
        qs, js, ds = [], [], []
        for qrows, mrows in task:
            if len(qrows) and len(mrows):
                xm = x[mrows]
                for s, e in blocked(len(qrows), 4096):  # gather the query rows a block at a time
                    q, j, d = dense_pairs(x[qrows[s:e]], xm, threshold, qrows[s:e], mrows)
                    qs.append(q)
                    js.append(j)
                    ds.append(d)
        return qs, js, ds

    qs, js, ds = [], [], []
    done = 0
    for q, j, d in parallel_map(run, tasks, workers):
        qs += q
        js += j
        ds += d
        done += per
        if progress:
            progress(label, min(done, n_cells), n_cells)
    if not qs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    return canonical_pairs(np.concatenate(qs), np.concatenate(js), np.concatenate(ds))


def dense_pairs(xq: np.ndarray, xb: np.ndarray, threshold: float, qrows: np.ndarray, brows: np.ndarray,
                *, qblock: int = 1024, bblock: int = 65_536) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Blocked matrix products: pairs (qrows[a], brows[b], sim) with sim >= threshold (self pairs kept)."""
    t = np.float32(threshold)
    bblock = _columns(bblock, qblock, xb)
    qs, bs, ds = [], [], []
    for s, e in blocked(len(xq), qblock):
        for s2, e2 in blocked(len(xb), bblock):
            sim = xq[s:e] @ xb[s2:e2].T
            r, c = np.nonzero(sim >= t)
            qs.append(qrows[s + r])
            bs.append(brows[s2 + c])
            ds.append(sim[r, c])
    if not qs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    return (np.concatenate(qs).astype(np.int64), np.concatenate(bs).astype(np.int64),
            np.concatenate(ds).astype(np.float32))




# ------------------------------------------------------------------------------------ quality
def _quality_array(quality: Any, e: Embeddings) -> np.ndarray | None:
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
