"""Probes: small torch heads trained on frozen foundation-model embeddings, one run per seed.

- ``mlp``: the bahre2025 head ("Models and Training"): two hidden layers of 768 and 256 units, each with
  ReLU, batch normalisation and dropout 0.3; Adam (lr 1e-4, weight decay 1e-5), cosine learning-rate
  decay, batch size 48, early stopping after 5 epochs without improvement of the validation loss. With
  small embeddings (d < 768) the hidden sizes shrink to ``(d, max(8, d // 3))`` so the head is not
  wider than its input.
- ``linear``: germani2025 §2 "Feature Extraction and Classification": ``sigmoid(W φ(x) + b)`` trained with
  a weighted cross-entropy whose weights are inverse class percentages.
- mitigation ``reweight``: every sensitive group gets the same total weight; ``groupdro``: GroupDRO
  (Sagawa et al. 2020; germani2025 Table 1), which minimises the worst group's loss by exponentiated-
  gradient weights ``q_g ← q_g · exp(η L_g)`` over the groups of ``group_col``.

Multi-label tasks (several 0/1 label columns) use a sigmoid per label with BCE; a single label column with
more than two classes is multi-class (softmax, cross-entropy). Without a split column, splits are
patient-level 80/10/10 (bahre2025; ``curate.engine.splits.patient_splits``) and fixed across seeds, so the
seeds differ only in training randomness and can be averaged on the same test set. A given split column
is checked for patient leakage. The heads and their training loop are in :mod:`curate.audits.heads`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from curate.audits.heads import (  # noqa: F401 - re-exported: the heads live in curate.audits.heads
    MITIGATIONS,
    MODELS,
    ProbeConfig,
    build_head,
    hidden_sizes,
    predict_proba,
    train_head,
)
from curate.engine.devices import resolve_device
from curate.errors import InputError, UsageError
from curate.validation import ParameterError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

SPLIT_NAMES = ("train", "validation", "test")


@dataclass
class ProbeResult:
    preds: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)


# ---- data plumbing --------------------------------------------------------------------------------------


def load_vectors(emb, id_col: str) -> tuple[np.ndarray, np.ndarray, bool]:
    """(ids as str, float32 vectors, whether the ids are real) from an Embeddings object, array or file.

    A bare array has no ids (they are its row numbers); ``id_col`` names the id column of a parquet file.
    """
    from curate.engine.embeddings import Embeddings, from_array, load_embeddings

    if isinstance(emb, Embeddings):
        e = emb
    elif isinstance(emb, np.ndarray):
        e = from_array(emb, normalize=False)
    else:
        if not os.path.exists(os.fspath(emb)):
            raise InputError(f"embeddings file '{emb}' not found")
        e = load_embeddings(emb, id_col=id_col, normalize=False)
    return (np.asarray(e.ids).astype(str), np.asarray(e.vectors, dtype=np.float32),
            not isinstance(emb, np.ndarray))


def align(ids: np.ndarray, meta: pd.DataFrame, id_col: str, emb_id_col: str,
           ids_given: bool) -> np.ndarray | None:
    """Position in EMB of each META row, matched on META[id_col] = EMB[emb_id_col].

    None when META has no ``id_col`` column and EMB is a bare array (no ids): rows then pair up by order.
    The message of a mismatch gives the count and at most three example ids, never the full list.
    """
    if id_col not in meta.columns:
        if ids_given:
            raise InputError(f"META has no '{id_col}' column to match the embeddings' ids on: name META's id "
                             f"column with --id-col (and EMB's with --emb-id-col)")
        if len(meta) != len(ids):
            raise InputError(f"META has no '{id_col}' column and {len(meta)} rows for {len(ids)} embeddings")
        return None
    keys = meta[id_col].astype(str)
    if meta[id_col].isna().any() or keys.duplicated().any():
        raise InputError(f"META column '{id_col}' has missing or duplicated ids")
    pos = {k: i for i, k in enumerate(ids)}
    idx = np.array([pos.get(k, -1) for k in keys], dtype=np.int64)
    missing = int((idx < 0).sum())
    if missing:
        first = int(np.flatnonzero(idx < 0)[0])  # a row number: ids themselves are never printed
        raise InputError(f"{missing} of {len(meta)} META rows have no embedding: their '{id_col}' values are "
                         f"not in EMB's '{emb_id_col}' ids (first at META row {first})")
    return idx


def _task(meta: pd.DataFrame, labels: list[str]) -> tuple[str, list]:
    """'multilabel' (all labels 0/1) or 'multiclass' (one label with > 2 classes), and the classes."""
    for c in labels:
        if c not in meta.columns:
            raise InputError(f"label column '{c}' not found in META")
        if meta[c].isna().any():
            raise InputError(f"label column '{c}' has {int(meta[c].isna().sum())} missing values")
    if len(labels) == 1:
        vals = sorted(meta[labels[0]].unique().tolist(), key=str)
        if not set(vals) <= {0, 1}:
            if len(vals) < 2:
                raise InputError(f"label column '{labels[0]}' has a single class")
            return "multiclass", vals
        return "multilabel", [0, 1]
    for c in labels:
        if not set(meta[c].unique().tolist()) <= {0, 1}:
            raise InputError(f"label column '{c}' is not 0/1; multi-class probes take one label column")
    return "multilabel", [0, 1]


def _splits(meta: pd.DataFrame, split_col: str | None, patient_col: str | None, seed: int,
            stratify: str | None, allow_leaky_split: bool = False,
            warnings: list[str] | None = None) -> np.ndarray:
    from curate.audits.thresholds import TEST_NAMES, VAL_NAMES

    if split_col:
        if split_col not in meta.columns:
            raise InputError(f"split column '{split_col}' not found in META")
        raw = meta[split_col].astype(str).str.lower().to_numpy()
        out = np.where(np.isin(raw, VAL_NAMES), "validation",
                       np.where(np.isin(raw, TEST_NAMES), "test", np.where(raw == "train", "train", "")))
        if (out == "").any():
            raise InputError(f"split column '{split_col}' must hold train / validation / test "
                             f"({int((out == '').sum())} other values)")
        if not patient_col:
            patient_col = _patient_column(meta, split_col, allow_leaky_split, warnings)
        if patient_col:
            _check_leakage(meta, out, split_col, patient_col, allow_leaky_split, warnings)
    else:
        from curate.engine.splits import patient_splits

        out = patient_splits(meta, patient_col=patient_col, fractions=(0.8, 0.1, 0.1), names=SPLIT_NAMES,
                             seed=seed, stratify=stratify).to_numpy().astype(str)
    for name in SPLIT_NAMES:
        if not (out == name).any():
            raise InputError(f"the '{name}' split is empty; use more data or give --split-col")
    return out


def _patient_column(meta: pd.DataFrame, split_col: str, allow: bool,
                    warnings: list[str] | None) -> str | None:
    """The patient column that a given ``--split-col`` is checked against when ``--patient-col`` is not given:
    the column named like a patient id (``patient_id``, ``subject``, … — the roles' names), else a refusal
    (a split that puts one patient in two splits would leak silently), or with ``allow`` a warning."""
    from curate.policy.roles import NAMES, norm_name

    found = [c for c in meta.columns if norm_name(str(c)) in NAMES["patient"]]
    if found:
        return str(found[0])
    msg = (f"--split-col {split_col} without --patient-col: curate cannot check that no patient has images "
           "in two splits")
    if not allow:
        raise InputError(msg + "; give --patient-col (or --allow-leaky-split to train anyway)")
    if warnings is not None:
        warnings.append(msg + " (trained anyway: --allow-leaky-split)")
    return None


def _check_leakage(meta: pd.DataFrame, split: np.ndarray, split_col: str, patient_col: str, allow: bool,
                   warnings: list[str] | None) -> None:
    """Refuse (or, with ``allow``, warn about) a given split that puts one patient in two splits."""
    from curate.engine.splits import patients_in_several_splits

    frame = meta[[patient_col]].assign(_split=split)
    leaked = patients_in_several_splits(frame, split_col="_split", patient_col=patient_col)
    if not leaked:
        return
    msg = (f"split column '{split_col}' puts {leaked} patients (column '{patient_col}') in more than one "
           "split: their images leak from training into evaluation")
    if not allow:
        raise InputError(msg + "; fix the split or pass --allow-leaky-split to train anyway")
    if warnings is not None:
        warnings.append(msg + " (trained anyway: --allow-leaky-split)")


def probe(
    emb, meta, *, labels: str | Sequence[str], model: str = "mlp", mitigation: str = "none",
    group_col: str | None = None, seeds: int | Sequence[int] = 5, patient_col: str | None = None,
    split_col: str | None = None, epochs: int = 100, batch_size: int = 48, lr: float | None = None,
    device: str = "auto", meta_id_col: str = "id", emb_id_col: str | None = None, seed: int = 0,
    keep_cols: Sequence[str] | None = None, dro_eta: float = 0.01, standardize: bool = True,
    allow_leaky_split: bool = False, progress=None,
) -> ProbeResult:
    """Train a probe per seed on frozen embeddings and return validation + test predictions.

    ``preds`` has one row per (seed, validation/test image): ``id``, ``seed``, ``split``, for each label
    ``L`` the true value and ``score_L`` (probability), plus the patient column, ``group_col`` and META's
    group columns that pass the identifier policy (:func:`curate.policy.roles.group_columns`; or exactly
    ``keep_cols``) — the input of :func:`curate.audit`. A multi-class label ``L`` with classes c also gets
    one-vs-rest columns ``L_c`` (0/1) and ``score_L_c``. ``lr`` defaults to 1e-4 (bahre2025) for the MLP
    and 1e-3 for the linear probe. Inputs are standardised with training-split mean and standard deviation.

    META rows are matched to EMB by id: ``META[meta_id_col]`` against EMB's ``emb_id_col`` (default: the same
    name). Training then uses EMB's row order, so shuffling META's rows changes nothing. Only a bare array
    EMB (no ids) with a META lacking ``meta_id_col`` pairs rows by order.

    A given ``split_col`` that puts one patient (``patient_col``) in two splits is refused, or with
    ``allow_leaky_split`` accepted with a warning in ``info["warnings"]``.
    """
    import pandas as pd

    from curate.tables import read_table

    labels = [x.strip() for x in labels.split(",")] if isinstance(labels, str) else list(labels)
    labels = [x for x in labels if x]
    if not labels:
        raise UsageError("give at least one label column (--labels)")
    cfg = ProbeConfig(model=model, mitigation=mitigation, epochs=epochs, batch_size=batch_size,
                      lr=lr if lr is not None else (1e-4 if model == "mlp" else 1e-3), dro_eta=dro_eta,
                      device=device)
    cfg.validate()
    # one randomness parameter: ``seed`` fixes the split and is the first training seed; ``seeds`` is how
    # many training runs (seed, seed + 1, ...) or their explicit list
    seed_list = [seed + i for i in range(seeds)] if isinstance(seeds, int) else [int(s) for s in seeds]
    if not seed_list:
        raise ParameterError("seeds", "must be at least 1")
    if mitigation != "none" and not group_col:
        raise UsageError(f"--mitigation {mitigation} needs --group-col")
    df = read_table(meta)
    if group_col:  # roles accepted: --group-col sex → the sex column
        from curate.policy.roles import resolve_columns

        group_col = resolve_columns(df, [group_col])[0]
    _check_meta_columns(df, group_col, patient_col, keep_cols)
    task, classes = _task(df, labels)
    device = resolve_device(device, backend="torch")
    id_col = meta_id_col
    emb_id_col = emb_id_col or id_col
    ids, X, ids_given = load_vectors(emb, emb_id_col)
    idx = align(ids, df, id_col, emb_id_col, ids_given)
    if idx is not None:  # META rows in EMB's order: the result does not depend on META's row order
        order = np.argsort(idx, kind="stable")
        df = df.iloc[order].reset_index(drop=True)
        X = X[idx[order]]
    split_warnings: list[str] = []
    split = _splits(df, split_col, patient_col, seed, labels[0], allow_leaky_split, split_warnings)
    tr, va, te = (split == "train"), (split == "validation"), (split == "test")

    Xf = np.asarray(X, dtype=np.float32)
    if standardize:
        mu, sd = Xf[tr].mean(0), Xf[tr].std(0)
        Xf = (Xf - mu) / np.where(sd > 0, sd, 1.0)
    Y = _targets(df, labels, task, classes, tr)
    groups = None
    if group_col:
        groups = pd.Categorical(df[group_col].astype(str)).codes.astype(int)

    keep = _kept_columns(df, labels, keep_cols, id_col, split_col, patient_col, group_col)
    ev = va | te
    id_values = (df[id_col].astype(str) if id_col in df.columns else pd.Series(ids)).to_numpy()[ev]
    frames, runs = [], []
    for run_seed in seed_list:
        on_epoch = (None if progress is None else
                    (lambda done, total, s=run_seed: progress(f"training seed {s} (epochs)", done, total)))
        model_, info = train_head(Xf[tr], Y[tr], Xf[va], Y[va], task=task, config=cfg, seed=run_seed,
                                  groups_train=None if groups is None else groups[tr],
                                  groups_val=None if groups is None else groups[va], on_epoch=on_epoch)
        P = predict_proba(model_, Xf[ev], task)
        out = pd.DataFrame({"id": id_values, "seed": run_seed, "split": split[ev]})
        _add_labels_and_scores(out, df[ev], Y[ev], P, task, labels, classes)
        for c in keep:
            out[c] = df[c].to_numpy()[ev]
        frames.append(out)
        runs.append({"seed": run_seed, **info})
    preds = pd.concat(frames, ignore_index=True)
    info = _probe_info(cfg, task=task, labels=labels, classes=classes, dim=int(X.shape[1]),
                       group_col=group_col, patient_col=patient_col, split_col=split_col, seed=seed,
                       sizes=(tr, va, te), device=device, runs=runs, warnings=split_warnings, groups=groups,
                       df=df)
    return ProbeResult(preds, info)


def _probe_info(cfg: ProbeConfig, *, task, labels, classes, dim, group_col, patient_col, split_col, seed,
                sizes, device, runs, warnings, groups, df) -> dict[str, Any]:
    """The sidecar's model details (the model card reads them)."""
    import pandas as pd

    tr, va, te = sizes
    info = {
        "model": cfg.model, "mitigation": cfg.mitigation, "task": task, "labels": labels,
        "classes": [str(c) for c in classes] if task == "multiclass" else None,
        "hidden_sizes": list(hidden_sizes(dim)) if cfg.model == "mlp" else None,
        "embedding_dim": dim, "epochs_max": cfg.epochs, "batch_size": cfg.batch_size,
        "lr": cfg.lr, "weight_decay": cfg.weight_decay, "patience": cfg.patience,
        "group_col": group_col, "patient_col": patient_col,
        "split": {"source": split_col or "patient_splits 80/10/10", "seed": seed,
                  "train": int(tr.sum()), "validation": int(va.sum()), "test": int(te.sum())},
        "device": device, "runs": runs, "warnings": warnings,
    }
    if groups is not None:
        info["group_names"] = [str(c) for c in pd.Categorical(df[group_col].astype(str)).categories]
    return info


