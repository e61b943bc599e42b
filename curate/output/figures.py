"""Charts that leave: a Matplotlib figure is written (or rendered to SVG) only through here.

Every text of the figure (suptitle, axis titles and labels, tick labels, legend entries, annotations)
becomes a label a reader sees: each is checked by :func:`curate.policy.identifiers.label_reason`. A chart
of synthetic data says so: when no text of it says "synthetic", a note is added at its foot.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from curate.output.counts import GateError

SYNTHETIC_NOTE = "synthetic data (not real patients)"


SYNTHETIC_STAMP = "SYNTHETIC DATA: not a real dataset"


def figure_texts(fig: Any) -> list[str]:
    """Every text a reader sees on ``fig``."""
    texts = [t.get_text() for t in fig.texts]
    sup = getattr(fig, "_suptitle", None)
    if sup is not None:
        texts.append(sup.get_text())
    for ax in fig.axes:
        texts += [ax.get_title(loc) for loc in ("left", "center", "right")]
        texts += [ax.get_xlabel(), ax.get_ylabel()]
        texts += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
        texts += [t.get_text() for t in ax.texts]
        legend = ax.get_legend()
        if legend is not None:
            texts += [t.get_text() for t in legend.get_texts()]
            texts.append(legend.get_title().get_text())
    return [t for t in texts if t and t.strip()]


def _check(fig: Any, synthetic: bool, where: str) -> None:
    from curate.policy.identifiers import label_reason

    texts = figure_texts(fig)
    for t in texts:
        for part in str(t).splitlines():
            why = label_reason(part)
            if why:
                raise GateError(f"{where}: a text of the chart cannot be published: {why}")
    if synthetic and not any("synthetic" in t.lower() for t in texts):
        fig.text(0.01, 0.01, SYNTHETIC_NOTE, fontsize=7, color="#555555", ha="left", va="bottom")


def write_figure(fig: Any, path: str | os.PathLike, *, synthetic: bool = False, atomic: bool = True,
                 close: bool = False, **savefig: Any) -> Path:
    """Save ``fig`` to ``path`` (format by suffix) after the label checks and synthetic marking; a PNG has no
    software tag and, for synthetic data, a ``Comment`` saying so; ``close``: close the figure afterwards."""
    from curate.output.files import _target

    path = Path(path)
    try:
        _check(fig, synthetic, path.name)
        fmt = path.suffix.lstrip(".") or None
        if fmt == "png":
            meta = {"Software": None, **({"Comment": SYNTHETIC_STAMP} if synthetic else {})}
            savefig.setdefault("metadata", meta)
        with _target(path, atomic) as tmp:
            fig.savefig(tmp, format=fmt, **savefig)
    finally:
        if close:
            import matplotlib.pyplot as plt

            plt.close(fig)
    return path


def figure_bytes(fig: Any, fmt: str = "png", *, synthetic: bool = False, where: str = "chart",
                 **savefig: Any) -> bytes:
    """``fig`` rendered as ``fmt`` (``png``, ``svg``) after the same checks, to embed in a page or a card
    that is then written with :func:`curate.output.write_text` / :func:`curate.output.write_bytes`."""
    _check(fig, synthetic, where)
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, **savefig)
    return buf.getvalue()
