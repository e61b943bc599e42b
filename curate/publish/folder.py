"""Build a hub-ready dataset folder: parquet shards with an ``Image`` feature, card, croissant, datasheet.

Layout written (atomically: a failure leaves no half-written folder)::

    OUT/
      README.md                      hub dataset card; YAML ``configs`` (files per split), ``dataset_info``
      croissant.json                 Croissant 1.0 + RAI metadata, with the parquet shards as distribution
      datasheet.md, datasheet.html   Datasheets for Datasets (from ``curate build-card``)
      data/train-00000-of-00002.parquet
      data/train-00001-of-00002.parquet
      data/validation-00000-of-00001.parquet
      data/test-00000-of-00001.parquet

``datasets.load_dataset(OUT)`` loads it with its features (``image``: ``Image``, labels: ``ClassLabel``,
numbers: ``Value``) and splits, exactly as the hub will after ``--push``.

Identifiers are never published: the patient column becomes a keyed pseudonym (``patient_`` + 16 hex
digits of an HMAC-SHA256 under a key kept outside the folder, :mod:`curate.policy.pseudonyms`) — kept
because users need it for patient-level splits and leakage checks. Only allow-listed columns are written
(:mod:`curate.policy.roles`): the attribute roles and the columns the user keeps with ``--keep-column``;
image ids, file names and every other column are withheld, and each image's file name inside the parquet
is replaced by ``image_000001.png``. Ages are top-coded at 90 (HIPAA Safe Harbor; ``90`` means "90 or
older"). Image bytes are published unchanged.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curate.errors import InputError, UsageError, require
from curate.publish.features import add_croissant_distribution, feature_for
from curate.publish.metadata import (
    Roles,
    check_ages,
    check_split_names,
    keep_mask,
    match_images,
    parse_column_specs,
    read_keep_list,
    read_metadata,
    resolve_roles,
    scan_images,
)
from curate.publish.shards import IMAGE_COLUMN, check_images, parse_size, write_shards

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from curate.publish.push import PushResult

PATIENT_COLUMN = "patient"


@dataclass
class PublishResult:
    """What was written (and uploaded). Counts only — never identifier values."""

    out: Path
    dataset_id: str
    card_only: bool = False
    splits: dict[str, int] = field(default_factory=dict)  # images per split
    patients: dict[str, int | str] = field(default_factory=dict)  # patients per split (<11 / * suppressed)
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
    push: PushResult | None = None

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary (what ``curate publish --json`` prints)."""
        out = {k: v for k, v in self.__dict__.items() if k != "push"}
        out["out"] = str(self.out)
        if self.push is not None:
            out["push"] = {"repo_id": self.push.repo_id, "url": self.push.url, "files": self.push.files,
                           "commits": len(self.push.commits)}
        return out


def _split_names(n: int) -> tuple[str, ...]:
    names = {1: ("train",), 2: ("train", "test"), 3: ("train", "validation", "test")}
    if n not in names:
        raise UsageError(f"--splits takes 1 to 3 fractions (train[,validation],test); got {n}")
    return names[n]


@dataclass
class _Plan:
    """Everything decided before writing: rows, splits, features, encoded columns."""

    files: list[Path]
    split: list[str]
    split_names: list[str]
    features: Any
    columns: dict[str, list[Any]]
    card_table: pd.DataFrame
    card_columns: dict[str, Any]


def _plan(
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
) -> _Plan:
    import datasets
    import numpy as np
    import pandas as pd

    from curate.engine.splits import parse_fractions, patient_splits, patients_in_several_splits
    from curate.policy.pseudonyms import METHOD, load_key
    from curate.policy.roles import allow_list, check_keep
    from curate.privacy import suppress, top_code_ages

    df = read_metadata(metadata)
    result.rows_in_metadata = len(df)
    roles: Roles = resolve_roles(df, columns, role_options={"split": "--split-col"} if split_col else None)
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
        names = _split_names(len(fractions))
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
            result.warnings.append(f"{result.patients_across_splits} patient(s) have images in more than one "
                                   "split (the metadata's split column is kept as given)")
        per_split = pd.Series({n: int(pseudo[split == n].nunique()) for n in split_names})
        # complementary suppression: with disjoint splits the total would reveal a single hidden cell
        result.patients = {n: (v if isinstance(v, str) else int(v)) for n, v in suppress(per_split).items()}
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
    return _Plan(files=files, split=split.tolist(), split_names=split_names,
                 features=datasets.Features(feats), columns=encoded, card_table=card, card_columns=card_cols)


