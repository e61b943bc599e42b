"""Hierarchical k-means with resampling-clustering, after Vo et al. 2024.

Vo, Khalidov, Darcet, Moutakanni, Smetanin, Szafraniec, Touvron, Couprie, Oquab, Joulin, Jégou,
Labatut, Bojanowski: "Automatic data curation for self-supervised learning: a clustering-based approach"
(TMLR 2024, arXiv:2405.15613), §3 "Hierarchical k-means" and "Resampling-clustering": level 1 clusters
the points, level l+1 clusters the centroids of level l. Plain k-means puts centroids where the data are
dense (a dense concept gets many clusters, a rare one shares one); after each level's k-means the paper
repeats ``r`` times: take the ``s`` points closest to each centroid, run k-means (fresh k-means++ start)
on that union, and reassign every point to the new centroids. Each cluster weighs at most ``s`` points in
the next fit, so centroids drift from the density towards an even cover of the concepts.

Our code is written from the paper and from reading the reference implementation
(facebookresearch/ssl-data-curation, ``src/hierarchical_kmeans_gpu.py``,
``hierarchical_kmeans_with_resampling``, ``sample_strategy="closest"``): same steps, our own code. Their
recommended setting (configs) is ``r = 10`` resampling steps with ``s`` about half the mean cluster size
of the level, skipped where ``s <= 1``; their large-scale config skips level 1 "for efficiency". Our
default (:func:`resampling_plan`) is the same: 10 steps on levels 2 and up (they cluster the few
centroids below: cheap), none on level 1 (each step there is a k-means on about half the data, so 10
steps cost about 5 level-1 runs); pass ``resampling_steps=10`` to resample level 1 too.

Outliers. Resampling alone does not stop a few far outliers from becoming their own top-level clusters
(``tests/test_cluster_resampling.py`` plants them): the level above clusters the level-1 centroids, an
outlier's singleton centroid is far from all others, so k-means++ seeds it with high probability and
Lloyd never moves that seed (no other point is nearer), while two dense concepts share one centroid.
That is a poor local optimum, not the k-means objective: absorbing the outlier costs less than merging
two concepts. As the reference implementation allows (``num_init``: several k-means starts per run,
the lowest potential kept), every k-means of levels 2 and up, and of each resampling step there, keeps
the best of :data:`UPPER_INITS` k-means++ starts (cheap: those levels cluster a few centroids); level 1
keeps one start unless ``n_init`` says otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from curate.engine.cluster.kmeans import kmeans
from curate.engine.cluster.lloyd import KMeansResult, nearest
from curate.errors import UsageError

PAPER_STEPS = 10  # Vo et al. 2024 configs: n_resampling_steps = 10 per level
UPPER_INITS = 5  # k-means++ starts per k-means on levels 2+ (reference implementation: num_init)


def _per_level(value: int | Sequence[int] | None, levels: int, name: str, default: list[int | None]
               ) -> list[int | None]:
    if value is None:
        return default
    vals = [value] * levels if isinstance(value, (int, np.integer)) else list(value)
    if len(vals) != levels:
        raise UsageError(f"{name} gives {len(vals)} values for {levels} levels")
    for v in vals:
        if v is not None and (not isinstance(v, (int, np.integer)) or v < 0):
            raise UsageError(f"{name} must be non-negative integers (got {v!r})")
    return [None if v is None else int(v) for v in vals]


def resampling_plan(ks: Sequence[int], resampling_steps: int | Sequence[int] | None = None,
                    resample_points: int | Sequence[int] | None = None) -> tuple[list[int], list[int | None]]:
    """Per level: resampling steps ``r`` and points per cluster ``s`` (``None``: half the mean cluster size).

    ``resampling_steps`` default: 0 on level 1, :data:`PAPER_STEPS` above (see the module docstring); an
    int applies to every level. Validated here once, with messages naming the parameter.
    """
    steps = _per_level(resampling_steps, len(ks), "resampling_steps",
                       [0] + [PAPER_STEPS] * (len(ks) - 1))
    points = _per_level(resample_points, len(ks), "resample_points", [None] * len(ks))
    if any(p is not None and p < 1 for p in points):
        raise UsageError("resample_points must be at least 1")
    return [int(s or 0) for s in steps], points


def init_plan(levels: int, n_init: int | Sequence[int] | None = None) -> list[int]:
    """k-means starts per level: 1 on level 1 and :data:`UPPER_INITS` above unless ``n_init`` is given."""
    vals = _per_level(n_init, levels, "n_init", [1] + [UPPER_INITS] * (levels - 1))
    if any(v is None or v < 1 for v in vals):
        raise UsageError("n_init must be at least 1")
    return [int(v) for v in vals]


def best_kmeans(x: np.ndarray, k: int, n_init: int, *, seed: int, **kw: Any) -> KMeansResult:
    """The lowest-inertia of ``n_init`` k-means runs from k-means++ starts seeded ``seed``, ``seed + 1``..."""
    best = None
    for i in range(max(1, n_init)):
        res = kmeans(x, k, seed=seed + i, **kw)
        if best is None or res.inertia < best.inertia:
            best = res
    return best


def closest_per_cluster(labels: np.ndarray, distances: np.ndarray, s: int) -> np.ndarray:
    """Sorted indices of the ``s`` rows nearest their centroid in every cluster (all rows of smaller ones)."""
    order = np.lexsort((distances, labels))  # by cluster, then by distance to its centroid
    lab = labels[order]
    first = np.searchsorted(lab, lab, side="left")  # start of each row's cluster in ``order``
    rank = np.arange(len(order)) - first
    return np.sort(order[rank < s])


def resample(x: np.ndarray, res: KMeansResult, k: int, *, steps: int, points: int | None, niter: int = 20,
             seed: int = 0, spherical: bool = True, device: str = "auto",
             n_init: int = 1) -> tuple[KMeansResult, dict[str, Any]]:
    """Vo et al. 2024 §3 resampling-clustering on one level: ``steps`` rounds of k-means on the ``points``
    rows closest to each centroid, every row then reassigned to the new centroids.

    ``points=None`` uses half the mean cluster size, ``round(n / (2 k))``; nothing is done where that is
    at most 1 (as the reference implementation does). Returns the new result and what was done.
    """
    n = len(x)
    s = points if points is not None else int(round(n / (2 * k)))
    info: dict[str, Any] = {"steps": 0, "points": s}
    if steps == 0 or s <= 1:
        return res, info
    init = res.init
    for step in range(steps):
        rows = closest_per_cluster(res.labels, res.distances, s)
        if len(rows) < k:  # fewer rows than clusters (many empty clusters): no k-means possible
            info["stopped"] = f"step {step + 1}: {len(rows)} rows for {k} clusters"
            break
        fit = best_kmeans(x[rows], k, n_init, niter=niter, seed=seed + 1000 * (step + 1),
                          spherical=spherical, device=device)
        labels, dist, inertia = nearest(x, fit.centroids, spherical)
        res = KMeansResult(fit.centroids, labels, dist, inertia, init)
        info["steps"] = step + 1
    return res, info


def hierarchical_kmeans(x: np.ndarray, ks: Sequence[int], *, niter: int = 20, seed: int = 0,
                        spherical: bool = True, device: str = "auto", dask: Any = None,
                        max_points_per_centroid: int | None = None, init: np.ndarray | None = None,
                        n_workers: int | None = None, resampling_steps: int | Sequence[int] | None = None,
                        resample_points: int | Sequence[int] | None = None,
                        n_init: int | Sequence[int] | None = None,
                        info: dict[str, Any] | None = None, method: str = "auto",
                        refine: int = 1) -> list[KMeansResult]:
    """Vo et al. 2024 §3: level 1 clusters the points; level l+1 clusters the centroids of level l; each
    level then runs :func:`resample` with :func:`resampling_plan` (``resampling_steps``,
    ``resample_points``).

    Returns one :class:`KMeansResult` per level; level l's ``labels`` index level l-1's centroids.
    ``dask`` and ``init`` apply to level 1 only (its resampling runs on this machine). ``info``, if given,
    receives ``resampling``: per level the steps done and the points per cluster. ``method`` / ``refine``
    choose how level 1 is trained (:func:`curate.engine.cluster.kmeans.kmeans`).
    """
    steps, points = resampling_plan(ks, resampling_steps, resample_points)
    inits = init_plan(len(ks), n_init)
    if init is not None or dask is not None or inits[0] == 1:
        first = kmeans(x, ks[0], niter=niter, seed=seed, spherical=spherical, device=device, dask=dask,
                       init=init, max_points_per_centroid=max_points_per_centroid, n_workers=n_workers,
                       method=method, refine=refine)
    else:
        first = best_kmeans(x, ks[0], inits[0], niter=niter, seed=seed, spherical=spherical, device=device,
                            max_points_per_centroid=max_points_per_centroid, method=method, refine=refine)
    trained = first.info
    first, done = resample(np.ascontiguousarray(x, dtype=np.float32), first, ks[0], steps=steps[0],
                           points=points[0], niter=niter, seed=seed, spherical=spherical, device=device,
                           n_init=inits[0])
    if info is not None:
        info["kmeans"] = trained
    return upper_levels(first, ks, niter=niter, seed=seed, spherical=spherical, device=device,
                        resampling_steps=steps, resample_points=points, n_init=inits, info=info,
                        first_info=done)


def upper_levels(first: KMeansResult, ks: Sequence[int], *, niter: int = 20, seed: int = 0,
                 spherical: bool = True, device: str = "auto",
                 resampling_steps: int | Sequence[int] | None = None,
                 resample_points: int | Sequence[int] | None = None,
                 n_init: int | Sequence[int] | None = None, info: dict[str, Any] | None = None,
                 first_info: dict[str, Any] | None = None) -> list[KMeansResult]:
    """Levels 2.. of the hierarchy on one machine: they cluster the (few) centroids of the level below,
    with seeds ``seed + level`` (+ i for the i-th start; level 1 = 0), whichever backend computed level 1,
    then :func:`resample` them. Level 1 is taken as given (``first_info``: how it was resampled)."""
    steps, points = resampling_plan(ks, resampling_steps, resample_points)
    inits = init_plan(len(ks), n_init)
    out = [first]
    done = [first_info or {"steps": 0, "points": points[0]}]
    for level in range(1, len(ks)):
        x, k = out[-1].centroids, ks[level]
        if k > len(x):
            raise UsageError(f"level {level + 1} asks for {k} clusters of only {len(x)} centroids")
        res = best_kmeans(x, k, inits[level], niter=niter, seed=seed + level, spherical=spherical,
                          device=device)
        res, did = resample(x, res, k, steps=steps[level], points=points[level], niter=niter,
                            seed=seed + level, spherical=spherical, device=device, n_init=inits[level])
        did["n_init"] = inits[level]
        out.append(res)
        done.append(did)
    if info is not None:
        info["resampling"] = [{"level": i + 1, **d} for i, d in enumerate(done)]
    return out