def _check_meta_columns(df: pd.DataFrame, group_col: str | None, patient_col: str | None,
                        keep_cols: Sequence[str] | None) -> None:
    from curate.policy.roles import check_columns

    for c in (group_col, patient_col):
        if c and c not in df.columns:
            raise InputError(f"column '{c}' not found in META")
        if c and df[c].isna().any():
            raise InputError(f"column '{c}' has {int(df[c].isna().sum())} missing values")
    if group_col:
        check_columns(df, [group_col], option="--group-col", patient_col=patient_col)
    for c in keep_cols or ():
        if c not in df.columns:
            raise InputError(f"column '{c}' (keep_cols) not found in META")


def _targets(df: pd.DataFrame, labels: list[str], task: str, classes: Any, tr: np.ndarray) -> np.ndarray:
    """Class indices (multiclass) or the (n, L) 0/1 matrix; every binary label needs both classes in train."""
    if task == "multiclass":
        cls_index = {c: i for i, c in enumerate(classes)}
        return df[labels[0]].map(cls_index).to_numpy().astype(int)
    Y = df[labels].to_numpy().astype(float)
    for j, c in enumerate(labels):
        if len(np.unique(Y[tr, j])) < 2:
            raise InputError(f"label '{c}' has one class only in the training split")
    return Y


