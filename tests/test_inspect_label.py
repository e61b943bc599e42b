"""Label manager: cleanlab on patient-grouped out-of-sample probabilities; annotator agreement."""

from __future__ import annotations

import numpy as np
import pytest

from curate.engine.inspect import InspectData
from curate.engine.inspect.label import LabelManager, LabelOptions, annotator_agreement, out_of_sample_proba
from curate.engine.inspect.planted import planted_label_flips
from curate.errors import InputError

cleanlab = pytest.importorskip("cleanlab")


def _data(X, m):
    return InspectData(X=X, labels=m.y.to_numpy(), patients=m.pid.to_numpy())


def test_flags_are_cleanlabs_on_the_grouped_probabilities():
    """The manager is cleanlab: same flags and scores as calling it directly on the same probabilities."""
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    X, m, _ = planted_label_flips(patients=60, seed=1)
    res = LabelManager().find(_data(X, m), seed=1).issues.sort_values("row")
    classes, P = out_of_sample_proba(X, m.y.to_numpy().astype(str), m.pid.to_numpy(), LabelOptions(seed=1))
    y = np.searchsorted(classes, m.y.to_numpy().astype(str))
    assert np.array_equal(res.flagged.to_numpy(), find_label_issues(y, P, n_jobs=1))
    assert np.allclose(res.score.to_numpy(), 1 - get_label_quality_scores(y, P))


def test_grouped_probabilities_are_out_of_patient():
    """A patient's own images never train the model that scores it: duplicating a patient's rows changes
    nothing for the others' folds, and a memorisable patient signal does not leak (score ≈ chance)."""
    rng = np.random.default_rng(0)
    pid = np.repeat(np.arange(40), 5).astype(str)
    y = rng.integers(0, 2, 40)[np.repeat(np.arange(40), 5)]  # labels per patient, unrelated to X's signal
    X = rng.normal(size=(40, 30))[np.repeat(np.arange(40), 5)] + 0.01 * rng.normal(size=(200, 30))
    from sklearn.metrics import roc_auc_score

    _, Pg = out_of_sample_proba(X, y.astype(str), pid, LabelOptions(grouped=True))
    _, Pu = out_of_sample_proba(X, y.astype(str), pid, LabelOptions(grouped=False))
    assert roc_auc_score(y, Pu[:, 1]) > 0.95  # ordinary folds memorise the patients
    assert roc_auc_score(y, Pg[:, 1]) < 0.75  # grouped folds cannot


def test_grouped_precision_at_k_not_below_ordinary():
    """Patient-level flips: precision@k (k = flipped rows) of the grouped version ≥ ordinary CV, on average
    over seeds (benchmarks/bench_inspect.py measures 20 seeds for docs/inspect.md)."""
    prec = {True: [], False: []}
    for seed in range(4):
        X, m, flipped = planted_label_flips(dim=32, patient_noise=1.0, label_signal=4.0, seed=seed)
        k = int(flipped.sum())
        for grouped in (True, False):
            iss = LabelManager().find(_data(X, m), grouped=grouped, seed=seed).issues
            prec[grouped].append(flipped[iss.row.to_numpy()[:k]].mean())
    assert np.mean(prec[True]) >= np.mean(prec[False]) - 0.02, prec
    assert np.mean(prec[True]) > 0.4  # far above the 10 % base rate


def test_annotator_agreement_against_hand_computed_kappas():
    a = np.array(["0", "0", "1", "1", "1", "0", "1", "0"])
    b = np.array(["0", "1", "1", "1", "0", "0", "1", "0"])
    c = np.array(["0", "0", "1", "1", "1", "0", "0", "0"])
    out = annotator_agreement({"a": a, "b": b, "c": c})
    # Cohen (a, b): po = 6/8, pe = (4*4 + 4*4)/64 = 0.5 → κ = 0.5
    assert out["pairs"][0]["cohen_kappa"] == pytest.approx(0.5)
    # Fleiss: per-row agreement P_i and chance P_e from the pooled shares
    votes = np.stack([a, b, c], 1).astype(int)
    ones = votes.sum(1)
    n = 3
    P_i = (ones * (ones - 1) + (n - ones) * (n - ones - 1)) / (n * (n - 1))
    p1 = ones.sum() / votes.size
    P_e = p1 ** 2 + (1 - p1) ** 2
    assert out["fleiss_kappa"] == pytest.approx((P_i.mean() - P_e) / (1 - P_e))


def test_single_class_label_is_stated_and_skipped():
    X, m, _ = planted_label_flips(patients=30, seed=0)
    m["y"] = 1
    res = LabelManager().find(_data(X, m))
    assert len(res.issues) == 0 and any("single class" in n for n in res.notes)


def test_too_few_patients_names_the_minimum():
    X, m, _ = planted_label_flips(patients=6, seed=0)
    with pytest.raises(InputError, match="needs at least 10"):
        LabelManager().find(_data(X, m))


def test_per_image_annotation_errors_planted():
    """unit="image": each chosen patient has exactly one mislabelled image, its others right."""
    X, m, flipped = planted_label_flips(unit="image", seed=2)
    wrong = m.y.to_numpy() != m.y_true.to_numpy()
    assert np.array_equal(wrong, flipped) and flipped.any()
    per_patient = m.assign(w=wrong).groupby("pid").w.sum()
    assert set(per_patient.unique()) <= {0, 1}
    _, mp, fp = planted_label_flips(seed=2)  # the patient mode is unchanged by the option
    assert (mp.y != mp.y_true).groupby(mp.pid).all().sum() == (mp.y != mp.y_true).groupby(mp.pid).any().sum()
    with pytest.raises(ValueError, match="unit"):
        planted_label_flips(unit="study")
