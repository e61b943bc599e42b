"""The pair-search kernel: every pair with inner product >= threshold, by blocked float32 matrix products.

A leaf: it imports nothing else from curate. Everything that searches pairs in dedup ends here:

- :func:`gemm_pairs` — exact search of ``x`` against itself (upper triangle only) or against ``base``;
- :func:`dense_pairs` — one block of query rows against one block of base rows (self pairs kept);
- :func:`cell_pairs` — many ``(query rows, member rows)`` cells (inverted lists, band-search clusters);
- :func:`canonical_pairs` — drop self matches, order each pair (low, high), keep one copy of each.

:func:`gemm_pairs` may score its blocks in bfloat16 (:func:`use_lowp`, torch's oneDNN GEMM) and verify the
candidates within a proven error bound in float32 (below); every similarity reported is a float32 one.

The similarity block of one product stays below 1/16 of the data (:func:`_columns`), so a search's peak
memory stays a small multiple of the embeddings. numpy releases the GIL in its sorting, selection and
fancy-indexing kernels, which run on one core, and many small products gain little from BLAS threads:
such loops run on a thread per core with BLAS held to one thread each (:func:`parallel_map`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")
ProgressFn = Callable[[str, int, int], None]
Pairs = tuple[np.ndarray, np.ndarray, np.ndarray]  # rows a, rows b (int64), similarities (float32)

# ------------------------------------------------------------------------------------ low precision
# Candidate scoring in bfloat16 with a proven error bound, then exact float32 verification.
# For unit rows x, y (|x|, |y| <= 1 + 1e-6) and bf16 inputs x~ = x (1 + d), |d| <= u = 2**-8: the
# products x~_i y~_i are exact in float32 and summed in float32 (oneDNN's bf16 GEMM), then rounded to
# bf16. By Cauchy-Schwarz sum |x_i y_i| <= |x| |y|, so the score s^ differs from x.y by at most
#   (2u + u^2) + gamma_d (1 + u)^2 + u (1 + u)^2 (1 + gamma_d),  gamma_d = d 2**-24 / (1 - d 2**-24)
# (input rounding, float32 summation, output rounding; Higham, Accuracy and Stability of Numerical
# Algorithms, 2nd ed., sec. 3.1): 0.0118 at d = 768, 0.0123 at d = 8192. Every pair with x.y >= t
# therefore has s^ >= t - lowp_bound(d) - LOWP_SLACK; those candidates are verified in float32, so the
# pairs reported are the float32 ones, as without it.
LOWP_SLACK = 1e-5  # row norms up to 1 + 1e-6 (float32 normalisation) scale the bound by 1 + 2e-6
LOWP = "auto"  # auto: on where torch (pinned in the `embed` extra) and a bf16 GEMM unit are present; off
LOWP_MIN_WORK = 2e11  # auto: n^2 d / 2 of an exact search, from which bf16 saves more than importing torch
# (~1.3 s) costs. Only the exact search's large blocks use it: the inverted lists' and bands' cells
# (~256 member rows) scored 1.3-1.5x faster in bf16 here, but oneDNN keeps memory for every product shape
# it has seen and the cells' shapes all differ: at 1M x 256 the peak grew from 1.9x to 3.2x the matrix
# (docs/dedup.md, "bf16 scores in the exact search").


def lowp_bound(d: int) -> float:
    """The proven error bound of a bf16 score of two unit rows of dimension ``d`` (see above)."""
    u, e = 2.0**-8, 2.0**-24
    g = d * e / (1 - d * e)
    return (2 * u + u * u) + g * (1 + u) ** 2 + u * (1 + u) ** 2 * (1 + g)


@lru_cache(maxsize=1)
def _bf16_unit() -> bool:
    """Whether this CPU has a bf16 dot-product unit (AVX512-BF16 or AMX); without one torch emulates
    bf16 products and they are slower than float32 ones."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((ln for ln in f if ln.startswith("flags")), "")
    except OSError:  # pragma: no cover - not Linux
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


