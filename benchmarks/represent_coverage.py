"""Coverage of curate represent's 95 % bootstrap interval of the Jensen–Shannon distance.

The table in docs/representativeness.md.

For each population sampled and each n: 1,000 simulated datasets of n patients, each compared with Brazil's
2020 pyramid (WPP 2024) with 1,000 bootstrap resamples; coverage = share of intervals holding the true
distance. About 15 minutes on one core.

    python benchmarks/represent_coverage.py
"""

from __future__ import annotations

import numpy as np

from curate.engine.represent.reference import wpp_population
from curate.engine.represent.stats import basic_interval, bootstrap_distances, js_distance


def main(reps: int = 1000, boot: int = 1000) -> None:
    q = wpp_population("BRA", 2020).population.to_numpy()
    q = q / q.sum()
    for other in ("DEU", "NGA", "BRA2000"):
        p = (wpp_population("BRA", 2000) if other == "BRA2000" else wpp_population(other, 2020)).population
        p = p.to_numpy() / p.sum()
        for name, truep in ((other, p), (other + " 30% mix", 0.7 * q + 0.3 * p)):
            true = js_distance(truep, q)
            for n in (200, 1000, 5000):
                rng = np.random.default_rng(7)
                hit = 0
                for r in range(reps):
                    c = rng.multinomial(n, truep)
                    draws = bootstrap_distances(c, q, reps=boot, seed=r)
                    lo, hi = basic_interval(js_distance(c, q), draws, 0.95)
                    hit += lo <= true <= hi
                print(f"| {name} | {true:.3f} | {n} | {hit / reps:.3f} |", flush=True)


if __name__ == "__main__":
    main()
