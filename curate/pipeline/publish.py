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
from curate.pipeline.publish_columns import PATIENT_COLUMN, card_columns, encode_columns
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


@dataclass
class _Checked:
    """The metadata as read and checked, before the images are matched."""

    df: pd.DataFrame
    roles: Roles
    key: Any = None  # the pseudonym key (when there is a patient column)
    replaced: str | None = None  # the metadata's split column discarded by --resplit
    ages: pd.Series | None = None
    fractions: tuple[float, ...] | None = None
    split_names: list[str] | None = None


def check_metadata(result: PublishResult, *, metadata: str | Path, columns: dict[str, list[str]],
                  splits: str | tuple[float, ...], stratify: str | None, resplit: bool,
                  keep_columns: list[str] | None, key_file: str | os.PathLike | None, out: Path | None,
                  split_col: str | None) -> _Checked:
    """Read the metadata and check it (roles, withheld values, kept columns, the key, ages, splits)."""
    from curate.engine.splits import parse_fractions
    from curate.policy.pseudonyms import load_key
    from curate.policy.roles import WITHHELD_NOTE, check_keep, withhold_identifying_values
    from curate.tables import read_table

    df = read_table(metadata, text=True)  # text: ids such as 00123 still match file names
    result.rows_in_metadata = len(df)
    roles: Roles = resolve_roles(df, columns, role_options={"split": "--split-col"} if split_col else None)
    for col, n in withhold_identifying_values(df, roles.as_dict()).items():  # each label value, judged alone
        result.warnings.append(f"column '{col}': {n} {WITHHELD_NOTE}")
    check_keep(df, keep_columns, roles.as_dict())  # before the (slow) image checks
    checked = _Checked(df=df, roles=roles)
    if roles.patient:  # the key is read (or created) before any work, and must not be published
        checked.key = load_key(key_file)
        if out is not None:
            checked.key.check_outside(out)
        result.key_created = str(checked.key.path) if checked.key.created else None
    if resplit and roles.split:  # the metadata's splits are discarded, new patient-level ones drawn below
        checked.replaced = roles.split
        df = checked.df = df.drop(columns=[roles.split])
        roles.split = None
    if stratify is not None and stratify not in df.columns:
        raise InputError(f"column '{stratify}' (for --stratify) not found in the metadata "
                         f"(columns: {', '.join(df.columns)})")
    checked.ages = check_ages(df, roles.age) if roles.age else None
    checked.fractions = None if roles.split else parse_fractions(splits)
    checked.split_names = check_split_names(df[roles.split], roles.split) if roles.split else None
    if roles.patient is not None and df[roles.patient].isna().any():
        raise InputError(f"patient column '{roles.patient}' has {int(df[roles.patient].isna().sum())} "
                         "missing value(s)")
    return checked


def match_and_keep(checked: _Checked, result: PublishResult, *, images: str | Path,
                   keep: str | Path | None) -> list[Path]:
    """The image file of each metadata row (each checked readable), less those the keep-list drops."""
    image_col = checked.roles.image
    files = match_images(checked.df[image_col], scan_images(images), image_col)
    check_images(files, result)
    if keep is not None:
        mask = keep_mask(checked.df[image_col], files, read_keep_list(keep))
        result.removed_by_keep = int((~mask).sum())
        if not mask.any():
            raise InputError("the keep-list keeps no image")
        checked.df = checked.df[mask].reset_index(drop=True)
        files = [f for f, m in zip(files, mask) if m]
        if checked.ages is not None:
            checked.ages = checked.ages[mask.to_numpy()].reset_index(drop=True)
    return files


def draw_splits(checked: _Checked, result: PublishResult, *, pseudo: pd.Series | None, seed: int,
                stratify: str | None) -> tuple[pd.Series, list[str]]:
    """Each row's split and the split names: the metadata's split column, or drawn by patient."""
    from curate.engine.splits import patient_splits

    df, roles, fractions = checked.df, checked.roles, checked.fractions
    if roles.split:
        split = df[roles.split].astype(str).str.strip()
        result.split_method = f"from the metadata column '{roles.split}'"
        return split, [n for n in checked.split_names if (split == n).any()]
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
    by = f"patient ('{roles.patient}')" if roles.patient else "image (no patient column: a patient's " \
         "images may fall in different splits)"
    fr = "/".join(f"{f:g}" for f in fractions)
    result.split_method = (f"random by {by}, fractions {fr}, seed {seed}"
                           + (f", stratified by '{stratify}'" if stratify else "")
                           + (f"; the metadata's split column '{checked.replaced}' was discarded (--resplit)"
                              if checked.replaced else ""))
    if not roles.patient:
        result.warnings.append("no patient column: splits are per image, so one patient's images may "
                               "fall in different splits (set --patient-col)")
    return split, list(names)


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
    """Read and check the metadata and images, draw the splits and encode the published columns."""
    import datasets
    import pandas as pd

    from curate.policy.roles import allow_list, check_keep

    checked = check_metadata(result, metadata=metadata, columns=columns, splits=splits, stratify=stratify,
                            resplit=resplit, keep_columns=keep_columns, key_file=key_file, out=out,
                            split_col=split_col)
    files = match_and_keep(checked, result, images=images, keep=keep)
    df, roles = checked.df, checked.roles
    pseudo = None
    if roles.patient:
        pseudo = pd.Series(checked.key.pseudonymise(df[roles.patient].astype(str).str.strip(),
                                                    kind=PATIENT_COLUMN, context=result.dataset_id),
                           index=df.index)
    split, split_names = draw_splits(checked, result, pseudo=pseudo, seed=seed, stratify=stratify)
    allowed = allow_list(df, roles.as_dict(), check_keep(df, keep_columns, roles.as_dict()))
    enc = encode_columns(result, df, roles=roles, allowed=allowed, pseudo=pseudo, split=split,
                         split_names=split_names, ages=checked.ages)
    return PublishPlan(files=files, split=split.tolist(), split_names=split_names,
                       features=datasets.Features(enc.features), columns=enc.columns, card_table=enc.card,
                       card_columns=card_columns(roles, enc.card), roles=enc.roles)


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
