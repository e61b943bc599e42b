"""Metadata roles: the one vocabulary, role inference, the identifier policy and the column allow-list.

Every command that reads a per-image metadata table (``build-card --meta``, ``publish``, ``audit
--groups``, ``cluster --attr``, ``sample --balance-by``, ``probe``) maps its columns to roles here:

- ``patient`` and ``image`` are *identifier roles*: their values never leave the machine (the patient
  column is published only as a keyed pseudonym, :mod:`curate.policy.pseudonyms`);
- ``age``, ``sex``, ``race``, ``ethnicity``, ``nationality``, ``device``, ``site``, ``split`` and ``label``
  are *attribute roles*: their values may be tabulated or published, so a column that looks like an
  identifier (:mod:`curate.policy.identifiers`) is refused for them with one error line naming the option
  and the column (never a value);
- what ``publish`` writes is an **allow-list** (:func:`allow_list`): the columns that have a role, plus
  those the user keeps explicitly with ``--keep-column`` (which may publish identifying data); everything
  else is withheld and listed by name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from curate.errors import InputError, UsageError
from curate.policy.identifiers import identifier_reason, norm_name

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

ROLES: tuple[str, ...] = (
    "patient", "image", "age", "sex", "race", "ethnicity", "nationality", "device", "site", "split", "label",
)
#: Roles whose values are never shown or published as they are.
IDENTIFIER_ROLES: tuple[str, ...] = ("patient", "image")
#: Attributes that labels are cross-tabulated by (fairness-relevant groups).
SENSITIVE: tuple[str, ...] = ("sex", "age", "race", "ethnicity", "nationality")
#: Roles that describe a group of people or images (what probe keeps in its predictions for the audit).
GROUP_ROLES: tuple[str, ...] = ("age", "sex", "race", "ethnicity", "nationality", "device", "site")

ROLE_ALIASES: dict[str, str] = {"labels": "label", "gender": "sex", "camera": "device", "scanner": "device",
                                "subject": "patient", "country": "nationality", "hospital": "site"}

#: Common (normalised) column names per role, tried when the role is not set explicitly.
NAMES: dict[str, tuple[str, ...]] = {
    "patient": ("patient", "patient_id", "patientid", "subject", "subject_id", "pid", "participant_id",
                "participant", "case_id", "person_id", "patient_key"),
    "image": ("image", "image_id", "imageid", "image_name", "image_index", "filename", "file_name", "file",
              "path", "image_path", "dicom_id", "img_id", "img", "file_path"),
    "age": ("age", "patient_age", "age_years", "age_at_exam", "anchor_age", "age_at_visit"),
    "sex": ("sex", "gender", "patient_sex", "patient_gender"),
    "race": ("race", "patient_race"),
    "ethnicity": ("ethnicity", "patient_ethnicity"),
    "nationality": ("nationality", "country", "patient_nationality"),
    "device": ("device", "camera", "scanner", "manufacturer", "device_model", "equipment", "machine"),
    "site": ("site", "hospital", "center", "centre", "institution", "clinic"),
    "split": ("split", "fold", "partition", "subset"),
}
_LABEL_RE = re.compile(r"(^|_)(label|labels|diagnosis|dx|finding|findings|target|class|grade)(_|$)")
POSITIVE = frozenset({"1", "true", "yes", "y", "positive", "pos"})
NEGATIVE = frozenset({"0", "false", "no", "n", "negative", "neg"})
#: Columns describing the image, not the person (the image properties `curate scan` writes); never taken for
#: labels by role inference.
TECHNICAL_COLUMNS = frozenset({
    "format", "age_source", "modality", "body_part", "rows", "columns", "frames", "slices",
    "pixel_spacing_row", "pixel_spacing_col", "slice_thickness", "bits_stored", "photometric",
    "transfer_syntax", "shape", "voxel_size", "orientation", "datatype", "series_key", "study_key",
})


# ------------------------------------------------------------------------------------------- specs
def parse_column_specs(specs: Mapping[str, Any] | Iterable[str] | None, *,
                       option: str = "--column") -> dict[str, list[str]]:
    """``["age=patient_age", "label=DR,edema"]`` or ``{"label": ["DR"]}`` → ``{role: [columns]}``.

    Role aliases (``gender`` → ``sex`` …) are resolved; only ``label`` may be given more than once (and
    takes comma-separated columns). Raises :class:`UsageError` naming ``option``.
    """
    pairs: list[tuple[str, str]] = []
    if specs is None:
        return {}
    if isinstance(specs, Mapping):
        for role, cols in specs.items():
            for col in [cols] if isinstance(cols, str) else list(cols):
                pairs.append((str(role), str(col)))
    else:
        for spec in specs:
            role, sep, col = str(spec).partition("=")
            if not sep or not role.strip() or not col.strip():
                raise UsageError(f"{option} '{spec}': expected ROLE=COLUMN, e.g. age=patient_age "
                                 f"(roles: {', '.join(ROLES)})")
            pairs.append((role, col))
    out: dict[str, list[str]] = {}
    for role, col in pairs:
        r = role.strip().lower()
        r = ROLE_ALIASES.get(r, r)
        if r not in ROLES:
            raise UsageError(f"{option} '{role}={col}': unknown column role '{role.strip()}' "
                             f"(roles: {', '.join(ROLES)})")
        cols = [c.strip() for c in col.split(",")] if r == "label" else [col.strip()]
        for c in cols:
            if not c:
                continue
            if r != "label" and r in out and c not in out[r]:
                raise UsageError(f"{option}: role '{r}' given more than once ({out[r][0]}, {c})")
            out.setdefault(r, [])
            if c not in out[r]:
                out[r].append(c)
    return out


# ------------------------------------------------------------------------------------------- policy
def column_reason(df: pd.DataFrame, col: str, *, role: str | None = None,
                  patient_col: str | None = None) -> str | None:
    """Why ``df[col]`` looks like an identifier (None when it does not), for use in role ``role``."""
    patients = df[patient_col] if patient_col and patient_col in df.columns and patient_col != col else None
    return identifier_reason(col, df[col], patients=patients, numeric_ok=role == "age")


def refuse_identifier(df: pd.DataFrame, col: str, *, option: str, role: str | None = None,
                      patient_col: str | None = None) -> None:
    """One-line :class:`InputError` when ``col`` looks like an identifier (names the option, not values)."""
    why = column_reason(df, col, role=role, patient_col=patient_col)
    if why:
        what = f"as {role}" if role and option.endswith("=") else "here"
        head = f"{option}{col}" if option.endswith("=") else f"{option} {col}"
        raise InputError(f"{head}: column '{col}' looks like an identifier ({why}); it cannot be "
                         f"used {what}, since its values would be written out")


def resolve_columns(df: pd.DataFrame, cols: Sequence[str],
                    roles: Mapping[str, list[str]] | None = None) -> list[str]:
    """Names given where columns are expected, with roles accepted: ``sex`` → the column holding the sex
    role (``patient_sex``), by the same inference as every card (or the caller's ``roles``, e.g. a card's
    explicit ``--column`` roles). A real column of that name wins; identifier roles are never resolved."""
    out = [str(c).strip() for c in cols if str(c).strip()]
    if all(c in df.columns for c in out):
        return out
    roles = infer_roles(df) if roles is None else roles
    resolved = []
    for c in out:
        role = ROLE_ALIASES.get(c.lower(), c.lower())
        if c not in df.columns and role in roles and role not in IDENTIFIER_ROLES and role != "label":
            c = roles[role][0]
        resolved.append(c)
    return resolved


def check_columns(df: pd.DataFrame, cols: Sequence[str], *, option: str,
                  patient_col: str | None = None) -> list[str]:
    """Columns given to ``option`` (``--groups``, ``--attr``, ``--balance-by`` …): roles are accepted
    (``--attr sex``), each must exist and not look like an identifier. Returns the column names."""
    out = resolve_columns(df, cols)
    for c in out:
        if c not in df.columns:
            shown = ", ".join(map(str, list(df.columns)[:20]))
            raise InputError(f"{option} {c}: column '{c}' not found (columns: {shown})")
        if c == patient_col:
            raise InputError(f"{option} {c}: '{c}' is the patient column; it cannot be used here")
        role = "age" if norm_name(c) in NAMES["age"] else None  # ages may be unique per patient
        refuse_identifier(df, c, option=option, role=role, patient_col=patient_col)
    return out


#: A column with more distinct values than this is not a group (it could single people out).
MAX_GROUP_LEVELS = 30


def group_columns(df: pd.DataFrame, *, exclude: Iterable[str] = (),
                  patient_col: str | None = None) -> list[str]:
    """Columns that may travel as audit groups (``probe`` keeps them in its predictions): the age column
    and categorical columns with at most :data:`MAX_GROUP_LEVELS` values, none identifier-like."""
    skip = set(exclude) | ({patient_col} if patient_col else set())
    roles = infer_roles(df)
    skip |= {c for r in IDENTIFIER_ROLES for c in roles.get(r, [])}
    ages = set(roles.get("age", []))
    out = []
    for col in map(str, df.columns):
        if col in skip:
            continue
        if col not in ages and df[col].nunique(dropna=True) > MAX_GROUP_LEVELS:
            continue
        if column_reason(df, col, role="age" if col in ages else None, patient_col=patient_col) is None:
            out.append(col)
    return out


def is_binary(s: pd.Series) -> bool:
    """0/1, yes/no, true/false … (one or two such values)."""
    vals = {str(v.item() if hasattr(v, "item") else v).strip().lower() for v in s.dropna().unique()}
    vals = {v[:-2] if v.endswith(".0") else v for v in vals}
    return 1 <= len(vals) <= 2 and vals <= (POSITIVE | NEGATIVE)


def infer_roles(df: pd.DataFrame, explicit: Mapping[str, list[str]] | None = None, *,
                source: str = "the metadata file", option: str = "--column", notes: list[str] | None = None,
                role_options: Mapping[str, str] | None = None) -> dict[str, list[str]]:
    """Map roles to columns: explicit ones first, then common names, then labels.

    Explicit columns must exist, and one given an attribute role must not look like an identifier
    (:class:`InputError`; ``--keep-column`` publishes such a column as it is, without a role). Inferred
    roles skip identifier-like columns (a line for each goes to ``notes``). Labels, when none are given,
    are label-named (``label``, ``diagnosis``, ``*_grade`` …) and binary columns with no other role that
    do not look like identifiers. ``role_options`` names the option that set a role when it was not
    ``option`` (``{"split": "--split-col"}``), for the error message.
    """
    explicit = dict(explicit or {})
    columns = [str(c) for c in df.columns]
    for role, cols in explicit.items():
        for col in cols:
            if col not in columns:
                shown = ", ".join(columns[:12]) + (", ..." if len(columns) > 12 else "")
                raise UsageError(f"{option} {role}={col}: no column '{col}' in {source} (columns: {shown})")
    roles: dict[str, list[str]] = {r: list(c) for r, c in explicit.items()}
    used = {c for cols in roles.values() for c in cols}
    for role, names in NAMES.items():
        if role in roles:
            continue
        for col in columns:
            if col not in used and norm_name(col) in names:
                roles[role] = [col]
                used.add(col)
                break
    patient = roles.get("patient", [None])[0]
    for role in list(roles):
        if role in IDENTIFIER_ROLES:
            continue
        for col in list(roles[role]):
            if role in explicit and col in explicit[role]:
                opt = (role_options or {}).get(role, f"{option} {role}=")  # e.g. --split-col for split
                refuse_identifier(df, col, option=opt, role=role, patient_col=patient)
            elif why := column_reason(df, col, role=role, patient_col=patient):
                roles[role].remove(col)
                if notes is not None:
                    notes.append(f"`{col}` ({role}): looks like an identifier ({why}); values are never "
                                 "shown.")
        if not roles[role]:
            del roles[role]
    if "label" not in roles:
        from curate.synthetic import COLUMN as SYNTHETIC  # the synthetic-data marker is not a label

        labels = [c for c in columns if c not in used and c not in TECHNICAL_COLUMNS and c != SYNTHETIC
                  and (_LABEL_RE.search(norm_name(c)) or is_binary(df[c]))
                  and not column_reason(df, c, role="label", patient_col=patient)]
        if labels:
            roles["label"] = labels
    return {r: roles[r] for r in ROLES if r in roles}


# ------------------------------------------------------------------------------------------- allow-list
@dataclass
class AllowList:
    """Which columns may be published: ``published`` in table order, the rest in ``withheld``."""

    published: list[str] = field(default_factory=list)
    withheld: dict[str, str] = field(default_factory=dict)  # column -> why (never a value)
    kept: list[str] = field(default_factory=list)  # published only because the user kept them
    warnings: list[str] = field(default_factory=list)


KEEP_HELP = ("Publish this metadata column although it has no role (repeatable). It is published as it is: "
             "it may identify people, so keep only columns you have checked.")


def check_keep(df: pd.DataFrame, keep: Iterable[str] | None, roles: Mapping[str, list[str]], *,
               option: str = "--keep-column") -> list[str]:
    """The user's keep list: each column must exist and must not be the patient or image column."""
    out: list[str] = []
    for c in keep or ():
        for col in [x.strip() for x in str(c).split(",") if x.strip()]:
            if col not in df.columns:
                raise InputError(f"{option} {col}: no column '{col}' in the metadata")
            for role in IDENTIFIER_ROLES:
                if col in roles.get(role, []):
                    raise InputError(f"{option} {col}: '{col}' is the {role} column; it is never published "
                                     "as it is")
            if col not in out:
                out.append(col)
    return out


