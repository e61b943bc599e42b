"""Balanced sampling by an attribute or by embedding clusters, with patient-level splits.

Balancing follows the two seed recipes: equal numbers per group, or a cap per group as in germani2025
(§2 "Sample selection": 1,000 patients per density class, then a patient-level split). With a patient
column every count is a count of PATIENTS: a patient belongs to the group of most of its images (ties:
the first value in sorted order), and choosing a patient takes all of its images, so no patient is ever
split across groups or splits. With ``balance_by="cluster"`` and several cluster levels the budget inside
each top-level cluster is spread over its sub-clusters recursively (Vo et al. 2024 hierarchical sampling,
:func:`curate.engine.cluster.hierarchical_select`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from curate.errors import InputError, UsageError
from curate.validation import ParameterError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

GROUP = "_curate_group"


def read_keep(keep: str | os.PathLike | Iterable[Any]) -> set[str]:
    """Ids from a keep-list (``curate dedup``'s keep.txt: one id per line; ``#`` comments) or an iterable."""
    if isinstance(keep, (str, os.PathLike)):
        try:
            lines = open(keep, encoding="utf-8").read().splitlines()  # noqa: SIM115 - small text file
        except OSError as exc:
            raise InputError(f"cannot read keep-list '{keep}': {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise InputError(f"keep-list '{keep}' is not a UTF-8 text file of ids (one per line, as "
                             "`curate dedup` writes keep.txt)") from None
        if any("\x00" in s for s in lines):
            raise InputError(f"keep-list '{keep}' is not a text file of ids (it holds NUL bytes)")
        return {s.strip() for s in lines if s.strip() and not s.lstrip().startswith("#")}
    return {str(v) for v in keep}


def _load_meta(meta: Any) -> pd.DataFrame:
    import pandas as pd

    from curate.tables import read_table

    df = meta.copy() if isinstance(meta, pd.DataFrame) else read_table(meta)
    if len(df) == 0:
        raise InputError("the metadata table is empty")
    return df


def _load_clusters(clusters: Any, emb: Any, k: Any, levels: int, seed: int) -> pd.DataFrame:
    import pandas as pd

    from curate.engine.cluster import ClusterResult, cluster

    if clusters is None:
        if emb is None:
            raise UsageError("--balance-by cluster needs --clusters FILE (from `curate cluster`) "
                             "or --emb EMB")
        if k is None:
            raise UsageError("clustering on the fly (--emb) needs --k")
        return cluster(emb, k=k, levels=levels, seed=seed).table
    if isinstance(clusters, ClusterResult):
        return clusters.table
    if isinstance(clusters, pd.DataFrame):
        return clusters
    try:
        return pd.read_parquet(clusters)
    except Exception as exc:
        raise InputError(f"cannot read clusters file '{clusters}': {exc}") from None


def check_cluster_options(balance_by: str, clusters: Any = None, emb: Any = None, k: Any = None,
                          levels: int | None = None) -> None:
    """Refuse cluster options that would be silently ignored (before any file is read).

    ``clusters``/``emb``/``k``/``levels`` only mean something with ``balance_by="cluster"``; with a ready
    ``clusters`` table, ``emb``/``k``/``levels`` (which cluster now) would be ignored as well.
    """
    given = [opt for opt, v in (("--clusters", clusters), ("--emb", emb), ("--k", k), ("--levels", levels))
             if v is not None]
    if balance_by != "cluster":
        if given:
            verb = "is" if len(given) == 1 else "are"
            raise UsageError(f"{'/'.join(given)} {verb} only used with --balance-by cluster "
                             f"(got --balance-by {balance_by})")
    elif clusters is not None and len(given) > 1:
        raise UsageError(f"--clusters FILE is already clustered: drop {'/'.join(given[1:])} "
                         "(they cluster --emb now)")
    if k is not None:  # bad or out-of-range k / levels fail before META is read
        from curate.engine.cluster import level_sizes

        level_sizes(k, levels or 1)


def _majority(values: pd.Series, units: pd.Series) -> pd.Series:
    """Per unit, its most frequent value (ties: first in sorted order)."""
    return values.groupby(units).agg(lambda s: s.value_counts().sort_index().idxmax())


def sample_with_report(
    meta: Any,
    *,
    balance_by: str,
    n: int | None = None,
    clusters: Any = None,
    emb: Any = None,
    k: Any = None,
    levels: int | None = None,
    patient_col: str | None = None,
    splits: str | Sequence[float] | None = None,
    cap_per_group: int | None = None,
    keep: Any = None,
    seed: int = 0,
    id_col: str = "id",
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """:func:`sample` plus a JSON-able report of group counts before and after (unsuppressed)."""
    import pandas as pd

    df, balance_by, fractions, report = _checked_inputs(meta, balance_by=balance_by, n=n, clusters=clusters,
                                                        emb=emb, k=k, levels=levels, patient_col=patient_col,
                                                        splits=splits, cap_per_group=cap_per_group,
                                                        keep=keep, seed=seed, id_col=id_col)
    df, group_col, level_cols = _with_groups(df, balance_by, clusters, emb, k, levels, seed, id_col, report)
    units = df[patient_col].astype(str) if patient_col else pd.Series(df.index, index=df.index).astype(str)
    unit_group, unit_levels = _unit_groups(df, units, level_cols, patient_col)
    groups = sorted(unit_group.unique(), key=_natural)
    sizes = np.array([(unit_group == g).sum() for g in groups])
    counts = _group_counts(groups, sizes, n, cap_per_group, seed, report)
    picked = _pick(unit_group, unit_levels, groups, counts, seed)
    out = df[units.isin(picked).to_numpy()].copy()
    names = _assign_splits(out, fractions, patient_col, seed, group_col, report)

    def per_group(frame: pd.DataFrame) -> dict[str, int]:
        u = frame[patient_col].astype(str) if patient_col else pd.Series(frame.index, index=frame.index)
        grp = unit_group.loc[u.astype(str).to_numpy()].to_numpy() if len(frame) else np.array([])
        return {g: int(len(set(u[grp == g]))) for g in groups}

    report["groups"] = groups
    report["before"] = dict(zip(groups, map(int, sizes)))
    report["after"] = per_group(out)
    report["splits"] = {s: per_group(out[out["split"] == s]) for s in names}
    report["n_rows"] = int(len(out))
    report["n_units"] = int(len(picked))
    return out.drop(columns=[GROUP]), report


def _checked_inputs(meta: Any, *, balance_by: str, n, clusters, emb, k, levels, patient_col, splits,
                    cap_per_group, keep, seed: int,
                    id_col: str) -> tuple[pd.DataFrame, str, Any, dict[str, Any]]:
    """Every check before sampling; the table (keep-list applied), the balance column, split fractions and
    the report so far."""
    from curate.engine.splits import parse_fractions

    check_cluster_options(balance_by, clusters, emb, k, levels)
    df = _load_meta(meta)
    if n is not None and n < 1:
        raise ParameterError("n", f"must be at least 1 (got {n})")
    if cap_per_group is not None and cap_per_group < 1:
        raise ParameterError("cap_per_group", f"must be at least 1 (got {cap_per_group})")
    fractions = parse_fractions(splits) if splits is not None else None
    if balance_by != "cluster":  # roles accepted: --balance-by sex → the sex column
        from curate.policy.roles import resolve_columns

        balance_by = resolve_columns(df, [balance_by])[0]
    needed = [c for c in (patient_col, None if balance_by == "cluster" else balance_by) if c]
    if keep is not None or balance_by == "cluster":
        needed.append(id_col)
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise InputError(f"column(s) {', '.join(missing)} not in the metadata "
                         f"(columns: {', '.join(map(str, df.columns))})")
    if patient_col and df[patient_col].isna().any():
        raise InputError(f"column '{patient_col}' has {int(df[patient_col].isna().sum())} missing values")
    if id_col in df.columns and df[id_col].astype(str).duplicated().any():  # no id printed (identifiers)
        raise InputError(f"the metadata repeats image ids (column '{id_col}'): each image must be one row; "
                         "drop the duplicated rows first")
    if balance_by != "cluster":  # group values are printed and reported: identifier-like columns refused
        from curate.policy.roles import check_columns

        check_columns(df, [balance_by], option="--balance-by", patient_col=patient_col)
    report: dict[str, Any] = {"unit": "patients" if patient_col else "images", "balance_by": balance_by,
                              "seed": seed, "notes": []}
    if keep is not None:
        ids = read_keep(keep)
        mask = df[id_col].astype(str).isin(ids)
        if not mask.any():
            raise InputError(f"no metadata id (column '{id_col}') is in the keep-list")
        report["removed_by_keep"] = int((~mask).sum())
        df = df[mask]
    return df, balance_by, fractions, report


def _with_groups(df: pd.DataFrame, balance_by: str, clusters, emb, k, levels, seed: int, id_col: str,
                 report: dict[str, Any]) -> tuple[pd.DataFrame, str, list[str]]:
    """The rows with their group (a column, or the clusters' finest level); rows without one left out."""
    level_cols: list[str] = []
    if balance_by == "cluster":
        tab = _load_clusters(clusters, emb, k, 1 if levels is None else levels, seed)
        level_cols = sorted((c for c in tab.columns if str(c).startswith("cluster_l")),
                            key=lambda c: int(c[9:]))
        if "id" not in tab.columns or not level_cols:
            raise InputError("the clusters table needs columns id, cluster_l1.. (from `curate cluster`)")
        tab = tab[["id", *level_cols]].assign(id=tab["id"].astype(str)).set_index("id")
        ids = df[id_col].astype(str)
        absent = ~ids.isin(tab.index)
        if absent.all():
            raise InputError(f"no metadata id (column '{id_col}') is in the clusters file")
        if absent.any():
            raise InputError(f"{int(absent.sum())} of {len(df)} metadata rows have no cluster "
                             f"(ids in column '{id_col}' missing from the clusters file)")
        df = df.drop(columns=[c for c in level_cols if c in df.columns])
        df = df.join(tab.loc[ids.to_numpy()].set_axis(df.index), how="left")
        group_col = level_cols[-1]
    else:
        group_col = balance_by
    na = df[group_col].isna()
    if na.any():
        report["left_out"] = int(na.sum())  # rows without a group value (a raw count: printed via the gate)
        df = df[~na]
    if len(df) == 0:
        raise InputError("no rows left to sample from")
    df = df.assign(**{GROUP: df[group_col].astype(str)})
    report["group_column"] = group_col
    return df, group_col, level_cols


def _unit_groups(df: pd.DataFrame, units: pd.Series, level_cols: list[str], patient_col: str | None):
    """Each unit's (patient's or image's) group, and its path through the cluster levels (or None)."""
    import pandas as pd

    if level_cols:  # a unit's path through the hierarchy comes from its majority level-1 cluster
        fine = _majority(df[level_cols[0]], units)
        parent = df.drop_duplicates(level_cols[0]).set_index(level_cols[0], drop=False)[level_cols]
        unit_levels = parent.loc[fine.to_numpy()].to_numpy()
        unit_group = pd.Series(unit_levels[:, -1].astype(str), index=fine.index)
    else:
        unit_group = _majority(df[GROUP], units) if patient_col else df[GROUP].set_axis(units.to_numpy())
        unit_levels = None
    return unit_group, unit_levels


def _group_counts(groups: list[str], sizes: np.ndarray, n: int | None, cap_per_group: int | None, seed: int,
                  report: dict[str, Any]) -> np.ndarray:
    """Units to draw per group: equal (the smallest group), capped, or ``n`` allocated as evenly as fits."""
    from curate.engine.cluster import allocate

    capacity = np.minimum(sizes, cap_per_group) if cap_per_group else sizes
    if n is None:
        return capacity if cap_per_group else np.full(len(groups), sizes.min())
    if n > capacity.sum():
        what = f" with at most {cap_per_group} per group" if cap_per_group else ""
        raise InputError(f"--n {n} is larger than the {int(capacity.sum())} {report['unit']} "
                         f"available{what}")
    counts = allocate(capacity, n, seed)
    even = n // len(groups)
    short = [g for g, c, s in zip(groups, counts, capacity) if c < even and c == s]
    if short:
        report["notes"].append(f"{len(short)} group(s) had fewer than {even} {report['unit']}: "
                               "all taken, the rest spread over the other groups")
    return counts


def _pick(unit_group: pd.Series, unit_levels: np.ndarray | None, groups: list[str], counts: np.ndarray,
          seed: int) -> set[str]:
    """The units drawn: per group at random, or spread over the cluster hierarchy (Vo et al. 2024)."""
    from curate.engine.cluster import hierarchical_select

    unit_names = unit_group.index.to_numpy()
    rng = np.random.default_rng(seed)
    chosen: list[np.ndarray] = []
    for g, c in zip(groups, counts):
        members = np.flatnonzero(unit_group.to_numpy() == g)
        if c == 0:
            continue
        if unit_levels is not None and unit_levels.shape[1] > 1:
            sub = hierarchical_select(unit_levels[members, :-1], int(c), int(rng.integers(2**31)))
            chosen.append(members[sub])
        else:
            chosen.append(rng.choice(members, size=int(c), replace=False))
    picked = set(unit_names[np.concatenate(chosen)]) if chosen else set()
    return picked


def _assign_splits(out: pd.DataFrame, fractions: Any, patient_col: str | None, seed: int, group_col: str,
                   report: dict[str, Any]) -> tuple[str, ...]:
    """A patient-level ``split`` column stratified by group (``all`` without fractions); the split names."""
    from curate.engine.splits import SplitWarning, patient_splits

    names: tuple[str, ...] = ("all",)
    if fractions is not None and len(fractions) > 1:
        names = ("train", "validation", "test") if len(fractions) == 3 else (
            ("train", "test") if len(fractions) == 2 else tuple(f"split{i}" for i in range(len(fractions))))
        import warnings

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", SplitWarning)
            out["split"] = patient_splits(out, patient_col=patient_col, fractions=fractions, names=names,
                                          seed=seed, stratify=GROUP)
        for w in caught:  # a stratum too small for every split: said in the report, not a stray warning
            if issubclass(w.category, SplitWarning):
                report["notes"].append(str(w.message).replace(f"'{GROUP}'", f"'{group_col}'"))
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    else:
        out["split"] = "all"
    return names


def sample(meta: Any, *, balance_by: str, n: int | None = None, clusters: Any = None, emb: Any = None,
           k: Any = None, levels: int | None = None, patient_col: str | None = None,
           splits: str | Sequence[float] | None = None, cap_per_group: int | None = None, keep: Any = None,
           seed: int = 0, id_col: str = "id") -> pd.DataFrame:
    """A balanced sample of ``meta`` with a ``split`` column.

    ``balance_by``: a column, or ``"cluster"`` (``clusters`` = a ``curate cluster`` table / file, or
    ``emb`` + ``k`` to cluster now). Without ``n`` every group is cut to the smallest group's size (or to
    ``cap_per_group``); with ``n`` the total is spread as evenly as the groups allow (max-min fair), never
    above ``cap_per_group``. With ``patient_col`` counts are patients and a patient's images stay together;
    ``splits`` (``"0.8,0.1,0.1"``) assigns patient-level train/validation/test splits stratified by group
    (without it ``split`` is ``all``). ``keep``: a keep-list from ``curate dedup`` applied first.

    >>> import pandas as pd
    >>> m = pd.DataFrame({"id": range(30), "sex": ["F"] * 20 + ["M"] * 10})
    >>> sample(m, balance_by="sex")["sex"].value_counts().tolist()
    [10, 10]
    """
    return sample_with_report(meta, balance_by=balance_by, n=n, clusters=clusters, emb=emb, k=k,
                              levels=levels, patient_col=patient_col, splits=splits,
                              cap_per_group=cap_per_group, keep=keep, seed=seed, id_col=id_col)[0]


def _natural(v: str) -> tuple[int, float | str]:
    """Sort numeric-looking group names numerically (cluster 2 before cluster 10)."""
    try:
        return (0, float(v))
    except ValueError:
        return (1, v)


def report_table(report: dict[str, Any]) -> pd.DataFrame:
    """Group x (before, after, per split) counts for display: small cells ``<11``, complements ``*``."""
    import pandas as pd

    from curate.output import count_grid

    cols = {"before": report["before"], "after": report["after"]}
    splits = list(report["splits"]) if list(report["splits"]) != ["all"] else []
    cols.update({s: report["splits"][s] for s in splits})
    counts = pd.DataFrame(cols).reindex(report["groups"]).fillna(0).astype(int)
    return count_grid(counts, parts={"after": splits} if splits else None, at_most={"after": "before"},
                      totals={"after": report["n_units"]})
