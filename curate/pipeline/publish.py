"""What ``publish`` decides before writing: inputs checked, roles, pseudonyms, splits, allow-list, features.

:func:`publish_inputs` reads and checks everything (the licence guard first when pushing) and returns a
:class:`PublishPlan`; :func:`curate.publish.folder.publish` writes the hub folder from it. See that module
for the folder's layout and what is (never) published.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curate.errors import InputError, UsageError, require
from curate.pipeline.publish_metadata import (
    Roles,
    check_ages,
    check_split_names,
    keep_mask,
    match_images,
    parse_column_specs,
    read_keep_list,
    resolve_roles,
    scan_images,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from curate.pipeline.guard import GuardDecision

PATIENT_COLUMN = "patient"
IMAGE_COLUMN = "image"


def parse_size(size: str | int) -> int:
    """``"500MB"`` / ``"2GiB"`` / ``1048576`` → bytes, read exactly as ``datasets`` reads ``max_shard_size``
    (``datasets.utils.py_utils.convert_file_size_to_int``: ``500MB`` is 500,000,000 bytes, ``1GiB`` is
    2**30; the hub's default shard size is 500MB). Digits alone (or with ``B``) are a number of bytes."""
    convert_file_size_to_int = require("datasets.utils.py_utils", "hub").convert_file_size_to_int
    from curate.limits import SHARD_BYTES
    from curate.validation import ParameterError

    text = str(size).strip()
    digits = text[:-1] if text[-1:] in "bB" and text[:-1].isdigit() else text  # "4096" or "4096B": bytes
    try:
        n = int(digits) if isinstance(size, int) or digits.isdigit() else convert_file_size_to_int(text)
    except ValueError:
        raise ParameterError("max_shard_size",
                             f"expects a size such as 500MB or 2GB (got '{size}')") from None
    if not SHARD_BYTES[0] <= n <= SHARD_BYTES[1]:
        raise ParameterError("max_shard_size", f"must be between 1KB and 50GB (got '{size}')")
    return n


def check_images(files: list[Path], result: PublishResult) -> None:
    """Every file must be an image PIL can open (header only: fast); note embedded text metadata."""
    require("PIL", "hub")
    from PIL import Image, UnidentifiedImageError

    tagged = 0
    for i, f in enumerate(files):
        try:
            with Image.open(f) as im:
                if any(k in im.info for k in ("exif", "comment")) or getattr(im, "text", None):
                    tagged += 1
        except (UnidentifiedImageError, OSError) as exc:
            raise InputError(f"image of metadata line {i + 2} is not a readable image "
                             f"({type(exc).__name__})") from exc
    if tagged:
        result.warnings.append(f"{tagged} image(s) carry embedded EXIF/text metadata, published unchanged; "
                               "strip it first if it may identify a person")


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
class PublishResult:
    """What was written (and uploaded). Counts only — never identifier values."""

    out: Path
    dataset_id: str
    card_only: bool = False
    splits: dict[str, int] = field(default_factory=dict)  # images per split
    patients: dict[str, int] = field(default_factory=dict)  # patients per split (raw: see shown_splits)
    features: dict[str, str] = field(default_factory=dict)  # column -> feature type
    shards: list[str] = field(default_factory=list)
    rows_in_metadata: int = 0
    removed_by_keep: int | None = None
    dropped_columns: list[str] = field(default_factory=list)
    pseudonymised: str | None = None  # metadata column replaced by the ``patient`` pseudonym
    pseudonym_method: str | None = None  # how the pseudonyms were made (never the key)
    identifier_columns: list[str] = field(default_factory=list)  # dropped because they look like ids
    kept_columns: list[str] = field(default_factory=list)  # published only because the user kept them
    key_created: str | None = None  # path of a pseudonym key created by this run (printed, never published)
    split_method: str = ""
    patients_across_splits: int = 0
    warnings: list[str] = field(default_factory=list)
    push: Any = None  # a curate.publish.push.PushResult after an upload

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary (what ``curate publish --json`` prints)."""
        from curate.output import protect_count

        out = {k: v for k, v in self.__dict__.items() if k != "push"}
        out["out"] = str(self.out)
        shown = shown_splits(self)  # counts leave protected (the exit gate)
        out["splits"] = {n: v[0] for n, v in shown.items()}
        out["patients"] = {n: v[1] for n, v in shown.items() if self.patients}
        out["patients_across_splits"] = protect_count(self.patients_across_splits)
        if self.push is not None:
            out["push"] = {"repo_id": self.push.repo_id, "url": self.push.url, "files": self.push.files,
                           "commits": len(self.push.commits)}
        return out


def shown_splits(result: PublishResult) -> dict[str, tuple[int | str, int | str]]:
    """Split → (images, patients) as they may be shown: one count table of the exit gate (patients judged,
    images hidden with them; the total of images is published). A count is an int or its marker."""
    from curate.output import split_counts

    images, patients = split_counts(result.splits, result.patients)
    return {n: (images[n], patients.get(n, "not reported")) for n in images}


def default_split_names(n: int) -> tuple[str, ...]:
    names = {1: ("train",), 2: ("train", "test"), 3: ("train", "validation", "test")}
    if n not in names:
        raise UsageError(f"--splits takes 1 to 3 fractions (train[,validation],test); got {n}")
    return names[n]


@dataclass
class PublishPlan:
    """Everything decided before writing: rows, splits, features, encoded columns."""

    files: list[Path]
    split: list[str]
    split_names: list[str]
    features: Any
    columns: dict[str, list[Any]]
    card_table: pd.DataFrame
    card_columns: dict[str, Any]
    roles: dict[str, str] = field(default_factory=dict)  # the exit gate's role of each column


def plan_publish(
    result: PublishResult,
    *,
    metadata: str | Path,
    images: str | Path,
    columns: dict[str, list[str]],
    splits: str | tuple[float, ...],
    seed: int,
    stratify: str | None,
    keep: str | Path | None,
    resplit: bool = False,
    keep_columns: list[str] | None = None,
    key_file: str | os.PathLike | None = None,
    out: Path | None = None,
    split_col: str | None = None,
) -> PublishPlan:
    import datasets
    import numpy as np
    import pandas as pd

    from curate.engine.splits import parse_fractions, patient_splits, patients_in_several_splits
    from curate.output import protect_count
    from curate.output.counts import shown
    from curate.policy.disclosure import top_code_ages
    from curate.policy.pseudonyms import METHOD, load_key
    from curate.policy.roles import allow_list, check_keep
    from curate.tables import read_table

    df = read_table(metadata, text=True)  # text: ids such as 00123 still match file names
    result.rows_in_metadata = len(df)
    roles: Roles = resolve_roles(df, columns, role_options={"split": "--split-col"} if split_col else None)
    from curate.policy.roles import WITHHELD_NOTE, withhold_identifying_values

    for col, n in withhold_identifying_values(df, roles.as_dict()).items():  # each label value, judged alone
        result.warnings.append(f"column '{col}': {n} {WITHHELD_NOTE}")
    check_keep(df, keep_columns, roles.as_dict())  # before the (slow) image checks
    key = None
    if roles.patient:  # the key is read (or created) before any work, and must not be published
        key = load_key(key_file)
        if out is not None:
            key.check_outside(out)
        result.key_created = str(key.path) if key.created else None
    replaced = None
    if resplit and roles.split:  # the metadata's splits are discarded, new patient-level ones drawn below
        replaced = roles.split
        df = df.drop(columns=[replaced])
        roles.split = None
    if stratify is not None and stratify not in df.columns:
        raise InputError(f"column '{stratify}' (for --stratify) not found in the metadata "
                         f"(columns: {', '.join(df.columns)})")
    ages = check_ages(df, roles.age) if roles.age else None
    fractions = None if roles.split else parse_fractions(splits)
    split_names = check_split_names(df[roles.split], roles.split) if roles.split else None
    if roles.patient is not None and df[roles.patient].isna().any():
        raise InputError(f"patient column '{roles.patient}' has {int(df[roles.patient].isna().sum())} "
                         "missing value(s)")

    files = match_images(df[roles.image], scan_images(images), roles.image)
    check_images(files, result)

    if keep is not None:
        mask = keep_mask(df[roles.image], files, read_keep_list(keep))
        result.removed_by_keep = int((~mask).sum())
        if not mask.any():
            raise InputError("the keep-list keeps no image")
        df = df[mask].reset_index(drop=True)
        files = [f for f, m in zip(files, mask) if m]
        ages = ages[mask.to_numpy()].reset_index(drop=True) if ages is not None else None

    pseudo = None
    if roles.patient:
        pseudo = pd.Series(key.pseudonymise(df[roles.patient].astype(str).str.strip(), kind=PATIENT_COLUMN,
                                             context=result.dataset_id), index=df.index)

    # ---- splits
    if roles.split:
        split = df[roles.split].astype(str).str.strip()
        split_names = [n for n in split_names if (split == n).any()]
        result.split_method = f"from the metadata column '{roles.split}'"
    else:
        names = default_split_names(len(fractions))
        # drawn on the keyed pseudonyms, not the raw ids: who is in which split cannot be recomputed from
        # the printed seed and a guess of the raw ids
        by_pseudo = df.assign(**{roles.patient: pseudo}) if pseudo is not None else df
        split = patient_splits(by_pseudo, patient_col=roles.patient, fractions=fractions, names=names,
                               seed=seed, stratify=stratify)
        empty = [n for n in names if not (split == n).any()]
        if empty:
            unit = "patients" if roles.patient else "images"
            count = df[roles.patient].nunique() if roles.patient else len(df)
            raise InputError(f"split '{empty[0]}' would be empty: too few {unit} ({count}) for fractions "
                             f"{','.join(map(str, fractions))}; use fewer or larger fractions")
        split_names = list(names)
        by = f"patient ('{roles.patient}')" if roles.patient else "image (no patient column: a patient's " \
             "images may fall in different splits)"
        fr = "/".join(f"{f:g}" for f in fractions)
        result.split_method = (f"random by {by}, fractions {fr}, seed {seed}"
                               + (f", stratified by '{stratify}'" if stratify else "")
                               + (f"; the metadata's split column '{replaced}' was discarded (--resplit)"
                                  if replaced else ""))
        if not roles.patient:
            result.warnings.append("no patient column: splits are per image, so one patient's images may "
                                   "fall in different splits (set --patient-col)")

    # ---- columns
    feats: dict[str, Any] = {IMAGE_COLUMN: datasets.Image()}
    encoded: dict[str, list[Any]] = {}
    card = pd.DataFrame(index=df.index)
    if roles.patient:
        result.pseudonym_method = METHOD
        feats[PATIENT_COLUMN] = datasets.Value("string")
        encoded[PATIENT_COLUMN] = pseudo.tolist()
        card[PATIENT_COLUMN] = pseudo
        result.pseudonymised = roles.patient
        result.features[PATIENT_COLUMN] = "Value(string) — pseudonym"
        result.patients_across_splits = patients_in_several_splits(
            pd.DataFrame({"p": pseudo, "s": split}), split_col="s", patient_col="p")
        if result.patients_across_splits:
            result.warnings.append(f"{shown(protect_count(result.patients_across_splits))} patient(s) have "
                                   "images in more than one "
                                   "split (the metadata's split column is kept as given)")
        per_split = pd.Series({n: int(pseudo[split == n].nunique()) for n in split_names})
        result.patients = {n: int(v) for n, v in per_split.items()}  # raw; protected by shown_splits
    from curate.synthetic import COLUMN as SYNTHETIC_COLUMN

    allowed = allow_list(df, roles.as_dict(), check_keep(df, keep_columns, roles.as_dict()))
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
        if col in feats:
            raise InputError(f"metadata column '{col}' clashes with the published '{col}' column; rename it")
        if col == roles.age:
            coded = top_code_ages(ages)
            integral = coded.notna().all() and bool(np.all(np.mod(coded, 1) == 0))
            feats[col] = datasets.Value("int64" if integral else "float64")
            encoded[col] = coded.astype("int64").tolist() if integral else \
                [None if pd.isna(v) else float(v) for v in coded]
            result.features[col] = f"Value({'int64' if integral else 'float64'}) — age, top-coded at 90"
            card[col] = coded
            continue
        if col == SYNTHETIC_COLUMN:  # the marker stays true/false (a one-class ClassLabel would store 0)
            flags = [str(v).strip().lower() in ("true", "1", "yes", "1.0") for v in df[col]]
            feats[col], encoded[col] = datasets.Value("bool"), flags
            result.features[col] = "Value(bool) — synthetic-data marker (curate demo)"
            card[col] = flags
            continue
        spec = feature_for(df[col], label=col in roles.labels or col.lower() in ("label", "labels"))
        feats[col], encoded[col], result.features[col] = spec
        # the metadata is read as text (ids keep leading zeros); the card table carries the published types,
        # so the hub card's column types agree with the features and Croissant (int64 → integer, not text)
        numeric = isinstance(feats[col], datasets.Value) and feats[col].dtype in ("int64", "float64")
        card[col] = pd.to_numeric(df[col]) if numeric else df[col]
    card["split"] = split.to_numpy()
    for name in split_names:
        result.splits[name] = int((split == name).sum())
    card_cols = {k: v for k, v in roles.as_card_columns().items() if v in card.columns and k != "split"}
    if roles.patient:
        card_cols["patient"] = PATIENT_COLUMN
    card_cols["split"] = "split"
    if roles.labels:
        card_cols["label"] = list(roles.labels)
    gate_roles = {c: ("pseudonym" if c == PATIENT_COLUMN else "value" if c == roles.age else
                      "kept" if c in allowed.kept else
                      "label" if c in roles.labels or c.lower() in ("label", "labels") else "group")
                  for c in encoded}
    return PublishPlan(files=files, split=split.tolist(), split_names=split_names,
                 features=datasets.Features(feats), columns=encoded, card_table=card, card_columns=card_cols,
                 roles=gate_roles)


@dataclass
class PublishInputs:
    """What ``publish`` decided before writing anything: the record, the guard's decision, the plan."""

    dataset: Any
    decision: GuardDecision
    result: PublishResult
    plan: PublishPlan | None
    specs: dict[str, list[str]]
    max_bytes: int


def publish_inputs(
    dataset_id: str,
    *,
    metadata: str | os.PathLike | None = None,
    images: str | os.PathLike | None = None,
    out: str | os.PathLike,
    columns: dict[str, str | list[str]] | list[str] | None = None,
    split_col: str | None = None,
    patient_col: str | None = None,
    image_col: str | None = None,
    splits: str | tuple[float, ...] = (0.8, 0.1, 0.1),
    seed: int = 0,
    stratify: str | None = None,
    keep: str | os.PathLike | None = None,
    resplit: bool = False,
    keep_columns: list[str] | None = None,
    key_file: str | os.PathLike | None = None,
    max_shard_size: str | int = "500MB",
    card_only: bool = False,
    catalog_dir: str | os.PathLike | None = None,
    push: str | None = None,
    i_have_rights: bool = False,
    api: Any | None = None,
    token: str | None = None,
) -> PublishInputs:
    """Check every input of :func:`curate.publish.folder.publish` and plan the folder (nothing written).

    The licence guard runs first when pushing, before any file is read or any network call.
    """
    from curate._paths import check_io
    from curate.catalog import load
    from curate.pipeline.guard import check_upload

    check_io({"--meta": metadata, "--images": images, "--keep": keep, "--catalog": catalog_dir},
             {"--out": out}, folders=["--out"])

    ds = load(catalog_dir).get(dataset_id)
    out = Path(out)
    specs = parse_column_specs(columns)
    for role, col in (("split", split_col), ("patient", patient_col), ("image", image_col)):
        if col:
            if role in specs and specs[role] != [col]:
                raise UsageError(f"--{role}-col and --column {role}=... disagree")
            specs[role] = [col]
    if resplit and "split" in specs:
        raise UsageError("--resplit draws new splits: it cannot be used with --split-col / --column split=")
    max_bytes = parse_size(max_shard_size)
    if not card_only and (metadata is None or images is None):
        raise UsageError("publishing data needs --meta and --images (or pass --card-only for the "
                         "documentation alone)")

    decision = None
    if push is not None:  # the guard, before any work and any network call
        decision = check_upload(ds, with_images=not card_only, i_have_rights=i_have_rights)
        if api is None:
            from huggingface_hub import get_token

            if not (token or get_token()):
                raise UsageError("no Hugging Face token: run `hf auth login` or set HF_TOKEN")
    if decision is None:
        from curate.pipeline.guard import local_decision

        decision = local_decision(ds, with_images=not card_only, i_have_rights=i_have_rights)
    require("datasets", "hub")

    result = PublishResult(out=out, dataset_id=ds.id, card_only=card_only)
    plan = None
    if not card_only:
        plan = plan_publish(result, metadata=metadata, images=images, columns=specs, splits=splits, seed=seed,
                     stratify=stratify, keep=keep, resplit=resplit, keep_columns=keep_columns,
                     key_file=key_file, out=out, split_col=split_col)
    return PublishInputs(dataset=ds, decision=decision, result=result, plan=plan, specs=specs,
                         max_bytes=max_bytes)
