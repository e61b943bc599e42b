"""Benchmark: curate dedup (CLI end to end, in-process default / ivf / semantic) vs FAISS flat exact range
search, oracle-tuned FAISS IVF and scikit-learn, with true recall and the bound curate reports.

Data shapes (issues 17 and 33; generated here, independently of curate's own generators), each with
``--dup-frac`` of the rows planted as near-copies of other rows at cosine uniform in [threshold, 1]:

- ``clustered``: ``--modes`` Gaussian modes (default n / 1000) with noise of the same norm as the centre;
- ``uneven``: n / 333 Gaussian clusters with Dirichlet(0.5) sizes and a spread drawn per cluster in
  [0.9, 1.6] (the issue's "300 clusters" at 100,000 rows);
- ``anisotropic``: like foundation-model embeddings, a shared mean direction (random pairs at cosine
  about 0.55-0.65) and n / 50 loose modes;
- ``weak``: thousands of small, loose modes (n / 25 modes, noise 1.5x the centre), default 50,000 x 384;
- ``clean``: isotropic Gaussian rows with only 0.1 % planted copies (too few duplicates to certify a
  pair recall: curate then bounds the share of rows with a missed partner).

Every method answers "all pairs with cosine >= threshold". The FAISS flat exact answer is the truth
(``true`` recall); ``reported`` is what curate writes to summary.json: the pair-recall lower bound, or
``rows<=x`` (the upper bound on the share of rows with a missed partner) on clean data. ``cli`` is
``curate dedup emb.npy --threshold t --out d`` run as a user runs it (start-up, loading, writing
included); ``faiss-ivf`` is ``IndexIVFFlat`` (nlist about sqrt(n)) with the smallest nprobe that reaches
curate's true recall, found by an oracle that knows the truth (read off the quantizer's ranking of every
row; only the final search is timed, with the training). Ratios > 1 mean curate is faster; peak memory is
the growth of the process's peak resident set during the call relative to the embedding matrix (for
``cli`` the child's whole peak, start-up included).

    python benchmarks/bench_dedup.py                                  # all shapes at their default sizes
    python benchmarks/bench_dedup.py --shapes anisotropic --n 50000 --d 384
    python benchmarks/bench_dedup.py --scaling 10000,100000,1000000 --shapes anisotropic --d 256
                                                                      # cost of the default vs n
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

SHAPES = {"clustered": {"n": 100_000, "d": 768, "modes_per": 1000, "spread": 1.0},
          "uneven": {"n": 100_000, "d": 768, "modes_per": 333, "spread": 1.25},
          "anisotropic": {"n": 100_000, "d": 768, "modes_per": 50, "spread": 1.0},
          "weak": {"n": 50_000, "d": 384, "modes_per": 25, "spread": 1.5},
          "clean": {"n": 1_000_000, "d": 256, "modes_per": 0, "spread": 1.0, "dup_frac": 0.001}}


def _unit(a: np.ndarray) -> np.ndarray:
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def base_rows(shape: str, n: int, d: int, modes: int, spread: float, rng: np.random.Generator) -> np.ndarray:
    """The rows of a shape before the planted copies (float32, unit)."""
    g = lambda *s: rng.standard_normal(s, dtype=np.float32)  # noqa: E731
    if shape == "clean":
        return _unit(g(n, d))
    if shape == "uneven":
        sizes = rng.multinomial(n, rng.dirichlet(np.full(modes, 0.5)))
        centres = g(modes, d)
        sd = rng.uniform(0.9, 1.6, modes).astype(np.float32)
        lab = np.repeat(np.arange(modes), sizes)
        return _unit(centres[lab] + sd[lab, None] * g(n, d))
    if shape == "anisotropic":  # |mean|^2 : |mode|^2 : |noise|^2 about 1.6 : 0.3 : 0.7 of the unit norm
        mean = _unit(g(1, d))[0]
        modes_v = _unit(g(modes, d))
        lab = rng.integers(0, modes, n)
        return _unit(1.27 * mean + 0.55 * modes_v[lab] + 0.85 * _unit(g(n, d)))
    centers = g(modes, d)
    return _unit(centers[rng.integers(0, modes, n)] + spread * g(n, d))


def planted(n: int, d: int, dup_frac: float, seed: int, modes: int, spread: float, t: float,
            shape: str = "clustered") -> np.ndarray:
    """Rows of ``shape`` plus planted near-copies at cosine in [t, 1], shuffled."""
    rng = np.random.default_rng(seed)
    n_dup = int(n * dup_frac)
    base = base_rows(shape, n - n_dup, d, modes, spread, rng)
    src = rng.integers(0, n - n_dup, n_dup)
    cos = rng.uniform(t, 1.0, n_dup).astype(np.float32)
    u = rng.standard_normal((n_dup, d), dtype=np.float32)
    u -= (u * base[src]).sum(1, keepdims=True) * base[src]
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    dup = cos[:, None] * base[src] + np.sqrt(1 - cos**2)[:, None] * u
    x = _unit(np.vstack([base, dup]))
    return np.ascontiguousarray(x[rng.permutation(n)], dtype=np.float32)


def _peak_kib() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _gen(spec: dict) -> np.ndarray:
    return planted(spec["n"], spec["d"], spec["dup_frac"], spec["seed"], spec["modes"], spec["spread"],
                   spec["t"], spec.get("shape", "clustered"))


def run_one(spec: dict) -> dict:
    """One method on one data set, in this process (called in a fresh subprocess by ``main``).

    The data are generated once (method ``gen``) and loaded from ``.npy`` by every method, so the peak-memory
    baseline holds only the matrix, not the generator's temporaries (those peaked above some searches).
    """
    path = spec["tmp"] + ".x.npy"
    if spec["method"] == "gen":
        np.save(path, _gen(spec))
        return {}
    x = np.load(path) if os.path.exists(path) else _gen(spec)
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
        a, b = _range(index, x, spec["t"])
    elif spec["method"] == "faiss-ivf":
        return _faiss_ivf(x, spec)
    elif spec["method"] == "cli":
        return _cli(path, x, spec)
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
        out = _reported(res.summary)
    out["seconds"] = time.perf_counter() - t0
    out["peak_x"] = (_peak_kib() - base) * 1024 / x.nbytes
    np.save(spec["tmp"] + f".{spec['method']}.npy", np.stack([a, b]).astype(np.int64))
    return out


def _reported(s: dict) -> dict:
    """What curate's summary reports: the bound (pair recall, or the missed-row share) and the plan."""
    rep = s.get("recall_lower_bound")
    if "missed_row_share_upper" in s:
        rep = f"rows<={s['missed_row_share_upper']:.4f}"
    return {"chosen": s["method"], "reported": rep, "timings": s.get("timings", {}),
            "params": {k: s[k] for k in ("nprobe", "nlist", "neighbors", "clusters", "pair_volume_fraction",
                                         "fallback", "semantic_skipped") if k in s},
            "products": _products(s)}


