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
import tempfile
from pathlib import Path
from typing import Any

from curate.pipeline.publish import PublishPlan, PublishResult, publish_inputs, shown_splits
from curate.publish.features import add_croissant_distribution
from curate.publish.shards import write_shards


def _card_sections(result: PublishResult, decision_text: str) -> list[tuple[str, str]]:
    """The "Publishing" section of the card: layout, splits, identifiers, keep-list, licence."""
    from curate.output import protect_count
    from curate.output.counts import shown
    from curate.policy.disclosure import SUPPRESSION_NOTE

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
    for name, (n, p) in shown_splits(result).items():
        lines.append(f"| {name} | {shown(n)} | {shown(p)} |")
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
        n = shown(protect_count(result.patients_across_splits))
        lines += ["", f"Warning: {n} patient(s) appear in more than one split."]
    return [("Publishing", "\n".join(lines))]


def _build_card_files(tmp: Path, dataset_id: str, result: PublishResult, plan: PublishPlan | None,
                      catalog_dir: str | os.PathLike | None, sections: list[tuple[str, str]],
                      nbytes: dict[str, int], *, card_metadata: str | os.PathLike | None = None,
                      card_columns: dict[str, list[str]] | None = None) -> None:
    """Run ``build_card`` on the published table, copy its files in, and add the hub's data config."""
    from huggingface_hub import DatasetCard

    from curate.cards.build import build_card
    from curate.output import write_bytes

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
            if src.exists():  # written through the exit gate by build_card; moved into the folder
                write_bytes(tmp / name, src.read_bytes(), atomic=False)
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
    got = publish_inputs(dataset_id, metadata=metadata, images=images, out=out, columns=columns,
                         split_col=split_col, patient_col=patient_col, image_col=image_col, splits=splits,
                         seed=seed, stratify=stratify, keep=keep, resplit=resplit, keep_columns=keep_columns,
                         key_file=key_file, max_shard_size=max_shard_size, card_only=card_only,
                         catalog_dir=catalog_dir, push=push, i_have_rights=i_have_rights, api=api,
                         token=token)
    ds, decision, result, plan, specs = got.dataset, got.decision, got.result, got.plan, got.specs
    out = Path(out)
    with _atomic(out, overwrite) as tmp:
        nbytes = write_shards(plan, tmp / "data", got.max_bytes, result) if plan is not None else {}
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
