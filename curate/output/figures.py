"""Charts that leave: a Matplotlib figure rendered to PNG bytes and written by :func:`write_bytes`.

A chart carries counts only as drawn shapes, and its caller draws protected numbers only; the gate renders
it without the writer's software tag and, for synthetic data, stamps "synthetic data" on the image and in
its PNG text (``Comment``), so a chart lifted out of its folder still says so.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from curate.output.files import write_bytes

SYNTHETIC_STAMP = "SYNTHETIC DATA: not a real dataset"


def write_figure(fig: Any, path: str | os.PathLike, *, synthetic: bool = False, atomic: bool = True,
                 close: bool = True) -> Path:
    """Write the Matplotlib ``fig`` as PNG to ``path`` (atomic unless ``atomic=False``); ``close``: close the
    figure afterwards (also when rendering fails)."""
    metadata: dict[str, Any] = {"Software": None}
    try:
        if synthetic:
            fig.text(0.5, 0.5, SYNTHETIC_STAMP, ha="center", va="center", fontsize=14, color="grey",
                     alpha=0.5, rotation=20)
            metadata["Comment"] = SYNTHETIC_STAMP
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata=metadata)
    finally:
        if close:
            import matplotlib.pyplot as plt

            plt.close(fig)
    return write_bytes(path, buf.getvalue(), atomic=atomic)