def _products(s: dict) -> dict:
    """The row-by-row products the answer needed, as shares of FAISS flat's n² (its range search scores
    every row against every row): the held-out truth (``truth_share_of_exact`` is of the symmetric exact
    search, n²/2), the search (IVF: each row against ``nprobe`` lists of n/nlist rows, the nominal count,
    below the real one when lists are uneven; band search: its planned pair volume) and the k-means
    (the iterations and rows per centroid of curate's ``clusters``, then two passes over all rows).
    Read-offs of the summary, for the ceiling line of :func:`compare`."""
    import inspect

    from curate.engine.dedup.bands import clusters

    defaults = inspect.signature(clusters).parameters
    per, niter = defaults["sample_per_centroid"].default, defaults["niter"].default
    n = s["n"]
    k = s.get("nlist") or s.get("clusters") or 0
    out = {"truth": s.get("recall_sample_rows", {}).get("truth_share_of_exact", 0.0) / 2,
           "search": 0.5 if s["method"] == "exact" else s.get("pair_volume_fraction", 0.0) or (
               s.get("nprobe", 0) / k if k else 0.0),
           "kmeans": (min(n, per * k) * k * niter + 2 * n * k) / (n * float(n)) if s["method"] != "exact"
           else 0}
    return {key: round(v, 5) for key, v in out.items()}


@functools.cache
def _torch_import_s() -> float | None:
    """Seconds to import torch in a fresh interpreter (what bf16 products cost first), None without it;
    measured once per run."""
    code = "import time; t = time.perf_counter(); import torch; print(time.perf_counter() - t)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return float(r.stdout.strip().splitlines()[-1]) if r.returncode == 0 else None


def ceiling(r: dict, flat_s: float) -> str:
    """The most the certified answer could gain on FAISS flat on this machine: its products (above) at
    FAISS flat's own GEMM rate, plus the CLI's time outside the search (start-up, loading, writing: measured
    in this run); and with every product at twice that rate (bf16, after importing torch)."""
    share = sum(r["products"].values())
    outside = max(0.0, r["seconds"] - r["timings"].get("total_s", r["seconds"]))
    parts = ", ".join(f"{k} {v:.2%}" for k, v in r["products"].items())
    line = (f"  ceiling: the answer's products are {share:.2%} of FAISS flat's ({parts}): at flat's GEMM "
            f"rate <= {1 / share:.1f}x; with the CLI's {outside:.2f} s outside the search "
            f"<= {flat_s / (share * flat_s + outside):.1f}x")
    torch_s = _torch_import_s()
    if torch_s is not None:
        line += (f"; at twice that rate (bf16) after importing torch ({torch_s:.2f} s) "
                 f"<= {flat_s / (share * flat_s / 2 + outside + torch_s):.1f}x")
    return line


