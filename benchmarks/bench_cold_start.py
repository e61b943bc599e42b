"""Cold start of ``curate build-card BRSET`` against ``python -c "import curate"`` and ``curate --help``.

Each command runs N times in a fresh subprocess (so every run pays the full interpreter start and import
cost); the script prints the median wall time of each and the ratios. Target: build-card ≤ 1.5 s on the
2-core CI machine.

    python benchmarks/bench_cold_start.py            # N=7
    python benchmarks/bench_cold_start.py --runs 15
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


def median_wall(cmd: list[str], runs: int, env: dict[str, str]) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--dataset", default="BRSET")
    args = ap.parse_args()

    env = {**os.environ, "SOURCE_DATE_EPOCH": "1735689600"}
    env.pop("CURATE_CATALOG", None)
    out = Path(tempfile.mkdtemp(prefix="bench-cold-"))
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
    finally:
        shutil.rmtree(out, ignore_errors=True)

    print(f"# cold start, median of {args.runs} subprocess runs ({platform.python_version()}, "
          f"{os.cpu_count()} CPUs, {platform.machine()})")
    base = results['python -c "import curate"']
    helps = results["curate --help"]
    build = results[f"curate build-card {args.dataset}"]
    for name, t in results.items():
        print(f"{name:<32} {t:7.3f} s   x{t / base:5.2f} vs import curate   x{t / helps:5.2f} vs --help")
    verdict = "OK" if build <= 1.5 else "OVER"
    print(f"build-card {args.dataset}: {build:.3f} s (target ≤ 1.5 s: {verdict})")


if __name__ == "__main__":
    main()
