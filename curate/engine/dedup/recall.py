"""Honest recall for the approximate dedup searches: a one-sided 95 % bound from an exact-searched sample.

A random sample of rows is searched exactly against all rows (blocked matrix products, or the complete
band search over the IVF lists, ``ProvableSearch.pairs_of``); its pairs are the truth the approximate
search is measured against. With a fixed ``nprobe`` / ``neighbors`` the sample bounds the recall
directly; when the parameter is tuned, the smallest one whose bound on the sample clears ``target_recall``
is chosen, a fixed-sequence test that certifies ``target_recall`` itself (:func:`tuned_search`). Where
``auto`` may try a second index on the same rows, each is tested at half the error (``plan.sampled_tries``).

Pairs that share rows are not independent (a duplicate group of five images gives ten pairs found or
missed together), so the pairs are grouped into the connected components of the sampled-pair graph and
the bound uses the *effective* number of groups ``(Σ m_g)² / Σ m_g²`` (``m_g``: pairs in group ``g``):
the Kish effective sample size of a cluster sample when the pairs of a group are perfectly correlated,
the worst case. The bound is the one-sided Clopper–Pearson lower limit (:func:`cp_lower`, as
``scipy.stats.binomtest(...).proportion_ci(method="exact")``) of the pair recall at that size.

A held-out sample needs enough duplicate groups before any bound can reach the target (all found: the
bound is ``(1 - confidence) ** (1 / groups)``; 0.99 needs about 300 groups at 95 %). The sample grows
until it holds :func:`groups_needed` groups or its exact search would cost more than ``2 * max_fraction``
of the full exact search; the callers then search exactly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from curate.engine.dedup.kernel import canonical_pairs
from curate.engine.dedup.truth import TruthCache, rows_pairs

CONFIDENCE = 0.95
SAMPLE_BUDGET_PROBES = 32  # under ``auto`` the held-out truth may cost what a search at this nprobe does
MISS_ALLOWANCE = 0.0  # the sample must certify the target with this fraction of (1 - target) missed
# (0: the smallest sample that can certify at all; the chosen nprobe then finds every sampled pair)


@dataclass
class Sample:
    """Exact pairs (row ``a`` < row ``b``) of a set of sampled query rows, with their group labels."""

    a: np.ndarray
    b: np.ndarray
    group: np.ndarray
    rows: int
    query_rows: np.ndarray | None = None  # the sampled rows themselves

    @property
    def pairs(self) -> int:
        return len(self.a)

    @property
    def effective_groups(self) -> float:
        return effective_groups(self.group)


@dataclass
class Bound:
    """A one-sided lower confidence bound on pair recall and what it rests on."""

    lower: float
    point: float
    pairs: int
    groups: int
    effective: float
    confidence: float = CONFIDENCE

    def basis(self, kind: str = "held-out") -> str:
        return (f"{kind}: {self.pairs:,} pairs in {self.groups:,} duplicate groups (effective n "
                f"{self.effective:,.0f}), one-sided Clopper-Pearson {percent(self.confidence)}")


def percent(c: float) -> str:  # a confidence as "95%", "97.5%"
    return f"{c:.0%}" if abs(c * 100 - round(c * 100)) < 1e-9 else f"{c:.1%}"


def effective_groups(group: np.ndarray) -> float:
    if not len(group):
        return 0.0
    m = np.bincount(group).astype(np.float64)
    m = m[m > 0]
    return float(m.sum() ** 2 / (m**2).sum())


def cp_lower(k: int, n: int, confidence: float = CONFIDENCE) -> float:
    """One-sided Clopper–Pearson lower limit of a binomial proportion, ``k`` of ``n``: the ``1 - confidence``
    quantile of Beta(k, n - k + 1) (Clopper & Pearson 1934; what ``scipy.stats.binomtest(...).proportion_ci
    (method="exact")`` computes, from ``scipy.special`` alone: ``scipy.stats`` takes seconds to import)."""
    from scipy.special import betaincinv

    return 0.0 if k <= 0 else float(betaincinv(k, n - k + 1, 1.0 - confidence))


def cp_upper(k: int, n: int, confidence: float = CONFIDENCE) -> float:
    """One-sided Clopper–Pearson upper limit: the ``confidence`` quantile of Beta(k + 1, n - k)."""
    from scipy.special import betaincinv

    return 1.0 if k >= n else float(betaincinv(k + 1, n - k, confidence))


def lower_bound(found: np.ndarray, group: np.ndarray, confidence: float = CONFIDENCE) -> Bound | None:
    """Clopper–Pearson lower bound on ``mean(found)`` with the effective number of groups as sample size."""
    found = np.asarray(found, dtype=bool)
    if not len(found):
        return None
    point = float(found.mean())
    n_eff = effective_groups(group)
    n = max(1, int(np.floor(n_eff + 1e-9)))
    k = int(np.floor(point * n + 1e-9))
    low = cp_lower(k, n, confidence)
    return Bound(lower=low, point=point, pairs=len(found), groups=int(len(np.unique(group))),
                 effective=n_eff, confidence=confidence)


@lru_cache(maxsize=64)
def groups_needed(target: float, confidence: float = CONFIDENCE) -> int:
    """Fewest effective groups whose bound clears ``target`` with ``MISS_ALLOWANCE`` of the misses."""
    if target <= 0:
        return 1
    n = 4
    while n < 10**7:
        k = int(np.floor(n * (1 - (1 - target) * MISS_ALLOWANCE)))
        if cp_lower(k, n, confidence) >= target:
            return n
        n = int(np.ceil(n * 1.1))
    return n


def pair_groups(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected-component label of every pair in the graph of the pairs themselves."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if not len(a):
        return np.zeros(0, np.int64)
    nodes, inv = np.unique(np.concatenate([a, b]), return_inverse=True)
    la, lb = inv[: len(a)], inv[len(a):]
    g = coo_matrix((np.ones(len(a), np.int8), (la, lb)), shape=(len(nodes), len(nodes)))
    _, comp = connected_components(g, directed=False)
    return comp[la].astype(np.int64)


def _make(a: np.ndarray, b: np.ndarray, rows: np.ndarray) -> Sample:
    return Sample(a, b, pair_groups(a, b), len(rows), np.asarray(rows, dtype=np.int64))


def holdout(x: np.ndarray, t: float, *, start: int, target: float, seed: int, max_fraction: float = 0.125,
            confidence: float = CONFIDENCE, truth: Any = None, budget: float | None = None,
            volume: Any = None) -> tuple[Sample, bool]:
    """An exact-searched random sample of rows; ``ok`` is False when it stays too small to certify.

    The sample starts at ``start`` rows and grows (its size extrapolated from the groups found so far,
    plus 5 %) until it holds :func:`groups_needed` effective duplicate groups or reaches
    ``max_fraction`` of the rows (its search then costs ``2 * max_fraction`` of the full exact search).
    ``truth(rows)``: the exact pairs (a < b) with an end in ``rows``; by default every sampled row
    against all rows (blocked products), else a complete band search (``ProvableSearch.pairs_of``).

    ``budget`` (row-by-row products; ``volume()`` the products the truth has computed so far, by default
    ``n`` per row): the sample grows only while its truth is expected to stay within it, the cost per
    row measured on the first ``start`` rows. It is set where a cheaper statement is available when the
    target cannot be certified (``auto`` on clean data: the missed-row bound), so that the sample costs
    about what the search does, never a large share of the exact search.
    """
    n = len(x)
    if truth is None:
        def truth(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return rows_pairs(x, t, rows)
        volume = None
    perm = np.random.default_rng(seed).permutation(n)
    need = groups_needed(target, confidence)
    cap = max(1, min(n, int(max_fraction * n)))
    s = max(1, min(start, cap))
    done = 0
    pa, pb = [], []
    while True:
        a, b = truth(perm[done:s])
        pa.append(a)
        pb.append(b)
        if budget is not None and not done:  # the first rows: what a held-out row costs here
            per_row = (volume() if volume is not None else float(s) * n) / s
            cap = max(s, min(cap, int(budget / max(per_row, 1.0))))
        done = s
        a, b = np.concatenate(pa), np.concatenate(pb)
        hold = canonical_pairs(a, b, np.zeros(len(a), np.float32))[:2]  # each pair once, ordered
        groups = effective_groups(pair_groups(*hold))
        ok = groups >= need
        if ok or s >= cap:
            break
        grow = 4 * s if groups < 1 else int(np.ceil(s * need / groups * 1.05))
        if groups * cap / s < 0.8 * need:  # even at the cap (groups grow about linearly) too few: stop
            break
        s = min(cap, max(grow, s + 1))
    return _make(hold[0], hold[1], perm[:done]), bool(ok)


def choose(need: np.ndarray, group: np.ndarray, target: float, cap: int,
           confidence: float = CONFIDENCE) -> int:
    """Smallest parameter ``p`` (1..cap) whose sample lower bound of ``mean(need <= p)`` >= target.

    ``need[i]`` is the smallest ``nprobe`` / ``neighbors`` that finds sampled pair ``i``. If no ``p``
    reaches the target on the sample, ``cap`` (the widest search).
    """
    if not len(need):
        return 1
    cands = np.unique(np.clip(need, 1, cap))
    lo, hi = 0, len(cands) - 1
    if lower_bound(need <= cands[hi], group, confidence).lower < target:
        return int(cap)
    while lo < hi:  # the bound grows with p: binary search over the distinct needed values
        mid = (lo + hi) // 2
        if lower_bound(need <= cands[mid], group, confidence).lower >= target:
            hi = mid
        else:
            lo = mid + 1
    return int(cands[lo])


def found_mask(a: np.ndarray, b: np.ndarray, i: np.ndarray, j: np.ndarray, n: int) -> np.ndarray:
    """Which sampled pairs (a, b) are among the found pairs (i, j) (all canonical, low < high)."""
    if not len(a):
        return np.zeros(0, dtype=bool)
    return np.isin(a * n + b, i.astype(np.int64) * n + j)


def tuned_search(x: np.ndarray, t: float, make_searcher: Any, fixed: int | None, target: float, *,
                 sample_queries: int, seed: int, info: dict[str, Any], confidence: float = CONFIDENCE,
                 searcher_truth: bool = False, row_bound: bool = False, truths: TruthCache | None = None,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Choose the searcher's parameter on the held-out sample, search, and report an honest bound.

    ``make_searcher()`` builds the index (IVF, cluster neighbourhoods) only after the sample is drawn,
    unless ``searcher_truth``: then it is built first and its ``exact_rows`` (a complete band search over
    its lists) gives the sample's exact pairs, so that the sample costs a few lists per row, not ``n``.

    Tuned (``fixed`` None): ``p`` is the smallest parameter whose Clopper–Pearson bound on the sample's
    pairs found at ``p`` (read off ``need``) clears ``target``. That is a fixed-sequence test of the
    hypotheses "recall(p) < target" from the widest ``p`` down, each at level ``1 - confidence``; since
    the pairs found grow with ``p``, the chance that the chosen ``p`` has recall below ``target`` is at
    most ``1 - confidence``, so ``target`` itself is the reported bound (the bound at ``p`` is not: it was
    selected). The search must then find every sample pair ``need`` promised, else the caller falls back.
    Fixed ``p``: the sample was not used for any choice and its own bound is reported as is.

    ``truths``: the held-out rows' pairs from an earlier try on the same rows (:mod:`.truth`).

    ``row_bound`` (the ``auto`` method): when the sample holds too few duplicate groups to certify
    ``target`` (clean data), search anyway and bound the share of rows with a missed partner instead
    (:func:`row_bound_search`); no exact search.

    Returns the pairs, or None when the target cannot be certified (sample too small, no parameter
    below the widest search reaches the target, or the search missed promised pairs): the caller then
    searches exactly.
    """
    t0 = time.perf_counter()
    searcher = make_searcher() if searcher_truth else None
    held, ok = _held_out(x, t, searcher, info, budgeted=row_bound and fixed is None, start=sample_queries,
                         target=target, seed=seed, confidence=confidence, truths=truths)
    if fixed is None and not ok and row_bound:  # clean data: bound the rows with a missed partner
        searcher = searcher if searcher is not None else make_searcher()
        return row_bound_search(x, searcher, held, info, t0, confidence)
    if fixed is None and not ok:
        info["fallback_reason"] = (
            f"the held-out sample holds {held.effective_groups:,.0f} effective duplicate groups, fewer "
            f"than the {groups_needed(target, confidence):,} needed to certify recall >= {target:g}")
        return None
    searcher = searcher if searcher is not None else make_searcher()
    if fixed is None:
        need = searcher.need(held.a, held.b)
        p = choose(need, held.group, target, searcher.cap, confidence)
        if p >= searcher.cap:
            info["fallback_reason"] = f"no {searcher.param} below the widest search reaches {target:g}"
            return None
    else:
        p = int(fixed)
    t1 = time.perf_counter()
    i, j, c = searcher.search(p)
    t2 = time.perf_counter()
    found = found_mask(held.a, held.b, i, j, len(x))
    bound = lower_bound(found, held.group, confidence)
    info.update(searcher.describe(p))
    info.setdefault("timings", {}).update(sample_s=round(t1 - t0, 3), search_s=round(t2 - t1, 3))
    if getattr(searcher, "build_s", None) is not None:  # the index build, within sample_s or before it
        info["timings"]["index_s"] = round(float(searcher.build_s), 3)
    if bound is None:
        info.update(recall_lower_bound=None, recall_confidence=confidence,
                    recall_basis=f"not bounded: the {held.rows:,} held-out rows have no pair above "
                                 "the threshold")
        return i, j, c
    info.update(recall_held_out=round(bound.point, 4), recall_groups=bound.groups, recall_pairs=bound.pairs,
                recall_confidence=confidence)
    if fixed is not None:
        info.update(recall_lower_bound=round(bound.lower, 4), recall_basis=bound.basis())
        return i, j, c
    if (~found & (need <= p)).any():
        info["fallback_reason"] = f"the search at {searcher.param} {p} missed held-out pairs it should find"
        return None
    info.update(recall_lower_bound=float(target),
                recall_basis=bound.basis() + f"; {searcher.param} = smallest whose bound clears the target "
                                             "(fixed-sequence test)")
    return i, j, c


