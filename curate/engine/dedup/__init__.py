"""Near-duplicate detection on embeddings (and image files): the map of this package.

One call, :func:`dedup` (``api``), flows down the modules below; each imports only the ones under it:

1. ``api`` — checks every parameter once and builds a :class:`~curate.engine.dedup.plan.SearchPlan`;
   below :data:`~curate.engine.dedup.plan.AUTO_EXACT_BELOW` rows ``auto`` is ``exact``.
2. ``plan`` — :func:`~curate.engine.dedup.plan.approximate` runs the ``auto`` rule: the band search if its
   planned pair volume is small enough, else IVF with a certified ``nprobe``; None means "search exactly".
3. ``bands`` — spherical k-means clusters (:func:`curate.engine.cluster.kmeans.kmeans`; trained centred
   when the rows share a mean direction, ``lists.centred_centroids``) and the triangle-inequality band
   search (complete by construction); the approximate ``neighbors`` search.
4. ``ivf`` — inverted-list search; ``lists`` — two-level lists, centred clusters and the centroid rankings.
5. ``recall`` — the held-out sample, the Clopper–Pearson bound over duplicate groups, the choice of the
   searcher's parameter (``nprobe`` / ``neighbors``); on clean data (``auto``) the bound on the share of
   rows with a missed partner instead of an exact search (``row_bound_search``).
6. ``exact`` — every pair (CPU blocked products; GPU FAISS k-NN via ``faiss.contrib.exhaustive_search``).
7. ``kernel`` — the leaf every search ends in: blocked float32 products, cells of (query, member) rows on
   a thread per core, canonical (low, high) pairs. It imports nothing else from curate.
8. ``groups`` — :class:`DedupResult`, connected-component / greedy keep rules, the keep list.

Beside the flow: ``sharded`` (:func:`dedup_dask`: the exact search spread over Dask, one task per pair of
shards) and ``images`` (:func:`image_dedup`: identical files, identical pixels, perceptual hashes).
"""

from __future__ import annotations

from curate.engine.dedup.api import (
    IDENTICAL_TOL,
    METHODS,
    check_method,
    check_threshold,
    dedup,
    default_lists,
    default_nlist,
    describe_recall,
    search_threshold,
)
from curate.engine.dedup.exact import exact_pairs
from curate.engine.dedup.groups import KEEP_RULES, DedupResult, build_result, check_keep_rule
from curate.engine.dedup.kernel import canonical_pairs, cell_pairs, dense_pairs
from curate.engine.dedup.plan import AUTO_EXACT_BELOW, AUTO_IVF_FROM, AUTO_MIN_SAVING

__all__ = ["AUTO_EXACT_BELOW", "AUTO_IVF_FROM", "AUTO_MIN_SAVING", "IDENTICAL_TOL", "KEEP_RULES", "METHODS",
           "DedupResult", "build_result", "canonical_pairs", "cell_pairs", "check_keep_rule", "check_method",
           "check_threshold", "dedup",
           "default_lists", "default_nlist", "dense_pairs", "describe_recall", "exact_pairs",
           "search_threshold"]

