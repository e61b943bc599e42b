"""Benchmark: curate dedup (default / ivf / semantic) vs FAISS flat exact range search and scikit-learn.

Two data shapes (issue 17), each with ``--dup-frac`` of the rows planted as near-copies of other rows at
cosine uniform in [threshold, 1] (so duplicate groups of 2 and more occur):

- ``clustered``: ``--modes`` Gaussian modes (default n / 1000) with noise of the same norm as the centre,
  like image embeddings of a few hundred kinds of picture (default 100,000 x 768);
- ``weak``: thousands of small, loose modes (n / 25 modes, noise 1.5x the centre), default 50,000 x 384.

Every method answers "all pairs with cosine >= threshold". The FAISS flat exact answer is the truth:
``true`` recall is measured against it, ``reported`` is the lower bound curate writes to summary.json
(``1`` where the method is complete by construction). Ratios > 1 mean curate is faster; peak memory is the
growth of the process's peak resident set during the call, relative to the embedding matrix (Linux
``ru_maxrss``; meaningful for the first, largest call only, so each method runs in a fresh subprocess).

    python benchmarks/bench_dedup.py                                  # both shapes at the issue's sizes
    python benchmarks/bench_dedup.py --shapes clustered --n 20000     # smaller
    python benchmarks/bench_dedup.py --scaling 10000,30000,100000     # cost of the default vs n
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

SHAPES = {"clustered": {"n": 100_000, "d": 768, "modes_per": 1000, "spread": 1.0},
          "weak": {"n": 50_000, "d": 384, "modes_per": 25, "spread": 1.5}}


def planted(n: int, d: int, dup_frac: float, seed: int, modes: int, spread: float, t: float) -> np.ndarray:
    """Unit vectors around ``modes`` random centres plus planted near-copies at cosine in [t, 1]."""
    rng = np.random.default_rng(seed)
    n_dup = int(n * dup_frac)
    centers = rng.standard_normal((modes, d), dtype=np.float32)
    base = centers[rng.integers(0, modes, n - n_dup)] + spread * rng.standard_normal((n - n_dup, d),
                                                                                     dtype=np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    src = rng.integers(0, n - n_dup, n_dup)
    cos = rng.uniform(t, 1.0, n_dup).astype(np.float32)
    u = rng.standard_normal((n_dup, d), dtype=np.float32)
    u -= (u * base[src]).sum(1, keepdims=True) * base[src]
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    dup = cos[:, None] * base[src] + np.sqrt(1 - cos**2)[:, None] * u
    x = np.vstack([base, dup])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return np.ascontiguousarray(x[rng.permutation(n)], dtype=np.float32)


def _peak_kib() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_one(spec: dict) -> dict:
    """One method on one data set, in this process (called in a fresh subprocess by ``main``).

    The data are generated once (method ``gen``) and loaded from ``.npy`` by every method, so the peak-memory
    baseline holds only the matrix, not the generator's temporaries (those peaked above some searches).
    """
    path = spec["tmp"] + ".x.npy"
    if spec["method"] == "gen":
        np.save(path, planted(spec["n"], spec["d"], spec["dup_frac"], spec["seed"], spec["modes"],
                              spec["spread"], spec["t"]))
        return {}
    if os.path.exists(path):
        x = np.load(path)
    else:
        x = planted(spec["n"], spec["d"], spec["dup_frac"], spec["seed"], spec["modes"], spec["spread"],
                    spec["t"])
    import faiss  # noqa: F401  (imports first: the peak-memory baseline should hold only the data)
    import pandas  # noqa: F401
    import scipy.sparse.csgraph  # noqa: F401
    import sklearn.neighbors  # noqa: F401

    import curate.engine.dedup  # noqa: F401

    base = _peak_kib()
    t0 = time.perf_counter()
    out: dict = {}
    if spec["method"] == "faiss-flat":
        import faiss

        index = faiss.IndexFlatIP(x.shape[1])
        index.add(x)
        rows, cols = [], []
        radius = float(np.nextafter(np.float32(spec["t"]), np.float32(-1)))
        for s in range(0, len(x), 4096):
            lims, _, idx = index.range_search(x[s:s + 4096], radius)
            q = np.repeat(np.arange(s, min(s + 4096, len(x))), np.diff(lims).astype(np.int64))
            keep = q < idx
            rows.append(q[keep])
            cols.append(idx[keep])
        a, b = np.concatenate(rows), np.concatenate(cols)
    elif spec["method"] == "sklearn":
        from sklearn.neighbors import NearestNeighbors

        nn = NearestNeighbors(radius=1.0 - spec["t"], metric="cosine", algorithm="brute").fit(x)
        idx = nn.radius_neighbors(x, return_distance=False)
        a = np.concatenate([np.full(len(r), i) for i, r in enumerate(idx)])
        b = np.concatenate(idx)
        keep = a < b
        a, b = a[keep], b[keep]
    else:
        from curate.engine.dedup import dedup

        meth = "auto" if spec["method"] == "default" else spec["method"]
        res = dedup(x, spec["t"], method=meth, device="cpu", seed=spec["seed"], nlist=spec.get("nlist"))
        a = res.pairs.id_a.astype(np.int64).to_numpy()
        b = res.pairs.id_b.astype(np.int64).to_numpy()
        a, b = np.minimum(a, b), np.maximum(a, b)
        s = res.summary
        out = {"chosen": s["method"], "reported": s.get("recall_lower_bound"),
               "params": {k: s[k] for k in ("nprobe", "nlist", "neighbors", "clusters",
                                            "pair_volume_fraction", "fallback") if k in s}}
    out["seconds"] = time.perf_counter() - t0
    out["peak_x"] = (_peak_kib() - base) * 1024 / x.nbytes
    np.save(spec["tmp"] + f".{spec['method']}.npy", np.stack([a, b]).astype(np.int64))
    return out


def _sub(spec: dict) -> dict:
    r = subprocess.run([sys.executable, __file__, "--_one", json.dumps(spec)], capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(r.stderr)
    return json.loads(r.stdout.strip().splitlines()[-1])


def _pairs(spec: dict, method: str) -> set[tuple[int, int]]:
    a, b = np.load(spec["tmp"] + f".{method}.npy")
    return set(zip(a.tolist(), b.tolist()))


def compare(shape: str, n: int, d: int, args: argparse.Namespace, methods: list[str]) -> None:
    cfg = SHAPES[shape]
    modes = args.modes or max(2, n // cfg["modes_per"])
    spec = {"n": n, "d": d, "dup_frac": args.dup_frac, "seed": args.seed, "modes": modes,
            "spread": cfg["spread"], "t": args.threshold, "tmp": f"{args.tmp}/bench-{shape}-{n}"}
    print(f"\n## {shape}: n={n:,} d={d} modes={modes} spread={cfg['spread']} planted={args.dup_frac:.0%} "
          f"threshold={args.threshold}")
    _sub({**spec, "method": "gen"})
    res = {m: _sub({**spec, "method": m}) for m in ["faiss-flat", *methods]}
    truth = _pairs(spec, "faiss-flat")
    flat = res["faiss-flat"]["seconds"]
    print(f"{'method':<18}{'seconds':>9}{'vs flat':>9}{'pairs':>10}{'true':>9}{'reported':>10}{'peak/X':>8}"
          "  chosen / params")
    for m, r in res.items():
        got = _pairs(spec, m)
        true = len(got & truth) / max(1, len(truth))
        rep = r.get("reported")
        rep_s = "-" if m in ("faiss-flat", "sklearn") else ("none" if rep is None else f"{rep:.4f}")
        extra = f"{r.get('chosen', '')} {json.dumps(r.get('params', {}))}" if "chosen" in r else ""
        print(f"curate {m:<11}" if m not in ("faiss-flat", "sklearn") else f"{m:<18}", end="")
        print(f"{r['seconds']:>9.2f}{flat / r['seconds']:>8.1f}x{len(got):>10,}{true:>9.4f}{rep_s:>10}"
              f"{r['peak_x']:>8.2f}  {extra}")


def scaling(sizes: list[int], args: argparse.Namespace) -> None:
    """Seconds of the default vs n at a fixed duplicate rate and mode size; FAISS flat up to a size."""
    cfg = SHAPES["clustered"]
    d = args.scaling_d or args.d or cfg["d"]
    print(f"\n## scaling of the default (clustered shape, d={d}, {args.dup_frac:.0%} planted, "
          f"{cfg['modes_per']} rows per mode; FAISS flat up to n={args.scaling_flat_max:,}; above, 'true' is "
          "against curate semantic, complete by construction)")
    print(f"{'n':>10}{'seconds':>9}{'us/row':>9}{'flat s':>9}{'vs flat':>9}{'true':>8}{'reported':>10}"
          f"{'peak/X':>8}  chosen")
    for n in sizes:
        spec = {"n": n, "d": d, "dup_frac": args.dup_frac, "seed": args.seed,
                "modes": max(2, n // cfg["modes_per"]), "spread": cfg["spread"], "t": args.threshold,
                "tmp": f"{args.tmp}/scale-{n}", "method": "default"}
        _sub({**spec, "method": "gen"})
        r = _sub(spec)
        flat_s = ratio = true = "-"
        if n <= args.scaling_flat_max:
            f = _sub({**spec, "method": "faiss-flat"})
            truth = _pairs(spec, "faiss-flat")
            flat_s, ratio = f"{f['seconds']:.2f}", f"{f['seconds'] / r['seconds']:.1f}x"
            true = f"{len(_pairs(spec, 'default') & truth) / max(1, len(truth)):.4f}"
        elif r["chosen"] != "semantic" and not args.no_band_truth:  # the band search is complete
            _sub({**spec, "method": "semantic", "nlist": 2 * int(n ** 0.5)})  # 2 sqrt(n): narrower bands
            truth = _pairs(spec, "semantic")
            true = f"{len(_pairs(spec, 'default') & truth) / max(1, len(truth)):.4f}*"
        rep = r.get("reported")
        print(f"{n:>10,}{r['seconds']:>9.2f}{1e6 * r['seconds'] / n:>9.1f}{flat_s:>9}{ratio:>9}{true:>8}"
              f"{'none' if rep is None else f'{rep:.4f}':>10}{r['peak_x']:>8.2f}  {r['chosen']} "
              f"{json.dumps(r.get('params', {}))}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shapes", default="clustered,weak")
    ap.add_argument("--n", type=int, default=None, help="rows (default: per shape, 100,000 / 50,000)")
    ap.add_argument("--d", type=int, default=None, help="dimension (default: per shape, 768 / 384)")
    ap.add_argument("--modes", type=int, default=None)
    ap.add_argument("--threshold", type=float, default=0.9)
    ap.add_argument("--dup-frac", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--methods", default="default,ivf,semantic,sklearn")
    ap.add_argument("--scaling", default="", help="comma-separated sizes, e.g. 10000,100000,1000000")
    ap.add_argument("--scaling-flat-max", type=int, default=100_000,
                    help="largest n of the scaling table also searched with FAISS flat (truth, ratio)")
    ap.add_argument("--scaling-d", type=int, default=None,
                    help="dimension of the scaling table (default: --d, else the clustered shape's 768)")
    ap.add_argument("--no-band-truth", action="store_true",
                    help="above --scaling-flat-max, do not measure true recall against curate semantic")
    ap.add_argument("--tmp", default=os.environ.get("TMPDIR", "/tmp"))
    ap.add_argument("--_one", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._one:
        print(json.dumps(run_one(json.loads(args._one))))
        return
    import faiss

    print(f"# dedup benchmark | {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"faiss {faiss.__version__}, faiss threads {faiss.omp_get_max_threads()}")
    for shape in [s for s in args.shapes.split(",") if s]:
        cfg = SHAPES[shape]
        compare(shape, args.n or cfg["n"], args.d or cfg["d"], args, args.methods.split(","))
    if args.scaling:
        scaling([int(s) for s in args.scaling.split(",")], args)


if __name__ == "__main__":
    main()
