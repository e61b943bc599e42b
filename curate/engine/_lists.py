"""Inverted lists of fixed size for large inputs: two-level centroids and an approximate probe order.

With about ``sqrt(n)`` lists every row of a list is compared with ``sqrt(n)`` others, so an IVF search
costs ``n^1.5``. Lists of a fixed size (``n / ROWS_PER_LIST`` of them) keep that part linear, but then
finding each row's nearest lists among all ``k`` centroids costs ``n * k``: quadratic. Here the centroids
are trained two-level (spherical k-means into ``sqrt(k)`` coarse groups, then inside each group; the
scheme FAISS uses for large IVF quantizers, :mod:`curate.engine.two_level`), and a row's probe order is
the ranking of the fine centroids of its :data:`COARSE_PROBE` nearest coarse groups only: about
``n * (sqrt(k) + COARSE_PROBE * sqrt(k))`` products.

The probe order is approximate (a list in a group the row does not probe is never searched from that
row), so it is computed **once** for every row and stored: the recall sample's ``need`` (the position of
a partner's list in a row's order) and the search read the same array, so what the sample promises the
search does. The recall is then certified on the held-out sample as for any IVF search
(:mod:`curate.engine._recall`).
"""

from __future__ import annotations

import numpy as np

from curate.engine._faiss import blocked

ROWS_PER_LIST = 256  # default rows per list from TWO_LEVEL_MIN_K lists on (about n / 256 lists)
COARSE_PROBE = 16  # coarse groups whose fine centroids a row ranks
PROBE_CAP = 32  # longest probe order kept per row (nprobe can be tuned up to this)
ROW_CHUNK = 32_768  # rows ranked together (bounds the temporary (rows x COARSE_PROBE x PROBE_CAP) arrays)


def train(x: np.ndarray, k: int, seed: int, per: int = 64, niter: int = 10) -> tuple[np.ndarray, np.ndarray,
                                                                                     np.ndarray]:
    """Coarse centroids (kc, d), fine centroids (k, d) ordered by group, and group start offsets (kc + 1).

    Spherical Lloyd (:func:`curate.engine._semantic.lloyd_on`) on a sample of ``per`` rows per fine
    centroid: first ``sqrt(k)`` coarse groups, then each group's share of the ``k`` centroids
    (:func:`curate.engine.two_level.allocate_centroids`) on its own sample rows.
    """
    from curate.engine._ivf import nearest
    from curate.engine._semantic import lloyd_on
    from curate.engine.two_level import allocate_centroids

    n = len(x)
    rng = np.random.default_rng(seed)
    m = min(n, k * per)
    xs = x[np.sort(rng.choice(n, m, replace=False))] if m < n else x
    kc = max(1, int(round(np.sqrt(k))))
    coarse = _unit(lloyd_on(xs, kc, rng, niter))
    group = nearest(xs, coarse)
    sizes = np.bincount(group, minlength=kc)
    alloc = allocate_centroids(sizes, k)
    order = np.argsort(group, kind="stable")
    starts = np.r_[0, np.cumsum(sizes)]
    fine, gstart = [], [0]
    for g in range(kc):
        if alloc[g]:
            fine.append(_unit(lloyd_on(xs[order[starts[g]:starts[g + 1]]], int(alloc[g]), rng, niter)))
        gstart.append(gstart[-1] + int(alloc[g]))
    return coarse, np.ascontiguousarray(np.vstack(fine), dtype=np.float32), np.asarray(gstart, np.int64)


def _unit(c: np.ndarray) -> np.ndarray:
    c = np.asarray(c, dtype=np.float32)
    return np.ascontiguousarray(c / np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-12))


def probe_order(x: np.ndarray, coarse: np.ndarray, fine: np.ndarray, gstart: np.ndarray,
                cap: int = PROBE_CAP, coarse_probe: int = COARSE_PROBE) -> np.ndarray:
    """(n, cap) int32: each row's fine centroids by decreasing similarity, among those of its
    ``coarse_probe`` nearest coarse groups (-1 where the groups hold fewer than ``cap``)."""
    n, kc = len(x), len(coarse)
    g_probe = min(coarse_probe, kc)
    cap = min(cap, len(fine))
    out = np.full((n, cap), -1, dtype=np.int32)
    for s, e in blocked(n, ROW_CHUNK):
        xb = x[s:e]
        sc = xb @ coarse.T
        top = np.argpartition(-sc, g_probe - 1, axis=1)[:, :g_probe] if g_probe < kc else \
            np.broadcast_to(np.arange(kc), (e - s, kc))
        rows = np.repeat(np.arange(e - s), g_probe)
        grp = top.ravel()
        srt = np.argsort(grp, kind="stable")
        rows, grp = rows[srt], grp[srt]
        bounds = np.searchsorted(grp, np.arange(kc + 1))
        # per (row, probed group): the group's best ``cap`` fine centroids and their similarities
        cand_id = np.full((len(rows), cap), -1, dtype=np.int32)
        cand_sim = np.full((len(rows), cap), -np.inf, dtype=np.float32)
        for g in range(kc):
            lo, hi = bounds[g], bounds[g + 1]
            f0, f1 = int(gstart[g]), int(gstart[g + 1])
            if lo == hi or f0 == f1:
                continue
            sim = xb[rows[lo:hi]] @ fine[f0:f1].T
            take = min(cap, f1 - f0)
            idx = np.argpartition(-sim, take - 1, axis=1)[:, :take] if take < f1 - f0 else \
                np.broadcast_to(np.arange(f1 - f0), (hi - lo, take))
            cand_id[lo:hi, :take] = idx + f0
            cand_sim[lo:hi, :take] = np.take_along_axis(sim, idx, axis=1)
        # back to row order, then each row's best ``cap`` over its probed groups, best first
        back = np.argsort(rows, kind="stable")
        ids = cand_id[back].reshape(e - s, g_probe * cap)
        sims = cand_sim[back].reshape(e - s, g_probe * cap)
        best = np.argsort(-sims, axis=1, kind="stable")[:, :cap]
        chosen = np.take_along_axis(ids, best, axis=1)
        chosen[np.take_along_axis(sims, best, axis=1) == -np.inf] = -1
        out[s:e] = chosen
    return out


def probe_need(order: np.ndarray, labels: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Smallest nprobe at which pair (a, b) is searched from either end (``cap + 1``: never)."""
    cap = order.shape[1]

    def pos(q: np.ndarray, target: np.ndarray) -> np.ndarray:
        hit = order[q] == target[:, None].astype(order.dtype)
        return np.where(hit.any(axis=1), hit.argmax(axis=1), cap)

    return np.minimum(pos(a, labels[b]), pos(b, labels[a])) + 1
