"""Statistics a reader can act on: tests of "no disparity", intervals that can contain 0, BCa for AUC,
ECE bins as Guo et al./scikit-learn. Oracles: fairlearn's MetricFrame, scikit-learn's calibration_curve,
scipy.stats.bootstrap (BCa), and simulation with a known truth (scipy's KS test for uniform p-values)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    equalized_odds_difference,
    true_positive_rate,
)
from scipy import stats
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_auc_score

from curate.audits import nulltests as NT
from curate.audits.metrics import GroupedStats, ece_bins, weighted_auc
from curate.pipeline.audit import audit

DISPARITIES = [("fairclip", "DPD"), ("fairclip", "DEOdds"), ("tpr_disparity", "TPR_diff"),
               ("tpr_disparity", "Gap")]


def _patients(rng, n_pat=120, per=2, gap=0.0, groups=("a", "b"), prevalence=(0.5, 0.5)):
    """Test set of ``n_pat`` patients with ``per`` images each; the model's score is shifted by ``gap`` for
    the last group's positives (a TPR disparity), otherwise the groups do not differ."""
    pid = np.repeat(np.arange(n_pat), per)
    gi = np.repeat(rng.integers(0, len(groups), n_pat), per)
    prev = np.asarray(prevalence)[np.minimum(gi, len(prevalence) - 1)]
    y = (rng.random(pid.size) < prev).astype(int)
    z = rng.normal(0, 1, pid.size) + np.repeat(rng.normal(0, 0.7, n_pat), per)  # patient effect
    z = z + 1.2 * y + gap * y * (gi == len(groups) - 1)
    score = 1 / (1 + np.exp(-(z - 0.6)))
    return pd.DataFrame({"pid": pid.astype(str), "grp": np.asarray(groups)[gi], "y": y, "score_y": score})


def _row(res, audit_name, metric, attribute="grp", group="all"):
    r = res[(res.audit == audit_name) & (res.metric == metric) & (res.attribute == attribute)
            & (res.group == group)]
    assert len(r) == 1, (audit_name, metric)
    return r.iloc[0]


# ---- point estimates: fairlearn's MetricFrame is the oracle, missing groups explicit -------------------

def test_point_estimates_equal_fairlearn_with_missing_group_explicit():
    rng = np.random.default_rng(3)
    df = _patients(rng, n_pat=300, per=1, groups=("a", "b", "c"), gap=0.8)
    df["grp"] = df["grp"].where(rng.random(len(df)) > 0.1)  # 10 % missing
    res = audit(df, label_cols="y", groups="grp", audits="fairclip,tpr_disparity", permutations=0).results
    sf = df["grp"].fillna("(missing)")  # fairlearn 0.15 rejects NaN: the same explicit group
    y, yp = df["y"], (df["score_y"] >= 0.5).astype(int)
    assert "(missing)" in set(res[res.attribute == "grp"].group)
    assert abs(_row(res, "fairclip", "DPD").value
               - demographic_parity_difference(y, yp, sensitive_features=sf)) < 1e-12
    assert abs(_row(res, "fairclip", "DEOdds").value
               - equalized_odds_difference(y, yp, sensitive_features=sf)) < 1e-12
    mf = MetricFrame(metrics=true_positive_rate, y_true=y, y_pred=yp, sensitive_features=sf)
    assert abs(_row(res, "tpr_disparity", "TPR_diff").value - mf.difference()) < 1e-12


# ---- ECE bins ((m−1)/M, m/M] as scikit-learn's calibration_curve ---------------------------------------

def test_ece_bins_match_sklearn_calibration_curve_on_bin_edges():
    rng = np.random.default_rng(0)
    score = np.r_[np.arange(11) / 10, np.round(rng.random(300), 1), rng.random(300)]  # many on the edges
    y = (rng.random(score.size) < score).astype(int)
    prob_true, prob_pred = calibration_curve(y, score, n_bins=10, strategy="uniform")
    b = ece_bins(score, 10)
    used = np.unique(b)
    ours_true = np.array([y[b == k].mean() for k in used])
    ours_pred = np.array([score[b == k].mean() for k in used])
    np.testing.assert_allclose(ours_true, prob_true, atol=1e-12)
    np.testing.assert_allclose(ours_pred, prob_pred, atol=1e-12)
    assert ece_bins(np.array([0.0, 0.1, 0.1000001, 1.0]), 10).tolist() == [0, 0, 1, 9]


# ---- the permutation --------------------------------------------------------------------------------------

