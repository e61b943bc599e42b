"""Two-level IVF lists (large inputs): probe order against brute force, the search finds exactly what the
stored order promises, the tuned bound stays below the true recall, and the auto rule at scale."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("faiss")
from test_dedup_recall import grouped, rows, unit  # noqa: E402

from curate.engine.cluster.kmeans import TWO_LEVEL_MIN_K  # noqa: E402
from curate.engine.dedup import dedup, default_lists, default_nlist  # noqa: E402
from curate.engine.dedup import lists as _lists  # noqa: E402
from curate.engine.dedup.ivf import IvfSearch  # noqa: E402


def brute(x, t):
    """All pairs (i < j) with float64 cosine >= t, in row blocks (independent of the code under test)."""
    xn = unit(x)
    out = set()
    for s in range(0, len(xn), 1024):
        r, c = np.nonzero(xn[s:s + 1024] @ xn.T >= t)
        out |= {(int(a) + s, int(b)) for a, b in zip(r, c) if a + s < b}
    return out


def test_probe_order_is_the_exact_ranking_when_every_group_is_probed():
    x = unit(np.random.default_rng(0).normal(size=(3000, 16))).astype(np.float32)
    coarse, fine, gstart = _lists.train(x, 100, seed=0)
    assert fine.shape == (100, 16) and gstart[-1] == 100 and len(gstart) == len(coarse) + 1
    order = _lists.probe_order(x, coarse, fine, gstart, cap=12, coarse_probe=len(coarse))
    exact = np.argsort(-(x.astype(np.float64) @ fine.T.astype(np.float64)), axis=1)[:, :12]
    assert (order == exact).mean() > 0.999  # float32 vs float64 ties aside, the same ranking


def test_probe_order_ranks_only_the_probed_groups():
    x = unit(np.random.default_rng(1).normal(size=(3000, 16))).astype(np.float32)
    coarse, fine, gstart = _lists.train(x, 144, seed=0)
    order = _lists.probe_order(x, coarse, fine, gstart, cap=8, coarse_probe=2)
    group_of = np.repeat(np.arange(len(coarse)), np.diff(gstart))
    top2 = np.argsort(-(x @ coarse.T), axis=1)[:, :2]
    for i in range(0, 3000, 97):  # brute force per row: the best 8 fine centroids of its 2 groups
        allowed = np.nonzero(np.isin(group_of, top2[i]))[0]
        sims = x[i] @ fine[allowed].T
        want = allowed[np.argsort(-sims)][:8]
        got = order[i][order[i] >= 0]
        assert len(got) == min(8, len(allowed)) and set(got) == set(want)
        got_sims = fine[got].astype(np.float64) @ x[i].astype(np.float64)
        assert (np.diff(got_sims) <= 1e-6).all()  # best first


def test_two_level_search_finds_exactly_what_the_order_promises():
    x = unit(grouped(5, n_base=6000, d=12, n_src=1400)).astype(np.float32)
    truth = sorted(brute(x, 0.9))
    s = IvfSearch(x, 0.9, "cpu", TWO_LEVEL_MIN_K, seed=0)
    assert s.order is not None and s.cap == _lists.PROBE_CAP
    a, b = np.array(truth).T
    need = s.need(a, b)
    # oracle for need: the first place where either end's stored order holds the other's list
    for k in range(0, len(a), 53):
        pa = list(s.order[a[k]]).index(s.labels[b[k]]) if s.labels[b[k]] in s.order[a[k]] else 99
        pb = list(s.order[b[k]]).index(s.labels[a[k]]) if s.labels[a[k]] in s.order[b[k]] else 99
        assert need[k] == min(pa, pb, s.cap) + 1
    for p in (1, 3):
        i, j, _ = s.search(p)
        got = set(zip(i.tolist(), j.tolist()))
        assert got <= set(truth)
        assert got == {pr for pr, ok in zip(truth, need <= p) if ok}


def test_tuned_two_level_bound_covers_true_recall():
    """20 seeds with nlist forced to the two-level size: bound <= true recall in >= 95 % of runs."""
    covered, certified = [], 0
    for seed in range(20):
        x = grouped(seed, n_base=5000, d=12, n_src=1500)
        truth = brute(x, 0.9)
        res = dedup(x, 0.9, method="ivf", device="cpu", nlist=TWO_LEVEL_MIN_K, target_recall=0.9,
                    sample_queries=600, seed=seed)
        s = res.summary
        true_recall = len(rows(res) & truth) / len(truth)
        if s["method"] == "exact":
            assert true_recall == 1.0 and "fallback_reason" in s
            covered.append(True)
            continue
        certified += 1
        assert s["lists"].startswith("two-level") and s["recall_lower_bound"] == 0.9
        covered.append(true_recall >= s["recall_lower_bound"])
    assert certified >= 10
    assert sum(covered) >= 19


def test_default_lists_grow_linearly_from_the_two_level_size():
    assert default_lists(50_000) == default_nlist(50_000)  # sqrt(n) below
    assert default_lists(1_000_000) == 1_000_000 // _lists.ROWS_PER_LIST
    assert default_lists(300_000) >= TWO_LEVEL_MIN_K


def test_band_truth_of_sampled_rows_is_brute_force_for_any_assignment():
    """The recall sample's exact pairs by the band search equal brute force, also when rows are assigned
    to arbitrary (not nearest) centroids: the triangle-inequality bands hold for any assignment."""
    from curate.engine.dedup.bands import ProvableSearch, assigned_sims

    x = unit(grouped(3, n_base=4000, d=12, n_src=900)).astype(np.float32)
    truth = brute(x, 0.9)
    rng = np.random.default_rng(0)
    sample = rng.choice(len(x), 500, replace=False)
    want = {pr for pr in truth if pr[0] in set(sample.tolist()) or pr[1] in set(sample.tolist())}
    cent = unit(rng.normal(size=(40, 12))).astype(np.float32)
    for labels in (np.argmax(x @ cent.T, axis=1), rng.integers(0, 40, len(x))):
        band = ProvableSearch(x, 0.9, cent, labels, assigned_sims(x, cent, labels))
        a, b = band.pairs_of(sample)
        assert set(zip(a.tolist(), b.tolist())) == want and len(a) == len(want)


def test_two_level_recall_sample_uses_the_band_truth():
    x = unit(grouped(4, n_base=6000, d=12, n_src=1400)).astype(np.float32)
    s = IvfSearch(x, 0.9, "cpu", TWO_LEVEL_MIN_K, seed=0)
    sample = np.arange(0, len(x), 7)
    a, b = s.exact_rows(sample)
    hit = set(sample.tolist())
    assert set(zip(a.tolist(), b.tolist())) == {pr for pr in brute(x, 0.9) if pr[0] in hit or pr[1] in hit}
    res = dedup(x, 0.9, method="ivf", device="cpu", nlist=TWO_LEVEL_MIN_K, target_recall=0.9,
                sample_queries=600, seed=0)
    assert res.summary["method"] == "ivf"
    assert "band search" in res.summary["recall_sample_rows"]["truth"]
    assert res.summary["timings"]["index_s"] > 0


def test_probe_order_is_the_same_on_one_thread_and_on_several(monkeypatch):
    import curate.engine.dedup.kernel as threads

    x = unit(np.random.default_rng(5).normal(size=(5000, 16))).astype(np.float32)
    coarse, fine, gstart = _lists.train(x, 144, seed=0)
    monkeypatch.setattr(_lists, "ROW_CHUNK", 700)  # several chunks
    many = _lists.probe_order(x, coarse, fine, gstart, cap=8, coarse_probe=3)
    monkeypatch.setattr(threads, "cores", lambda: 1)
    one = _lists.probe_order(x, coarse, fine, gstart, cap=8, coarse_probe=3)
    assert np.array_equal(many, one)


def test_cell_pairs_threaded_equals_one_cell_brute_force(monkeypatch):
    import curate.engine.dedup.kernel as threads
    from curate.engine.dedup import cell_pairs

    x = unit(grouped(6, n_base=3000, d=12, n_src=700)).astype(np.float32)
    lab = np.random.default_rng(1).integers(0, 50, len(x))
    every = np.arange(len(x))
    cells = [(every, np.nonzero(lab == c)[0]) for c in range(50)]  # all rows x each cell: complete
    monkeypatch.setattr(threads, "cores", lambda: 2)
    a, b, _ = cell_pairs(x, 0.9, cells)
    assert set(zip(a.tolist(), b.tolist())) == brute(x, 0.9) and len(a) == len(brute(x, 0.9))
    assert list(threads.parallel_map(lambda v: v * v, range(50), workers=3)) == [v * v for v in range(50)]


def test_band_plan_on_loose_clusters_allocates_less_than_the_matrix():
    """The plan's survivors of the dense pass are filtered on the product block itself: on loose clusters
    most (row, shell) survive, and gathering their rows once made the plan 20 x the matrix (weak shape)."""
    import tracemalloc

    from curate.engine.dedup.bands import ProvableSearch, clusters

    rng = np.random.default_rng(0)
    x = unit(rng.normal(size=(20_000, 128))).astype(np.float32)  # no structure: bands cover everything
    cent, labels, sims = clusters(x, 141, "cpu", 0)
    band = ProvableSearch(x, 0.9, cent, labels, sims)
    tracemalloc.start()
    try:
        volume = band.plan(len(x) * float(len(x)) / 16)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert volume == float("inf")  # the band is too wide: auto moves on
    assert peak < 1.5 * x.nbytes


def test_parallel_map_stops_queued_work_on_an_error():
    """An error (or Ctrl-C) in one block drops the queued blocks instead of running them all first."""
    import time

    from curate.engine.dedup.kernel import parallel_map

    calls = []

    def work(i):
        calls.append(i)
        if i == 2:
            raise ValueError("block 2 failed")
        time.sleep(0.01)
        return i

    with pytest.raises(ValueError, match="block 2"):
        list(parallel_map(work, range(200), workers=2))
    assert len(calls) < 50


@pytest.mark.parametrize("two_level", [False, True])
def test_search_in_row_passes_finds_the_same_pairs(monkeypatch, two_level):
    """The CPU search goes through the rows in passes of at most SEARCH_ENTRIES (row, probed list) entries
    (its probe index arrays stay small at 1M rows and nprobe 36); in many passes it finds exactly the
    pairs of one pass, and every one of them is a true pair (brute force in float64)."""
    import curate.engine.dedup.ivf as ivf

    x = unit(grouped(6, n_base=5000, d=12, n_src=1200)).astype(np.float32)
    if two_level:
        s = IvfSearch(x, 0.9, "cpu", TWO_LEVEL_MIN_K, seed=0)
    else:
        s = IvfSearch(x, 0.9, "cpu", 64, seed=0)
    one = s.search(5)
    monkeypatch.setattr(ivf, "SEARCH_ENTRIES", 5 * 700)  # 700 rows a pass
    seen = []
    s.progress = lambda label, done, total: seen.append(label)
    many = s.search(5)
    passes = -(-len(x) // 700)
    assert passes >= 8 and any(f"rows part {passes}/{passes}" in lab for lab in seen)
    assert np.array_equal(one[0], many[0]) and np.array_equal(one[1], many[1])
    np.testing.assert_allclose(one[2], many[2], atol=1e-6)  # other block shapes: other float32 sums
    got = set(zip(many[0].tolist(), many[1].tolist()))
    assert len(got) > 500 and got <= brute(x, 0.9 - 1e-6)
