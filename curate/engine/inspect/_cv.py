"""Patient-grouped cross-validation pieces shared by the inspect managers (sklearn underneath).

Folds are drawn over patients (``sklearn.model_selection.GroupKFold(shuffle=True)``), so no patient has
images on both sides of a split (Roberts et al. 2021, "Common pitfalls": patient overlap inflates
performance). Out-of-fold probabilities come from ``sklearn.linear_model.LogisticRegression``; intervals
are percentile bootstraps over patients (the resampling unit is the independent one).
"""

from __future__ import annotations

import contextlib

import numpy as np

from curate.errors import InputError

#: Fewest patients per fold the grouped cross-validation accepts.
MIN_PATIENTS_PER_FOLD = 2


def min_patients(n_splits: int) -> int:
    return MIN_PATIENTS_PER_FOLD * n_splits


def check_patients(patients: np.ndarray, n_splits: int, what: str = "the data") -> None:
    """One-line error when ``patients`` is too few for ``n_splits`` grouped folds (naming the minimum)."""
    have = len(np.unique(patients))
    need = min_patients(n_splits)
    if have < need:
        raise InputError(f"{what} has {have} patients; patient-grouped {n_splits}-fold cross-validation "
                         f"needs at least {need} ({MIN_PATIENTS_PER_FOLD} per fold): lower n_splits "
                         "(--folds) or add data")


def patient_folds(patients: np.ndarray, n_splits: int, seed: int) -> np.ndarray:
    """Fold number (0..n_splits-1) per row; every patient's rows share one fold."""
    from sklearn.model_selection import GroupKFold

    _, inv = np.unique(np.asarray(patients).astype(str), return_inverse=True)
    folds = np.empty(len(inv), dtype=np.int64)
    splitter = GroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    for f, (_, te) in enumerate(splitter.split(np.zeros(len(inv)), groups=inv)):
        folds[te] = f
    return folds


def reduce(X: np.ndarray, components: int | None, seed: int) -> np.ndarray:
    """Standardised embeddings, reduced to ``components`` principal components when d is larger.

    PCA is fitted on all rows without labels or attributes, so it leaks nothing into any fold and leaves
    permutation tests exact (it is the same for every permutation).
    """
    from sklearn.decomposition import PCA

    X = np.asarray(X, dtype=np.float64)
    if components and X.shape[1] > components and X.shape[0] > components:
        X = PCA(n_components=components, random_state=seed).fit_transform(X)
    sd = X.std(0)
    return (X - X.mean(0)) / np.where(sd > 0, sd, 1.0)


def oof_proba(X: np.ndarray, y: np.ndarray, folds: np.ndarray, classes: np.ndarray, *,
              test_sets: list[tuple[np.ndarray, np.ndarray]] | None = None) -> np.ndarray:
    """Out-of-fold class probabilities (n, len(classes)) from logistic regression.

    ``test_sets`` (train mask, test mask) pairs replace the folds (e.g. leave-one-site-out). A training set
    with a single class predicts that class's training share (the prior) for its test rows.
    """
    from sklearn.linear_model import LogisticRegression

    n = len(y)
    P = np.full((n, len(classes)), np.nan)
    pos = {c: i for i, c in enumerate(classes)}
    if test_sets is None:
        test_sets = [(folds != f, folds == f) for f in np.unique(folds)]
    for tr, te in test_sets:
        if not te.any():
            continue
        present = np.unique(y[tr])
        if len(present) < 2:
            P[te] = 0.0
            if len(present):
                P[np.ix_(te, [pos[present[0]]])] = 1.0
            continue
        model = LogisticRegression(solver="newton-cholesky", max_iter=200).fit(X[tr], y[tr])
        P[np.ix_(te, [pos[c] for c in model.classes_])] = model.predict_proba(X[te])
        P[te] = np.nan_to_num(P[te])
    return P


def binary_auc(positive: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC as the Mann-Whitney U statistic over mid-ranks (ties count one half); equal to
    ``sklearn.metrics.roc_auc_score`` (tested), without its per-call validation cost, which dominates the
    thousands of calls of a permutation test or bootstrap."""
    from scipy.stats import rankdata

    positive = np.asarray(positive, dtype=bool)
    n1 = int(positive.sum())
    n0 = len(positive) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = rankdata(score)
    return float((r[positive].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def auc(y: np.ndarray, P: np.ndarray, classes: np.ndarray) -> float:
    """ROC AUC: binary, or macro one-vs-rest for more classes (nan when y has a single class)."""
    from sklearn.metrics import roc_auc_score

    present = np.unique(y)
    if len(present) < 2:
        return float("nan")
    if len(classes) == 2:
        return binary_auc(y == classes[1], P[:, 1])
    keep = np.isin(classes, present)
    Q = P[:, keep]
    s = Q.sum(1, keepdims=True)
    Q = np.where(s > 0, Q / np.where(s > 0, s, 1), 1.0 / Q.shape[1])
    if Q.shape[1] == 2:
        return float(roc_auc_score(y == classes[keep][1], Q[:, 1]))
    return float(roc_auc_score(y, Q, multi_class="ovr", labels=classes[keep]))


@contextlib.contextmanager
def fast_sklearn():
    """One BLAS thread and no per-call sklearn validation: the loops here fit thousands of small models on
    inputs already checked, where threads and validation cost more than the fits."""
    from sklearn import config_context
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1), config_context(assume_finite=True, skip_parameter_validation=True):
        yield


def patient_bootstrap(patients: np.ndarray, stat, *, n_boot: int, seed: int,
                      level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of ``stat(rows)`` over patients resampled with replacement (nan-safe)."""
    _, inv = np.unique(np.asarray(patients).astype(str), return_inverse=True)
    order = np.argsort(inv, kind="stable")
    starts = np.searchsorted(inv[order], np.arange(inv.max() + 1))
    ends = np.append(starts[1:], len(inv))
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(n_boot):
        pick = rng.integers(0, len(starts), len(starts))
        rows = np.concatenate([order[starts[p]:ends[p]] for p in pick])
        v = stat(rows)
        if np.isfinite(v):
            vals.append(v)
    if not vals:
        return float("nan"), float("nan")
    a = (1 - level) / 2
    return float(np.quantile(vals, a)), float(np.quantile(vals, 1 - a))
