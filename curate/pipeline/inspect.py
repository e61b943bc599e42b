"""``curate inspect``: read embeddings + metadata, validate columns, run the issue managers, write results.

Computation is in :mod:`curate.engine.inspect` (one manager per kind of issue). This module joins the
inputs (the same id matching and one-line errors as ``curate probe``), applies the identifier policy to
every named column, and returns an :class:`InspectReport`. Writing is the renderer's
(:func:`curate.report.inspect.write_inspect`: ``issues.csv``, ``shortcuts.csv``, ``summary.json`` through
the exit gate).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from curate.errors import InputError, UsageError


@dataclass
class InspectReport:
    """The managers' results plus the raw row ids (kept in memory; written only as pseudonyms)."""

    results: dict[str, Any]
    ids: dict[str, np.ndarray]  # per manager: the raw id of each of its rows
    columns: dict[str, Any] = field(default_factory=dict)
    synthetic: bool = False  # an input is marked synthetic (curate.synthetic): the summary says so first
    key: Any = None  # the pseudonym key the outputs will use (set by run_inspect; never written)
    paths: dict[str, list] = field(default_factory=dict)  # per file-reading check: its files (never written)
    gallery: list = field(default_factory=list)  # GalleryGroups of the top examples (set by run_inspect)


def _split(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [str(x).strip() for x in items if str(x).strip()]


def _columns(df, *, label_col, attributes, patient_col, annotators) -> tuple[list[str], list[str]]:
    """Check every named column exists and that attributes/annotator columns are not identifiers."""
    from curate.policy.roles import check_columns, refuse_identifier

    if patient_col and patient_col not in df.columns:
        raise InputError(f"--patient-col {patient_col}: column '{patient_col}' not found in META")
    if patient_col and df[patient_col].isna().any():
        raise InputError(f"--patient-col {patient_col}: {int(df[patient_col].isna().sum())} missing values")
    if label_col:
        if label_col not in df.columns:
            raise InputError(f"--label-col {label_col}: column '{label_col}' not found in META")
        if df[label_col].isna().any():
            raise InputError(f"--label-col {label_col}: {int(df[label_col].isna().sum())} missing values")
        refuse_identifier(df, label_col, option="--label-col", patient_col=patient_col)
    attrs = (check_columns(df, attributes, option="--attributes", patient_col=patient_col)
             if attributes else [])
    for a in attrs:
        if df[a].isna().any():
            raise InputError(f"--attributes {a}: {int(df[a].isna().sum())} missing values")
    ann = check_columns(df, annotators, option="--annotators", patient_col=patient_col) if annotators else []
    return attrs, ann


def _table_data(emb, meta, *, label_col, attributes, patient_col, annotators, id_col, emb_id_col):
    """(InspectData, raw row ids) from embeddings + metadata, joined on ids as in :func:`curate.probe`."""
    from curate.audits.probes import align, load_vectors
    from curate.engine.inspect import InspectData
    from curate.tables import read_table

    if meta is None:
        raise UsageError("give --meta with the embeddings (the label, attribute and patient columns)")
    df = read_table(meta)
    attrs, ann = _columns(df, label_col=label_col, attributes=attributes, patient_col=patient_col,
                          annotators=annotators)
    emb_id_col = emb_id_col or id_col
    ids, X, ids_given = load_vectors(emb, emb_id_col)
    idx = align(ids, df, id_col, emb_id_col, ids_given)
    if idx is not None:
        order = np.argsort(idx, kind="stable")
        df = df.iloc[order].reset_index(drop=True)
        X = X[idx[order]]
    row_ids = df[id_col].astype(str).to_numpy() if id_col in df.columns else np.asarray(ids).astype(str)
    data = InspectData(
        X=X, labels=df[label_col].to_numpy() if label_col else None,
        attributes={a: df[a].to_numpy() for a in attrs},
        patients=df[patient_col].astype(str).to_numpy() if patient_col else None,
        annotators={a: df[a].to_numpy() for a in ann})
    return data, row_ids


def _dicom_files(folder, option: str = "--dicom") -> tuple[list[str], np.ndarray]:
    """Every file under ``folder`` (sorted; for ``--images`` the files listed as images) and its relative
    path (the raw id, written only as a pseudonym)."""
    from pathlib import Path

    from curate.scan.images import list_image_files

    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"{option} '{folder}' is not a folder")
    files = (sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))
             if option == "--dicom" else [p for p in list_image_files(root) if not p.name.startswith(".")])
    if not files:
        raise InputError(f"{option} '{folder}' holds no {'files' if option == '--dicom' else 'image files'}")
    return [str(p) for p in files], np.array([str(p.relative_to(root)) for p in files])


