"""Which search answers a dedup call (one :class:`SearchPlan`): the ``auto`` rule, the band search, IVF.

``auto`` (from :data:`AUTO_EXACT_BELOW` rows): the band search (:mod:`~curate.engine.dedup.bands`) when
its planned pair volume is at most 1/:data:`AUTO_MIN_SAVING` of all pairs, else IVF
(:mod:`~curate.engine.dedup.ivf`) with a certified ``nprobe``. From :data:`AUTO_IVF_FROM` rows IVF is tried
first: the band plan compares every row with every centroid, about ``n * sqrt(n)`` products, while the
two-level lists (:mod:`~curate.engine.dedup.lists`) keep IVF linear in ``n``. When the two-level lists
cannot certify and the band is too wide, IVF over the band plan's √n clusters is the last try
(:func:`_flat_ivf`). Each returns None when it cannot answer (band too wide, recall not certifiable) and
the caller searches exactly; under ``auto`` a
sample with too few duplicate groups (clean data) is not "not certifiable": IVF then bounds the share of
rows with a missed partner (``row_bound``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from curate.engine.dedup.kernel import Pairs, ProgressFn
from curate.engine.dedup.recall import CONFIDENCE, percent
from curate.engine.dedup.truth import TruthCache

AUTO_EXACT_BELOW = 20_000
AUTO_MIN_SAVING = 16
AUTO_IVF_FROM = 500_000


@dataclass(frozen=True)
class SearchPlan:
    """What one dedup search was asked for, checked by :func:`curate.engine.dedup.api.dedup`.

    ``threshold`` is the similarity searched for (after ``search_threshold``); ``clusters`` / ``lists``
    the band-search clusters and IVF lists; ``nprobe`` / ``neighbors`` a fixed IVF / approximate-semantic
    parameter (None: tuned for ``target_recall``)."""

    threshold: float
    method: str  # auto | semantic | ivf
    device: str
    clusters: int
    lists: int
    nprobe: int | None = None
    neighbors: int | None = None
    target_recall: float = 0.99
    sample_queries: int = 2000
    seed: int = 0


def approximate(x: np.ndarray, plan: SearchPlan,
                progress: ProgressFn | None = None) -> tuple[Pairs | None, str, dict[str, Any]]:
    """Run semantic / ivf per the ``auto`` rule. Returns (pairs or None -> search exactly, the method that
    answered or was tried last, what the summary should say)."""
    info: dict[str, Any] = {"timings": {}}
    n, meth = len(x), plan.method
    truths = TruthCache(n)  # the held-out rows' pairs, for a second IVF try on the same rows
    if meth == "auto" and n >= AUTO_IVF_FROM:
        t0 = time.perf_counter()
        out = _ivf(x, plan, progress, info, None, truths=truths)
        if out is not None:
            return out, "ivf", info
        _ivf_skipped(info, t0)
    kmeans = None
    if meth in ("auto", "semantic"):
        out, kmeans = _semantic(x, plan, progress, info)
        if out is not None or meth == "semantic":
            return out, "semantic", info
    if "ivf_skipped" not in info:
        reuse = kmeans if plan.lists == plan.clusters else None
        t0 = time.perf_counter()
        out = _ivf(x, plan, progress, info, reuse, truths=truths)
        if out is not None or reuse is not None or meth != "auto":
            return out, "ivf", info
        _ivf_skipped(info, t0)  # two-level lists that could not certify: one more try below
    return _flat_ivf(x, plan, progress, info, kmeans, truths), "ivf", info


def _ivf_skipped(info: dict[str, Any], t0: float) -> None:
    """Keep why the two-level IVF search did not answer (``ivf_skipped``) and the seconds it took since
    ``t0`` (``ivf_skipped_s``: lists and held-out truth, the truth kept for the next try); drop its
    sample's keys."""
    info["ivf_skipped"] = info.pop("fallback_reason", "ivf could not certify the target")
    info["timings"]["ivf_skipped_s"] = round(time.perf_counter() - t0, 3)
    for key in ("target_recall", "recall_sample_rows"):
        info.pop(key, None)


def _flat_ivf(x: np.ndarray, plan: SearchPlan, progress: ProgressFn | None, info: dict[str, Any],
              kmeans: tuple[np.ndarray, np.ndarray] | None, truths: TruthCache) -> Pairs | None:
    """The last try before the exact search under ``auto`` when the two-level lists could not certify the
    target (on loose data a partner's list is often beyond the stored probe order) and the band is too
    wide: IVF over the band plan's √n clusters, whose lists are large enough that a partner lies in a few
    of them, at a cost of about ``nprobe / √n`` of the exact search. ``info`` gains its statement when it
    answers, else the reasons none could (``fallback_reason``)."""
    info["fallback_reason"] = (f"ivf: {info['ivf_skipped']}; semantic: "
                               f"{info.get('semantic_skipped', 'not complete')}")
    if kmeans is None or plan.clusters >= plan.lists:
        return None
    sub: dict[str, Any] = {"timings": info["timings"]}
    out = _ivf(x, replace(plan, lists=plan.clusters), progress, sub, kmeans, tries=sampled_tries(plan),
               truths=truths)
    if out is None:
        why = sub.get("fallback_reason")
        info["fallback_reason"] += f"; ivf over the {plan.clusters} band clusters: {why}"
        return None
    info.pop("fallback_reason", None)
    info.update(sub)
    return out


