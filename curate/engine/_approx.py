"""Which approximate search runs for ``dedup``: the ``auto`` rule, the band search and IVF.

``auto`` (from :data:`~curate.engine.dedup.AUTO_EXACT_BELOW` rows): the band search of ``_semantic``
when its planned pair volume is at most 1/:data:`~curate.engine.dedup.AUTO_MIN_SAVING` of all pairs,
else IVF (``_ivf``) with a certified ``nprobe``. From :data:`~curate.engine.dedup.AUTO_IVF_FROM` rows IVF
is tried first: the band plan compares every row with every centroid, about ``n * sqrt(n)`` products,
while the two-level lists (``_lists``) keep IVF linear in ``n``. Each returns None when it cannot answer
(band too wide, recall not certifiable) and the caller searches exactly.
"""

from __future__ import annotations

import time

import numpy as np

from curate.engine.dedup import AUTO_IVF_FROM, AUTO_MIN_SAVING


def approximate(x, t, meth, dev, ks, nprobe, neighbors, target, sample_queries, seed, progress, info):
    """Run semantic / ivf (auto: semantic if its band prunes enough, else ivf; ivf first from
    AUTO_IVF_FROM rows); None -> search exactly. ``ks``: (semantic clusters, ivf lists)."""
    n = len(x)
    info["timings"] = {}
    if meth == "auto" and n >= AUTO_IVF_FROM:
        out = _ivf(x, t, dev, ks[1], nprobe, target, sample_queries, seed, progress, info, None)
        if out is not None:
            return out, "ivf"
        info["ivf_skipped"] = info.pop("fallback_reason", "ivf could not certify the target")
        for key in ("target_recall", "recall_sample_rows"):
            info.pop(key, None)
    out, cent = _semantic(x, t, meth, dev, ks[0], neighbors, target, sample_queries, seed, progress, info)
    if out is not None or meth == "semantic" or (meth == "auto" and n >= AUTO_IVF_FROM):
        return out, "semantic"
    return _ivf(x, t, dev, ks[1], nprobe, target, sample_queries, seed, progress, info,
                cent if ks[1] == ks[0] else None), "ivf"


def _semantic(x, t, meth, dev, k, neighbors, target, sample_queries, seed, progress, info):
    """The band search (or, with ``neighbors``, the approximate SemDeDup search).

    Returns (pairs or None, centroids)."""
    from curate.engine._recall import tuned_search
    from curate.engine._semantic import NeighbourSearch, ProvableSearch, clusters

    n = len(x)
    if meth not in ("auto", "semantic"):
        return None, None
    t0 = time.perf_counter()
    if progress:
        progress("semantic: k-means", 0, 1)
    cent, labels, sims = clusters(x, k, dev, seed)
    info["timings"]["kmeans_s"] = round(time.perf_counter() - t0, 3)
    if meth == "semantic" and neighbors is not None:
        info["target_recall"] = target
        out = tuned_search(x, t, lambda: NeighbourSearch(x, t, cent, labels, progress), int(neighbors),
                           target, sample_queries=sample_queries, seed=seed, info=info)
        return out, cent
    budget = n * float(n) / AUTO_MIN_SAVING
    prov = ProvableSearch(x, t, cent, labels, sims, progress)
    volume = prov.plan(budget)
    if not np.isfinite(volume) and meth == "semantic":  # asked for: complete search at any cost
        volume = prov.plan()
    if not np.isfinite(volume):
        info["semantic_skipped"] = f"band volume above 1/{AUTO_MIN_SAVING} of all pairs"
        return None, cent
    t1 = time.perf_counter()
    out = prov.search()
    info.update(clusters=len(prov.cent), shells=len(prov.members),
                pair_volume_fraction=round(volume / (n * float(n)), 5), recall_lower_bound=1.0,
                recall_confidence=1.0,
                recall_basis="complete by construction: triangle-inequality bands around the k-means "
                             "centroids")
    info["timings"].update(plan_s=round(t1 - t0, 3), search_s=round(time.perf_counter() - t1, 3))
    return out, cent


def _ivf(x, t, dev, k, nprobe, target, sample_queries, seed, progress, info, cent):
    """IVF with nprobe tuned (or fixed) on the held-out sample; None when it cannot be certified."""
    from curate.engine._ivf import IvfSearch
    from curate.engine._recall import tuned_search

    info["target_recall"] = target

    # built once the sample shows that the recall can be certified; two-level lists are built first,
    # since their band search gives the sample's exact pairs (tuned_search's searcher_truth)
    def build() -> IvfSearch:
        return IvfSearch(x, t, dev, k, seed, progress, centroids=cent)

    return tuned_search(x, t, build, nprobe, target, sample_queries=sample_queries, seed=seed, info=info,
                        searcher_truth=IvfSearch.two_level(k, dev, cent))
