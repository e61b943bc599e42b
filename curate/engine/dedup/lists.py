"""Inverted lists of fixed size for large inputs: two-level centroids and an approximate probe order.

With about ``sqrt(n)`` lists every row of a list is compared with ``sqrt(n)`` others, so an IVF search
costs ``n^1.5``. Lists of a fixed size (``n / ROWS_PER_LIST`` of them) keep that part linear, but then
finding each row's nearest lists among all ``k`` centroids costs ``n * k``: quadratic. Here the centroids
are trained two-level (spherical k-means into ``sqrt(k)`` coarse groups, then inside each group; the
scheme FAISS uses for large IVF quantizers, :func:`curate.engine.cluster.two_level.two_level_centroids`),
and a row's probe order is
the ranking of the fine centroids of its :data:`COARSE_PROBE` nearest coarse groups only: about
``n * (sqrt(k) + COARSE_PROBE * sqrt(k))`` products.

The probe order is approximate (a list in a group the row does not probe is never searched from that
row), so it is computed **once** for every row and stored: the recall sample's ``need`` (the position of
a partner's list in a row's order) and the search read the same array, so what the sample promises the
search does. The recall is then certified on the held-out sample as for any IVF search
(:mod:`curate.engine.dedup.recall`).

It also holds the centroid rankings every IVF search uses: :func:`nearest`, :func:`top_lists`,
:func:`list_rank` (the same float32 products, so the sample's ``need`` and the search agree).
"""

from __future__ import annotations

import numpy as np

from curate.engine.dedup.kernel import blocked, parallel_map

ROWS_PER_LIST = 256  # default rows per list from TWO_LEVEL_MIN_K lists on (about n / 256 lists)
COARSE_PROBE = 16  # coarse groups whose fine centroids a row ranks
PROBE_CAP = 32  # longest probe order kept per row (nprobe can be tuned up to this)
ROW_CHUNK = 16_384  # rows ranked together (bounds the temporary per-chunk arrays, per thread)


def train(x: np.ndarray, k: int, seed: int, per: int = 64, niter: int = 10) -> tuple[np.ndarray, np.ndarray,
                                                                                     np.ndarray]:
    """Coarse centroids (kc, d), fine centroids (k, d) ordered by group, and group start offsets (kc + 1):
    spherical two-level k-means from ``random`` starts on ``per`` rows per fine centroid."""
    from curate.engine.cluster.two_level import two_level_centroids

    return two_level_centroids(x, k, niter=niter, seed=seed, spherical=True, device="cpu",
                               max_points_per_centroid=per, init="random", sub_init="random")


def probe_order(x: np.ndarray, coarse: np.ndarray, fine: np.ndarray, gstart: np.ndarray,
                cap: int = PROBE_CAP, coarse_probe: int = COARSE_PROBE) -> np.ndarray:
    """(n, cap) int32: each row's fine centroids by decreasing similarity, among those of its
    ``coarse_probe`` nearest coarse groups (-1 where the groups hold fewer than ``cap``).

    Ranking ~``coarse_probe * sqrt(k)`` candidates per row is selection work (the products are small
    matrix products per group), which numpy does on one core; the row chunks therefore run on a thread
    per core (:func:`~curate.engine.dedup.kernel.parallel_map`).
    """
    n = len(x)
    cap = min(cap, len(fine))
    g = min(coarse_probe, len(coarse))
    out = np.empty((n, cap), dtype=np.int32)

    def run(span: tuple[int, int]) -> None:
        out[span[0]:span[1]] = _rank_chunk(x[span[0]:span[1]], coarse, fine, gstart, cap, g)

    for _ in parallel_map(run, blocked(n, ROW_CHUNK)):
        pass
    return out


def _rank_chunk(xb: np.ndarray, coarse: np.ndarray, fine: np.ndarray, gstart: np.ndarray, cap: int,
                g: int) -> np.ndarray:
    """The probe order of one block of rows: per probed group its best ``cap``, then the best ``cap``."""
    m, kc = len(xb), len(coarse)
    sc = xb @ coarse.T
    top = np.argpartition(sc, kc - g, axis=1)[:, kc - g:] if g < kc else \
        np.broadcast_to(np.arange(kc), (m, kc))
    grp = top.ravel().astype(np.int16 if kc < 2**15 else np.int64)
    srt = np.argsort(grp, kind="stable")  # radix sort on int16 keys; slot i of srt is (row i // g, group)
    bounds = np.r_[0, np.cumsum(np.bincount(grp, minlength=kc))]
    rows = srt // g
    cand_id = np.full((m * g, cap), -1, dtype=np.int32)  # row-major: (row, j-th probed group) slots
    cand_sim = np.full((m * g, cap), -np.inf, dtype=np.float32)
    for j in range(kc):
        lo, hi = bounds[j], bounds[j + 1]
        f0, f1 = int(gstart[j]), int(gstart[j + 1])
        f = f1 - f0
        if lo == hi or f == 0:
            continue
        slot = srt[lo:hi]
        sim = xb[rows[lo:hi]] @ fine[f0:f1].T
        if f <= cap:
            cand_id[slot, :f] = np.arange(f0, f1, dtype=np.int32)
            cand_sim[slot, :f] = sim
        else:
            idx = np.argpartition(sim, f - cap, axis=1)[:, f - cap:]
            cand_id[slot] = idx + f0
            cand_sim[slot] = np.take_along_axis(sim, idx, axis=1)
    ids, sims = cand_id.reshape(m, g * cap), cand_sim.reshape(m, g * cap)
    w = g * cap
    if w > cap:
        part = np.argpartition(sims, w - cap, axis=1)[:, w - cap:]
        ids, sims = np.take_along_axis(ids, part, axis=1), np.take_along_axis(sims, part, axis=1)
    best = np.argsort(-sims, axis=1, kind="stable")
    chosen = np.take_along_axis(ids, best, axis=1)
    chosen[np.take_along_axis(sims, best, axis=1) == -np.inf] = -1
    return chosen