class _Lowp:
    """Whether blocks are scored in bf16 in this process (decided once per search by :func:`use_lowp`)."""

    torch: Any = None
    on: bool = False
    src: Any = None  # the rows whose bf16 copy ``rows16`` is (the search's unit rows)
    rows16: Any = None

    @classmethod
    def bf16(cls, a: np.ndarray) -> Any:
        """``a`` as a bf16 tensor (from a writable float32 copy: the rows may be read-only)."""
        return cls.torch.from_numpy(np.array(a, dtype=np.float32)).to(cls.torch.bfloat16)

    @classmethod
    def copy_of(cls, x: np.ndarray) -> Any:
        """The bf16 copy of the search's rows (made once per search: half the bytes of ``x``)."""
        if cls.src is not x:  # converted a block at a time: no float32 copy of the whole of x
            out = cls.torch.empty(x.shape, dtype=cls.torch.bfloat16)
            for s, e in blocked(len(x), 65_536):
                out[s:e] = cls.bf16(x[s:e])
            cls.src, cls.rows16 = x, out
        return cls.rows16


def use_lowp(work: float, d: int) -> bool:
    """Turn bf16 candidate scoring on for the searches that follow when it pays (``work``: about the
    row-by-row products times ``d`` they will compute) and is available; returns whether it is on."""
    _Lowp.on = False
    if LOWP == "off" or (LOWP == "auto" and (work < LOWP_MIN_WORK or not _bf16_unit())):
        return False
    try:
        import torch
    except ImportError:
        return False
    _Lowp.torch, _Lowp.on = torch, True
    return True


def lowp_off() -> None:
    _Lowp.on, _Lowp.src, _Lowp.rows16 = False, None, None