def _card_sections(result: PublishResult, decision_text: str) -> list[tuple[str, str]]:
    """The "Publishing" section of the card: layout, splits, identifiers, keep-list, licence."""
    from curate.privacy import SUPPRESSION_NOTE, suppressed_total

    lines = [decision_text, ""]
    if result.card_only:
        lines.append("This is a card-only repository: no images or per-image metadata are published here; "
                     "obtain the data from the source under its own terms.")
        return [("Publishing", "\n".join(lines))]
    lines += [
        "Data files: parquet shards under `data/`, one or more per split "
        "(`data/<split>-0000k-of-0000n.parquet`); images are embedded in the `image` column.",
        "",
        f"Splits: {result.split_method}.",
        "",
        "| split | images | patients |",
        "| --- | ---: | ---: |",
    ]
    for name, n in result.splits.items():
        lines.append(f"| {name} | {n:,} | {result.patients.get(name, 'not reported')} |")
    lines += ["", f"*{SUPPRESSION_NOTE}.*"]
    if result.pseudonymised:
        lines += ["", "Identifiers: the original patient ids are replaced by keyed pseudonyms "
                  f"(`patient_` + 16 hex digits): {result.pseudonym_method}."]
    if result.dropped_columns:
        ids = [c for c in result.dropped_columns if c in result.identifier_columns]
        rest = [c for c in result.dropped_columns if c not in result.identifier_columns]
        lines += [""]
        if ids:
            lines.append(f"Columns not published (identifiers or identifier-like): "
                         f"{', '.join(f'`{c}`' for c in ids)}.")
        if rest:
            lines.append(f"Columns not published (no role in the allow-list): "
                         f"{', '.join(f'`{c}`' for c in rest)}.")
        lines.append("Image file names are replaced by `image_000001.png`-style names.")
    if result.kept_columns:
        lines += ["", f"Published on the publisher's explicit request (`--keep-column`): "
                  f"{', '.join(f'`{c}`' for c in result.kept_columns)}."]
    if any("top-coded" in v for v in result.features.values()):
        lines += ["", "Ages of 90 and above are top-coded to 90 (HIPAA Safe Harbor)."]
    if result.removed_by_keep is not None:
        kept = sum(result.splits.values())
        lines += ["", f"Deduplication: only the images in a `curate dedup` keep-list are published — "
                  f"{result.removed_by_keep:,} of {result.rows_in_metadata:,} images were removed as "
                  f"duplicates, {kept:,} kept."]
    if result.patients_across_splits:
        n = suppressed_total(result.patients_across_splits)
        lines += ["", f"Warning: {n} patient(s) appear in more than one split."]
    return [("Publishing", "\n".join(lines))]


def _build_card_files(tmp: Path, dataset_id: str, result: PublishResult, plan: _Plan | None,
                      catalog_dir: str | os.PathLike | None, sections: list[tuple[str, str]],
                      nbytes: dict[str, int], *, card_metadata: str | os.PathLike | None = None,
                      card_columns: dict[str, list[str]] | None = None) -> None:
    """Run ``build_card`` on the published table, copy its files in, and add the hub's data config."""
    from huggingface_hub import DatasetCard

    from curate.cards.build import build_card

    with tempfile.TemporaryDirectory(prefix="curate-publish-") as work:
        # the published table (pseudonyms, no ids); card-only: the user's file, for aggregate counts only
        meta = plan.card_table if plan is not None else card_metadata
        cols = plan.card_columns if plan is not None else (card_columns or None) if card_metadata else None
        from curate.synthetic import any_synthetic

        built = build_card(dataset_id, metadata=meta, out=Path(work) / "card", columns=cols,
                           synthetic=any_synthetic(meta, card_metadata),
                           catalog_dir=catalog_dir, overwrite=True, extra_sections=sections)
        for name in ("README.md", "croissant.json", "datasheet.md", "datasheet.html"):
            src = Path(built.out) / name
            if src.exists():
                shutil.copy2(src, tmp / name)
    if plan is None:
        return
    card = DatasetCard.load(tmp / "README.md")
    card.data["configs"] = [{
        "config_name": "default",
        "data_files": [{"split": n, "path": f"data/{n}-*"} for n in plan.split_names],
    }]
    card.data["dataset_info"] = {
        "features": plan.features._to_yaml_list(),
        "splits": [{"name": n, "num_bytes": nbytes.get(n, 0), "num_examples": result.splits[n]}
                   for n in plan.split_names],
    }
    card.save(tmp / "README.md")
    add_croissant_distribution(tmp, plan, result)