def test_permutation_keeps_patients_together_and_labels_in_their_stratum():
    rng = np.random.default_rng(1)
    units = np.repeat(np.arange(50), 3)
    codes = np.repeat(rng.integers(0, 3, 50), 3)
    y = rng.integers(0, 2, units.size)
    pc, by_patient = NT.permuted_codes(codes, units, y, 40, rng)
    assert by_patient and pc.shape == (40, units.size)
    for row in pc:
        pairs = np.unique(np.stack([units, y, row]), axis=1)
        assert pairs.shape[1] == np.unique(np.stack([units, y]), axis=1).shape[1]  # one label per cluster
    # the same stratum sizes per group across permutations (a permutation, not a resample)
    def key(r):
        return sorted(np.unique(np.stack([units[y == 1], r[y == 1]]), axis=1)[1].tolist())

    assert key(pc[0]) == key(pc[1]) == key(codes)
    varying = codes.copy()
    varying[0] = (codes[0] + 1) % 3  # the attribute changes within patient 0: rows are the units
    assert not NT.permuted_codes(varying, units, y, 2, rng)[1]


def test_label_stratified_test_is_not_fooled_by_a_prevalence_difference():
    """Equal TPR and FPR (equalized odds holds) but very different prevalence: the DEOdds p-values stay
    uniform, because the shuffle keeps each group's number of positives and negatives."""
    rng = np.random.default_rng(4)
    ps = []
    for _ in range(60):
        df = _patients(rng, n_pat=160, per=1, prevalence=(0.2, 0.7))
        st = GroupedStats("y", "grp", ["a", "b"], (df.grp == "b").to_numpy().astype(int), df.y, df.score_y,
                          0.5, np.ones((1, len(df))))
        from curate.audits.builtin import FairCLIP

        null, _ = NT.null_distributions(st, [FairCLIP()], np.arange(len(df)), 199, int(rng.integers(1e9)))
        obs = FairCLIP().compute(st)
        deo = next(r for r in obs if r.metric == "DEOdds").values[0]
        ps.append(NT.permutation_p_value(deo, null[("fairclip", "DEOdds", "all")]))
    assert stats.kstest(ps, "uniform").pvalue > 0.01


# ---- under no disparity and under a disparity, end to end -----------------------------------------------

def _runs(gap, sims, seed):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(sims):
        df = _patients(rng, gap=gap)
        out.append(audit(df, label_cols="y", groups="grp", patient_col="pid", audits="fairclip,tpr_disparity",
                         bootstrap=200, permutations=199, seed=i).results)
    return out


def test_no_disparity_intervals_contain_zero_and_p_values_are_uniform():
    runs = _runs(0.0, 40, 14)
    for a, m in DISPARITIES:
        rows = [_row(r, a, m) for r in runs]
        contains = np.mean([r.ci_low <= 0 <= r.ci_high for r in rows])
        assert contains >= 0.8, (m, contains)  # was 0 of 200 with the percentile interval
        p = np.array([r.p_value for r in rows])
        assert np.all((p > 0) & (p <= 1))
        assert stats.kstest(p, "uniform").pvalue > 0.01, (m, np.sort(p))


def test_a_real_disparity_is_found():
    for res in _runs(2.5, 5, 12):
        for a, m in (("tpr_disparity", "TPR_diff"), ("tpr_disparity", "Gap")):
            r = _row(res, a, m)
            assert r.p_value < 0.05 and r.ci_low > 0, (m, r.p_value, r.ci_low)


def test_permutations_are_validated():
    df = _patients(np.random.default_rng(0), n_pat=30)
    from curate.errors import UsageError

    for bad in (-1, 1.5, True):
        with pytest.raises(UsageError, match="permutations"):
            audit(df, label_cols="y", groups="grp", permutations=bad)


# ---- BCa: scipy.stats.bootstrap is the oracle ------------------------------------------------------------

def test_bca_interval_matches_scipy_bootstrap_bca():
    rng = np.random.default_rng(2)
    n = 150  # one image per patient and n ≤ 200 jackknife blocks: the plain jackknife scipy uses
    y = rng.integers(0, 2, n).astype(float)
    score = rng.normal(0, 1, n) + 0.8 * y
    units = np.arange(n)
    W = np.vstack([np.ones((1, n))] + [np.vstack(list(NT.jackknife_chunks(units, n)))])
    vals = weighted_auc(y, score, W)
    from curate.audits.bootstrap import bootstrap_weights

    reps = weighted_auc(y, score, bootstrap_weights(units, n, 20000, rng))
    lo, hi = NT.bca_interval(vals[0], reps, vals[1:])
    def auc(idx, axis=-1):  # scipy resamples indices; AUC of each resample (checked equal to sklearn below)
        flat = np.atleast_2d(idx)
        w = np.stack([np.bincount(i, minlength=n) for i in flat]).astype(float)
        out = weighted_auc(y, score, w)
        return out if np.ndim(idx) > 1 else out[0]

    ref = stats.bootstrap((np.arange(n),), auc, vectorized=True, n_resamples=8000, method="BCa",
                          random_state=3).confidence_interval
    assert abs(lo - ref.low) < 0.01 and abs(hi - ref.high) < 0.01, ((lo, hi), ref)
    assert abs(vals[0] - roc_auc_score(y, score)) < 1e-12