def _held_out(x: np.ndarray, t: float, searcher: Any, info: dict[str, Any], *, budgeted: bool, start: int,
              target: float, seed: int, confidence: float, truths: TruthCache | None) -> tuple[Sample, bool]:
    """The held-out sample of :func:`tuned_search` (its truth from ``searcher``'s complete band search when
    given, read back from ``truths`` for rows an earlier try searched, within the
    :data:`SAMPLE_BUDGET_PROBES` budget when ``budgeted``) and what the summary says of it: its rows and
    the products its truth cost as a share of the exact search's."""
    n = len(x)
    budget = searcher.work(SAMPLE_BUDGET_PROBES) if budgeted and hasattr(searcher, "work") else None
    truth = searcher.exact_rows if searcher is not None else (lambda rows: rows_pairs(x, t, rows))
    known = truths.rows if truths is not None else 0
    truth, volume = (truths or TruthCache(n)).wrap(
        truth, (lambda: searcher.truth_volume) if searcher is not None else None)
    held, ok = holdout(x, t, start=start, target=target, seed=seed, confidence=confidence, truth=truth,
                       budget=budget, volume=volume)
    info["recall_sample_rows"] = {"held_out": held.rows,
                                  "truth_share_of_exact": round(volume() / max(1.0, n * (n - 1) / 2.0), 5)}
    if searcher is not None:
        info["recall_sample_rows"]["truth"] = "band search over the lists (complete)"
    if known:
        info["recall_sample_rows"]["read_back"] = min(known, held.rows)  # rows an earlier try searched
    return held, ok


