"""Proxy evaluation: do clusters stand in for a real attribute (sex, age group, camera, site)?

NMI, ARI, AMI and purity per attribute and level, and a plain-words verdict from documented thresholds
(:data:`VERDICTS`) on the chance-adjusted mutual information (AMI): plain NMI grows with the number of
clusters even for unrelated labels, AMI does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from curate.engine.cluster.result import table_of
from curate.errors import InputError
from curate.validation import ParameterError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

# AMI thresholds for the verdict (lower bound, word). AMI is 0 for unrelated labels whatever k is, and 1
# when clusters reproduce the attribute; >= 0.5 means a cluster label alone tells the value most of the time.
VERDICTS: tuple[tuple[float, str], ...] = ((0.5, "strongly"), (0.2, "moderately"), (0.05, "weakly"),
                                           (-float("inf"), "not"))  # AMI can be slightly negative


def purity(clusters: Sequence[Any], truth: Sequence[Any]) -> float:
    """Share of items whose cluster's most common true value is their own: (1/N) sum_k max_j |c_k ∩ t_j|."""
    import pandas as pd

    if len(clusters) == 0:
        raise InputError("purity of an empty labelling")
    tab = pd.crosstab(np.asarray(clusters), np.asarray(truth))
    return float(tab.max(axis=1).sum() / tab.to_numpy().sum())


def verdict_word(ami: float) -> str:
    """The :data:`VERDICTS` word for a chance-adjusted mutual information value."""
    return next(word for lo, word in VERDICTS if ami >= lo)


def _prepared_attr(values: pd.Series) -> tuple[pd.Series, str | None]:
    """Categorical values; numeric columns with many values are cut into 5 quantile bins (noted)."""
    import pandas as pd

    v = values.dropna()
    if pd.api.types.is_numeric_dtype(v) and v.nunique() > 20:
        return pd.qcut(v, 5, duplicates="drop").astype(str), "numeric: cut into quantile bins"
    return v.astype(str), None


def _join_meta(table: pd.DataFrame, meta: pd.DataFrame, id_col: str) -> pd.DataFrame:
    if id_col not in meta.columns:
        raise InputError(f"id column '{id_col}' not in the metadata "
                         f"(columns: {', '.join(map(str, meta.columns))})")
    m = meta.assign(**{id_col: meta[id_col].astype(str)})
    if m[id_col].duplicated().any():
        raise InputError(f"metadata column '{id_col}' has {int(m[id_col].duplicated().sum())} duplicate ids")
    missing = ~table["id"].astype(str).isin(m[id_col])
    if missing.all():
        raise InputError(f"no embedding id is in the metadata column '{id_col}' (wrong --id-col?)")
    if missing.any():
        raise InputError(f"{int(missing.sum())} of {len(table)} embedding ids are not in the metadata "
                         f"column '{id_col}'")
    return table.merge(m, left_on="id", right_on=id_col, how="left", suffixes=("", "_meta"))


def check_attrs(meta: pd.DataFrame, attrs: Sequence[str], *, patient_col: str | None = None) -> list[str]:
    """``--attr`` columns: present, and not identifier-like (their values go into reports; the policy)."""
    from curate.policy.roles import check_columns, resolve_columns

    attrs = resolve_columns(meta, attrs)
    if not attrs:
        raise ParameterError("attrs", "needs at least one column name")
    missing = [a for a in attrs if a not in meta.columns]
    if missing:
        raise InputError(f"attribute column(s) {', '.join(missing)} not in the metadata "
                         f"(columns: {', '.join(map(str, meta.columns))})")
    return check_columns(meta, attrs, option="--attr", patient_col=patient_col)


def evaluate(clusters: Any, meta: pd.DataFrame, attrs: Sequence[str], *,
             meta_id_col: str = "id") -> dict[str, Any]:
    """How well do clusters act as proxies for real attributes? NMI, ARI, AMI, purity per attribute and level.

    ``nmi``/``ari``/``ami`` are scikit-learn's ``normalized_mutual_info_score`` / ``adjusted_rand_score`` /
    ``adjusted_mutual_info_score`` on rows where the attribute is known; ``baseline_purity`` is the purity
    of putting everything in one cluster (the majority share), so purity is read against it. The verdict
    uses the level with the highest AMI and the thresholds in :data:`VERDICTS` on AMI (>= 0.5 strongly,
    >= 0.2 moderately, >= 0.05 weakly, else not). ``distribution`` is the cluster x value count table at
    that level, small cells shown as ``<11`` and their complements as ``*`` (the exit gate's
    :func:`curate.output.protect_crosstab`).
    """
    from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score, normalized_mutual_info_score

    from curate.output import protect_crosstab

    table = table_of(clusters)
    cols = sorted((c for c in table.columns if str(c).startswith("cluster_l")), key=lambda c: int(str(c)[9:]))
    if not cols:
        raise InputError("no cluster_l1.. columns in the clusters table")
    attrs = check_attrs(meta, attrs)
    joined = _join_meta(table, meta, meta_id_col)
    report: dict[str, Any] = {"n": len(joined), "verdict_on": "ami",
                              "thresholds": {w: lo for lo, w in VERDICTS if lo > -1}, "attributes": {}}
    import pandas as pd

    for attr in attrs:
        values, note = _prepared_attr(joined[attr])
        rows = joined.loc[values.index]
        if values.nunique() < 2:
            report["attributes"][attr] = {"n": len(values), "verdict": f"{attr} has fewer than two values: "
                                          "nothing to evaluate", "strength": "n/a", "levels": {}}
            continue
        per_level = {}
        for col in cols:
            lab = rows[col].to_numpy()
            per_level[col] = {
                "k": int(rows[col].nunique()),
                "nmi": round(float(normalized_mutual_info_score(values, lab)), 4),
                "ari": round(float(adjusted_rand_score(values, lab)), 4),
                "ami": round(float(adjusted_mutual_info_score(values, lab)), 4),
                "purity": round(purity(lab, values.to_numpy()), 4),
            }
        best = max(per_level, key=lambda c: per_level[c]["ami"])
        m = per_level[best]
        base = float(values.value_counts(normalize=True).iloc[0])
        word = verdict_word(m["ami"])
        level_txt = f"level {best[9:]}, k={m['k']}"
        if word == "not":
            text = (f"clusters do not capture {attr} (AMI {m['ami']:.2f}, NMI {m['nmi']:.2f}; {level_txt}): "
                    f"do not use them as a proxy for {attr}")
        else:
            text = (f"clusters capture {attr} {word} (AMI {m['ami']:.2f}, NMI {m['nmi']:.2f}, "
                    f"ARI {m['ari']:.2f}, purity {m['purity']:.2f} vs {base:.2f} from the majority value "
                    f"alone; {level_txt})")
        dist = pd.crosstab(rows[best], values).sort_index()
        shown = protect_crosstab(dist)
        report["attributes"][attr] = {
            "n": int(len(values)), "n_missing": int(len(joined) - len(values)),
            "n_values": int(values.nunique()),
            "note": note, "levels": per_level, "best_level": best, "baseline_purity": round(base, 4),
            "strength": word, "verdict": text,
            "distribution": {str(c): {str(v): (x if isinstance(x, str) else int(x)) for v, x in r.items()}
                             for c, r in shown.iterrows()},
        }
    return report
