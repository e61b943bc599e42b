"""The cross-dataset searches of each tier, on one ordered pair of datasets (rows of A, rows of B).

- tiers 1-2: equal keys (SHA-256 of bytes, digest of decoded pixels), by a sorted merge;
- tier 3 candidates: FAISS ``IndexBinaryFlat.range_search`` of B's robust hashes against A's (exact: every
  pair with some hash of A and some hash of B within ``max_distance`` bits);
- tier 4: every cross pair with cosine >= ``threshold`` by the dedup engine's exact search
  (:func:`curate.engine.dedup.exact.exact_pairs`: blocked BLAS products on the CPU, FAISS flat k-NN with the
  range fallback on a GPU), B's rows as queries against A's as base.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from curate.engine.dedup.exact import exact_pairs
from curate.engine.dedup.kernel import ProgressFn


def equal_key_pairs(keys_a: list[str], keys_b: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Every (row of A, row of B) whose keys are equal."""
    index: dict[str, list[int]] = {}
    for k, key in enumerate(keys_a):
        index.setdefault(key, []).append(k)
    ia, ib = [], []
    for k, key in enumerate(keys_b):
        for j in index.get(key, ()):
            ia.append(j)
            ib.append(k)
    return np.array(ia, dtype=np.int64), np.array(ib, dtype=np.int64)


def hash_candidates(hashes_a: np.ndarray, hashes_b: np.ndarray,
                    max_distance: int) -> tuple[np.ndarray, np.ndarray]:
    """(row of A, row of B) pairs where any robust hash of one is within ``max_distance`` bits of any of the
    other's; ``hashes_*`` are ``(rows, hashes per image, bytes)`` packed bits."""
    from curate.engine.devices import faiss_module

    faiss = faiss_module()
    na, per, nbytes = hashes_a.shape
    index = faiss.IndexBinaryFlat(nbytes * 8)
    index.add(np.ascontiguousarray(hashes_a.reshape(na * per, nbytes)))
    q = np.ascontiguousarray(hashes_b.reshape(-1, nbytes))
    lims, _dist, idx = index.range_search(q, max_distance + 1)  # FAISS keeps distances below the radius
    rows_b = np.repeat(np.arange(len(q), dtype=np.int64) // hashes_b.shape[1], np.diff(lims).astype(np.int64))
    rows_a = idx.astype(np.int64) // per
    if not len(rows_a):
        return rows_a, rows_b
    pairs = np.unique(np.stack([rows_a, rows_b], axis=1), axis=0)
    return pairs[:, 0], pairs[:, 1]


def embedding_pairs(xa: np.ndarray, xb: np.ndarray, threshold: float, *, device: str = "cpu",
                    client: Any = None, block: int = 16_384,
                    progress: ProgressFn | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (row of A, row of B, cosine) with cosine >= ``threshold`` (rows L2-normalised).

    B's rows are the queries (offset past A's rows so the dedup engine's canonical pairs keep them apart);
    with a Dask ``client`` each block of B is one task against the whole of A."""
    na = len(xa)
    blocks = [(s, min(s + block, len(xb))) for s in range(0, len(xb), block)]
    if client is not None:
        step = max(256, -(-len(xb) // 8))  # a few tasks per worker
        base = client.scatter(xa, broadcast=True)
        futs = [client.submit(exact_pairs, xb[s:s + step], threshold, base=base, query_offset=na + s,
                              pure=False) for s in range(0, len(xb), step)]
        parts = [f.result() for f in futs]
    else:
        parts = []
        for k, (s, e) in enumerate(blocks):
            parts.append(exact_pairs(xb[s:e], threshold, device=device, base=xa, query_offset=na + s))
            if progress:
                progress("embedding search", k + 1, len(blocks))
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    lo = np.concatenate([p[0] for p in parts])   # canonical (low, high): A's row, then B's row + na
    hi = np.concatenate([p[1] for p in parts])
    sim = np.concatenate([p[2] for p in parts])
    return lo, hi - na, sim
