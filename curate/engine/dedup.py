"""Near-duplicate detection on embeddings: every pair with cosine similarity >= threshold.

Three methods answer the same question (they differ only in how much of the pair space they scan):

- ``exact`` — FAISS ``IndexFlatIP.range_search`` over blocks of queries: all pairs, the ground truth.
- ``ivf`` — FAISS ``IndexIVFFlat``: each vector is compared only with the ``nprobe`` inverted lists
  whose centroids are closest to it. Similarities are exact, so every reported pair is real; only
  recall can drop. ``nprobe`` is chosen so that the *estimated* recall is >= ``target_recall``.
- ``semantic`` — SemDeDup-style (Abbas et al. 2023, "SemDeDup", arXiv:2303.09540): spherical k-means,
  then exact search inside each cluster and between each cluster and its ``neighbors`` nearest clusters.

Recall estimate (ivf / semantic): a random sample of query rows is searched exactly against all rows;
for every true pair found this way we know which lists / clusters would have to be scanned to find it,
so the smallest ``nprobe`` / ``neighbors`` reaching the target (plus a sampling margin, see
:func:`_choose`) is read off directly, and the recall of
the final run is measured on those sampled pairs. The sample grows (x4, within a cost cap) while it
holds fewer than ``min_sample_pairs``; if it still holds none, each sampled row's nearest neighbour
stands in (a conservative proxy: near-duplicates are closer than typical nearest neighbours).

``method="auto"`` uses ``exact`` below :data:`AUTO_EXACT_MAX` vectors (exact search costs n²·d
multiply-adds: ~3·10¹³ at 200k x 768, minutes on a multi-core CPU, seconds on a GPU) and ``ivf`` above.

Duplicate groups are the connected components of the pair graph (``scipy.sparse.csgraph``); each keeps
one representative: the row with the highest ``quality`` if given, else (and on ties) the smallest id.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from curate.engine._faiss import (
    ProgressFn,
    blocked,
    faiss_module,
    flat_ip,
    kmeans,
    range_pairs,
    resolve_device,
    set_nprobe,
)
from curate.engine.embeddings import Embeddings, as_embeddings
from curate.errors import InputError, UsageError

METHODS = ("auto", "exact", "ivf", "semantic")
AUTO_EXACT_MAX = 200_000
QUERY_BLOCK = 4096


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
    """About sqrt(n) lists / clusters, at least ~40 training points each."""
    return int(max(1, min(int(round(np.sqrt(n))), n // 40)))


def dedup(emb: Embeddings | np.ndarray, threshold: float = 0.95, method: str = "auto", device: str = "auto",
          *, ids: Any = None, quality: Any = None, nlist: int | None = None, nprobe: int | None = None,
          neighbors: int | None = None, target_recall: float = 0.99, sample_queries: int = 2000,
          min_sample_pairs: int = 50, seed: int = 0, progress: ProgressFn | None = None) -> DedupResult:
    """Find near-duplicate pairs (cosine >= ``threshold``), group them and choose one row per group.

    Parameters
    ----------
    emb : Embeddings, (n, d) array (then ``ids`` optional; rows are L2-normalised on a copy) or a path.
    threshold : cosine similarity in (0, 1]; pairs at or above it are duplicates.
    method : ``auto`` | ``exact`` | ``ivf`` | ``semantic`` (see the module docstring).
    device : ``auto`` | ``cpu`` | ``gpu`` (FAISS GPU; ``gpu`` without one is an error).
    quality : optional per-row score (array aligned with the rows, or mapping id -> score); the highest
        score in a group is kept.
    nlist, nprobe, neighbors : override the ivf / semantic parameters (nprobe / neighbors are otherwise
        chosen for ``target_recall``).

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
    if not (0.0 < target_recall <= 1.0):
        raise UsageError(f"target_recall must be in (0, 1], got {target_recall}")
    dev = resolve_device(device)
    e = as_embeddings(emb, ids)
    if e.n == 0:
        raise InputError("no embeddings to deduplicate (0 rows)")
    qual = _quality_array(quality, e)
    if meth == "auto":
        meth = "exact" if e.n < AUTO_EXACT_MAX else "ivf"
    x = e.vectors
    info: dict[str, Any] = {}
    t1 = time.perf_counter()
    if meth == "exact" or e.n < 2:
        i, j, c = exact_pairs(x, t, device=dev, progress=progress)
        info.update(recall=1.0, recall_basis="exact search")
    elif meth == "ivf":
        i, j, c = _ivf_pairs(x, t, dev, nlist, nprobe, target_recall, sample_queries, min_sample_pairs, seed,
                             progress, info)
    else:
        i, j, c = _semantic_pairs(x, t, dev, nlist, neighbors, target_recall, sample_queries,
                                  min_sample_pairs, seed, progress, info)
    t2 = time.perf_counter()
    res = build_result(e.ids, i, j, c, quality=qual)
    t3 = time.perf_counter()
    res.summary = {
        "n": e.n, "d": e.d, "pairs": len(res.pairs), "groups": int(res.groups["group"].nunique()),
        "removed": e.n - len(res.keep), "kept": len(res.keep), "method": meth, "threshold": t,
        "device": dev, **info,
        "timings": {"search_s": round(t2 - t1, 3), "groups_s": round(t3 - t2, 3),
                    "total_s": round(t3 - t0, 3), **info.pop("timings", {})},
    }
    return res


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
    """Every pair with inner product >= threshold (FAISS flat range search), canonical ``i < j``.

    With ``base`` the queries ``x`` are searched against ``base`` instead of themselves (used by the
    Dask path for off-diagonal blocks); row numbers are shifted by the offsets.
    """
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


