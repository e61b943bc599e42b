"""Measurements behind docs/overlap.md: the cost of curate overlap's tiers against plain baselines.

    python benchmarks/bench_overlap.py [--images 120] [--size 10000] [--large] [--dim 128]

1. Tiers 1-3 on the planted benchmark (:func:`curate.engine.overlap.planted.make_planted`: datasets A, B, C
   sharing images at every tier): time per image of :func:`curate.engine.overlap.find_overlap` (SHA-256,
   decoded-pixel digest, 14 robust hashes, FAISS binary range search, pixel verification of the hash
   candidates) against a plain loop of ``hashlib.sha256`` + ``imagehash.phash`` over the same files (decoded
   by curate's one reader, so DICOM counts too). The plain loop finds byte copies and close pHash matches
   only; it is the floor of what reading and hashing the files costs.
2. Tier 4 (embeddings, cosine >= 0.95, every cross pair) at n x n (10k x 10k; ``--large`` adds 100k x 100k)
   against FAISS ``IndexFlatIP.range_search`` of B against A (flat, same data, same threshold), on
   anisotropic embeddings: a shared mean direction gives random pairs a cosine of 0.5-0.7, as real image
   embeddings have; 1 % of B are planted near copies of A. Both must return the same pairs.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from pathlib import Path

import numpy as np


def image_tiers(n: int, seed: int = 0) -> dict:
    from curate.engine.overlap import OverlapInput, find_overlap
    from curate.engine.overlap.planted import make_planted

    root = Path(tempfile.mkdtemp()) / "planted"
    p = make_planted(root, n=n, seed=seed)
    files = [f for d in p.files for f in p.files[d]]
    t0 = time.perf_counter()
    res = find_overlap([OverlapInput(d, files=p.files[d], ids=p.ids[d]) for d in p.files],
                       tiers=["bytes", "pixels", "perceptual"])
    engine = time.perf_counter() - t0
    base = _plain_loop(files)
    key = ["dataset_a", "id_a", "dataset_b", "id_b"]
    truth = set(map(tuple, p.copies[key].itertuples(index=False)))
    found = set(map(tuple, res.pairs[key].itertuples(index=False)))
    return {"files": len(files), "engine_s": engine, "baseline_s": base, "timings": res.timings,
            "candidates": res.params["perceptual_candidates"], "rejected": res.params["perceptual_rejected"],
            "copies": len(truth), "found": len(found & truth), "false": len(found - truth)}


def _plain_loop(files: list[Path]) -> float:
    import imagehash

    from curate.scan.images import load_image

    t0 = time.perf_counter()
    for f in files:
        hashlib.sha256(f.read_bytes()).hexdigest()
        imagehash.phash(load_image(f))
    return time.perf_counter() - t0


def anisotropic(n: int, d: int, rng: np.random.Generator, mean: np.ndarray) -> np.ndarray:
    """Rows with a shared mean direction: random pairs have cosine about 0.6 (0.5-0.7)."""
    z = rng.normal(size=(n, d)).astype(np.float32)
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    x = np.sqrt(0.6) * mean + np.sqrt(0.4) * z
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def embedding_tier(n: int, d: int, threshold: float = 0.95, seed: int = 0) -> dict:
    import faiss

    from curate.engine.overlap import OverlapInput, find_overlap

    rng = np.random.default_rng(seed)
    mean = rng.normal(size=d).astype(np.float32)
    mean /= np.linalg.norm(mean)
    xa, xb = anisotropic(n, d, rng, mean), anisotropic(n, d, rng, mean)
    k = n // 100
    xb[:k] = xa[:k] + 0.01 * rng.normal(size=(k, d)).astype(np.float32)
    xb[:k] /= np.linalg.norm(xb[:k], axis=1, keepdims=True)
    sample = (xa[k:k + 2000] * xb[k:k + 2000]).sum(axis=1)
    t0 = time.perf_counter()
    res = find_overlap([OverlapInput("A", embeddings=xa), OverlapInput("B", embeddings=xb)],
                       tiers=["embedding"], threshold=threshold, device="cpu")
    engine = time.perf_counter() - t0
    t0 = time.perf_counter()
    index = faiss.IndexFlatIP(d)
    index.add(xa)
    lims, dist, idx = index.range_search(xb, float(np.nextafter(np.float32(threshold), np.float32(-1))))
    flat = time.perf_counter() - t0
    qb = np.repeat(np.arange(n), np.diff(lims).astype(np.int64))
    keep = dist >= np.float32(threshold)
    flat_pairs = {(str(a), str(b)) for a, b in zip(idx[keep], qb[keep])}
    ours = set(zip(res.pairs["id_a"], res.pairs["id_b"]))
    return {"n": n, "d": d, "engine_s": engine, "flat_s": flat, "pairs": len(ours),
            "same": ours == flat_pairs,
            "random_cosine": (float(np.quantile(sample, 0.05)), float(np.quantile(sample, 0.95)))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", type=int, default=120, help="images in planted dataset A (B: about as many)")
    ap.add_argument("--size", type=int, default=10_000, help="rows of each embeddings table")
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--large", action="store_true", help="also 100k x 100k embeddings")
    args = ap.parse_args()
    r = image_tiers(args.images)
    per = 1000 * r["engine_s"] / r["files"]
    base = 1000 * r["baseline_s"] / r["files"]
    print(f"tiers 1-3 on {r['files']} planted files (A, B, C): {per:.1f} ms/image "
          f"(hashing {1000 * r['timings']['hash_s'] / r['files']:.1f} ms/image, search + verification of "
          f"{r['candidates']} hash candidates {r['timings']['image_search_s']:.2f} s, "
          f"{r['rejected']} rejected)")
    print(f"  plain sha256 + imagehash.phash loop: {base:.1f} ms/image; ratio {per / base:.2f}x")
    print(f"  copies found {r['found']}/{r['copies']}, false copies {r['false']}")
    for n in [args.size] + ([100_000] if args.large else []):
        e = embedding_tier(n, args.dim)
        lo, hi = e["random_cosine"]
        print(f"tier 4 at {n:,} x {n:,} (d={e['d']}, random-pair cosine 5-95 %: {lo:.2f}-{hi:.2f}): "
              f"engine {e['engine_s']:.2f} s, FAISS IndexFlatIP range_search {e['flat_s']:.2f} s, "
              f"ratio {e['engine_s'] / e['flat_s']:.2f}x; {e['pairs']} pairs, same pairs: {e['same']}")


if __name__ == "__main__":
    main()
