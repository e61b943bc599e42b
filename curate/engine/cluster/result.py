"""The result of :func:`curate.engine.cluster.cluster`, and the clusters table of a result or a table."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


@dataclass
class ClusterResult:
    """Hierarchical clustering: ``table`` has ``id, cluster_l1..cluster_lL, distance`` (level 1 finest)."""

    table: pd.DataFrame
    ks: list[int]
    centroids: list[np.ndarray]
    metric: str
    inertia: float
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def level_columns(self) -> list[str]:
        return [f"cluster_l{i + 1}" for i in range(len(self.ks))]

    def to_parquet(self, path: str | os.PathLike) -> None:
        from curate._io import atomic_file

        with atomic_file(path) as tmp:
            self.table.to_parquet(tmp, index=False)


def table_of(clusters: Any) -> Any:
    """The table of a :class:`ClusterResult`, or ``clusters`` itself (a table or labels)."""
    return clusters.table if isinstance(clusters, ClusterResult) else clusters