def dense_pairs(xq: np.ndarray, xb: np.ndarray, threshold: float, qrows: np.ndarray, brows: np.ndarray,
                *, qblock: int = 1024, bblock: int = 65_536) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Blocked matrix products: pairs (qrows[a], brows[b], sim) with sim >= threshold (self pairs kept)."""
    t = np.float32(threshold)
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


# -------------------------------------------------------------------------------- recall sampling
def _sample_pairs(x: np.ndarray, t: float, sample_queries: int, min_pairs: int, seed: int,
                  ) -> tuple[np.ndarray, np.ndarray, int, str]:
    """Exact pairs of a random sample of query rows (grown until ``min_pairs`` or a cost cap).

    Returns ``(rows_a, rows_b, n_sampled, basis)``; if too few pairs pass the threshold, the pairs are
    each sampled row's nearest other row instead (basis ``nearest-neighbour proxy``).
    """
    n, d = x.shape
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    s = min(n, max(1, sample_queries))
    allrows = np.arange(n, dtype=np.int64)
    while True:
        rows = np.sort(perm[:s])
        q, j, _ = dense_pairs(x[rows], x, t, rows, allrows)
        a, b, _ = canonical_pairs(q, j, np.zeros(len(q), np.float32))
        if len(a) >= min_pairs or s >= n or 4 * s * n * d > 2e12:
            break
        s = min(n, 4 * s)
    if len(a):
        return a, b, s, "sampled pairs"
    faiss = faiss_module()
    dist, idx = faiss.knn(np.ascontiguousarray(x[rows]), x, min(3, n), metric=faiss.METRIC_INNER_PRODUCT)
    nn = np.where(idx[:, 0] == rows, idx[:, 1], idx[:, 0]).astype(np.int64)
    return rows, nn, s, "nearest-neighbour proxy"


def _choose(needed: np.ndarray, target: float, cap: int) -> tuple[int, float]:
    """Smallest parameter p whose sampled recall clears ``target`` with a margin, and that recall.

    The margin is one-sided 95 % binomial, ``1.645 * sqrt(target * (1 - target) / pairs)``: with 160
    sampled pairs and target 0.99 every sampled pair must be found; with 2,000 pairs, 99.4 % of them.
    """
    if not len(needed):
        return 1, 1.0
    goal = min(1.0, target + 1.645 * np.sqrt(target * (1 - target) / len(needed)))
    srt = np.sort(needed)
    p = int(srt[min(len(srt) - 1, int(np.ceil(goal * len(srt) - 1e-9)) - 1)])
    p = max(1, min(p, cap))
    return p, float((needed <= p).mean())


def _reach(needed: np.ndarray, p: int) -> float:
    """Fraction of sampled pairs that a fixed ``nprobe`` / ``neighbors`` of ``p`` would find."""
    return float((needed <= p).mean()) if len(needed) else 1.0


def _measured(a: np.ndarray, b: np.ndarray, i: np.ndarray, j: np.ndarray, n: int) -> float:
    if not len(a):
        return 1.0
    return float(np.isin(a * n + b, i * n + j).mean())


# -------------------------------------------------------------------------------------------- IVF
def _ivf_pairs(x, t, dev, nlist, nprobe, target, sample_queries, min_pairs, seed, progress, info):
    faiss = faiss_module()
    n, d = x.shape
    nl = int(nlist or default_nlist(n))
    if not (1 <= nl <= n):
        raise UsageError(f"nlist must be between 1 and the number of vectors ({n}), got {nl}")
    if nprobe is not None and not (1 <= int(nprobe) <= nl):
        raise UsageError(f"nprobe must be between 1 and nlist ({nl}), got {nprobe}")
    t0 = time.perf_counter()
    quantizer = faiss.IndexFlatIP(d)
    index = faiss.IndexIVFFlat(quantizer, d, nl, faiss.METRIC_INNER_PRODUCT)
    index.cp.seed = int(seed)
    rng = np.random.default_rng(seed)
    ntrain = min(n, nl * 256)
    train = x[np.sort(rng.choice(n, ntrain, replace=False))] if ntrain < n else x
    if progress:
        progress("ivf: training", 0, 1)
    if dev == "gpu":  # run the coarse k-means on the GPU; the trained index is then copied to the GPU
        index.clustering_index = faiss.index_cpu_to_all_gpus(faiss.IndexFlatIP(d))
    index.train(np.ascontiguousarray(train))
    for s, e in blocked(n, 65_536):
        index.add(np.ascontiguousarray(x[s:e]))
    t1 = time.perf_counter()
    # recall estimate: which list rank is needed to find each sampled pair (from either end)?
    a, b, ns, basis = _sample_pairs(x, t, sample_queries, min_pairs, seed)
    la = quantizer.search(np.ascontiguousarray(x[a]), 1)[1][:, 0]
    lb = quantizer.search(np.ascontiguousarray(x[b]), 1)[1][:, 0]
    cent = quantizer.reconstruct_n(0, nl)
    need = np.minimum(_list_rank(x[a], cent, lb), _list_rank(x[b], cent, la)) + 1
    if nprobe is None:
        p, predicted = _choose(need, target, nl)
    else:
        p, predicted = int(nprobe), _reach(need, int(nprobe))
    t2 = time.perf_counter()
    search_index = faiss.index_cpu_to_all_gpus(index) if dev == "gpu" else index
    set_nprobe(search_index, p, dev)
    fallback = _LazyIvfCpu(index, p) if dev == "gpu" else None
    qs, js, ds = [], [], []
    spans = blocked(n, QUERY_BLOCK)
    for k, (s, e) in enumerate(spans):
        q, j, dd = range_pairs(search_index, x[s:e], t, offset=s, device=dev, cpu_fallback=fallback)
        qs.append(q)
        js.append(j)
        ds.append(dd)
        if progress:
            progress(f"ivf search (nprobe {p}/{nl})", k + 1, len(spans))
    i, j, c = canonical_pairs(np.concatenate(qs), np.concatenate(js), np.concatenate(ds))
    t3 = time.perf_counter()
    measured = _measured(a, b, i, j, n) if basis == "sampled pairs" else predicted
    info.update(recall=round(float(measured), 4),
                recall_basis=f"estimated: {basis}, {len(a)} pairs from {ns} sampled rows",
                recall_predicted=round(predicted, 4),
                target_recall=target, nlist=nl, nprobe=p,
                timings={"index_s": round(t1 - t0, 3), "estimate_s": round(t2 - t1, 3),
                         "probe_search_s": round(t3 - t2, 3)})
    return i, j, c


class _LazyIvfCpu:
    def __init__(self, index: Any, nprobe: int) -> None:
        self.index, self.nprobe = index, nprobe

    def range_search(self, xq: np.ndarray, radius: float):
        self.index.nprobe = self.nprobe
        return self.index.range_search(xq, radius)


def _list_rank(xa: np.ndarray, cent: np.ndarray, target_list: np.ndarray) -> np.ndarray:
    """For each row, how many centroids are strictly closer to it than centroid ``target_list``."""
    out = np.empty(len(xa), dtype=np.int64)
    for s, e in blocked(len(xa), 4096):
        sim = xa[s:e] @ cent.T
        tgt = sim[np.arange(e - s), target_list[s:e]]
        out[s:e] = (sim > tgt[:, None]).sum(axis=1)
    return out


# ------------------------------------------------------------------------------- semantic (SemDeDup)
def _semantic_pairs(x, t, dev, nlist, neighbors, target, sample_queries, min_pairs, seed, progress, info):
    faiss = faiss_module()
    n, d = x.shape
    k = int(nlist or default_nlist(n))
    if not (1 <= k <= n):
        raise UsageError(f"nlist (clusters) must be between 1 and the number of vectors ({n}), got {k}")
    if neighbors is not None and not (1 <= int(neighbors) <= k):
        raise UsageError(f"neighbors must be between 1 and the number of clusters ({k}), got {neighbors}")
    t0 = time.perf_counter()
    if progress:
        progress("semantic: k-means", 0, 1)
    cent = kmeans(x, k, device=dev, seed=seed)
    cidx = faiss.IndexFlatIP(d)
    cidx.add(cent)
    labels = np.empty(n, dtype=np.int64)
    for s, e in blocked(n, 65_536):
        labels[s:e] = cidx.search(np.ascontiguousarray(x[s:e]), 1)[1][:, 0]
    cc = cent @ cent.T
    np.fill_diagonal(cc, np.inf)
    order = np.argsort(-cc, axis=1, kind="stable")  # order[c, r]: r-th closest cluster to c (r=0: itself)
    rank = np.empty_like(order)
    rank[np.arange(k)[:, None], order] = np.arange(k)[None, :]
    t1 = time.perf_counter()
    a, b, ns, basis = _sample_pairs(x, t, sample_queries, min_pairs, seed)
    need = np.minimum(rank[labels[a], labels[b]], rank[labels[b], labels[a]]) + 1
    if neighbors is None:
        m, predicted = _choose(need, target, k)
    else:
        m, predicted = int(neighbors), _reach(need, int(neighbors))
    t2 = time.perf_counter()
    # cluster c is compared with every cluster c2 >= c such that either lists the other among its m nearest
    near = np.zeros((k, k), dtype=bool)
    near[np.arange(k)[:, None], order[:, :m]] = True
    near |= near.T
    sort_idx = np.argsort(labels, kind="stable")
    starts = np.searchsorted(labels[sort_idx], np.arange(k + 1))
    members = [sort_idx[starts[c]:starts[c + 1]] for c in range(k)]
    qs, js, ds = [], [], []
    for c in range(k):
        if not len(members[c]):
            continue
        partners = [c2 for c2 in np.nonzero(near[c])[0] if c2 >= c and len(members[c2])]
        brows = np.concatenate([members[c2] for c2 in partners])
        q, j, dd = dense_pairs(x[members[c]], x[brows], t, members[c], brows)
        qs.append(q)
        js.append(j)
        ds.append(dd)
        if progress and (c % 16 == 0 or c == k - 1):
            progress(f"semantic search ({m} neighbouring clusters of {k})", c + 1, k)
    if qs:
        i, j, c_ = canonical_pairs(np.concatenate(qs), np.concatenate(js), np.concatenate(ds))
    else:  # pragma: no cover
        i = j = np.zeros(0, np.int64)
        c_ = np.zeros(0, np.float32)
    t3 = time.perf_counter()
    measured = _measured(a, b, i, j, n) if basis == "sampled pairs" else predicted
    info.update(recall=round(float(measured), 4),
                recall_basis=f"estimated: {basis}, {len(a)} pairs from {ns} sampled rows",
                recall_predicted=round(predicted, 4),
                target_recall=target, clusters=k, neighbors=m,
                timings={"kmeans_s": round(t1 - t0, 3), "estimate_s": round(t2 - t1, 3),
                         "cluster_search_s": round(t3 - t2, 3)})
    return i, j, c_


# ------------------------------------------------------------------------------------ groups / keep
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


def build_result(ids: np.ndarray, i: np.ndarray, j: np.ndarray, cos: np.ndarray, *,
                 quality: np.ndarray | None = None,
                 extra: dict[str, np.ndarray] | None = None) -> DedupResult:
    """Pairs table, connected-component groups and the keep list from canonical row pairs."""
    import pandas as pd
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    ids = np.asarray(ids).astype(str)
    n = len(ids)
    ida, idb = ids[i], ids[j]
    swap = ida > idb
    ida, idb = np.where(swap, idb, ida), np.where(swap, ida, idb)
    order = np.lexsort((idb, ida))
    cols: dict[str, Any] = {"id_a": ida[order], "id_b": idb[order]}
    if extra:
        for k, v in extra.items():
            cols[k] = np.asarray(v)[order]
    else:
        cols["cosine"] = np.asarray(cos, dtype=np.float32)[order]
    pairs = pd.DataFrame(cols)

    nodes = np.unique(np.concatenate([i, j])) if len(i) else np.zeros(0, np.int64)
    if len(nodes):
        li, lj = np.searchsorted(nodes, i), np.searchsorted(nodes, j)
        m = len(nodes)
        graph = coo_matrix((np.ones(len(li), dtype=np.int8), (li, lj)), shape=(m, m)).tocsr()
        _, comp = connected_components(graph, directed=False)
        node_ids = ids[nodes]
        q = quality[nodes] if quality is not None else np.zeros(m)
        srt = np.lexsort((node_ids, -q, comp))  # by component, best quality first, then smallest id
        rep_mask = np.zeros(m, dtype=bool)
        first = np.ones(m, dtype=bool)
        first[1:] = comp[srt][1:] != comp[srt][:-1]
        rep_mask[srt[first]] = True
        rep_of_comp = {int(comp[r]): node_ids[r] for r in np.nonzero(rep_mask)[0]}
        comp_order = sorted(rep_of_comp, key=lambda c: rep_of_comp[c])
        gnum = np.empty(comp.max() + 1, dtype=np.int64)
        gnum[comp_order] = np.arange(len(comp_order))
        g = gnum[comp]
        gorder = np.lexsort((node_ids, ~rep_mask, g))
        groups = pd.DataFrame({"id": node_ids[gorder], "group": g[gorder],
                               "is_representative": rep_mask[gorder]})
        drop = np.zeros(n, dtype=bool)
        drop[nodes[~rep_mask]] = True
    else:
        groups = pd.DataFrame({"id": pd.Series([], dtype=str), "group": pd.Series([], dtype=np.int64),
                               "is_representative": pd.Series([], dtype=bool)})
        drop = np.zeros(n, dtype=bool)
    keep = ids[~drop].tolist()
    return DedupResult(pairs=pairs, groups=groups, keep=keep)
