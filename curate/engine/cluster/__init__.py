"""Clustering of embeddings: k-means, hierarchical k-means, balanced sampling, proxy evaluation: the map.

One k-means, two trainers (both run :func:`~curate.engine.cluster.lloyd.lloyd_loop` from
:func:`~curate.engine.cluster.lloyd.init_centroids`, scikit-learn's ``kmeans_plusplus``):

- ``lloyd`` — seeding, the Lloyd map (``partial_sums``) and reduce (``update_centroids``), and the local
  trainer :func:`train_flat` (numpy BLAS on the CPU, FAISS on the GPU); imports nothing else from curate
  but the device choice;
- ``dask_lloyd`` — the Dask trainer (:func:`kmeans_dask`, :func:`kmeans_shards`): the same iterations over
  partitions, so a cluster of machines gives the local labels;
- ``two_level`` — many centroids: k-means into ``sqrt(k)`` coarse groups, then inside each (calls
  :func:`train_flat`; also trains dedup's two-level inverted lists);
- ``kmeans`` — :func:`kmeans`, the entry point: checks, then flat, two-level or Dask.

Above them:

- ``hierarchy`` — Vo et al. 2024 §3 hierarchical k-means with resampling-clustering;
- ``api`` — :func:`cluster`: embeddings in, ``ClusterResult`` (``result``) out; :func:`level_sizes`;
- ``sampling`` — Vo et al. hierarchical sampling (:func:`balanced_cluster_sample`);
- ``evaluate`` — do clusters stand in for an attribute (AMI / NMI / ARI / purity, a verdict);
- ``summary`` — per-cluster summaries.

A call of :func:`cluster`: check ``k`` / ``levels`` / method → level 1 (local or Dask trainer, optional
resampling) → levels 2.. cluster the centroids below (``hierarchy.upper_levels``) → the table.
"""

from __future__ import annotations

from curate.engine.cluster.api import METRICS, cluster, level_sizes
from curate.engine.cluster.dask_lloyd import kmeans_dask, kmeans_shards
from curate.engine.cluster.evaluate import VERDICTS, check_attrs, evaluate, purity, verdict_word
from curate.engine.cluster.hierarchy import hierarchical_kmeans, resample, resampling_plan, upper_levels
from curate.engine.cluster.kmeans import TWO_LEVEL_MIN_K, check_method, kmeans
from curate.engine.cluster.lloyd import (
    KMeansResult,
    assign,
    init_centroids,
    lloyd,
    partial_sums,
    train_flat,
    update_centroids,
)
from curate.engine.cluster.result import ClusterResult
from curate.engine.cluster.sampling import allocate, balanced_cluster_sample, hierarchical_select
from curate.engine.cluster.summary import summarize

__all__ = [
    "METRICS", "TWO_LEVEL_MIN_K", "VERDICTS", "ClusterResult", "KMeansResult", "allocate", "assign",
    "balanced_cluster_sample", "check_attrs", "check_method", "cluster", "evaluate", "hierarchical_kmeans",
    "hierarchical_select", "init_centroids", "kmeans", "kmeans_dask", "kmeans_shards", "level_sizes", "lloyd",
    "partial_sums", "purity", "resample", "resampling_plan", "summarize", "train_flat", "update_centroids",
    "upper_levels", "verdict_word",
]
