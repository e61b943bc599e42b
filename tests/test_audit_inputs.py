"""Inputs that would silently change the answer are refused at the edge: one InputError naming the parameter.
Also: split leakage, reportable flags and per-group notes in the audit results."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import equalized_odds_difference

from curate.audits import arrays as A
from curate.errors import InputError, UsageError
from curate.pipeline.audit import audit

Y = [0, 1, 0, 1, 1, 0]
P = [0, 1, 1, 1, 0, 0]
G = list("aabbcc")


@pytest.mark.parametrize("call, param", [
    (lambda: A.roc_auc([0, 1, 1], [0.2, np.nan, 0.4]), "y_score"),
    (lambda: A.es_auc([0, 1, 1, 0], [0.2, np.inf, 0.4, 0.1], sensitive_features=list("aabb")), "y_score"),
    (lambda: A.demographic_parity_difference(Y, [0, 1, np.nan, 1, 0, 0], sensitive_features=G), "y_pred"),
    (lambda: A.demographic_parity_difference(Y, [0, 0.7, 0.2, 1, 0, 0], sensitive_features=G), "y_pred"),
    (lambda: A.equalized_odds_difference([0, 2, 0, 1, 1, 0], P, sensitive_features=G), "y_true"),
    (lambda: A.equalized_odds_difference(Y, P, sensitive_features=G, sample_weight=[1, 1, -1, 1, 1, 1]),
     "sample_weight"),
    (lambda: A.equalized_odds_difference(Y, P, sensitive_features=G, sample_weight=[1, 1, 1]),
     "sample_weight"),
    (lambda: A.equalized_odds_difference(Y, P, sensitive_features=[1, "1", 2, 2, 3, 3]),
     "sensitive_features"),
    (lambda: A.equalized_odds_difference(Y, P, sensitive_features=np.array([1, 1.0, 2, 2, 3, 3], object)),
     "sensitive_features"),
    (lambda: A.equalized_odds_difference(Y, P, sensitive_features=["a", None, "(missing)", "b", "c", "c"]),
     "sensitive_features"),
    (lambda: A.demographic_parity_difference([0, 1, 1], [0, 1], sensitive_features=["a", "b", "b"]),
     "y_pred"),
])
def test_bad_input_is_one_error_naming_the_parameter(call, param):
    with pytest.raises(InputError) as exc:
        call()
    msg = str(exc.value)
    assert param in msg and "\n" not in msg


def test_threshold_turns_scores_into_predictions_only_when_asked():
    s = [0.1, 0.8, 0.6, 0.9, 0.4, 0.2]
    with pytest.raises(InputError, match="threshold"):
        A.equalized_odds_difference(Y, s, sensitive_features=G)
    got = A.equalized_odds_difference(Y, s, sensitive_features=G, threshold=0.5)
    assert got == equalized_odds_difference(Y, (np.array(s) >= 0.5).astype(int), sensitive_features=G)


def test_conventions_are_checked():
    with pytest.raises(UsageError, match="method"):
        A.equalized_odds_difference(Y, P, sensitive_features=G, method="pairwise")
    with pytest.raises(UsageError, match="reference"):
        A.equalized_odds_difference(Y, P, sensitive_features=G, method="to_reference")
    with pytest.raises(UsageError, match="reference group 'z'"):
        A.equalized_odds_difference(Y, P, sensitive_features=G, method="to_reference", reference="z")


def _frame(n=400, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"y": rng.integers(0, 2, n), "sex": rng.choice(["F", "M"], n),
                       "site": rng.choice([1, 2, 3], n), "pid": rng.integers(0, 150, n)})
    df["score_y"] = np.clip(0.3 * df.y + 0.7 * rng.random(n), 0, 1)
    return df


def test_audit_refuses_mixed_type_group_labels():
    df = _frame()
    df["site"] = df["site"].astype(object)
    df.loc[0, "site"] = "1"  # the text "1" next to the integer 1
    with pytest.raises(InputError, match="group column 'site' mixes number and text"):
        audit(df, label_cols="y", groups="site")


def test_audit_deodds_follows_fairlearn_with_note_for_one_class_group():
    df = _frame()
    df.loc[df.site == 3, "y"] = 0  # site 3 has no positives
    res = audit(df, label_cols="y", groups="site", audits="fairclip").results
    row = res[(res.metric == "DEOdds")].iloc[0]
    want = equalized_odds_difference(df.y, (df.score_y >= 0.5).astype(int), sensitive_features=df.site)
    assert row.value == pytest.approx(want)
    assert "TPR undefined in 3 (no positives), scored 0 as in fairlearn" in row.note


def test_audit_method_to_overall_matches_fairlearn():
    df = _frame()
    res = audit(df, label_cols="y", groups="site", audits="fairclip", method="to_overall").results
    want = equalized_odds_difference(df.y, (df.score_y >= 0.5).astype(int), sensitive_features=df.site,
                                     method="to_overall")
    assert res[res.metric == "DEOdds"].value.iloc[0] == pytest.approx(want)
    r = audit(df, label_cols="y", groups="site", audits="fairclip", method="to_overall")
    assert r.settings["conventions"]["method"] == "to_overall"


def test_small_groups_are_marked_not_reportable_with_n_and_interval():
    df = _frame()
    df.loc[:5, "sex"] = "X"  # six images
    res = audit(df, label_cols="y", groups="sex", patient_col="pid", bootstrap=50,
                audits="performance,fairclip").results
    x = res[(res.attribute == "sex") & (res.group == "X")]
    assert len(x) and not x.reportable.any() and (x.n == 6).all()
    assert x.note.str.contains("not reportable").all()
    big = res[(res.attribute == "sex") & (res.group == "F") & (res.metric == "TPR")].iloc[0]
    assert big.reportable and big.n_units > 11 and big.ci_low <= big.value <= big.ci_high
    # a summary over an attribute with a small group is not a finding either
    assert not res[(res.metric == "DEOdds")].reportable.iloc[0]
    assert res[(res.attribute == "overall") & (res.metric == "AUC")].reportable.iloc[0]


def test_audit_refuses_a_leaky_split_unless_allowed():
    df = _frame()
    df["split"] = np.where(np.arange(len(df)) % 3 == 0, "validation", "test")  # pids land in both
    with pytest.raises(InputError, match="more than one split"):
        audit(df, label_cols="y", groups="sex", patient_col="pid")
    r = audit(df, label_cols="y", groups="sex", patient_col="pid", allow_leaky_split=True)
    assert any("more than one split" in w for w in r.warnings)
    ok = df.assign(split=np.where(df.pid % 3 == 0, "validation", "test"))
    assert not any("split" in w for w in audit(ok, label_cols="y", groups="sex", patient_col="pid").warnings)


def test_cli_leaky_split_one_error_line_then_flag_warns(cli, tmp_path):
    df = _frame()
    df["split"] = np.where(np.arange(len(df)) % 3 == 0, "validation", "test")
    preds = tmp_path / "preds.parquet"
    df.to_parquet(preds)
    args = ["audit", preds, "--label-cols", "y", "--groups", "sex", "--patient-col", "pid", "--audits",
            "performance"]
    r = cli(*args, "--out", tmp_path / "a")
    assert r.exit_code != 0 and "more than one split" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "a").exists()
    r = cli(*args, "--allow-leaky-split", "--out", tmp_path / "b")
    assert r.exit_code == 0, r.stderr
    assert "more than one split" in r.stdout
    r = cli(*args, "--allow-leaky-split", "--method", "to_reference", "--reference", "sex=F",
            "--out", tmp_path / "c")
    assert r.exit_code == 0, r.stderr
    assert json.loads((tmp_path / "c" / "results.json").read_text())["settings"]["conventions"] == {
        "method": "to_reference", "compare": "rest", "reference": {"sex": "F"}, "undefined": "zero"}


def test_card_states_conventions_notes_and_does_not_name_small_groups():
    from curate.cards.modelcard import card_context, render_model_card

    df = _frame(600)
    df.loc[df.site == 3, "y"] = 0  # site 3: no positives → its TPR scored 0 inside DEOdds, with a note
    tiny = df.index[df.site != 3][:6]  # group X: six positives, all missed — the worst TPR, not reportable
    df.loc[tiny, "sex"] = "X"
    df.loc[tiny, "score_y"] = 0.0
    df.loc[tiny, "y"] = 1
    result = audit(df, label_cols="y", groups="site,sex", audits="tpr_disparity,fairclip")
    ctx = card_context(result)
    md, _ = render_model_card(ctx)
    assert "Conventions: DPD, DEOdds and TPR_diff compare groups by max − min over groups" in md
    assert "TPR undefined in 3 (no positives), scored 0 as in fairlearn" in md
    sex = [w for w in ctx["worst"] if "by sex" in w]
    # group X is withheld by the disclosure layer, so no worst-served sentence is written for sex at all
    # (the worst of the shown groups need not be the worst group), and none names X
    assert all("group X" not in w for w in sex)
    assert "group X" not in md
    tpr_x = result.results[(result.results.metric == "TPRDisp") & (result.results.group == "X")].iloc[0]
    assert not tpr_x.reportable and tpr_x.value < 0  # kept for the record, marked, not a finding
