"""Audit metrics against independent truth: scikit-learn, fairlearn, scipy and hand-worked seed examples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    equalized_odds_difference,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import f1_score, recall_score, roc_auc_score

from curate.audits import arrays as A
from curate.audits import metrics as M
from curate.audits.bootstrap import bootstrap_weights, percentile_ci
from curate.audits.thresholds import f1_optimal_threshold
from curate.errors import InputError, UsageError
from curate.pipeline.audit import audit


def _data(n=600, seed=0, groups=("a", "b", "c")):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    score = np.round(np.clip(0.3 * y + 0.7 * rng.random(n), 0, 1), 2)  # rounding creates ties
    g = rng.choice(list(groups), n)
    return y, score, g


def _frame(n=800, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "y": rng.integers(0, 2, n), "z": rng.integers(0, 2, n),
        "sex": rng.choice(["F", "M"], n), "age_group": rng.choice(["18-40", "40-60", "60+"], n),
        "pid": rng.integers(0, 300, n),
    })
    df["score_y"] = np.round(np.clip(0.35 * df.y + 0.65 * rng.random(n), 0, 1), 3)
    df["score_z"] = np.round(np.clip(0.2 * df.z + 0.8 * rng.random(n), 0, 1), 3)
    return df


def _get(res, **kw):
    m = np.ones(len(res), dtype=bool)
    for k, v in kw.items():
        m &= (res[k] == v).to_numpy()
    assert m.sum() == 1, kw
    return res[m].iloc[0]


# ---- equal to sklearn / fairlearn where they compute the same quantity ----------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auc_equals_sklearn_with_ties_and_weights(seed):
    y, s, _ = _data(seed=seed)
    assert abs(M.weighted_auc(y, s, np.ones((1, len(y))))[0] - roc_auc_score(y, s)) < 1e-9
    w = np.random.default_rng(seed).integers(0, 4, len(y)).astype(float)  # bootstrap-style multiplicities
    assert abs(M.weighted_auc(y, s, w[None])[0] - roc_auc_score(y, s, sample_weight=w)) < 1e-9


@pytest.mark.parametrize("groups", [("F", "M"), ("a", "b", "c"), ("w", "x", "y", "z")])
@pytest.mark.parametrize("thr", [0.3, 0.5, 0.7])
def test_dpd_and_deodds_equal_fairlearn(groups, thr):
    y, s, g = _data(groups=groups)
    yp = (s >= thr).astype(int)
    assert abs(A.demographic_parity_difference(y, yp, sensitive_features=g)
               - demographic_parity_difference(y, yp, sensitive_features=g)) < 1e-9
    assert abs(A.equalized_odds_difference(y, yp, sensitive_features=g)
               - equalized_odds_difference(y, yp, sensitive_features=g)) < 1e-9


def test_audit_rows_equal_metricframe_and_sklearn():
    df = _frame()
    res = audit(df, label_cols="y,z", groups="sex,age_group", threshold=0.5).results
    for lab in ("y", "z"):
        yp = (df[f"score_{lab}"] >= 0.5).astype(int)
        for attr in ("sex", "age_group"):
            mf = MetricFrame(metrics={"TPR": true_positive_rate, "FPR": false_positive_rate,
                                      "sel": selection_rate},
                             y_true=df[lab], y_pred=yp, sensitive_features=df[attr])
            for g, row in mf.by_group.iterrows():
                for metric in ("TPR", "FPR"):
                    got = _get(res, audit="performance", metric=metric, label=lab, attribute=attr, group=g)
                    assert abs(got.value - row[metric]) < 1e-9
                sub = df[attr] == g
                auc = _get(res, audit="performance", metric="AUC", label=lab, attribute=attr, group=g)
                assert abs(auc.value - roc_auc_score(df[lab][sub], df[f"score_{lab}"][sub])) < 1e-9
                assert auc.n == sub.sum()
            dpd = _get(res, metric="DPD", label=lab, attribute=attr).value
            assert abs(dpd - demographic_parity_difference(df[lab], yp, sensitive_features=df[attr])) < 1e-9
            deo = _get(res, metric="DEOdds", label=lab, attribute=attr).value
            assert abs(deo - equalized_odds_difference(df[lab], yp, sensitive_features=df[attr])) < 1e-9
        overall = _get(res, audit="performance", metric="AUC", label=lab, attribute="overall")
        assert abs(overall.value - roc_auc_score(df[lab], df[f"score_{lab}"])) < 1e-9
        assert abs(_get(res, audit="performance", metric="TPR", label=lab, attribute="overall").value
                   - recall_score(df[lab], yp)) < 1e-9


def test_es_auc_matches_formula_with_sklearn_group_aucs():
    y, s, g = _data()
    auc = roc_auc_score(y, s)
    dev = sum(abs(auc - roc_auc_score(y[g == k], s[g == k])) for k in np.unique(g))
    assert abs(A.es_auc(y, s, sensitive_features=g) - auc / (1 + dev)) < 1e-12
    by = A.group_auc(y, s, sensitive_features=g)
    assert all(abs(by[k] - roc_auc_score(y[g == k], s[g == k])) < 1e-9 for k in by)


def test_intersection_groups_equal_metricframe_with_two_features():
    df = _frame()
    res = audit(df, label_cols="y", groups="sex", intersect=["sex,age_group"], audits="performance").results
    yp = (df.score_y >= 0.5).astype(int)
    mf = MetricFrame(metrics=true_positive_rate, y_true=df.y, y_pred=yp,
                     sensitive_features=df[["sex", "age_group"]])
    assert (res.attribute == "sex×age_group").any()
    for (sx, ag), v in mf.by_group.items():
        got = _get(res, metric="TPR", attribute="sex×age_group", group=f"{sx}×{ag}")
        assert abs(got.value - v) < 1e-9


# ---- hand-worked examples from the seed papers' formulas ------------------------------------------------


def _hand(tprs: dict[str, tuple[int, int]], fprs: dict[str, tuple[int, int]] | None = None):
    """Rows with given (detected positives, positives) and (false alarms, negatives) per group."""
    ys, yp, gs = [], [], []
    for g, (tp, p) in tprs.items():
        ys += [1] * p
        yp += [1] * tp + [0] * (p - tp)
        gs += [g] * p
    for g, (fp, n) in (fprs or {}).items():
        ys += [0] * n
        yp += [1] * fp + [0] * (n - fp)
        gs += [g] * n
    return np.array(ys), np.array(yp), np.array(gs)


def test_tpr_disparity_binary_attribute_bahre_eq1():
    # F: 3 of 4 positives detected (TPR .75); M: 5 of 5 (TPR 1.0)
    y, yp, g = _hand({"F": (3, 4), "M": (5, 5)})
    d = A.tpr_disparities(y, yp, sensitive_features=g)
    assert d == pytest.approx({"F": -0.25, "M": 0.25})
    assert A.gap(y, yp, sensitive_features=g) == pytest.approx(0.5)  # eq. 3 literally: max − min


def test_tpr_disparity_nonbinary_uses_median_bahre_eq2():
    # TPRs .5, .75, 1.0, .25 → median .625
    y, yp, g = _hand({"A": (2, 4), "B": (3, 4), "C": (4, 4), "D": (1, 4)})
    d = A.tpr_disparities(y, yp, sensitive_features=g)
    assert d == pytest.approx({"A": -0.125, "B": 0.125, "C": 0.375, "D": -0.375})
    assert A.gap(y, yp, sensitive_features=g) == pytest.approx(0.75)


def test_average_gap_over_labels():
    # label y: F .75 vs M 1.0 → Gap .5 ; label z: F .5 vs M .6 → Gap .2 ; average .35
    y1, p1, g1 = _hand({"F": (3, 4), "M": (5, 5)}, {"F": (0, 1), "M": (0, 1)})
    y2, p2, g2 = _hand({"F": (2, 4), "M": (3, 5)}, {"F": (0, 1), "M": (0, 1)})
    assert list(g1) == list(g2)
    df = pd.DataFrame({"y": y1, "score_y": p1.astype(float), "z": y2, "score_z": p2.astype(float), "sex": g1})
    res = audit(df, label_cols="y,z", groups="sex", audits="tpr_disparity").results
    assert _get(res, metric="Gap", label="y").value == pytest.approx(0.5)
    assert _get(res, metric="Gap", label="z").value == pytest.approx(0.2)
    assert _get(res, metric="average_Gap", label="all labels", attribute="sex").value == pytest.approx(0.35)


def test_eod_and_aod_follow_germani_definition():
    # g1: TPR 3/4, FPR 2/4 ; g2: TPR 2/4, FPR 1/4
    y, yp, g = _hand({"g1": (3, 4), "g2": (2, 4)}, {"g1": (2, 4), "g2": (1, 4)})
    eod = A.equal_opportunity_differences(y, yp, sensitive_features=g)
    aod = A.average_odds_sums(y, yp, sensitive_features=g)
    assert eod == pytest.approx({"g1": 0.25, "g2": -0.25})
    # germani2025: AOD = EOD + FPR difference = .25 + .25 = .5, hence the name AOD_sum; the usual average
    # odds difference (average_odds_differences, AOD_mean) halves it
    assert aod == pytest.approx({"g1": 0.5, "g2": -0.5})
    assert A.average_odds_differences(y, yp, sensitive_features=g) == pytest.approx({"g1": 0.25, "g2": -0.25})


def test_eod_multigroup_is_group_vs_rest():
    y, yp, g = _hand({"a": (1, 2), "b": (2, 2), "c": (1, 4)})
    eod = A.equal_opportunity_differences(y, yp, sensitive_features=g)
    assert eod["a"] == pytest.approx(0.5 - 3 / 6)
    assert eod["c"] == pytest.approx(0.25 - 3 / 4)


def test_expected_calibration_error_hand_worked():
    # bin [0.1,0.2): scores .15,.15 labels 0,1 → |1 − .3| ; bin [0.9,1]: .95,.95 labels 1,1 → |2 − 1.9|
    y = np.array([0, 1, 1, 1])
    s = np.array([0.15, 0.15, 0.95, 0.95])
    assert A.expected_calibration_error(y, s) == pytest.approx((0.7 + 0.1) / 4)


# ---- thresholds ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_f1_optimal_threshold_matches_brute_force(seed):
    y, s, _ = _data(n=300, seed=seed)
    t = f1_optimal_threshold(y, s)
    cands = np.unique(s)
    f1s = np.array([f1_score(y, (s >= c).astype(int)) for c in cands])
    assert f1_score(y, (s >= t).astype(int)) == pytest.approx(f1s.max())
    assert t == cands[np.flatnonzero(np.isclose(f1s, f1s.max()))].max()


def test_f1_thresholds_chosen_on_validation_applied_to_test():
    df = _frame(1200)
    df["split"] = np.where(np.arange(len(df)) % 2 == 0, "validation", "test")
    r = audit(df, label_cols="y", groups="sex", threshold="f1", audits="performance")
    val, test = df[df.split == "validation"], df[df.split == "test"]
    t = f1_optimal_threshold(val.y, val.score_y)
    assert r.thresholds["y"] == [t]
    got = _get(r.results, metric="TPR", attribute="overall").value
    assert abs(got - recall_score(test.y, (test.score_y >= t).astype(int))) < 1e-12
    assert _get(r.results, metric="AUC", attribute="overall").n == len(test)


# ---- uncertainty ----------------------------------------------------------------------------------------


def _coverage(clustered: bool, patient_level: bool, sims=200, B=200, n_pat=100, per=3, tpr=0.7037):
    rng = np.random.default_rng(42)
    hits = 0
    units = np.repeat(np.arange(n_pat), per)
    for _ in range(sims):
        # clustered: all images of a patient share the outcome (strongly correlated within a patient)
        det = np.repeat(rng.random(n_pat) < tpr, per) if clustered else rng.random(n_pat * per) < tpr
        y = np.ones(n_pat * per)
        score = det.astype(float)
        if patient_level:
            W = bootstrap_weights(units, n_pat, B, rng)
        else:
            W = bootstrap_weights(np.arange(units.size), units.size, B, rng)
        st = M.GroupedStats("y", "all", ["all"], np.zeros(units.size, int), y, score, 0.5, W)
        lo, hi = percentile_ci(st.tpr_all)
        hits += lo <= tpr <= hi
    return hits / sims


def test_bootstrap_coverage_near_nominal():
    cov = _coverage(clustered=False, patient_level=False)
    assert 0.90 <= cov <= 0.985, cov


def test_patient_bootstrap_keeps_coverage_where_image_bootstrap_fails():
    cov_patient = _coverage(clustered=True, patient_level=True)
    cov_image = _coverage(clustered=True, patient_level=False)
    assert 0.90 <= cov_patient <= 0.985, cov_patient
    assert cov_image < 0.85, cov_image  # images of one patient are not independent


def test_seed_aggregation_mean_and_t_interval():
    from scipy import stats

    frames = []
    for seed in range(4):
        d = _frame(300, seed=seed)
        d["seed"] = seed
        frames.append(d)
    df = pd.concat(frames, ignore_index=True)
    res = audit(df, label_cols="y", groups="sex", audits="performance", seed_col="seed").results
    per = np.array([roc_auc_score(f.y, f.score_y) for f in frames])
    row = _get(res, metric="AUC", attribute="overall")
    assert abs(row.value - per.mean()) < 1e-12
    lo, hi = stats.t.interval(0.95, len(per) - 1, loc=per.mean(), scale=stats.sem(per))
    assert row.ci_low == pytest.approx(lo) and row.ci_high == pytest.approx(hi)


def test_bootstrap_interval_contains_point_and_is_reproducible():
    df = _frame()
    a = audit(df, label_cols="y", groups="sex", patient_col="pid", bootstrap=100, seed=3).results
    b = audit(df, label_cols="y", groups="sex", patient_col="pid", bootstrap=100, seed=3).results
    pd.testing.assert_frame_equal(a, b)
    auc = _get(a, audit="performance", metric="AUC", attribute="overall")
    assert auc.ci_low < auc.value < auc.ci_high


# ---- undefined metrics and bad input --------------------------------------------------------------------


def test_one_class_group_gives_nan_with_note_not_crash():
    df = _frame(300)
    df.loc[df.sex == "F", "y"] = 0  # F has negatives only → AUC undefined in F
    res = audit(df, label_cols="y", groups="sex").results
    row = _get(res, audit="performance", metric="AUC", attribute="sex", group="F")
    assert np.isnan(row.value) and "one class" in row.note
    ok = _get(res, audit="performance", metric="AUC", attribute="sex", group="M")
    assert not np.isnan(ok.value)
    assert np.isnan(_get(res, metric="ES-AUC", attribute="sex").value)


def test_small_groups_flagged():
    df = _frame(300)
    df.loc[:4, "sex"] = "X"  # five images
    r = audit(df, label_cols="y", groups="sex", audits="performance")
    row = _get(r.results, metric="TPR", attribute="sex", group="X")
    assert "small group" in row.note
    assert any("sex = X" in w for w in r.warnings)


@pytest.mark.parametrize("mutate, kwargs, message", [
    (lambda d: d.assign(score_y=d.score_y * 3), {}, "outside [0, 1]"),
    (lambda d: d.assign(y=d.y * 2), {}, "not binary"),
    (lambda d: d.assign(sex=d.sex.where(d.index > 3).where(d.index != 10, "(missing)")), {},
     "also the value '(missing)'"),
    (lambda d: d, {"groups": "race"}, "group column 'race' not found"),
    (lambda d: d, {"score_cols": "score_y,score_z"}, "give one score per label"),
    (lambda d: d, {"label_cols": "nope"}, "label column 'nope' not found"),
    (lambda d: d, {"threshold": "f1"}, "validation rows"),
    (lambda d: d, {"threshold": "1.5"}, "[0, 1]"),
    (lambda d: d, {"audits": "bogus"}, "unknown audit 'bogus'"),
])
def test_bad_input_one_clear_message(mutate, kwargs, message):
    df = mutate(_frame(200))
    args = {"label_cols": "y", "groups": "sex", **kwargs}
    with pytest.raises((InputError, UsageError)) as exc:
        audit(df, **args)
    assert message in str(exc.value)
    assert "\n" not in str(exc.value)


def test_mismatched_lengths_in_array_api():
    with pytest.raises(InputError, match="lengths differ"):
        A.demographic_parity_difference([0, 1, 1], [0, 1], sensitive_features=["a", "b", "b"])


def _two_very_different_seeds(n: int = 400) -> list[pd.DataFrame]:
    """Seed 0 is a perfect classifier; seed 1 is noise that favours group F (TPR and FPR both higher)."""
    rng = np.random.default_rng(7)
    frames = []
    for seed in range(2):
        y = rng.integers(0, 2, n)
        sex = rng.choice(["F", "M"], n)
        if seed == 0:
            score = 0.05 + 0.9 * y
        else:
            score = np.clip(rng.random(n) + np.where(sex == "F", 0.3, -0.3), 0, 1)
        frames.append(pd.DataFrame({"y": y, "score_y": score, "sex": sex, "seed": seed}))
    return frames


def test_seed_t_interval_is_clipped_to_each_metrics_range():
    """Two seeds give t = 12.7: mean ± t·SE leaves [0, 1] for AUC/TPR, [-1, 1] for EOD, [-2, 2] for AOD_sum
    (germani2025's AOD is EOD + FPR difference). Truth: scipy's t interval on per-seed sklearn values."""
    from scipy import stats

    from curate.cards.modelcard import card_context

    frames = _two_very_different_seeds()
    result = audit(pd.concat(frames, ignore_index=True), label_cols="y", groups="sex",
                   audits="performance,eod_aod", seed_col="seed")
    res = result.results

    def t_interval(per):
        per = np.asarray(per, dtype=float)
        return stats.t.interval(0.95, len(per) - 1, loc=per.mean(), scale=stats.sem(per))

    def tpr(f, mask):
        return recall_score(f.y[mask], (f.score_y[mask] >= 0.5).astype(int))

    def fpr(f, mask):
        neg = mask & (f.y == 0)
        return float((f.score_y[neg] >= 0.5).mean())

    cases = [
        ("AUC", "overall", "all", [roc_auc_score(f.y, f.score_y) for f in frames], (0, 1)),
        ("TPR", "sex", "M", [tpr(f, f.sex == "M") for f in frames], (0, 1)),
        ("EOD", "sex", "F", [tpr(f, f.sex == "F") - tpr(f, f.sex != "F") for f in frames], (-1, 1)),
        ("AOD_sum", "sex", "F", [tpr(f, f.sex == "F") - tpr(f, f.sex != "F") + fpr(f, f.sex == "F")
                             - fpr(f, f.sex != "F") for f in frames], (-2, 2)),
    ]
    for metric, attr, group, per, (low, high) in cases:
        lo, hi = t_interval(per)
        assert lo < low and hi > high, (metric, lo, hi)  # unclipped, the interval leaves the range
        row = _get(res, metric=metric, attribute=attr, group=group)
        assert row.value == pytest.approx(np.mean(per))
        assert row.ci_low == low and row.ci_high == high, (metric, row.ci_low, row.ci_high)
    auc = _get(res, metric="AUC", attribute="overall")
    assert auc.ci_low >= 0 and auc.ci_high <= 1
    # every interval of a [0, 1] metric stays inside [0, 1]
    rates = res[res.metric.isin(["AUC", "TPR", "FPR"])]
    assert (rates.ci_low.dropna() >= 0).all() and (rates.ci_high.dropna() <= 1).all()
    text = card_context(result)["ci_text"]
    assert "With few seeds this interval is wide" in text and "±12.71 standard errors" in text
