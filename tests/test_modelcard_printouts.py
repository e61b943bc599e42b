"""Model-card printouts a reviewer can read: the task named right, every threshold explained, charts clean."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from curate.audits.modelcard import write_audit
from curate.audits.run import audit


def _preds(n_pat: int = 120, seeds: int = 2, extreme: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for seed in range(seeds):
        for p in range(n_pat):
            split = "validation" if p % 3 == 0 else "test"
            y = int(rng.random() < 0.4)
            g = ["A", "B"][p % 2]
            score = rng.random() * 0.5 + 0.45 * y
            if extreme:  # group B: a perfect model, group A: always wrong → disparities at ±1
                score = float(y) if g == "B" else 1.0 - y
            rows.append({"id": f"i{p}", "patient_id": f"P{p}", "seed": seed, "split": split, "dr": y,
                         "score_dr": score, "grp": g})
    return pd.DataFrame(rows)


PROBE = {"model": "mlp", "task": "multilabel", "labels": ["dr"], "classes": None, "embedding_dim": 8,
         "hidden_sizes": [8, 2], "epochs_max": 5, "batch_size": 8, "lr": 1e-3, "weight_decay": 0,
         "patience": 2, "device": "cpu", "runs": [{"seed": 0}, {"seed": 1}], "mitigation": "none",
         "patient_col": "patient_id", "split": {"source": "split", "split_seed": 0, "train": 1, "validation": 1, "test": 1}}


@pytest.mark.parametrize("threshold, expect", [
    (None, "0.5 for every label and every seed — the default of `curate audit` (no --threshold given)"),
    (0.3, "0.3 for every label and every seed — given with --threshold"),
    ("f1", "F1-optimal on the validation split, per label and per training seed"),
])
def test_threshold_says_where_it_comes_from(tmp_path, threshold, expect):
    res = audit(_preds(), label_cols=["dr"], groups=["grp"], patient_col="patient_id", threshold=threshold)
    card = (write_audit(res, tmp_path / "a", probe_info=PROBE) / "model_card.md").read_text()
    line = next(x for x in card.splitlines() if x.startswith("- Decision threshold:"))
    assert expect in line
    listed = [x for x in card.splitlines() if x.startswith("  - dr: ")]
    if threshold == "f1":  # chosen values are listed, one per seed, and they are the audit's own
        assert listed == ["  - dr: " + ", ".join(f"{v:.3f}" for v in res.thresholds["dr"])]
        assert len(res.thresholds["dr"]) == 2
    else:  # a fixed threshold is stated once, not repeated per seed
        assert listed == [] and "0.500, 0.500" not in card


def test_one_binary_label_is_not_called_multilabel(tmp_path):
    res = audit(_preds(), label_cols=["dr"], groups=["grp"], patient_col="patient_id")
    out = write_audit(res, tmp_path / "a", probe_info=PROBE)
    for name in ("model_card.md", "model_card.html"):
        text = (out / name).read_text()
        assert "Task: binary (1 label); labels: dr" in text and "multilabel" not in text
    two = {**PROBE, "labels": ["dr", "amd"]}
    res2 = audit(_preds().assign(amd=lambda d: d["dr"], score_amd=lambda d: d["score_dr"]),
                 label_cols=["dr", "amd"], groups=["grp"], patient_col="patient_id")
    text = (write_audit(res2, tmp_path / "b", probe_info=two) / "model_card.md").read_text()
    assert "Task: multilabel (2 binary labels)" in text
