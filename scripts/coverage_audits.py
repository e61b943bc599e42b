"""Coverage of the audit's intervals and size/power of its tests of "no disparity", by simulation.

Simulated test sets with a known truth: patients with two images each (a shared patient effect makes
the images of one patient correlated), a group label per patient, a binary label and a score from a
binormal model whose positives in the last group are shifted by ``gap`` (a TPR disparity; 0 = none).
Population values follow from the model (Φ of the shifted means), so every interval is checked against
the truth:

- under **no disparity** (gap 0) the truth of DPD, TPR_diff, DEOdds and Gap is 0: the table gives the share
  of 95 % intervals that contain 0 and the share of p-values ≤ 0.05 (the test's size, target 0.05);
- under a **disparity** (gap > 0) it gives the share of intervals that contain the true disparity and the
  share of p-values ≤ 0.05 (the power);
- AUC: the share of intervals containing the population AUC, for the BCa interval the audit reports and
  the percentile interval it replaced.

Run: ``python scripts/coverage_audits.py`` (defaults: 200 test sets per scenario, 1,000 resamples, 999
permutations; a few minutes on one core). docs/audits.md "Coverage" shows its output.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from scipy.stats import norm

from curate.audits import bootstrap as boot
from curate.audits.metrics import weighted_auc
from curate.pipeline.audit import audit

CUT, PATIENT_SD = 0.6, 0.7
SD = float(np.sqrt(1 + PATIENT_SD**2))  # total sd of the score given the label
DISPARITIES = [("fairclip", "DPD"), ("tpr_disparity", "TPR_diff"), ("fairclip", "DEOdds"),
               ("tpr_disparity", "Gap")]


def simulate(rng, n_pat: int, groups: tuple[str, ...], gap: float, base: float) -> pd.DataFrame:
    pid = np.repeat(np.arange(n_pat), 2)
    gi = np.repeat(rng.integers(0, len(groups), n_pat), 2)
    y = rng.integers(0, 2, pid.size)
    z = (rng.normal(0, 1, pid.size) + np.repeat(rng.normal(0, PATIENT_SD, n_pat), 2)
         + y * (base + gap * (gi == len(groups) - 1)))
    return pd.DataFrame({"pid": pid.astype(str), "grp": np.asarray(groups)[gi], "y": y,
                         "score_y": 1 / (1 + np.exp(-(z - CUT)))})


def truth(groups: tuple[str, ...], gap: float, base: float) -> dict[str, float]:
    """Population values: TPR_g = Φ((μ_g − cut)/sd), FPR equal in all groups, prevalence 1/2."""
    mu = [base + gap * (i == len(groups) - 1) for i in range(len(groups))]
    tpr = [norm.sf((CUT - m) / SD) for m in mu]
    diff = max(tpr) - min(tpr)
    auc = float(np.mean([norm.cdf(m / (SD * np.sqrt(2))) for m in mu]))  # negatives share one law
    return {"DPD": 0.5 * diff, "TPR_diff": diff, "DEOdds": diff,
            "Gap": 2 * diff if len(groups) == 2 else diff, "AUC": auc}


def run(name: str, groups: tuple[str, ...], gap: float, base: float, n_pat: int, sims: int, B: int, P: int,
        seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    true = truth(groups, gap, base)
    hits = {m: [] for _, m in DISPARITIES}
    reject = {m: [] for _, m in DISPARITIES}
    auc_bca, auc_pct = [], []
    for i in range(sims):
        df = simulate(rng, n_pat, groups, gap, base)
        res = audit(df, label_cols="y", groups="grp", patient_col="pid", bootstrap=B, permutations=P,
                    audits="fairclip,tpr_disparity,performance", seed=i).results
        for a, m in DISPARITIES:
            r = res[(res.audit == a) & (res.metric == m) & (res.attribute == "grp")].iloc[0]
            hits[m].append(r.ci_low <= true[m] <= r.ci_high)
            reject[m].append(r.p_value <= 0.05)
        r = res[(res.metric == "AUC") & (res.attribute == "overall")].iloc[0]
        auc_bca.append(r.ci_low <= true["AUC"] <= r.ci_high)
        units, n_units = boot.unit_codes(df["pid"])
        W = np.vstack(list(boot.weight_chunks(units, n_units, B, np.random.default_rng(i))))
        lo, hi = boot.percentile_ci(weighted_auc(df["y"].to_numpy(float), df["score_y"].to_numpy(), W)[1:])
        auc_pct.append(lo <= true["AUC"] <= hi)
    rows = [{"scenario": name, "metric": m, "true value": round(true[m], 3),
             "interval contains the truth": float(np.mean(hits[m])),
             "p ≤ 0.05": float(np.mean(reject[m]))} for _, m in DISPARITIES]
    rows.append({"scenario": name, "metric": "AUC (BCa)", "true value": round(true["AUC"], 3),
                 "interval contains the truth": float(np.mean(auc_bca)), "p ≤ 0.05": float("nan")})
    rows.append({"scenario": name, "metric": "AUC (percentile, before)", "true value": round(true["AUC"], 3),
                 "interval contains the truth": float(np.mean(auc_pct)), "p ≤ 0.05": float("nan")})
    return rows


#: name → (groups, gap, base shift of the positives, patients); the last one is a small test set of a
#: strong model (AUC ≈ 0.93), where percentile intervals of AUC are known to undercover
SCENARIOS = {
    "no disparity, 2 groups": (("a", "b"), 0.0, 1.2, 120),
    "disparity, 2 groups": (("a", "b"), 0.8, 1.2, 120),
    "no disparity, 3 groups": (("a", "b", "c"), 0.0, 1.2, 120),
    "disparity, 3 groups": (("a", "b", "c"), 0.8, 1.2, 120),
    "small test set, strong model": (("a", "b"), 0.0, 3.0, 30),
}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sims", type=int, default=200)
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--permutations", type=int, default=999)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    t0 = time.time()
    rows = []
    for k, (name, (groups, gap, base, n_pat)) in enumerate(SCENARIOS.items()):
        rows += run(f"{name} ({n_pat} patients)", groups, gap, base, n_pat, args.sims, args.bootstrap,
                    args.permutations, args.seed + k)
    out = pd.DataFrame(rows)
    print(f"{args.sims} test sets per scenario, 2 images per patient, {args.bootstrap} "
          f"resamples, {args.permutations} permutations ({time.time() - t0:.0f} s)\n")
    print("| " + " | ".join(out.columns) + " |")
    print("|" + "---|" * len(out.columns))
    for row in out.itertuples(index=False):
        print("| " + " | ".join(v if isinstance(v, str) else ("–" if np.isnan(v) else f"{v:.3f}")
                                for v in row) + " |")


if __name__ == "__main__":
    main()
