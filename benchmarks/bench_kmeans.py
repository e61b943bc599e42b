"""curate k-means (curate.engine.cluster.kmeans) vs scikit-learn KMeans: same data, k, init and iterations.

Both start from the same k-means++ centroids and run the same number of Lloyd iterations on every point
(no FAISS subsampling, sklearn ``tol=0``, ``n_init=1``), so the inertia ratio shows the answers agree and
the time ratio is the speed-up. Also times the Dask path (LocalCluster, 2 threaded workers) against the
same iterations in numpy. Every run also times the FAISS reference, ``faiss.Kmeans`` with its own defaults
(random init, 256 training points per centroid), on the same data in the same run, against curate's default
(``method="auto"``: two-level training from 1,024 centroids, :mod:`curate.engine.cluster.two_level`).
Since issue 26 curate's flat trainer is numpy BLAS Lloyd on the CPU (``faiss.Kmeans`` on the GPU); the
labels below keep their old names ("faiss") so runs stay comparable. ``--large`` is the issue-17 shape,
1,000,000 x 768 with 10,000 centroids (about 3 GB of vectors; only the reference and curate's default run
there: the others take hours on a CPU). Usage::

    python benchmarks/bench_kmeans.py [--n 50000] [--d 128] [--k 100] [--niter 20] [--threads 2] [--large]
"""

from __future__ import annotations

import argparse
import os
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--niter", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2, help="threads for FAISS and sklearn (same for both)")
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs (noisy machines)")
    ap.add_argument("--dask", action="store_true", help="also time the Dask LocalCluster path")
    ap.add_argument("--large", action="store_true",
                    help="1,000,000 x 768, k=10,000, one run: curate (256 pts/centroid) vs FAISS")
    args = ap.parse_args()
    if args.large:
        args.n, args.d, args.k, args.repeat = 1_000_000, 768, 10_000, 1
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))

    import faiss
    import numpy as np
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    from curate.engine.cluster import init_centroids, kmeans, lloyd

    faiss.omp_set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(args.k, args.d)).astype(np.float32) * 2
    x = centers[rng.integers(args.k, size=args.n)] + rng.normal(size=(args.n, args.d)).astype(np.float32)
    print(f"data: {args.n:,} x {args.d} float32, k={args.k}, {args.niter} Lloyd iterations, "
          f"{args.threads} threads, best of {args.repeat}", flush=True)

    def best(fn):
        times, out = [], None
        for _ in range(args.repeat):
            t = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - t)
        return min(times), out

    def reference():  # FAISS with its own defaults: the yardstick of issue 17
        km = faiss.Kmeans(args.d, args.k, niter=args.niter, seed=0, verbose=False)
        km.train(x)
        return float(km.index.search(x, 1)[0].sum())

    t_ref, ref_inertia = best(reference)
    print(f"FAISS reference (defaults) {t_ref:8.2f} s   inertia {ref_inertia:.6g}", flush=True)
    t_def, dflt = best(lambda: kmeans(x, args.k, niter=args.niter, spherical=False, device="cpu"))
    print(f"curate default ({dflt.info['method']}) {t_def:8.2f} s   inertia {dflt.inertia:.6g}  {dflt.info}")
    print(f"curate default / FAISS reference: time {t_def / t_ref:.3f}x, "
          f"inertia {dflt.inertia / ref_inertia:.5f}", flush=True)
    if args.large:
        return
    t0 = time.perf_counter()
    init = init_centroids(x, args.k, seed=0)
    t_init = time.perf_counter() - t0
    rows = min(args.n, max(10_000, 50 * args.k))
    print(f"k-means++ init (curate: sklearn kmeans_plusplus, {rows:,} rows) {t_init:8.2f} s"
          " (the same start for the runs below)")
    t_sub, sub = best(lambda: kmeans(x, args.k, init=init, niter=args.niter, spherical=False, device="cpu",
                                     max_points_per_centroid=256, method="flat"))
    print(f"faiss, 256 pts/centroid  {t_sub:8.2f} s   inertia {sub.inertia:.6g} (--sample-per-centroid 256)")
    print(f"curate (256 pts/centroid) / FAISS reference: time {t_sub / t_ref:.2f}x (+ init {t_init:.2f} s), "
          f"inertia {sub.inertia / ref_inertia:.5f}")
    t_faiss, ours = best(lambda: kmeans(x, args.k, init=init, niter=args.niter, spherical=False,
                                        device="cpu", method="flat"))
    with threadpool_limits(args.threads):
        t_sk, sk = best(lambda: KMeans(args.k, init=init, n_init=1, max_iter=args.niter, tol=0,
                                       algorithm="lloyd").fit(x))
    print(f"curate kmeans (flat)     {t_faiss:8.2f} s   inertia {ours.inertia:.6g}")
    print(f"sklearn KMeans (lloyd)   {t_sk:8.2f} s   inertia {sk.inertia_:.6g}")
    print(f"time ratio sklearn/faiss: {t_sk / t_faiss:.2f}x    inertia ratio faiss/sklearn: "
          f"{ours.inertia / sk.inertia_:.5f}")
    print(f"time ratio sklearn/faiss-subsampled: {t_sk / t_sub:.2f}x    inertia ratio: "
          f"{sub.inertia / sk.inertia_:.5f}")

    if args.dask:
        import distributed

        with threadpool_limits(args.threads):
            t_np, ref = best(lambda: lloyd(x, init, args.niter, spherical=False))
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                      dashboard_address=None) as lc, distributed.Client(lc) as client:
            t_dask, dk = best(lambda: kmeans(x, args.k, init=init, niter=args.niter, spherical=False,
                                             dask=client, method="flat"))
        same = float((dk.labels == ref.labels).mean())
        err = float(np.abs(dk.centroids - ref.centroids).max())
        print(f"numpy Lloyd (reference)  {t_np:8.2f} s")
        print(f"Dask LocalCluster (2 w.) {t_dask:8.2f} s   same labels {same:.4%}, "
              f"max centroid diff {err:.2e}")
        print(f"time ratio numpy/dask: {t_np / t_dask:.2f}x")


if __name__ == "__main__":
    main()