def allow_list(df: pd.DataFrame, roles: Mapping[str, list[str]], keep: Iterable[str] = ()) -> AllowList:
    """Attribute-role columns and kept columns are published; identifier roles and the rest are withheld.
    The true/false ``synthetic`` marker column (:mod:`curate.synthetic`) is always published: a copy of
    synthetic data must stay marked.

    A kept column that looks like an identifier is still published (the user named the risk), with a
    warning that names the column.
    """
    from curate.synthetic import COLUMN as SYNTHETIC

    role_of = {c: r for r, cols in roles.items() for c in cols}
    keep = list(keep)
    patient = roles.get("patient", [None])[0]
    res = AllowList()
    for col in map(str, df.columns):
        role = role_of.get(col)
        if col == SYNTHETIC and role is None and is_binary(df[col]):
            res.published.append(col)  # the synthetic-data marker travels with the data (curate.synthetic)
        elif role in IDENTIFIER_ROLES:
            res.withheld[col] = f"{role} identifier"
        elif role is not None:
            res.published.append(col)
        elif col in keep:
            res.published.append(col)
            res.kept.append(col)
            why = column_reason(df, col, patient_col=patient)
            if why:
                res.warnings.append(f"--keep-column {col}: published although it looks like an identifier "
                                    f"({why})")
        else:
            why = column_reason(df, col, patient_col=patient)
            res.withheld[col] = f"looks like an identifier: {why}" if why else "no role (not allow-listed)"
    return res


