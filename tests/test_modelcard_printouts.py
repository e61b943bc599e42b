"""Model-card printouts a reviewer can read: the task named right, every threshold explained, charts clean."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from curate.cards.modelcard import write_audit
from curate.pipeline.audit import audit


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
         "patience": 2, "device": "cpu",
         "runs": [{"seed": 0}, {"seed": 1}], "mitigation": "none",
         "patient_col": "patient_id",
         "split": {"source": "split", "seed": 0, "train": 1, "validation": 1, "test": 1}}


@pytest.mark.parametrize("threshold, expect", [
    (None, "0.5 for every label and every seed — the default of `curate audit` "
           "(no --threshold given)"),
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


def test_gap_chart_has_room_for_title_legend_and_extreme_points(tmp_path):
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    from curate.cards.charts import gap_chart, gap_figure

    # disparities at the extremes (a perfect and an always-wrong group), a long attribute name
    attr = "camera_manufacturer_and_model_of_the_fundus_photograph"
    df = _preds(extreme=True).rename(columns={"grp": attr})
    res = audit(df, label_cols=["dr"], groups=[attr], patient_col="patient_id", bootstrap=50)
    fig = gap_figure(res.results, attr)
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    ax = fig.axes[0]
    fig_box = fig.bbox
    title = next(t for t in fig.texts if t.get_text().startswith("TPR disparity by")).get_window_extent(r)
    legend = fig.legends[0].get_window_extent(r)
    data = [a for a in ax.get_children() if isinstance(a, LineCollection)
            or (isinstance(a, Line2D) and a.get_marker() not in (None, "None", ""))]
    assert data, "no point or error-bar artist found"
    boxes = [b for b in (a.get_window_extent(r) for a in data) if np.isfinite(b.get_points()).all()]
    assert boxes
    for box, what in ((title, "title"), (legend, "legend")):
        assert fig_box.x0 <= box.x0 and box.x1 <= fig_box.x1, what
        assert fig_box.y0 <= box.y0 and box.y1 <= fig_box.y1, what
        for b in boxes:
            assert not box.overlaps(b), f"{what} overlaps a point or error bar"
    assert not title.overlaps(legend), "title overlaps the legend"
    assert not legend.overlaps(ax.get_window_extent(r)), "legend inside the data area"
    # margins: every point and interval end lies strictly inside the axes' limits
    y0, y1 = ax.get_ylim()
    x0, x1 = ax.get_xlim()
    ys = np.concatenate([np.ravel(seg)[1::2] for a in data if isinstance(a, LineCollection)
                         for seg in a.get_segments()] + [np.asarray(a.get_ydata(), float) for a in data
                                                         if isinstance(a, Line2D)])
    xs = np.concatenate([np.asarray(a.get_xdata(), float) for a in data if isinstance(a, Line2D)])
    span_y, span_x = y1 - y0, x1 - x0
    assert ys.min() > y0 + 0.03 * span_y and ys.max() < y1 - 0.03 * span_y
    assert xs.min() > x0 + 0.03 * span_x and xs.max() < x1 - 0.03 * span_x
    d = res.results[(res.results["metric"] == "TPRDisp")]
    assert np.isclose(np.abs(d["value"]).max(), 1.0) or d["ci_high"].max() >= 0.9  # the data are extreme
    png = gap_chart(res.results, attr)
    (tmp_path / "gap.png").write_bytes(png)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_model_card_of_synthetic_predictions_says_so(tmp_path):
    plain = audit(_preds(), label_cols=["dr"], groups=["grp"], patient_col="patient_id")
    marked = audit(_preds().assign(synthetic=True), label_cols=["dr"], groups=["grp"],
                   patient_col="patient_id")
    for res, synthetic in ((plain, False), (marked, True)):
        card = (write_audit(res, tmp_path / str(synthetic), probe_info=PROBE, dataset="BRSET")
                / "model_card.md").read_text()
        title, first = [p for p in card.split("\n\n") if p.strip()][:2]
        assert ("SYNTHETIC" in title) is synthetic and ("synthetic" in first.lower()) is synthetic
        if synthetic:
            assert "Images: the real dataset this imitates has 16,266" in card