def _block_pairs(xq: np.ndarray, xb: np.ndarray, t: np.float32,
                 rows16: tuple[Any, Any] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(r, c, sim) with sim >= t of the block ``xq @ xb.T``: float32 BLAS, or (``rows16``: the blocks'
    bf16 rows) bf16 candidates within the proven bound of ``t``, verified in float32."""
    if rows16 is None:
        sim = xq @ xb.T
        r, c = np.nonzero(sim >= t)
        return r, c, sim[r, c]
    torch = _Lowp.torch
    sim = rows16[0] @ rows16[1].T
    low = float(t) - lowp_bound(xq.shape[1]) - LOWP_SLACK
    r, c = (v.numpy() for v in torch.nonzero(sim >= low, as_tuple=True))
    exact = np.einsum("ij,ij->i", xq[r], xb[c])
    keep = exact >= t
    return r[keep], c[keep], exact[keep]


def block_seconds(xq: np.ndarray, xb: np.ndarray) -> float:
    """Seconds of one block of the exact search as it will run (bf16 scores when :func:`use_lowp` turned
    them on, after a small warm-up product), for its time estimate."""
    import time

    bf16 = _Lowp.bf16
    if _Lowp.on:
        _block_pairs(xq[:8], xb[:8], np.float32(0.99), (bf16(xq[:8]), bf16(xb[:8])))
    t0 = time.perf_counter()
    _block_pairs(xq, xb, np.float32(0.99), (bf16(xq), bf16(xb)) if _Lowp.on else None)
    return time.perf_counter() - t0


def blocked(n: int, block: int) -> list[tuple[int, int]]:
    return [(s, min(s + block, n)) for s in range(0, n, block)]


def no_pairs() -> Pairs:
    return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)


# ------------------------------------------------------------------------------------------ threads
def cores() -> int:
    """CPU cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def parallel_map(fn: Callable[[Any], T], items: Iterable[Any], workers: int | None = None) -> Iterator[T]:
    """``map(fn, items)`` in order, on ``workers`` threads (default: one per core) with one BLAS thread each.

    Results are yielded as they complete in order, so a caller can report progress; with one worker
    (or one item) it is a plain loop.
    """
    items = list(items)
    workers = min(len(items), workers or cores())
    if workers <= 1:
        yield from map(fn, items)
        return
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    pool = ThreadPoolExecutor(workers)
    try:
        with threadpool_limits(1):
            yield from pool.map(fn, items)
    finally:  # an error, Ctrl-C or a consumer that stops: queued blocks are dropped, not run
        pool.shutdown(wait=True, cancel_futures=True)


# ------------------------------------------------------------------------------------------ pairs
def canonical_pairs(q: np.ndarray, j: np.ndarray, d: np.ndarray) -> Pairs:
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


def _columns(bblock: int, qblock: int, xb: np.ndarray) -> int:
    """Base rows per product block: the similarity block stays below 1/16 of the data (min 8 MiB), so the
    searches' peak memory stays well inside the 2.5 x the embeddings of issue 17."""
    budget = max(8 << 20, xb.nbytes // 16)
    return int(max(256, min(bblock, budget // (4 * qblock))))


def gemm_pairs(x: np.ndarray, threshold: float, *, base: np.ndarray | None = None, base_offset: int = 0,
               query_offset: int = 0, progress: ProgressFn | None = None, qblock: int = 2048,
               bblock: int = 8192) -> Pairs:
    """Exact threshold search by blocked ``X @ Xᵀ`` (upper triangle only without ``base``); canonical pairs,
    row numbers shifted by the offsets."""
    t = np.float32(threshold)
    same = base is None
    b = x if same else base
    bblock = _columns(bblock, qblock, b)
    x16 = _Lowp.copy_of(x) if _Lowp.on and same else None  # bf16 scores (use_lowp): large blocks only
    qs, js, ds = [], [], []
    spans = blocked(len(x), qblock)
    for k, (s, e) in enumerate(spans):
        xq = x[s:e]
        for s2, e2 in blocked(len(b), bblock):
            if same and e2 <= s:
                continue
            r, c, sims = _block_pairs(xq, b[s2:e2], t, None if x16 is None else (x16[s:e], x16[s2:e2]))
            if same:
                keep = r + s < c + s2
                r, c, sims = r[keep], c[keep], sims[keep]
            qs.append(r.astype(np.int64) + s + query_offset)
            js.append(c.astype(np.int64) + s2 + base_offset)
            ds.append(sims)
        if progress:
            progress("exact search", k + 1, len(spans))
    if not qs:
        return no_pairs()
    return canonical_pairs(np.concatenate(qs), np.concatenate(js), np.concatenate(ds))


def dense_pairs(xq: np.ndarray, xb: np.ndarray, threshold: float, qrows: np.ndarray, brows: np.ndarray,
                *, qblock: int = 1024, bblock: int = 65_536) -> Pairs:
    """Blocked matrix products: pairs (qrows[a], brows[b], sim) with sim >= threshold (self pairs kept)."""
    t = np.float32(threshold)
    bblock = _columns(bblock, qblock, xb)
    qs, bs, ds = [], [], []
    for s, e in blocked(len(xq), qblock):
        for s2, e2 in blocked(len(xb), bblock):
            r, c, sims = _block_pairs(xq[s:e], xb[s2:e2], t)
            qs.append(qrows[s + r])
            bs.append(brows[s2 + c])
            ds.append(sims)
    if not qs:
        return no_pairs()
    return (np.concatenate(qs).astype(np.int64), np.concatenate(bs).astype(np.int64),
            np.concatenate(ds).astype(np.float32))


def cell_pairs(x: np.ndarray, threshold: float, cells: Iterable[tuple[np.ndarray, np.ndarray]], *,
               progress: ProgressFn | None = None, label: str = "search",
               n_cells: int | None = None) -> Pairs:
    """Pairs >= threshold over ``cells`` — (query rows, member rows) per inverted list or cluster — by
    blocked products, a block of query rows at a time; canonical (low, high) pairs, each once.

    Many small cells run on a thread per core; when one cell holds a large share of the work, one thread
    with multi-threaded BLAS."""
    cells = [(q, m) for q, m in cells]
    n_cells = n_cells or len(cells)
    work = np.array([len(q) * len(m) for q, m in cells], dtype=np.float64)
    per = min(64, max(1, -(-len(cells) // (8 * cores()))))  # cells per task: a few tasks per thread
    tasks = [cells[i:i + per] for i in range(0, len(cells), per)]
    workers = 1 if not len(work) or work.max() > work.sum() / (2 * cores()) else None

    def run(task: list[tuple[np.ndarray, np.ndarray]]) -> list[Pairs]:
        out = []
        for qrows, mrows in task:
            if len(qrows) and len(mrows):
                xm = x[mrows]
                for s, e in blocked(len(qrows), 4096):  # gather the query rows a block at a time
                    out.append(dense_pairs(x[qrows[s:e]], xm, threshold, qrows[s:e], mrows))
        return out

    found: list[Pairs] = []
    done = 0
    for part in parallel_map(run, tasks, workers):
        found += part
        done += per
        if progress:
            progress(label, min(done, n_cells), n_cells)
    if not found:
        return no_pairs()
    return canonical_pairs(*(np.concatenate(col) for col in zip(*found)))
