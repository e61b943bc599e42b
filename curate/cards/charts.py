"""The model card's gap chart: TPR disparity per label and group with 95% intervals (bahre2025 Fig. 1).

Laid out so a reviewer can publish it as is: the title wraps to the figure's width (constrained layout, no
clipping), the legend sits outside the axes (never over a point or an error bar), and both axes keep a
margin so no point or interval end lies on an axis edge, whatever the values (disparities of ±1 included).
"""

from __future__ import annotations

import math
import textwrap
from typing import Any

#: Fraction of the data span kept free on each side of the y axis (and half a slot on x).
Y_MARGIN = 0.08


def gap_figure(res: Any, attr: str) -> Any | None:
    """The matplotlib Figure of the chart (None when ``res`` has no TPR disparity for ``attr``)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    d = res[(res["metric"] == "TPRDisp") & (res["attribute"] == attr)]
    if d.empty or d["value"].isna().all():  # withheld (small group) or undefined everywhere
        return None
    labels = list(dict.fromkeys(d["label"]))
    gaps = res[(res["metric"] == "Gap") & (res["attribute"] == attr)].set_index("label")["value"]
    labels.sort(key=lambda lab: (gaps.get(lab, float("nan")) if lab in gaps else 0.0))
    groups = list(dict.fromkeys(d["group"]))
    width_in = max(5.0, 1.1 * len(labels) + 3.5)
    fig = Figure(figsize=(width_in, 3.8), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    width = 0.8 / max(len(groups), 1)
    lows, highs = [0.0], [0.0]
    for gi, g in enumerate(groups):
        sub = d[d["group"] == g].set_index("label").reindex(labels)
        xs = [i - 0.4 + width * (gi + 0.5) for i in range(len(labels))]
        value = sub["value"].to_numpy(dtype=float)
        lo = sub["ci_low"].fillna(sub["value"]).to_numpy(dtype=float)
        hi = sub["ci_high"].fillna(sub["value"]).to_numpy(dtype=float)
        err_lo = (value - lo).clip(min=0)
        err_hi = (hi - value).clip(min=0)
        ax.errorbar(xs, value, yerr=[err_lo, err_hi], fmt="o", capsize=3, label=str(g))
        lows += [v for v in lo if math.isfinite(v)]
        highs += [v for v in hi if math.isfinite(v)]
    ax.axhline(0, color="0.5", lw=0.8)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=30, ha="right")
    ax.set_xlim(-0.6, len(labels) - 0.4)
    ymin, ymax = min(lows), max(highs)
    pad = max(ymax - ymin, 0.1) * Y_MARGIN
    ax.set_ylim(ymin - pad, ymax + pad)
    ax.set_ylabel("TPR disparity")
    avg = res[(res["metric"] == "average_Gap") & (res["attribute"] == attr)]["value"]
    title = f"TPR disparity by {attr}"
    if len(avg) and not math.isnan(avg.iloc[0]):
        title += f" (average Gap {avg.iloc[0]:.3f})"
    chars = max(20, int(width_in * 100 / 8))  # about 6 px per character at fontsize 10, with room to spare
    # a figure title (not the axes'): constrained layout keeps it inside the figure, above the legend
    fig.suptitle("\n".join(textwrap.wrap(title, chars, break_on_hyphens=False)), fontsize=10)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside right center", fontsize=7, title="group",
               title_fontsize=7)
    return fig


def gap_chart(res: Any, attr: str) -> bytes | None:
    """PNG bytes of :func:`gap_figure` (None when there is nothing to draw)."""
    fig = gap_figure(res, attr)
    if fig is None:
        return None
    from curate.output import figure_bytes

    return figure_bytes(fig, "png", where=f"gap chart of {attr}")