# ------------------------------------------------------------------------------------ clean data
CLEAN_MIN_PROBE = 8  # the widest-first test of the clean-data search stops at this nprobe at the lowest


def missed_rows_upper(missed: int, rows: int, confidence: float = CONFIDENCE) -> float:
    """One-sided Clopper–Pearson upper limit of the share of rows with a missed partner, ``missed`` of
    ``rows`` held-out rows drawn uniformly without replacement (the binomial limit is conservative for
    draws without replacement: for no miss, ``prod(1 - M / (N - i)) <= (1 - M / N) ** rows``)."""
    return cp_upper(int(missed), int(rows), confidence)


def rows_missing(held: Sample, rows: np.ndarray, found: np.ndarray) -> int:
    """How many held-out query rows have a partner (a sample pair with an end in ``rows``) not found."""
    lost = np.concatenate([held.a[~found], held.b[~found]])
    return int(np.isin(rows, lost).sum())


def row_bound_search(x: np.ndarray, searcher: Any, held: Sample, info: dict[str, Any], t0: float,
                     confidence: float = CONFIDENCE) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Search a sample too poor in duplicates to certify recall (clean data) and bound the missed rows.

    ``p`` is the smallest parameter from :data:`CLEAN_MIN_PROBE` up that finds every sampled pair (the
    widest search when none does). The statement certified is about rows, not pairs: the share of all
    rows that have at least one partner at or above the threshold which the search missed is at most
    the one-sided Clopper–Pearson limit over the held-out rows (:func:`missed_rows_upper`). The choice
    of ``p`` is a fixed-sequence test from the widest search down (the missed rows shrink as ``p``
    grows), so stopping at the smallest ``p`` with no missed held-out row keeps the 95 %. Over the
    same sample the pair recall bound (over duplicate groups) is reported too when the sample has pairs.

    None (the caller tries another search) when even the widest search misses a held-out partner: only
    two-level lists can, whose stored probe order stops at ``PROBE_CAP`` lists (flat lists at ``p = nlist``
    search everything).
    """
    rows = held.query_rows
    need = searcher.need(held.a, held.b)
    cap = int(searcher.cap)
    p = min(cap, max(CLEAN_MIN_PROBE, int(need.max()) if len(need) else 1))
    t1 = time.perf_counter()
    i, j, c = searcher.search(p)
    t2 = time.perf_counter()
    found = found_mask(held.a, held.b, i, j, len(x))
    missed = rows_missing(held, rows, found)
    if missed and p >= cap:
        info["fallback_reason"] = (f"at the widest {searcher.param} ({cap}) the search missed partners of "
                                   f"{missed:,} of {len(rows):,} held-out rows")
        return None
    upper = missed_rows_upper(missed, len(rows), confidence)
    info.update(searcher.describe(p))
    info.setdefault("timings", {}).update(sample_s=round(t1 - t0, 3), search_s=round(t2 - t1, 3))
    if getattr(searcher, "build_s", None) is not None:
        info["timings"]["index_s"] = round(float(searcher.build_s), 3)
    bound = lower_bound(found, held.group, confidence)
    info.update(recall_lower_bound=None if bound is None else round(bound.lower, 4),
                recall_confidence=confidence, certified="missed rows",
                missed_row_share_upper=round(upper, 6), missed_rows_upper=int(np.ceil(upper * len(x))),
                missed_row_basis=(
                    f"share of all rows with at least one partner at or above the threshold that the search "
                    f"missed: one-sided Clopper-Pearson {percent(confidence)} over {len(rows):,} held-out "
                    f"rows drawn uniformly ({missed:,} of them missed a partner; their partners from a "
                    f"search complete by construction); {searcher.param} = smallest from {CLEAN_MIN_PROBE} "
                    "finding every held-out pair (fixed-sequence test)"))
    info["recall_basis"] = (bound.basis() + " (too few to certify the target recall)" if bound is not None
                            else f"not bounded: the {len(rows):,} held-out rows have no pair above the "
                                 "threshold")
    if bound is not None:
        info.update(recall_held_out=round(bound.point, 4), recall_groups=bound.groups,
                    recall_pairs=bound.pairs)
    return i, j, c
