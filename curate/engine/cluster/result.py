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
        write_local_table(self.table, path)


def write_local_table(table: Any, path: str | os.PathLike, *, atomic: bool = True) -> None:
    """The cluster table (``id`` and one ``cluster_l*`` column per level, ...) as a local file keyed by the
    user's own ids (:func:`curate.output.write_local`)."""
    from curate.output import write_local

    roles = {str(c): "value" for c in table.columns if str(c) != "id"}
    write_local(table, path, ids=["id"], roles=roles, atomic=atomic)


def table_of(clusters: Any) -> Any:
    """The table of a :class:`ClusterResult`, or ``clusters`` itself (a table or labels)."""
    return clusters.table if isinstance(clusters, ClusterResult) else clusters
