"""Outlier and near-duplicate managers: the engine's searches, checked against brute force (numpy)."""

from __future__ import annotations

import numpy as np
import pytest

from curate.engine.inspect import InspectData, get_managers
from curate.engine.inspect.near_duplicate import NearDuplicateManager
from curate.engine.inspect.outlier import OutlierManager, kth_other_patient_distance, robust_z
from curate.engine.inspect.planted import planted_near_copies, planted_outliers
from curate.errors import UsageError

pytest.importorskip("faiss")


def _brute_kth(X, patients, k):
    """k-th smallest cosine distance to another patient's row, by the full n × n matrix."""
    x = X / np.linalg.norm(X, axis=1, keepdims=True)
    d = 1.0 - x @ x.T
    d[patients[:, None] == patients[None, :]] = np.inf
    return np.sort(d, axis=1)[:, k - 1]


@pytest.mark.parametrize("k", [1, 3, 10])
def test_kth_neighbour_distance_is_brute_force(k):
    X, pid, _ = planted_outliers(patients=120, per_patient=3, seed=k)
    got = kth_other_patient_distance(X, pid, k)
    assert np.allclose(got, _brute_kth(X.astype(np.float64), pid, k), atol=1e-5)


def test_own_patient_is_not_a_neighbour():
    """Two images of one patient that are identical still get the distance to other patients."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 8))
    X[1] = X[0]
    pid = np.arange(50).astype(str)
    pid[1] = pid[0]
    got = kth_other_patient_distance(X, pid, 1)
    assert got[0] > 0.01 and np.isclose(got[0], got[1])
    assert np.allclose(got, _brute_kth(X, pid, 1), atol=1e-5)


def test_robust_z_matches_scipy_mad():
    from scipy.stats import median_abs_deviation

    s = np.random.default_rng(1).gamma(2.0, size=200)
    mad = median_abs_deviation(s, scale="normal")
    assert np.allclose(robust_z(s), (s - np.median(s)) / mad)


def test_planted_outliers_found():
    """Every image of the planted outlier patients is flagged in each of 10 seeds; of the normal images
    at most 2 % are flagged over the 10 seeds together (a seed whose rare cluster holds a few patients
    flags those: they are far from everyone else too)."""
    false = normal = 0
    for seed in range(10):
        X, pid, mask = planted_outliers(seed=seed)
        res = OutlierManager().find(InspectData(X=X, patients=pid))
        flagged = np.zeros(len(X), bool)
        flagged[res.issues.loc[res.issues.flagged, "row"].to_numpy()] = True
        assert flagged[mask].all()
        assert res.summary["flagged"] == flagged.sum()
        false, normal = false + flagged[~mask].sum(), normal + (~mask).sum()
    assert false / normal <= 0.02


def test_outlier_patient_with_several_images_not_hidden():
    """With k = 1 and 3 images per patient, ignoring the patient's own images is what finds it."""
    X, pid, mask = planted_outliers(patients=200, per_patient=3, outliers=1, seed=3)
    res = OutlierManager().find(InspectData(X=X, patients=pid), k=1)
    assert set(res.issues.loc[res.issues.flagged, "row"]) >= set(np.flatnonzero(mask))
    # the same images, each its own patient: the outlier's own copies hide it
    alone = OutlierManager().find(InspectData(X=X, patients=None), k=1)
    assert not alone.issues.set_index("row").loc[np.flatnonzero(mask), "flagged"].any()


def test_outlier_bad_parameters():
    X, pid, _ = planted_outliers(patients=30)
    with pytest.raises(UsageError, match="k must"):
        OutlierManager().find(InspectData(X=X, patients=pid), k=0)


def _brute_pairs(X, t):
    x = X / np.linalg.norm(X, axis=1, keepdims=True)
    s = x @ x.T
    i, j = np.nonzero(np.triu(s >= t, 1))
    return set(zip(i.tolist(), j.tolist()))


@pytest.mark.parametrize("seed", range(3))
def test_planted_near_copies_are_the_groups(seed):
    X, pairs = planted_near_copies(seed=seed)
    res = NearDuplicateManager().find(InspectData(X=X))
    iss = res.issues
    assert set(iss.row) == set(pairs.ravel())
    assert {tuple(sorted(p)) for p in pairs.tolist()} == _brute_pairs(X.astype(np.float64), 0.95)
    for a, b in pairs:  # each original and its copy share a group
        assert iss.set_index("row").loc[a, "group"] == iss.set_index("row").loc[b, "group"]
    assert res.summary["groups"] == len(pairs) and res.summary["pairs"] == len(pairs)
    assert (iss.score >= 0.95).all()


def test_near_duplicates_at_a_lower_threshold_match_brute_force():
    X, _ = planted_near_copies(rows=200, dim=4, seed=4)
    t = 0.9
    res = NearDuplicateManager().find(InspectData(X=X), threshold=t)
    rows = {r for p in _brute_pairs(X.astype(np.float64), t) for r in p}
    assert set(res.issues.row) == rows
    assert res.summary["threshold"] == t


def test_near_copies_across_patients_counted():
    X, pairs = planted_near_copies(rows=100, copies=4, seed=5)
    pid = np.arange(len(X)).astype(str)
    pid[pairs[0, 1]] = pid[pairs[0, 0]]  # one copy belongs to the same patient as its original
    res = NearDuplicateManager().find(InspectData(X=X, patients=pid))
    assert res.summary["pairs_across_patients"] == 3


def test_registered():
    names = [m.name for m in get_managers(["outlier", "near_duplicate"])]
    assert names == ["outlier", "near_duplicate"]