def inspect(emb=None, meta=None, *, label_col: str | None = None,
            attributes: str | Sequence[str] | None = None, patient_col: str | None = None,
            annotators: str | Sequence[str] | None = None, dicom=None, images=None,
            checks: str | Sequence[str] | None = None, id_col: str = "id", emb_id_col: str | None = None,
            n_splits: int = 5, permutations: int | None = None, seed: int = 0) -> InspectReport:
    """Run the inspect checks (``checks``: names from :func:`curate.engine.inspect.manager_names`; default:
    ``shortcut`` when ``attributes`` are given, ``label`` when ``label_col`` is, ``outlier`` and
    ``near_duplicate`` when ``emb`` is, ``quality`` when ``dicom`` (a folder of DICOM files) is,
    ``cleanvision`` when ``images`` (a folder of image files: PNG, JPEG, TIFF, DICOM, NIfTI) is).

    Rows are matched on ``META[id_col]`` = EMB's ``emb_id_col`` ids, as in :func:`curate.probe`. Without
    ``patient_col`` each image is its own patient (a stated note: grouping cannot then prevent leakage).
    """
    from curate.engine.inspect import InspectData, get_managers

    attributes, annotators = _split(attributes), _split(annotators)
    names = _split(checks) or [*(["shortcut"] if attributes else []), *(["label"] if label_col else []),
                               *(["outlier", "near_duplicate"] if emb is not None else []),
                               *(["quality"] if dicom else []), *(["cleanvision"] if images else [])]
    if not names:
        raise UsageError("nothing to inspect: give EMB (with --meta), --dicom or --images (or --checks)")
    if n_splits < 2:
        raise UsageError("n_splits must be ≥ 2 (--folds)")
    managers = get_managers(names)
    table_needed = any(set(m.needs) - {"files", "images"} for m in managers)
    if table_needed and emb is None:
        raise UsageError(f"check '{next(m.name for m in managers if set(m.needs) - {'files', 'images'})}' "
                         "needs EMB and --meta")
    files, file_ids = _dicom_files(dicom) if dicom else ([], np.array([]))
    image_files, image_ids = _dicom_files(images, "--images") if images else ([], np.array([]))
    data, row_ids = (_table_data(emb, meta, label_col=label_col, attributes=attributes,
                                 patient_col=patient_col, annotators=annotators, id_col=id_col,
                                 emb_id_col=emb_id_col) if table_needed else (InspectData(X=None), None))
    data.files, data.images = files, image_files
    results, ids, paths = {}, {}, {}
    for m in managers:
        for need, ok, option in (("labels", label_col, "--label-col"),
                                 ("attributes", attributes, "--attributes"), ("files", files, "--dicom"),
                                 ("images", image_files, "--images")):
            if need in m.needs and not ok:
                raise UsageError(f"check '{m.name}' needs {option}")
        opts: dict[str, Any] = {"n_splits": n_splits, "seed": seed}
        if m.name == "shortcut" and permutations is not None:
            opts["permutations"] = permutations
        results[m.name] = m.find(data, **opts)
        ids[m.name] = {("files",): file_ids, ("images",): image_ids}.get(tuple(m.needs), row_ids)
        paths[m.name] = {("files",): files, ("images",): image_files}.get(tuple(m.needs), [])
        if not patient_col and "patients" in m.needs:
            results[m.name].notes.append("no --patient-col: each image is treated as its own patient, so "
                                         "images of one patient may sit on both sides of a fold")
    from curate.synthetic import any_synthetic

    return InspectReport(results=results, ids=ids, paths=paths, synthetic=any_synthetic(emb, meta),
                         columns={"label": label_col, "attributes": list(data.attributes),
                                  "patient": bool(patient_col), "annotators": list(data.annotators)})


def run_inspect(emb, meta, out, *, key_file=None, gallery_top: int | None = None, **options) -> InspectReport:
    """What ``curate inspect`` runs: check the pseudonym key and the output folder first (so a bad one costs
    no computation), then :func:`inspect`, then the review gallery's thumbnails (the ``gallery_top``
    highest-scored images of each issue type of the checks that read image files; 0: no gallery). Returns
    the report with its key; the renderer (:func:`curate.report.inspect.write_inspect`) writes ``out``."""
    from pathlib import Path

    from curate._io import check_parent
    from curate.policy.pseudonyms import load_key

    key = load_key(key_file)
    key.check_outside(out)
    check_parent(Path(out))
    from curate.pipeline.inspect_gallery import GALLERY_TOP, gallery_groups

    top = GALLERY_TOP if gallery_top is None else gallery_top
    if top < 0:
        raise UsageError("gallery_top must be ≥ 0 (--gallery-top; 0: no gallery)")
    report = inspect(emb, meta, **options)
    report.key = key
    report.gallery = gallery_groups(report, key, top=top)
    return report
