"""Property-based checks against fairlearn and scikit-learn on random data with the hard cases: one-row and
single-class groups, ties and weights (hypothesis). The oracles are the libraries themselves."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    equalized_odds_difference,
    false_positive_rate,
    true_positive_rate,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from curate.audits import arrays as A

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def cases(draw, weighted: bool | None = None):
    """(y, y_pred, score, groups, weights): 2–40 rows, 1–5 groups (often one-row or single-class ones)."""
    n = draw(st.integers(2, 40))  # fairlearn cannot take one row (it squeezes it to a scalar)
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    yp = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    # scores on a coarse grid so that ties are common
    score = np.array(draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))) / 5
    g = np.array(draw(st.lists(st.sampled_from("abcde"), min_size=n, max_size=n)))
    if draw(st.booleans()):  # force a single-class group
        k = draw(st.sampled_from(sorted(set(g))))
        y = np.where(g == k, draw(st.integers(0, 1)), y)
    if draw(st.booleans()):  # force a one-row group
        y, yp = np.append(y, draw(st.integers(0, 1))), np.append(yp, draw(st.integers(0, 1)))
        score, g = np.append(score, draw(st.integers(0, 5)) / 5), np.append(g, "z")
        n += 1
    w = None
    if weighted if weighted is not None else draw(st.booleans()):
        w = np.array(draw(st.lists(st.floats(0.1, 5.0), min_size=n, max_size=n)))
    return y, yp, score, g, w


def _quiet(fn, *a, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*a, **kw)


@SETTINGS
@given(cases(), st.sampled_from(["between_groups", "to_overall"]))
def test_dpd_equals_fairlearn(case, method):
    y, yp, _, g, w = case
    want = _quiet(demographic_parity_difference, y, yp, sensitive_features=g, sample_weight=w, method=method)
    got = A.demographic_parity_difference(y, yp, sensitive_features=g, sample_weight=w, method=method)
    assert got == pytest.approx(want, abs=1e-9)


@SETTINGS
@given(cases(), st.sampled_from(["between_groups", "to_overall"]), st.sampled_from(["worst_case", "mean"]))
def test_deodds_equals_fairlearn_including_one_class_groups(case, method, agg):
    y, yp, _, g, w = case
    want = _quiet(equalized_odds_difference, y, yp, sensitive_features=g, sample_weight=w, method=method,
                  agg=agg)
    got = A.equalized_odds_difference(y, yp, sensitive_features=g, sample_weight=w, method=method, agg=agg)
    assert got == pytest.approx(want, abs=1e-9)


@SETTINGS
@given(cases())
def test_group_tpr_fpr_equal_metricframe_where_defined(case):
    """Per-group TPR/FPR equal fairlearn's; where a group has no positives (negatives) fairlearn reports 0 and
    we report NaN — the rate is undefined, and only the fairness summaries score it (as 0)."""
    y, yp, _, g, w = case
    mf = _quiet(MetricFrame, metrics={"TPR": true_positive_rate, "FPR": false_positive_rate}, y_true=y,
                y_pred=yp, sensitive_features=g,
                sample_params=None if w is None else {m: {"sample_weight": w} for m in ("TPR", "FPR")})
    got = A.group_rates(y, yp, sensitive_features=g, sample_weight=w)
    for grp, row in mf.by_group.iterrows():
        m = g == grp
        for metric, cls in (("TPR", 1), ("FPR", 0)):
            if (y[m] == cls).any():
                assert got[metric][grp] == pytest.approx(row[metric], abs=1e-9)
            else:
                assert np.isnan(got[metric][grp]) and row[metric] == 0


@SETTINGS
@given(cases())
def test_auc_equals_sklearn_with_ties_and_weights(case):
    y, _, score, g, w = case
    got = A.roc_auc(y, score, sample_weight=w)
    if len(set(y)) < 2:
        assert np.isnan(got)  # scikit-learn ≥ 1.6 also gives NaN (with a warning) for one class
        assert np.isnan(_quiet(roc_auc_score, y, score, sample_weight=w))
    else:
        assert got == pytest.approx(roc_auc_score(y, score, sample_weight=w), abs=1e-9)
    by = A.group_auc(y, score, sensitive_features=g, sample_weight=w)
    for grp, v in by.items():
        m = g == grp
        if len(set(y[m])) < 2:
            assert np.isnan(v)
        else:
            assert v == pytest.approx(roc_auc_score(y[m], score[m], sample_weight=None if w is None
                                                    else w[m]), abs=1e-9)


@SETTINGS
@given(cases(weighted=False))
def test_es_auc_equals_formula_on_sklearn_aucs(case):
    """luo2024 ES-AUC written separately from the code under test, on sklearn's AUCs."""
    y, _, score, g, _ = case
    got = A.es_auc(y, score, sensitive_features=g)
    groups = sorted(set(g))
    if len(set(y)) < 2 or any(len(set(y[g == k])) < 2 for k in groups):
        assert np.isnan(got)
        return
    auc = roc_auc_score(y, score)
    assert got == pytest.approx(auc / (1 + sum(abs(auc - roc_auc_score(y[g == k], score[g == k]))
                                              for k in groups)), abs=1e-9)


def test_issue_example_deodds_is_fairlearns_and_noted():
    """The reproduction from the issue: group c has no positives; fairlearn gives 1.0 (c's TPR scores 0)."""
    y = [0, 1, 0, 1, 1, 0, 0, 0]
    yp = [0, 1, 0, 1, 1, 0, 1, 0]
    g = list("aaaabbcc")
    assert A.equalized_odds_difference(y, yp, sensitive_features=g) == 1.0
    assert equalized_odds_difference(y, yp, sensitive_features=g) == 1.0
    # the old behaviour (undefined groups left out) stays available under its own name
    assert A.equalized_odds_difference(y, yp, sensitive_features=g, undefined="exclude") == 0.5
    s = A.stats_from_arrays(y, y_pred=yp, sensitive_features=g)
    from curate.audits.fairness import undefined_note

    note = undefined_note(s)
    assert note == "TPR undefined in c (no positives), scored 0 as in fairlearn"


def test_reference_group_method():
    # TPR a 1/2, b 2/2, c 1/4 ; FPR all 0 → to_reference 'b': max |TPR_g − 1| = .75
    y = [1, 1, 1, 1, 1, 1, 1, 1, 0]
    yp = [1, 0, 1, 1, 1, 0, 0, 0, 0]
    g = list("aabbccccc")
    assert A.equalized_odds_difference(y, yp, sensitive_features=g, method="to_reference",
                                       reference="b") == pytest.approx(0.75)
    assert A.true_positive_rate_difference(y, yp, sensitive_features=g, method="to_reference",
                                           reference="a") == pytest.approx(0.5)
    eod = A.equal_opportunity_differences(y, yp, sensitive_features=g, compare="reference", reference="b")
    assert eod == pytest.approx({"a": -0.5, "b": 0.0, "c": -0.75})
