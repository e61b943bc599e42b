"""The curation engine: embeddings I/O, deduplication, clustering, leakage checks, sampling.

Modules (each imports its heavy libraries inside functions, so importing this package is cheap):

- :mod:`curate.engine.embeddings` — ``load_embeddings`` (.npy / parquet shards / Hugging Face datasets)
- :mod:`curate.engine.dedup` — ``dedup``: exact, IVF and SemDeDup-style near-duplicate search; its
  ``__init__`` is the map (``sharded``: the exact search on Dask; ``images``: duplicates in an image folder)
- :mod:`curate.engine.cluster` — k-means (one local and one Dask trainer), hierarchical k-means, balanced
  sampling, proxy evaluation; its ``__init__`` is the map
- :mod:`curate.engine.leakage` — duplicate pairs and patients that cross train/val/test splits
- :mod:`curate.engine.sample` / :mod:`curate.engine.splits` — balanced samples, patient-level splits
- :mod:`curate.engine.devices` — FAISS CPU/GPU device selection
- :mod:`curate.engine.dask_shards` — the Dask client, shard checks and loading (dedup and k-means)
"""

from __future__ import annotations
