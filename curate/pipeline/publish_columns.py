"""The published columns of ``publish``: each metadata column's ``datasets`` feature and encoded values.

:func:`encode_columns` turns the checked metadata (roles, pseudonyms, splits, allow-list) into the
features, encoded columns and card table of :class:`curate.pipeline.publish.PublishPlan`;
:func:`feature_for` chooses one column's feature.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from curate.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from curate.pipeline.publish_metadata import Roles

PATIENT_COLUMN = "patient"
IMAGE_COLUMN = "image"

#: More distinct values than this and a text column stays free text instead of a ClassLabel.
MAX_CLASSES = 50


def feature_for(s: pd.Series, *, label: bool) -> tuple[Any, list[Any], str]:
    """A ``datasets`` feature, the encoded values and a short description for one column.

    Labels and short-vocabulary text become ``ClassLabel`` (missing = -1, the hub's "no label"),
    numbers ``Value(int64/float64)``, long free text ``Value(string)``.
    """
    import datasets
    import numpy as np
    import pandas as pd

    if s.dtype == bool:
        return datasets.Value("bool"), s.tolist(), "Value(bool)"
    num = pd.to_numeric(s, errors="coerce")
    numeric = bool(s.notna().any()) and bool((num.notna() == s.notna()).all())
    text = s.where(s.isna(), s.astype(str).str.strip())
    uniq = text.dropna().unique().tolist()
    if label or (not numeric and len(uniq) <= MAX_CLASSES):
        uniq = sorted(uniq, key=float) if numeric else sorted(uniq)
        index = {v: i for i, v in enumerate(uniq)}
        return (datasets.ClassLabel(names=[str(u) for u in uniq]),
                [-1 if pd.isna(v) else index[v] for v in text], f"ClassLabel({len(uniq)} classes)")
    if numeric:
        vals = num.astype(float)
        if vals.notna().all() and bool(np.all(np.mod(vals, 1) == 0)):
            return datasets.Value("int64"), vals.astype("int64").tolist(), "Value(int64)"
        return datasets.Value("float64"), [None if pd.isna(v) else float(v) for v in vals], "Value(float64)"
    return datasets.Value("string"), [None if pd.isna(v) else str(v) for v in text], "Value(string)"


@dataclass
class Encoded:
    """The published columns: features, encoded values, the card's table and each column's gate role."""

    features: dict[str, Any]
    columns: dict[str, list[Any]] = field(default_factory=dict)
    card: Any = None  # pd.DataFrame: the published types, for the hub card
    roles: dict[str, str] = field(default_factory=dict)


def _is_label(col: str, roles: Roles) -> bool:
    return col in roles.labels or col.lower() in ("label", "labels")


def encode_patients(enc: Encoded, result: Any, *, pseudo: pd.Series, split: pd.Series,
                    split_names: list[str], patient_col: str) -> None:
    """The ``patient`` pseudonym column, and the patient counts per split (raw: shown through the gate)."""
    import datasets
    import pandas as pd

    from curate.engine.splits import patients_in_several_splits
    from curate.output import protect_count
    from curate.output.counts import shown
    from curate.policy.pseudonyms import METHOD

    result.pseudonym_method = METHOD
    enc.features[PATIENT_COLUMN] = datasets.Value("string")
    enc.columns[PATIENT_COLUMN] = pseudo.tolist()
    enc.card[PATIENT_COLUMN] = pseudo
    result.pseudonymised = patient_col
    result.features[PATIENT_COLUMN] = "Value(string) — pseudonym"
    result.patients_across_splits = patients_in_several_splits(
        pd.DataFrame({"p": pseudo, "s": split}), split_col="s", patient_col="p")
    if result.patients_across_splits:
        result.warnings.append(f"{shown(protect_count(result.patients_across_splits))} patient(s) have "
                               "images in more than one "
                               "split (the metadata's split column is kept as given)")
    per_split = pd.Series({n: int(pseudo[split == n].nunique()) for n in split_names})
    result.patients = {n: int(v) for n, v in per_split.items()}  # raw; protected by shown_splits


def encode_one(enc: Encoded, result: Any, df: pd.DataFrame, col: str, *, roles: Roles,
               ages: pd.Series | None) -> None:
    """One published metadata column: a top-coded age, the synthetic marker, or :func:`feature_for`."""
    import datasets
    import numpy as np
    import pandas as pd

    from curate.policy.disclosure import top_code_ages
    from curate.synthetic import COLUMN as SYNTHETIC_COLUMN

    if col in enc.features:
        raise InputError(f"metadata column '{col}' clashes with the published '{col}' column; rename it")
    if col == roles.age:
        coded = top_code_ages(ages)
        integral = coded.notna().all() and bool(np.all(np.mod(coded, 1) == 0))
        enc.features[col] = datasets.Value("int64" if integral else "float64")
        enc.columns[col] = coded.astype("int64").tolist() if integral else \
            [None if pd.isna(v) else float(v) for v in coded]
        result.features[col] = f"Value({'int64' if integral else 'float64'}) — age, top-coded at 90"
        enc.card[col] = coded
        return
    if col == SYNTHETIC_COLUMN:  # the marker stays true/false (a one-class ClassLabel would store 0)
        flags = [str(v).strip().lower() in ("true", "1", "yes", "1.0") for v in df[col]]
        enc.features[col], enc.columns[col] = datasets.Value("bool"), flags
        result.features[col] = "Value(bool) — synthetic-data marker (curate demo)"
        enc.card[col] = flags
        return
    spec = feature_for(df[col], label=_is_label(col, roles))
    enc.features[col], enc.columns[col], result.features[col] = spec
    # the metadata is read as text (ids keep leading zeros); the card table carries the published types,
    # so the hub card's column types agree with the features and Croissant (int64 → integer, not text)
    feat = enc.features[col]
    numeric = isinstance(feat, datasets.Value) and feat.dtype in ("int64", "float64")
    enc.card[col] = pd.to_numeric(df[col]) if numeric else df[col]


def encode_columns(result: Any, df: pd.DataFrame, *, roles: Roles, allowed: Any, pseudo: pd.Series | None,
                   split: pd.Series, split_names: list[str], ages: pd.Series | None) -> Encoded:
    """Every published column of the plan; ``result`` (the ``PublishResult``) records what was dropped,
    kept and how each column is typed. ``allowed`` is the policy's allow-list decision."""
    import datasets
    import pandas as pd

    enc = Encoded(features={IMAGE_COLUMN: datasets.Image()}, card=pd.DataFrame(index=df.index))
    if roles.patient:
        encode_patients(enc, result, pseudo=pseudo, split=split, split_names=split_names,
                        patient_col=roles.patient)
    result.warnings.extend(allowed.warnings)
    result.kept_columns = allowed.kept
    for col in df.columns:
        if col in (roles.patient, roles.split):
            continue
        if col not in allowed.published:
            result.dropped_columns.append(col)
            if allowed.withheld.get(col, "").startswith(("looks like", "image")):
                result.identifier_columns.append(col)
            continue
        encode_one(enc, result, df, col, roles=roles, ages=ages)
    enc.card["split"] = split.to_numpy()
    for name in split_names:
        result.splits[name] = int((split == name).sum())
    enc.roles = {c: ("pseudonym" if c == PATIENT_COLUMN else "value" if c == roles.age else
                     "kept" if c in allowed.kept else "label" if _is_label(c, roles) else "group")
                 for c in enc.columns}
    return enc


def card_columns(roles: Roles, card: pd.DataFrame) -> dict[str, Any]:
    """Role → column of the published table, in ``build_card``'s vocabulary."""
    cols: dict[str, Any] = {k: v for k, v in roles.as_card_columns().items()
                            if v in card.columns and k != "split"}
    if roles.patient:
        cols["patient"] = PATIENT_COLUMN
    cols["split"] = "split"
    if roles.labels:
        cols["label"] = list(roles.labels)
    return cols
