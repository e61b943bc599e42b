"""Per-cluster summaries; public ones are protected by the exit gate (:mod:`curate.output`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from curate.engine.cluster.evaluate import _join_meta, check_attrs
from curate.engine.cluster.result import table_of
from curate.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


def summarize(clusters: Any, meta: pd.DataFrame | None = None, *, attrs: Sequence[str] = (), level: int = 1,
              top: int = 3, nearest: int = 3, public: bool = False, meta_id_col: str = "id"
              ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per-cluster summary at ``level``: size, mean distance, top attribute values, nearest examples.

    ``nearest`` lists the ids closest to their level-1 centroid (only for level 1, and only when
    ``public=False``: ids of a user's own files may go in their reports, never in public cards).
    ``public=True`` protects what a card prints (:mod:`curate.policy.disclosure`): sizes below 11 are
    ``<11``, with complements ``*`` so no hidden size follows from the total; a top value's share is printed
    only where its count and the cluster's other values cannot be solved (a share whose complement is under
    11 gives a small count away); the size minimum, median and maximum only when no size is hidden.
    Returns a DataFrame (one row per cluster) and a JSON-able dict.
    """
    import pandas as pd

    from curate.output import protect_counts, protect_shares
    from curate.policy.disclosure import COMPLEMENT, SUPPRESSED

    table = table_of(clusters)
    col = f"cluster_l{level}"
    if col not in table.columns:
        raise UsageError(f"no level {level} in the clusters table")
    data = table
    if meta is not None and attrs:
        attrs = check_attrs(meta, attrs)
        data = _join_meta(table, meta, meta_id_col)
    sizes = data.groupby(col).size()
    shown_sizes = protect_counts(sizes.to_dict()) if public else {}  # the exit gate: sizes, total published
    size_marks = {c: (v if isinstance(v, str) else "") for c, v in shown_sizes.items()}
    rows = []
    for c, grp in data.groupby(col, sort=True):
        row: dict[str, Any] = {"cluster": int(c), "size": size_marks.get(c) or int(len(grp))}
        row["mean_distance"] = round(float(grp["distance"].mean()), 4) if level == 1 else None
        for a in attrs:
            vc = grp[a].astype(object).where(grp[a].notna(), None).astype(str).value_counts()
            top_values = [v for v in grp[a].dropna().astype(str).value_counts().head(top).index]
            if public:
                shown = protect_shares(vc.to_dict(), top_values, len(grp)) if not size_marks.get(c) else []
            else:
                shown = top_values
            parts = [f"{v} {vc[v] / len(grp):.0%}" for v in top_values if v in shown]
            row[f"top_{a}"] = ", ".join(parts) if parts else (COMPLEMENT if public else "—")
        if level == 1 and not public and nearest:
            row["nearest_ids"] = grp.nsmallest(nearest, "distance")["id"].astype(str).tolist()
        rows.append(row)
    df = pd.DataFrame(rows)
    info = {"level": level, "k": int(len(sizes)), "public": public, "clusters": rows,
            "size_min": int(sizes.min()), "size_median": float(sizes.median()), "size_max": int(sizes.max())}
    if public and any(size_marks.values()):  # an order statistic could be a hidden size
        for key in ("size_min", "size_median", "size_max"):
            info[key] = SUPPRESSED if key == "size_min" else COMPLEMENT
    return df, info
