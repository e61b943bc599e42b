"""Coverage of curate represent's 95 % interval of the Jensen–Shannon distance (the table in
docs/representativeness.md).

For each population sampled and each n: simulated datasets of n patients, each compared with Brazil's 2020
pyramid (WPP 2024); the interval is :func:`curate.engine.represent.stats.inverted_interval` (test-inversion
bootstrap) with ``boot`` samples per candidate truth; coverage = share of intervals holding the true
distance, with its Monte-Carlo standard error. Defaults (500 datasets × 500 samples) fit a shared 2-core
machine (about 20 minutes on one core).

    python benchmarks/represent_coverage.py [DATASETS] [BOOT]
"""

from __future__ import annotations

import sys
import time

import numpy as np

from curate.engine.represent.reference import wpp_population
from curate.engine.represent.stats import inverted_interval, js_distance


def main(reps: int = 500, boot: int = 500) -> None:
    q = wpp_population("BRA", 2020).population.to_numpy()
    q = q / q.sum()
    print(f"{reps} datasets per row, {boot} bootstrap samples per candidate; nominal 95 %")
    print("| Population sampled | True distance to Brazil 2020 | *n* patients | Coverage (± MC s.e.) |")
    print("| --- | ---: | ---: | ---: |")
    t0 = time.perf_counter()
    for other in ("DEU", "NGA", "BRA2000"):
        p = (wpp_population("BRA", 2000) if other == "BRA2000" else wpp_population(other, 2020)).population
        p = p.to_numpy() / p.sum()
        label = {"DEU": "Germany 2020", "NGA": "Nigeria 2020", "BRA2000": "Brazil 2000"}[other]
        for name, truep in ((label, p), (f"70 % Brazil 2020 + 30 % {label}", 0.7 * q + 0.3 * p)):
            true = js_distance(truep, q)
            for n in (200, 1000, 5000):
                rng = np.random.default_rng(7)
                hit = 0
                for r in range(reps):
                    c = rng.multinomial(n, truep)
                    lo, hi = inverted_interval(c, q, reps=boot, confidence=0.95, seed=r)
                    hit += lo <= true <= hi
                cov = hit / reps
                se = (cov * (1 - cov) / reps) ** 0.5
                print(f"| {name} | {true:.3f} | {n:,} | {cov:.3f} (± {se:.3f}) |", flush=True)
    print(f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