# ------------------------------------------------------------------------------------- label values
#: Roles whose *values* become class labels or table categories in outputs (hub README, Croissant, parquet
#: features, datasheet): every distinct value is checked, not the share of identifier-like values.
VALUE_ROLES: tuple[str, ...] = ("sex", "race", "ethnicity", "nationality", "device", "site", "label")
WITHHELD_NOTE = ("value(s) that look like a name, a record number or a date were withheld (set to missing): "
                 "a class label never carries them")


def withhold_identifying_values(df: pd.DataFrame, roles: Mapping[str, list[str]]) -> dict[str, int]:
    """Set to missing, in place, every value of an attribute-role column that looks identifying on its own
    (:func:`curate.policy.identifiers.value_reason`: a person's name, a record number, a date ...).

    Returns ``{column: number of distinct values withheld}`` (counts only, never a value). A site called
    "Clinic Maria Quixabeira" for a third of the patients is withheld although two thirds of the column is
    harmless: each value that becomes a label is judged by itself.
    """
    from curate.policy.identifiers import value_reason

    out: dict[str, int] = {}
    for role in VALUE_ROLES:
        for col in roles.get(role, []):
            if col not in df.columns:
                continue
            values = df[col].dropna().unique()
            bad = [v for v in values if isinstance(v, str) and value_reason(v)]
            if bad:
                df[col] = df[col].where(~df[col].isin(bad))
                out[col] = len(bad)
    return out