def _range(index, x: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
    """Range search of every row; each pair (low, high) once, found from either end."""
    rows, cols = [], []
    radius = float(np.nextafter(np.float32(t), np.float32(-1)))
    for s in range(0, len(x), 4096):
        lims, dist, idx = index.range_search(x[s:s + 4096], radius)
        q = np.repeat(np.arange(s, min(s + 4096, len(x))), np.diff(lims).astype(np.int64))
        keep = (q != idx) & (dist >= np.float32(t))
        rows.append(np.minimum(q[keep], idx[keep]))
        cols.append(np.maximum(q[keep], idx[keep]))
    key = np.unique(np.concatenate(rows).astype(np.int64) * len(x) + np.concatenate(cols))
    return key // len(x), key % len(x)


def _faiss_ivf(x: np.ndarray, spec: dict) -> dict:
    """IndexIVFFlat with the smallest nprobe reaching ``spec['recall']``, chosen by an oracle that knows
    the truth: for each true pair the nprobe that finds it from either end, read off the quantizer's full
    ranking (untimed). The time is that of training, adding and the one search at that nprobe."""
    import faiss

    a, b = np.load(spec["tmp"] + ".faiss-flat.npy")
    nlist = max(1, int(round(len(x) ** 0.5)))
    t0 = time.perf_counter()
    quant = faiss.IndexFlatIP(x.shape[1])
    index = faiss.IndexIVFFlat(quant, x.shape[1], nlist, faiss.METRIC_INNER_PRODUCT)
    index.train(x)
    index.add(x)
    build = time.perf_counter() - t0
    p = 1
    if len(a):  # the oracle (not timed)
        rank = quant.search(x, nlist)[1]
        lab = rank[:, 0]
        pos = np.empty_like(rank)
        pos[np.arange(len(x))[:, None], rank] = np.arange(nlist)[None, :]
        need = np.minimum(pos[a, lab[b]], pos[b, lab[a]]) + 1
        p = int(np.quantile(need, min(1.0, spec["recall"]), method="higher"))
    index.nprobe = p
    t1 = time.perf_counter()
    qa, qb = _range(index, x, spec["t"])
    search = time.perf_counter() - t1
    np.save(spec["tmp"] + ".faiss-ivf.npy", np.stack([qa, qb]).astype(np.int64))
    return {"seconds": build + search, "peak_x": float("nan"), "chosen": "ivf",
            "params": {"nlist": nlist, "nprobe": p, "train_add_s": round(build, 2)}}


def _cli(path: str, x: np.ndarray, spec: dict) -> dict:
    """``curate dedup`` as a user runs it: a child process, timed from outside (start-up included)."""
    import resource

    import pandas as pd

    out = tempfile.mkdtemp(prefix="bench-cli-") + "/d"
    cmd = [os.path.join(os.path.dirname(sys.executable), "curate"), "dedup", path, "--threshold",
           str(spec["t"]), "--out", out]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    secs = time.perf_counter() - t0
    if r.returncode:
        raise SystemExit(r.stdout + r.stderr)
    p = pd.read_parquet(out + "/pairs.parquet")
    a, b = p.id_a.astype(np.int64).to_numpy(), p.id_b.astype(np.int64).to_numpy()
    np.save(spec["tmp"] + ".cli.npy", np.stack([np.minimum(a, b), np.maximum(a, b)]).astype(np.int64))
    with open(out + "/summary.json") as f:
        summary = json.load(f)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / x.nbytes
    return {**_reported(summary), "seconds": secs, "peak_x": peak, "console": r.stdout.strip()}


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
    modes = args.modes or (max(2, n // cfg["modes_per"]) if cfg["modes_per"] else 0)
    dup = cfg.get("dup_frac", 0.05) if args.dup_frac is None else args.dup_frac
    spec = {"n": n, "d": d, "dup_frac": dup, "seed": args.seed, "modes": modes, "shape": shape,
            "spread": cfg["spread"], "t": args.threshold, "tmp": f"{args.tmp}/bench-{shape}-{n}-{d}"}
    print(f"\n## {shape}: n={n:,} d={d} modes={modes} planted={dup:.1%} threshold={args.threshold}")
    _sub({**spec, "method": "gen"})
    res = {"faiss-flat": _sub({**spec, "method": "faiss-flat"})}
    truth = _pairs(spec, "faiss-flat")
    res.update({m: _sub({**spec, "method": m}) for m in methods if m != "faiss-ivf"})
    if "faiss-ivf" in methods:  # the oracle aims at the recall of curate as a user runs it
        ref = "cli" if "cli" in res else next(m for m in res if m != "faiss-flat")
        rec = len(_pairs(spec, ref) & truth) / max(1, len(truth))
        res["faiss-ivf"] = _sub({**spec, "method": "faiss-ivf", "recall": rec})
    flat = res["faiss-flat"]["seconds"]
    ivf = res.get("faiss-ivf", {}).get("seconds")
    print(f"{'method':<18}{'seconds':>9}{'vs flat':>9}{'vs ivf':>8}{'pairs':>10}{'true':>9}{'reported':>14}"
          f"{'peak/X':>8}  chosen / params")
    for m, r in res.items():
        got = _pairs(spec, m)
        true = len(got & truth) / max(1, len(truth))
        rep = r.get("reported")
        rep_s = "-" if "chosen" not in r or m == "faiss-ivf" else (
            "none" if rep is None else rep if isinstance(rep, str) else f"{rep:.4f}")
        extra = f"{r.get('chosen', '')} {json.dumps(r.get('params', {}))}" if "chosen" in r else ""
        vs_ivf = f"{ivf / r['seconds']:>7.1f}x" if ivf else f"{'-':>8}"
        name = f"curate {m}" if m not in ("faiss-flat", "faiss-ivf", "sklearn") else m
        print(f"{name:<18}{r['seconds']:>9.2f}{flat / r['seconds']:>8.1f}x{vs_ivf}{len(got):>10,}{true:>9.4f}"
              f"{rep_s:>14}{r['peak_x']:>8.2f}  {extra}")
    for m in ("cli", "default"):
        if m in res:
            print(f"  {m} timings: {json.dumps(res[m].get('timings', {}))}")
    if "cli" in res:
        print(ceiling(res["cli"], flat))
        print("  cli console: " + res["cli"]["console"].replace("\n", "\n    "))


def scaling(sizes: list[int], args: argparse.Namespace, shape: str = "clustered") -> None:
    """Seconds of the default vs n for one shape at its duplicate rate and mode size; FAISS flat up to a
    size."""
    cfg = SHAPES[shape]
    dup = cfg.get("dup_frac", 0.05) if args.dup_frac is None else args.dup_frac
    d = args.scaling_d or args.d or cfg["d"]
    print(f"\n## scaling of the default ({shape} shape, d={d}, {dup:.1%} planted, "
          f"{cfg['modes_per']} rows per mode; FAISS flat up to n={args.scaling_flat_max:,}; above, 'true' is "
          "against curate semantic, complete by construction, unless --no-band-truth)")
    print(f"{'n':>10}{'seconds':>9}{'us/row':>9}{'flat s':>9}{'vs flat':>9}{'true':>8}{'reported':>14}"
          f"{'peak/X':>8}  chosen")
    for n in sizes:
        spec = {"n": n, "d": d, "dup_frac": dup, "seed": args.seed, "shape": shape,
                "modes": max(2, n // cfg["modes_per"]) if cfg["modes_per"] else 0, "spread": cfg["spread"],
                "t": args.threshold, "tmp": f"{args.tmp}/scale-{shape}-{n}", "method": "default"}
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
        rep_s = "none" if rep is None else rep if isinstance(rep, str) else f"{rep:.4f}"
        print(f"{n:>10,}{r['seconds']:>9.2f}{1e6 * r['seconds'] / n:>9.1f}{flat_s:>9}{ratio:>9}{true:>8}"
              f"{rep_s:>14}{r['peak_x']:>8.2f}  {r['chosen']} {json.dumps(r.get('params', {}))}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shapes", default="clustered,uneven,anisotropic,weak,clean")
    ap.add_argument("--n", type=int, default=None, help="rows (default: per shape, see SHAPES)")
    ap.add_argument("--d", type=int, default=None, help="dimension (default: per shape)")
    ap.add_argument("--modes", type=int, default=None)
    ap.add_argument("--threshold", type=float, default=0.9)
    ap.add_argument("--dup-frac", type=float, default=None, help="planted share (default 5 %%; clean 0.1 %%)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--methods", default="cli,default,faiss-ivf")
    ap.add_argument("--scaling", default="", help="comma-separated sizes, e.g. 10000,100000,1000000 (then "
                    "only the scaling tables, one per shape of --shapes, are run)")
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
        if args.scaling:
            scaling([int(s) for s in args.scaling.split(",")], args, shape)
            continue
        cfg = SHAPES[shape]
        compare(shape, args.n or cfg["n"], args.d or cfg["d"], args, args.methods.split(","))


if __name__ == "__main__":
    main()
