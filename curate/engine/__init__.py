"""The curation engine: embeddings I/O, FAISS deduplication, leakage checks, clustering, sampling.

Modules (each imports its heavy libraries inside functions, so importing this package is cheap):

- :mod:`curate.engine.embeddings` — ``load_embeddings`` (.npy / parquet shards / Hugging Face datasets)
- :mod:`curate.engine.dedup` — ``dedup``: exact, IVF and SemDeDup-style near-duplicate search
- :mod:`curate.engine.leakage` — duplicate pairs and patients that cross train/val/test splits
- :mod:`curate.engine.imagededup` — content-hash and perceptual-hash duplicates in an image folder
- :mod:`curate.engine.distributed` — the exact dedup spread over a Dask cluster
- :mod:`curate.engine._faiss` — CPU/GPU device selection and FAISS search helpers
"""

from __future__ import annotations