def _semantic(x: np.ndarray, plan: SearchPlan, progress: ProgressFn | None,
              info: dict[str, Any]) -> tuple[Pairs | None, tuple[np.ndarray, np.ndarray]]:
    """The band search (or, with ``neighbors``, the approximate SemDeDup search); (pairs or None,
    (centroids, labels))."""
    from curate.engine.dedup.bands import NeighbourSearch, ProvableSearch, clusters
    from curate.engine.dedup.recall import tuned_search

    n, t = len(x), plan.threshold
    t0 = time.perf_counter()
    if progress:
        progress("semantic: k-means", 0, 1)
    cent, labels, sims = clusters(x, plan.clusters, plan.device, plan.seed)
    info["timings"]["kmeans_s"] = round(time.perf_counter() - t0, 3)
    if plan.method == "semantic" and plan.neighbors is not None:
        info["target_recall"] = plan.target_recall
        out = tuned_search(x, t, lambda: NeighbourSearch(x, t, cent, labels, progress), int(plan.neighbors),
                           plan.target_recall, sample_queries=plan.sample_queries, seed=plan.seed, info=info)
        return out, (cent, labels)
    prov = ProvableSearch(x, t, cent, labels, sims, progress)
    volume = prov.plan(n * float(n) / AUTO_MIN_SAVING)
    if not np.isfinite(volume) and plan.method == "semantic":  # asked for: complete search at any cost
        volume = prov.plan()
    if not np.isfinite(volume):
        info["semantic_skipped"] = f"band volume above 1/{AUTO_MIN_SAVING} of all pairs"
        return None, (cent, labels)
    t1 = time.perf_counter()
    out = prov.search()
    info.update(clusters=len(prov.cent), pair_volume_fraction=round(volume / (n * float(n)), 5),
                recall_lower_bound=1.0, recall_confidence=1.0,
                recall_basis="complete by construction: triangle-inequality bands around the k-means "
                             "centroids")
    info["timings"].update(plan_s=round(t1 - t0, 3), search_s=round(time.perf_counter() - t1, 3))
    return out, (cent, labels)


def _ivf(x: np.ndarray, plan: SearchPlan, progress: ProgressFn | None, info: dict[str, Any],
         kmeans: tuple[np.ndarray, np.ndarray] | None, tries: int | None = None,
         truths: TruthCache | None = None) -> Pairs | None:
    """IVF with nprobe tuned (or fixed) on the held-out sample; None when it cannot be certified.
    ``tries``: the searches ``auto`` may certify on the same held-out rows (default: this plan's);
    ``truths``: their exact pairs, kept from one try to the next."""
    from curate.engine.dedup.ivf import IvfSearch
    from curate.engine.dedup.recall import tuned_search

    info["target_recall"] = plan.target_recall
    tries = tries or sampled_tries(plan)
    confidence = 1.0 - (1.0 - CONFIDENCE) / tries  # Bonferroni over the tries (sampled_tries)

    # on the CPU (two-level lists, or a tuned nprobe) the lists are built first, since the band search
    # over them gives the sample's exact pairs at a fraction of the products (tuned_search's
    # searcher_truth); else the index is built once the sample shows the recall can be certified
    cent, labels = kmeans if kmeans is not None else (None, None)

    def build() -> IvfSearch:
        return IvfSearch(x, plan.threshold, plan.device, plan.lists, plan.seed, progress, centroids=cent,
                         labels=labels)

    out = tuned_search(x, plan.threshold, build, plan.nprobe, plan.target_recall,
                       sample_queries=plan.sample_queries, seed=plan.seed, info=info, confidence=confidence,
                       searcher_truth=IvfSearch.two_level(plan.lists, plan.device, cent) or (
                           plan.nprobe is None and plan.device != "gpu"),
                       row_bound=plan.method == "auto", truths=truths)
    if out is not None and tries > 1:
        note = (f"; {percent(confidence)} for each of the {tries} indexes auto may try on these held-out "
                f"rows (two-level lists, then IVF over the band clusters), so {CONFIDENCE:.0%} for the "
                "statement (Bonferroni)")
        for key in ("recall_basis", "missed_row_basis"):
            if key in info:
                info[key] += note
        info["recall_confidence"] = CONFIDENCE
    return out


def sampled_tries(plan: SearchPlan) -> int:
    """How many IVF searches ``auto`` may certify on the same held-out rows (one seed, one permutation):
    2 where the lists are two-level (IVF over the band plan's clusters follows when they cannot certify,
    :func:`_flat_ivf`), else 1. Each is then tested at ``1 - (1 - CONFIDENCE) / tries``, so that the
    statement reported, whichever search makes it, holds at ``CONFIDENCE``: trying a second index
    because the first could not certify would otherwise give two chances of a false certificate."""
    from curate.engine.dedup.ivf import IvfSearch

    two = (plan.method == "auto" and plan.nprobe is None and plan.clusters < plan.lists
           and IvfSearch.two_level(plan.lists, plan.device, None))
    return 2 if two else 1