def publish(
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
    overwrite: bool = True,
    push: str | None = None,
    private: bool = False,
    i_have_rights: bool = False,
    api: Any | None = None,
    token: str | None = None,
    progress: bool = False,
) -> PublishResult:
    """Build the hub-ready folder ``out`` for catalog dataset ``dataset_id`` and optionally push it.

    ``metadata`` (CSV/TSV/parquet/JSON lines, one row per image) and ``images`` (a folder) are required
    unless ``card_only``. Column roles are inferred from common names or set with ``columns``
    (``{"patient": "patient_id", "label": ["DR_ICDR"]}`` or ``["patient=patient_id", ...]``);
    ``split_col`` / ``patient_col`` / ``image_col`` are shorthands. Without a split column, patient-level
    splits are drawn with ``splits`` fractions and ``seed`` (:func:`curate.engine.splits.patient_splits`).
    ``keep`` is a dedup keep-list (one image id per line): only those images are published.
    ``resplit`` discards the metadata's split column (e.g. one that leaks patients across splits) and
    draws new patient-level splits with ``splits`` / ``stratify`` / ``seed`` after the keep-list.

    What is published is an allow-list (:func:`curate.policy.roles.allow_list`): the image, the patient as
    a keyed pseudonym (:mod:`curate.policy.pseudonyms`; ``key_file`` or the default key outside ``out``),
    the split, and the columns with an attribute role (age, sex, race, ethnicity, nationality, device,
    site, labels). Any other column is withheld unless named in ``keep_columns``, which publishes it as it
    is and may therefore publish identifying data. A column that looks like an identifier cannot be given
    an attribute role.

    With ``push="user/name"`` the folder is uploaded (:func:`curate.publish.push.push_folder`); the
    licence guard runs first, before any file is read or any network call.

    >>> import curate  # doctest: +SKIP
    >>> curate.publish("MY-OPEN-SET", metadata="labels.csv", images="images/", out="hub/")  # doctest: +SKIP
    """
    from curate.catalog import load
    from curate.publish.guard import check_upload

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
        from curate.publish.guard import local_decision

        decision = local_decision(ds, with_images=not card_only, i_have_rights=i_have_rights)
    require("datasets", "hub")

    result = PublishResult(out=out, dataset_id=ds.id, card_only=card_only)
    plan = None
    if not card_only:
        plan = _plan(result, metadata=metadata, images=images, columns=specs, splits=splits, seed=seed,
                     stratify=stratify, keep=keep, resplit=resplit, keep_columns=keep_columns,
                     key_file=key_file, out=out, split_col=split_col)
    with _atomic(out, overwrite) as tmp:
        nbytes = write_shards(plan, tmp / "data", max_bytes, result) if plan is not None else {}
        _build_card_files(tmp, ds.id, result, plan, catalog_dir, _card_sections(result, decision.statement()),
                          nbytes, card_metadata=metadata, card_columns=specs)
        from curate.publish.manifest import write_publish_manifest

        write_publish_manifest(tmp, ds, decision, card_only=card_only)
    if push is not None:
        from curate.publish.push import push_folder

        result.push = push_folder(out, push, dataset=ds, card_only=card_only, private=private,
                                  i_have_rights=i_have_rights, api=api, token=token, progress=progress)
    return result


def _atomic(out: Path, overwrite: bool):
    from curate._io import atomic_dir

    return atomic_dir(out, overwrite=overwrite, kind="publish")