def probe_need(order: np.ndarray, labels: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Smallest nprobe at which pair (a, b) is searched from either end (``cap + 1``: never)."""
    cap = order.shape[1]

    def pos(q: np.ndarray, target: np.ndarray) -> np.ndarray:
        hit = order[q] == target[:, None].astype(order.dtype)
        return np.where(hit.any(axis=1), hit.argmax(axis=1), cap)

    return np.minimum(pos(a, labels[b]), pos(b, labels[a])) + 1


def list_rank(xa: np.ndarray, cent: np.ndarray, target_list: np.ndarray) -> np.ndarray:
    """For each row, how many centroids are strictly closer to it than centroid ``target_list``."""
    out = np.empty(len(xa), dtype=np.int64)
    for s, e in blocked(len(xa), 4096):
        sim = xa[s:e] @ cent.T
        tgt = sim[np.arange(e - s), target_list[s:e]]
        out[s:e] = (sim > tgt[:, None]).sum(axis=1)
    return out


def nearest(x: np.ndarray, cent: np.ndarray) -> np.ndarray:
    """Each row's nearest centroid (largest inner product), by the same products as :func:`list_rank`."""
    out = np.empty(len(x), dtype=np.int64)
    for s, e in blocked(len(x), 4096):
        out[s:e] = np.argmax(x[s:e] @ cent.T, axis=1)
    return out


def top_lists(x: np.ndarray, cent: np.ndarray, p: int) -> np.ndarray:
    """The ``p`` nearest centroids of every row (unordered), by the same products as :func:`list_rank`.

    The selection (``argpartition``, one core) costs more than the products here, so row blocks run on a
    thread per core (:func:`~curate.engine.dedup.kernel.parallel_map`)."""
    k = len(cent)
    if p >= k:
        return np.broadcast_to(np.arange(k, dtype=np.int64), (len(x), k)).copy()
    out = np.empty((len(x), p), dtype=np.int64)

    def run(span: tuple[int, int]) -> None:
        s, e = span
        out[s:e] = np.argpartition(x[s:e] @ cent.T, k - p, axis=1)[:, k - p:]

    for _ in parallel_map(run, blocked(len(x), 4096)):
        pass
    return out


# ------------------------------------------------------------------------------------ centred lists
CENTRE_FROM = 0.3  # mean-row norm from which clusters / lists are trained on centred rows
SAMPLE_PER_LIST = 64


def centred_centroids(x: np.ndarray, k: int, seed: int, niter: int = 10) -> np.ndarray | None:
    """Unit centroids for rows that share a mean direction ``μ`` (foundation-model embeddings: random
    pairs at cosine 0.5-0.7), or None when ``|μ| <`` :data:`CENTRE_FROM`.

    Spherical k-means on a seeded sample of the centred, re-normalised rows ``(x - μ) / |x - μ|``; each
    row is then put in the list of its nearest centred centroid (ranked by ``x·c - μ·c``, the same order
    as the centred cosine, so no centred copy of ``x`` is kept) and the returned centroids are the unit
    means of the lists' *original* rows (:func:`member_means`). Trained on the original rows the shared
    direction dominates every cosine and the clusters are very uneven (on the benchmark's anisotropic
    shape the biggest list held 6x the mean; the search cost 3.5x that of balanced lists); trained
    centred they are about balanced. Which pairs pass the threshold does not change: every search
    computes ``x·y`` on the original rows, the band search's triangle inequality holds for any unit
    centroids and any assignment, and an IVF search's recall is certified on its held-out sample."""
    mu = x.mean(axis=0, dtype=np.float64)
    if float(np.linalg.norm(mu)) < CENTRE_FROM:
        return None
    from curate.engine.cluster.lloyd import train_flat

    n = len(x)
    m = min(n, SAMPLE_PER_LIST * k)
    rows = np.sort(np.random.default_rng(seed).choice(n, m, replace=False))
    xs = x[rows] - mu.astype(np.float32)
    xs /= np.maximum(np.linalg.norm(xs, axis=1, keepdims=True), 1e-12)
    cent = train_flat(np.ascontiguousarray(xs, dtype=np.float32), k, niter=niter, seed=seed, spherical=True,
                      init="random").centroids.astype(np.float32)
    offset = (cent @ mu).astype(np.float32)
    labels = np.empty(n, dtype=np.int64)
    for s, e in blocked(n, 4096):
        labels[s:e] = np.argmax(x[s:e] @ cent.T - offset, axis=1)
    return member_means(x, labels, k)


def member_means(x: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Unit mean of each list's original rows (any unit vector for an empty list): the centroids of the
    band search over centred lists (its bands hold for any centroids and assignment)."""
    from scipy.sparse import csr_matrix

    ind = csr_matrix((np.ones(len(x), np.float32), (labels, np.arange(len(x)))), shape=(k, len(x)))
    c = np.asarray(ind @ x, dtype=np.float32)
    norm = np.linalg.norm(c, axis=1, keepdims=True)
    c[norm[:, 0] == 0, 0] = 1.0
    return c / np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-12)