def _kept_columns(df: pd.DataFrame, labels: list[str], keep_cols: Sequence[str] | None, id_col: str,
                  split_col: str | None, patient_col: str | None, group_col: str | None) -> list[str]:
    """Only what the audit needs travels: ids, split, labels, scores, the patient and the group columns that
    pass the identifier policy (never every metadata column: names or record numbers would be copied)."""
    from curate.policy.roles import group_columns
    from curate.synthetic import COLUMN as SYNTHETIC

    if keep_cols is not None:
        keep = [c for c in keep_cols if c not in set(labels) | {id_col, "seed", "split"}]
    else:
        keep = [c for c in (patient_col, group_col) if c] + [
            c for c in group_columns(df, exclude=set(labels) | {id_col, split_col, "seed", "split"},
                                     patient_col=patient_col) if c != group_col]
    if SYNTHETIC in df.columns and SYNTHETIC not in keep:
        keep.append(SYNTHETIC)  # synthetic data stays marked in the predictions (curate.synthetic)
    return keep


def _add_labels_and_scores(out: pd.DataFrame, rows: pd.DataFrame, Y: np.ndarray, P: np.ndarray, task: str,
                           labels: list[str], classes: Any) -> None:
    """The true labels (one 0/1 column per class for multiclass) and their ``score_`` columns."""
    if task == "multiclass":
        out[labels[0]] = rows[labels[0]].to_numpy()
        for i, c in enumerate(classes):
            out[f"{labels[0]}_{c}"] = (i == Y).astype(int)
            out[f"score_{labels[0]}_{c}"] = P[:, i]
    else:
        for j, c in enumerate(labels):
            out[c] = Y[:, j].astype(int)
            out[f"score_{c}"] = P[:, j]
