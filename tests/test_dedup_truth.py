"""The held-out rows' exact pairs kept from one certified try to the next (curate.engine.dedup.truth): a
second try on the same rows searches only rows not searched before, and the pairs it gets back are exactly
those a fresh search of the rows finds (brute force in float64 as the oracle)."""

from __future__ import annotations

import numpy as np

from curate.engine.dedup.truth import TruthCache, rows_pairs


def data(n=1500, d=12, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    x[n // 2:] = x[: n - n // 2] + 0.15 * rng.normal(size=(n - n // 2, d))  # near-copies
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def brute(x, t, rows):
    x64 = x.astype(np.float64)
    s = x64[rows] @ x64.T
    q, j = np.nonzero(s >= t)
    q = np.asarray(rows)[q]
    keep = q != j
    return set(zip(np.minimum(q, j)[keep].tolist(), np.maximum(q, j)[keep].tolist()))


def as_set(a, b):
    return set(zip(a.tolist(), b.tolist()))


def test_second_try_reads_back_searched_rows_and_searches_only_new_ones():
    x, t = data(), 0.9
    perm = np.random.default_rng(1).permutation(len(x))
    cache = TruthCache(len(x))
    asked: list[np.ndarray] = []

    def first(rows):
        asked.append(np.asarray(rows))
        return rows_pairs(x, t, rows)

    get, volume = cache.wrap(first, None)
    a, b = get(perm[:200])
    assert as_set(a, b) == brute(x, t, perm[:200]) and len(a) > 20
    assert volume() == 200 * len(x) and cache.rows == 200

    asked.clear()
    get2, volume2 = cache.wrap(first, None)
    a, b = get2(perm[:150])  # all searched before: nothing searched again
    assert not asked and as_set(a, b) == brute(x, t, perm[:150])
    a, b = get2(perm[150:320])  # 50 read back, 120 searched now
    assert len(asked) == 1 and set(asked[0].tolist()) == set(perm[200:320].tolist())
    assert as_set(a, b) == brute(x, t, perm[150:320])
    assert volume2() == 320 * len(x) and cache.rows == 320  # read back at what they cost when searched


def test_wrapped_volume_counts_the_searchers_own_products():
    """With a searcher's products counter (the band search's truth_volume) the cost of new rows is what
    the counter moved, and rows read back cost their mean when they were searched."""
    x, t = data(600, 8, 2), 0.9
    spent = [0.0]

    def counted(rows):
        spent[0] += 10.0 * len(rows)
        return rows_pairs(x, t, rows)

    cache = TruthCache(len(x))
    get, volume = cache.wrap(counted, lambda: spent[0])
    get(np.arange(100))
    assert volume() == 1000.0
    get2, volume2 = cache.wrap(counted, lambda: spent[0])
    get2(np.arange(50, 130))
    assert volume2() == 50 * 10.0 + 30 * 10.0 and cache.spent == 1300.0
