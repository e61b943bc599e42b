"""Cold start of ``curate build-card BRSET`` against ``python -c "import curate"`` and ``curate --help``.

Each command runs N times in a fresh subprocess (so every run pays the full interpreter start and import
cost); the script prints the median wall time of each and the ratios. Target: build-card ≤ 1.5 s on the
2-core CI machine.

    python benchmarks/bench_cold_start.py            # N=7
    python benchmarks/bench_cold_start.py --runs 15
    python benchmarks/bench_cold_start.py --grow 300 # + 300 generated records (a catalog of ~420)

build-card is timed twice: with the start-up cache warm (``curate._cache``: parsed YAML and compiled
templates from an earlier run) and empty (a fresh cache folder for every run: the first run after
installing or editing every record).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _curate_exe() -> list[str]:
    exe = Path(sys.executable).with_name("curate")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "curate"]


def median_wall(cmd: list[str], runs: int, env: dict[str, str], fresh_cache: bool = False) -> float:
    times = []
    for _ in range(runs):
        if fresh_cache:
            shutil.rmtree(env["CURATE_CACHE_DIR"], ignore_errors=True)
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--dataset", default="BRSET")
    ap.add_argument("--grow", type=int, default=0, help="add this many generated records (copies)")
    args = ap.parse_args()

    out = Path(tempfile.mkdtemp(prefix="bench-cold-"))
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1735689600", "CURATE_CACHE_DIR": str(out / "cache")}
    env.pop("CURATE_CATALOG", None)
    env.pop("CURATE_NO_CACHE", None)
    n_records = len(list(_builtin().glob("*.yaml")))
    if args.grow:
        env["CURATE_CATALOG"] = str(_grow(out / "grown", args.grow))
        n_records += args.grow
    try:
        cmds = {
            'python -c "import curate"': [sys.executable, "-c", "import curate"],
            "curate --help": [*_curate_exe(), "--help"],
            f"curate build-card {args.dataset}": [*_curate_exe(), "build-card", args.dataset,
                                                  "--out", str(out / args.dataset)],
        }
        for cmd in cmds.values():  # warm the OS file cache once; not timed
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        results = {name: median_wall(cmd, args.runs, env) for name, cmd in cmds.items()}
        build_cmd = cmds[f"curate build-card {args.dataset}"]
        results["  ... with an empty cache"] = median_wall(build_cmd, args.runs, env, fresh_cache=True)
    finally:
        shutil.rmtree(out, ignore_errors=True)

    print(f"# cold start, median of {args.runs} subprocess runs ({platform.python_version()}, "
          f"{os.cpu_count()} CPUs, {platform.machine()}), catalog of {n_records} records")
    base = results['python -c "import curate"']
    helps = results["curate --help"]
    build = results[f"curate build-card {args.dataset}"]
    for name, t in results.items():
        print(f"{name:<32} {t:7.3f} s   x{t / base:5.2f} vs import curate   x{t / helps:5.2f} vs --help")
    empty = results["  ... with an empty cache"]
    for label, t in (("warm cache", build), ("empty cache", empty)):
        verdict = "OK" if t <= 1.5 else "OVER"
        print(f"build-card {args.dataset}, {label}: {t:.3f} s (target ≤ 1.5 s: {verdict})")


def _builtin() -> Path:
    from curate.catalog import builtin_dir

    return builtin_dir()


def _grow(folder: Path, n: int) -> Path:
    """``n`` generated records: copies of the built-in ones under new ids (GEN-0001 ...), no aliases."""
    import yaml

    folder.mkdir(parents=True)
    sources = sorted(_builtin().glob("*.yaml"))
    for i in range(n):
        rec = yaml.safe_load(sources[i % len(sources)].read_text(encoding="utf-8"))
        rec.update(id=f"GEN-{i + 1:04d}", aliases=[], collections=[])
        rec.pop("derived_from", None)
        (folder / f"GEN-{i + 1:04d}.yaml").write_text(yaml.safe_dump(rec, allow_unicode=True), "utf-8")
    return folder


if __name__ == "__main__":
    main()
