"""Measurements behind docs/inspect.md: shortcut false-flag rate and power, label issues grouped vs
ordinary CV.

    python benchmarks/bench_inspect.py [--seeds 100] [--label-seeds 20]

Shortcut: cameras permuted at random over patients (no signal) → how often the attribute is flagged
readable; planted camera (strength 2) → within-label AUC and flag rate. Label: patient-level label flips
(planted_label_flips) → precision@k (k = flipped rows) and clean rows flagged, cleanlab with
patient-grouped vs ordinary stratified k-fold; the same for per-image annotation errors (one image of a
patient mislabelled, its other images right: ``unit="image"``). ``--seeds 0`` skips the shortcut part.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def shortcut(seeds: int) -> dict:
    from curate.engine.inspect.planted import planted_shortcut
    from curate.engine.inspect.shortcut import ShortcutOptions, readability

    opt = ShortcutOptions(permutations=19, n_boot=20)
    out = {}
    for name, strength in (("null", 0.0), ("planted", 2.0)):
        flags, aucs = 0, []
        for seed in range(seeds):
            X, m = planted_shortcut(strength=strength, seed=seed)
            pid, cams = m.pid.to_numpy(), m.camera.to_numpy()
            if strength == 0:
                rng = np.random.default_rng(seed)
                first = np.unique(pid, return_index=True)[1]
                perm = dict(zip(pid[first], cams[first][rng.permutation(len(first))]))
                cams = np.array([perm[p] for p in pid])
            r = readability(X, cams, m.y.to_numpy().astype(str), pid, opt)
            flags += bool(r["p"] <= opt.alpha and r["auc"] >= opt.min_auc)
            aucs.append(r["auc"])
        out[name] = {"seeds": seeds, "flag_rate": flags / seeds, "mean_auc": float(np.mean(aucs)),
                     "min_auc": float(np.min(aucs))}
    return out


def labels(seeds: int, unit: str = "patient") -> dict:
    from curate.engine.inspect import InspectData
    from curate.engine.inspect.label import LabelManager
    from curate.engine.inspect.planted import planted_label_flips

    res = {True: [], False: []}
    for seed in range(seeds):
        X, m, flipped = planted_label_flips(dim=32, patient_noise=1.0, label_signal=4.0, seed=seed, unit=unit)
        data = InspectData(X=X, labels=m.y.to_numpy(), patients=m.pid.to_numpy())
        k = int(flipped.sum())
        for grouped in (True, False):
            iss = LabelManager().find(data, grouped=grouped, seed=seed).issues
            top = iss.row.to_numpy()[:k]
            flag_rows = iss.row[iss.flagged].to_numpy()
            res[grouped].append((flipped[top].mean(), flipped[flag_rows].sum() / k,
                                 (~flipped[flag_rows]).sum(),
                                 (~flipped).sum()))
    out = {}
    for grouped, rows in res.items():
        a = np.array(rows, dtype=float)
        out["grouped" if grouped else "ordinary"] = {
            "precision_at_k": float(a[:, 0].mean()), "recall_of_flags": float(a[:, 1].mean()),
            "clean_flagged": float(a[:, 2].mean()), "clean_rows": float(a[:, 3].mean())}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--label-seeds", type=int, default=20)
    args = ap.parse_args()
    t = time.time()
    report = {"shortcut": shortcut(args.seeds) if args.seeds else None,
              "label": labels(args.label_seeds),
              "label_per_image": labels(args.label_seeds, unit="image")}
    report["seconds"] = round(time.time() - t, 1)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
