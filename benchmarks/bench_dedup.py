"""Benchmark: curate dedup (FAISS exact / ivf / semantic) vs numpy brute force and scikit-learn.

Data: ``--n`` unit vectors in ``--d`` dimensions drawn around ``--modes`` random centres (embeddings of
real images are clustered; ``--modes 0`` gives uniform random vectors), of which ``--dup-frac`` are
near-copies of other rows at cosine 0.96-1.0 (planted duplicates). Every method answers "all pairs with
cosine >= threshold"; recall is measured against the exact FAISS answer, which is itself checked
against numpy brute force.

    .venv/bin/python benchmarks/bench_dedup.py --n 100000 --d 256

Peers, measured in the same run: numpy brute force (blocked float32 X @ X.T, the textbook way) and
scikit-learn ``NearestNeighbors(metric="cosine", algorithm="brute").radius_neighbors`` (the usual library
call). Ratios > 1 mean curate is faster.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np


def planted(n: int, d: int, dup_frac: float, seed: int, modes: int = 100) -> np.ndarray:
    """Clustered unit vectors (``modes`` Gaussian modes, like image embeddings) plus planted near-copies."""
    rng = np.random.default_rng(seed)
    n_dup = int(n * dup_frac)
    centers = rng.standard_normal((modes, d), dtype=np.float32) if modes else None
    base = rng.standard_normal((n - n_dup, d), dtype=np.float32)
    if modes:
        base = centers[rng.integers(0, modes, n - n_dup)] + base
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    src = rng.integers(0, n - n_dup, n_dup)
    cos = rng.uniform(0.96, 1.0, n_dup).astype(np.float32)
    u = rng.standard_normal((n_dup, d), dtype=np.float32)
    u -= (u * base[src]).sum(1, keepdims=True) * base[src]
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    dup = cos[:, None] * base[src] + np.sqrt(1 - cos**2)[:, None] * u
    x = np.vstack([base, dup])
    return np.ascontiguousarray(x[rng.permutation(n)])


def numpy_pairs(x: np.ndarray, t: float, block: int = 2048) -> set[tuple[int, int]]:
    out: set[tuple[int, int]] = set()
    for s in range(0, len(x), block):
        sim = x[s:s + block] @ x.T
        r, c = np.nonzero(sim >= t)
        r = r + s
        keep = r < c
        out.update(zip(r[keep].tolist(), c[keep].tolist()))
    return out


def sklearn_pairs(x: np.ndarray, t: float) -> set[tuple[int, int]]:
    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(radius=1.0 - t, metric="cosine", algorithm="brute").fit(x)
    _, idx = nn.radius_neighbors(x, return_distance=True)
    out: set[tuple[int, int]] = set()
    for i, row in enumerate(idx):
        out.update((i, int(j)) for j in row if j > i)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--d", type=int, default=256)
    ap.add_argument("--threshold", type=float, default=0.97)
    ap.add_argument("--dup-frac", type=float, default=0.05)
    ap.add_argument("--modes", type=int, default=100, help="Gaussian modes in the data (0: uniform sphere)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-sklearn", action="store_true")
    args = ap.parse_args()

    import faiss

    from curate.engine.dedup import dedup

    x = planted(args.n, args.d, args.dup_frac, args.seed, args.modes)
    ids = np.arange(args.n).astype(str)
    t = args.threshold
    print(f"# dedup benchmark: n={args.n:,} d={args.d} threshold={t} planted={args.dup_frac:.0%} "
          f"modes={args.modes} | "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, faiss {faiss.__version__}, "
          f"faiss threads {faiss.omp_get_max_threads()}")

    def as_rows(res) -> set[tuple[int, int]]:
        a = res.pairs.id_a.astype(int).to_numpy()
        b = res.pairs.id_b.astype(int).to_numpy()
        return set(zip(np.minimum(a, b).tolist(), np.maximum(a, b).tolist()))

    rows = []
    timings: dict[str, float] = {}
    results: dict[str, set] = {}
    for method in ("exact", "ivf", "semantic"):
        t0 = time.perf_counter()
        res = dedup(x, t, method=method, device="cpu", ids=ids, seed=args.seed)
        timings[f"curate {method}"] = time.perf_counter() - t0
        results[f"curate {method}"] = as_rows(res)
        extra = {k: res.summary[k] for k in ("nprobe", "nlist", "neighbors", "clusters") if k in res.summary}
        rows.append((f"curate {method}", res.summary["recall"], extra))
    t0 = time.perf_counter()
    results["numpy brute force"] = numpy_pairs(x, t)
    timings["numpy brute force"] = time.perf_counter() - t0
    if not args.skip_sklearn:
        t0 = time.perf_counter()
        results["sklearn radius_neighbors"] = sklearn_pairs(x, t)
        timings["sklearn radius_neighbors"] = time.perf_counter() - t0
    truth = results["curate exact"]
    agree = len(truth ^ results["numpy brute force"])
    print(f"# exact pairs: {len(truth):,}; pairs where FAISS exact and numpy disagree: {agree}")
    estimated = {name: (rec, extra) for name, rec, extra in rows}
    print(f"{'method':<26}{'seconds':>9}{'pairs':>10}{'recall':>8}{'est.':>8}"
          f"{'vs numpy':>10}{'vs sklearn':>12}  params")
    for name, secs in timings.items():
        got = results[name]
        recall = len(got & truth) / max(1, len(truth))
        est, extra = estimated.get(name, ("", {}))
        vs_np = timings["numpy brute force"] / secs
        sk = timings.get("sklearn radius_neighbors")
        vs_sk = f"{sk / secs:>11.1f}x" if sk else f"{'-':>12}"
        est_s = f"{est:>8.3f}" if est != "" else f"{'-':>8}"
        print(f"{name:<26}{secs:>9.2f}{len(got):>10,}{recall:>8.4f}{est_s}{vs_np:>9.1f}x{vs_sk}  "
              f"{' '.join(f'{k}={v}' for k, v in extra.items())}")


if __name__ == "__main__":
    main()
