"""Shortcut manager: a planted camera signal is flagged; random cameras are not (false-flag rate bound)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom

from curate.engine.inspect import InspectData, get_managers, manager_names
from curate.engine.inspect._cv import auc, binary_auc, check_patients, patient_folds
from curate.engine.inspect.planted import planted_shortcut
from curate.engine.inspect.shortcut import ShortcutManager, ShortcutOptions, readability
from curate.errors import InputError, UsageError

pytest.importorskip("sklearn")


def _data(X, m, attrs=("camera",)):
    return InspectData(X=X, labels=m.y.to_numpy(), attributes={a: m[a].to_numpy() for a in attrs},
                       patients=m.pid.to_numpy())


def test_binary_auc_matches_sklearn():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(3)
    for _ in range(20):
        y = rng.integers(0, 2, 50).astype(bool)
        s = rng.integers(0, 5, 50).astype(float)  # many ties
        assert binary_auc(y, s) == pytest.approx(roc_auc_score(y, s))
    P = rng.dirichlet(np.ones(3), 60)
    y3 = np.array(["a", "b", "c"])[rng.integers(0, 3, 60)]
    assert auc(y3, P, np.array(["a", "b", "c"])) == pytest.approx(
        roc_auc_score(y3, P, multi_class="ovr", labels=["a", "b", "c"]))


def test_folds_keep_patients_together():
    pid = np.repeat(np.arange(30), 3).astype(str)
    f = patient_folds(pid, 5, seed=1)
    for p in np.unique(pid):
        assert len(set(f[pid == p])) == 1
    assert len(set(f)) == 5


def test_planted_camera_is_flagged():
    """Camera signal within label classes at strength 2: detection AUC ≥ 0.9 and verdict readable."""
    for seed in range(3):
        X, m = planted_shortcut(strength=2.0, seed=seed)
        res = ShortcutManager().find(_data(X, m), permutations=19, n_boot=50, seed=seed)
        row = res.table.iloc[0]
        assert row.within_label_auc >= 0.9
        assert row.within_label_auc_low > 0.5
        assert row.permutation_p <= 0.05
        assert row.readable and row.verdict in ("encoded", "shortcut")
        assert not row.label_linked  # the camera was drawn independently of the label


def test_camera_linked_to_label_is_a_shortcut():
    X, m = planted_shortcut(strength=2.0, camera_label_link=0.9, patients=80, seed=5)
    row = ShortcutManager().find(_data(X, m), permutations=19, n_boot=50).table.iloc[0]
    assert row.verdict == "shortcut"
    assert row.attribute_label_auc > 0.8 and row.cramers_v > 0.5


def test_random_cameras_false_flag_rate():
    """Cameras permuted at random: flagged in ≤ 5 % of seeds. 20 seeds here (one core, < 60 s); the 100-seed
    measurement is benchmarks/bench_inspect.py (docs/inspect.md). With a true rate of 5 %, P(≥ 4 of 20) =
    0.016, so ≥ 4 flags would reject a rate of 5 % at the 2 % level."""
    opt = ShortcutOptions(permutations=19, n_boot=20)
    flags = 0
    seeds = range(100, 120)
    for seed in seeds:
        X, m = planted_shortcut(strength=0.0, patients=40, dim=6, seed=seed)
        pid = m.pid.to_numpy()
        cams = m.camera.to_numpy()
        rng = np.random.default_rng(seed)
        first = np.unique(pid, return_index=True)[1]
        perm = dict(zip(pid[first], cams[first][rng.permutation(len(first))]))
        cams = np.array([perm[p] for p in pid])
        r = readability(X, cams, m.y.to_numpy().astype(str), pid, opt)
        flags += r["p"] <= opt.alpha and r["auc"] >= opt.min_auc
    assert binom.sf(flags - 1, len(seeds), 0.05) > 0.02, flags


def test_one_valued_attribute_and_label_are_stated_and_skipped():
    X, m = planted_shortcut(strength=2.0, seed=0)
    m["site"] = "A"
    res = ShortcutManager().find(_data(X, m, ("camera", "site")), permutations=19, n_boot=20)
    assert list(res.table.attribute) == ["camera"]
    assert any("'site'" in n and "single value" in n for n in res.notes)
    one = InspectData(X=X, labels=np.zeros(len(m)), attributes={"camera": m.camera.to_numpy()},
                      patients=m.pid.to_numpy())
    res = ShortcutManager().find(one, permutations=19, n_boot=20)
    assert any("single class" in n for n in res.notes)
    assert res.table.iloc[0].readable and "attribute_label_auc" not in res.table


def test_too_few_patients_names_the_minimum():
    with pytest.raises(InputError, match="at least 10"):
        check_patients(np.arange(7), 5)
    X, m = planted_shortcut(patients=8, seed=0)
    with pytest.raises(InputError, match="needs at least 10"):
        ShortcutManager().find(_data(X, m))


def test_registry():
    assert manager_names()[:2] == ["shortcut", "label"]
    assert [g.name for g in get_managers(["shortcut"])] == ["shortcut"]
    with pytest.raises(UsageError, match="unknown check 'nope'"):
        get_managers(["nope"])
    with pytest.raises(UsageError, match="permutations"):
        ShortcutOptions(permutations=0).validate()


def test_three_cameras_three_classes_and_per_image_attribute():
    """Multi-valued attribute, multi-class label, an attribute that varies within patients: all run, and
    a planted 3-camera signal is still read (macro one-vs-rest AUC)."""
    X, m = planted_shortcut(strength=2.0, cameras=3, patients=90, seed=7)
    rng = np.random.default_rng(7)
    m["y"] = rng.integers(0, 3, len(m))  # per image, three classes
    m["view"] = rng.choice(["AP", "PA"], len(m))  # varies within patients, no signal
    with pytest.raises(UsageError, match="permutations=19 cannot give p ≤ 0.025 .* use at least 39"):
        ShortcutManager().find(_data(X, m, ("camera", "view")), permutations=19, n_boot=20)
    res = ShortcutManager().find(_data(X, m, ("camera", "view")), n_boot=20)  # default: 79 permutations
    assert res.summary["permutations"] == 79
    t = res.table.set_index("attribute")
    assert t.loc["camera", "readable"] and t.loc["camera", "within_label_auc"] > 0.8
    assert not t.loc["view", "readable"]
    assert np.isfinite(t.loc["camera", "held_out_drop"])
