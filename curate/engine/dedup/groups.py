"""Duplicate groups and the keep list from the pair graph, under one of two keep rules.

- ``components``: a group is a connected component of the pair graph; it keeps exactly one row. A chain
  A~B~C keeps one image even when A and C are far apart.
- ``greedy`` (SemDeDup, Abbas et al. 2023): rows are visited best first (highest ``quality``, then the
  smallest id); a row is kept unless it is a duplicate (a pair) of a row already kept. A chain A~B~C with
  A, C below the threshold keeps A and C. Groups are still the connected components (for reporting);
  ``is_representative`` marks every kept row of a group.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

KEEP_RULES = ("components", "greedy")


@dataclass
class DedupResult:
    """Pairs, groups and the ids to keep, plus a JSON-able summary (counts only, never ids)."""

    pairs: Any  # DataFrame: id_a, id_b, cosine (id_a < id_b, sorted)
    groups: Any  # DataFrame: id, group, is_representative (only ids that have a duplicate)
    keep: list[str]
    summary: dict[str, Any] = field(default_factory=dict)

    def write_into(self, folder: str | os.PathLike) -> Path:
        """Write the four files into an existing (temporary) folder, through the exit gate: pairs, groups
        and keep.txt are local files keyed by the user's own ids (:func:`curate.output.write_local`)."""
        from curate.output import write_json, write_local, write_local_ids

        folder = Path(folder)
        scores = {c: "value" for c in self.pairs.columns if c not in ("id_a", "id_b")}
        write_local(self.pairs, folder / "pairs.parquet", ids=["id_a", "id_b"], roles=scores, atomic=False)
        write_local(self.groups, folder / "groups.parquet", ids=["id"],
                    roles={"group": "value", "is_representative": "value"}, atomic=False)
        write_local_ids(folder / "keep.txt", self.keep, atomic=False)
        write_json(folder / "summary.json", self.summary, atomic=False)  # images and pairs, never ids
        return folder

    def write(self, out_dir: str | os.PathLike) -> Path:
        """Write pairs.parquet, groups.parquet, keep.txt and summary.json atomically into ``out_dir``."""
        from curate._io import atomic_dir

        with atomic_dir(out_dir, kind="dedup") as tmp:
            self.write_into(tmp)
        return Path(out_dir)


def check_keep_rule(keep_rule: str) -> str:
    """The keep rule (:data:`KEEP_RULES`); the one check of it."""
    from curate.validation import Options

    return Options(KEEP_RULES).check("keep_rule", keep_rule)


def build_result(ids: np.ndarray, i: np.ndarray, j: np.ndarray, cos: np.ndarray, *,
                 quality: np.ndarray | None = None, extra: dict[str, np.ndarray] | None = None,
                 keep_rule: str = "components") -> DedupResult:
    """Pairs table, groups and the keep list from canonical row pairs."""
    import pandas as pd
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    check_keep_rule(keep_rule)
    ids = np.asarray(ids).astype(str)
    n = len(ids)
    ida, idb = ids[i], ids[j]
    swap = ida > idb
    ida, idb = np.where(swap, idb, ida), np.where(swap, ida, idb)
    order = np.lexsort((idb, ida))
    cols: dict[str, Any] = {"id_a": ida[order], "id_b": idb[order]}
    if extra:
        for k, v in extra.items():
            cols[k] = np.asarray(v)[order]
    else:
        cols["cosine"] = np.asarray(cos, dtype=np.float32)[order]
    pairs = pd.DataFrame(cols)

    nodes = np.unique(np.concatenate([i, j])) if len(i) else np.zeros(0, np.int64)
    if not len(nodes):
        groups = pd.DataFrame({"id": pd.Series([], dtype=str), "group": pd.Series([], dtype=np.int64),
                               "is_representative": pd.Series([], dtype=bool)})
        return DedupResult(pairs=pairs, groups=groups, keep=ids.tolist())
    li, lj = np.searchsorted(nodes, i), np.searchsorted(nodes, j)
    m = len(nodes)
    graph = coo_matrix((np.ones(len(li), dtype=np.int8), (li, lj)), shape=(m, m)).tocsr()
    _, comp = connected_components(graph, directed=False)
    node_ids = ids[nodes]
    q = quality[nodes] if quality is not None else np.zeros(m)
    srt = np.lexsort((node_ids, -q, comp))  # by component, best quality first, then smallest id
    if keep_rule == "components":
        rep_mask = np.zeros(m, dtype=bool)
        first = np.ones(m, dtype=bool)
        first[1:] = comp[srt][1:] != comp[srt][:-1]
        rep_mask[srt[first]] = True
    else:
        rep_mask = _greedy(graph + graph.T, srt)
    # group numbers follow the order of each group's best representative
    best = {}
    for r in srt:
        if rep_mask[r] and int(comp[r]) not in best:
            best[int(comp[r])] = node_ids[r]
    comp_order = sorted(best, key=lambda c: best[c])
    gnum = np.empty(comp.max() + 1, dtype=np.int64)
    gnum[comp_order] = np.arange(len(comp_order))
    g = gnum[comp]
    gorder = np.lexsort((node_ids, ~rep_mask, g))
    groups = pd.DataFrame({"id": node_ids[gorder], "group": g[gorder], "is_representative": rep_mask[gorder]})
    drop = np.zeros(n, dtype=bool)
    drop[nodes[~rep_mask]] = True
    return DedupResult(pairs=pairs, groups=groups, keep=ids[~drop].tolist())


def _greedy(adj: Any, order: np.ndarray) -> np.ndarray:
    """Visit nodes in ``order``; keep a node unless one of its neighbours is already kept."""
    kept = np.zeros(adj.shape[0], dtype=bool)
    indptr, indices = adj.indptr, adj.indices
    for u in order.tolist():
        if not kept[indices[indptr[u]:indptr[u + 1]]].any():
            kept[u] = True
    return kept


def regroup(ids: Any, pairs: Any, *, quality: np.ndarray | None = None,
            keep_rule: str = "components") -> DedupResult:
    """Groups and the keep list formed again from a pairs table over the same ``ids`` (e.g. after a reviewer
    removed pairs that are not copies): every column of ``pairs`` but ``id_a``/``id_b`` is kept as it is."""
    import pandas as pd

    ids = np.asarray(ids).astype(str)
    index = pd.Index(ids)
    i = index.get_indexer(pairs["id_a"].astype(str))
    j = index.get_indexer(pairs["id_b"].astype(str))
    if (i < 0).any() or (j < 0).any():
        raise ValueError("regroup: a pair names an id that is not in ids")
    extra = {c: pairs[c].to_numpy() for c in pairs.columns if c not in ("id_a", "id_b")}
    return build_result(ids, i.astype(np.int64), j.astype(np.int64), np.zeros(len(i), np.float32),
                        quality=quality, extra=extra, keep_rule=keep_rule)
