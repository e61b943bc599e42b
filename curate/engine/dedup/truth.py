"""The held-out rows' exact pairs, kept for the next index that ``auto`` certifies on the same rows.

Under ``auto`` a large input may be certified twice on one held-out sample (one seed, one permutation):
the two-level lists first, then, when they cannot certify, IVF over the band plan's clusters
(:func:`curate.engine.dedup.plan.sampled_tries`, which also splits the confidence between them). The
sample's truth — every pair at or above the threshold with an end in a held-out row — does not depend on
the index, only on the rows, so the second try reads the first's instead of searching the rows again.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from curate.engine.dedup.kernel import canonical_pairs, dense_pairs

Truth = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


class TruthCache:
    """Exact pairs (a < b) of the held-out rows searched so far, and the products they cost."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.done = np.zeros(n, dtype=bool)
        self.a: list[np.ndarray] = []
        self.b: list[np.ndarray] = []
        self.rows = 0
        self.spent = 0.0  # row-by-row products computed for them

    def wrap(self, truth: Truth, volume: Callable[[], float] | None) -> tuple[Truth, Callable[[], float]]:
        """``truth(rows)`` that searches only rows not searched before, and ``volume()``: the products of
        the rows it returned (those searched now, measured by ``volume``, else ``n`` a row; those read
        back at their mean cost when searched), for the sample's budget and its reported share."""
        served = [0.0]

        def cached(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            rows = np.asarray(rows, dtype=np.int64)
            known = self.done[rows]
            new, old = rows[~known], rows[known]
            a, b = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
            if len(old):  # read back: the pairs with an end in rows searched before
                ka, kb = np.concatenate(self.a), np.concatenate(self.b)
                hit = np.isin(ka, old) | np.isin(kb, old)
                a.append(ka[hit])
                b.append(kb[hit])
                served[0] += len(old) * self.spent / max(1, self.rows)
            if len(new):
                before = volume() if volume is not None else 0.0
                na, nb = truth(new)
                cost = volume() - before if volume is not None else float(len(new)) * self.n
                self.a.append(na)
                self.b.append(nb)
                self.done[new] = True
                self.rows += len(new)
                self.spent += cost
                served[0] += cost
                a.append(na)
                b.append(nb)
            return np.concatenate(a).astype(np.int64), np.concatenate(b).astype(np.int64)

        return cached, lambda: served[0]


def rows_pairs(x: np.ndarray, t: float, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (a < b) at or above ``t`` with an end in ``rows``: the rows against all rows."""
    if not len(rows):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    q, j, _ = dense_pairs(x[rows], x, t, rows, np.arange(len(x), dtype=np.int64))
    a, b, _ = canonical_pairs(q, j, np.zeros(len(q), np.float32))
    return a, b
