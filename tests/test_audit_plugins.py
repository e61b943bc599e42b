"""Audit discovery goes through ``importlib.metadata.entry_points(group="curate.audits")``.

A throw-away distribution (``*.dist-info`` with ``entry_points.txt``) is generated in a temporary folder
and put on ``sys.path``, exactly what ``pip install`` of a plugin package leaves behind.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from curate.audits.registry import available_audits, entry_point_names, get_audits
from curate.errors import CurateError, UsageError
from curate.pipeline.audit import audit

PLUGINS = Path(__file__).parent / "plugins"
BUILTINS = {"performance", "tpr_disparity", "fairclip", "eod_aod", "calibration", "group_sizes"}


def _install(tmp_path: Path, monkeypatch, name: str, target: str) -> None:
    dist = tmp_path / f"{name}-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[curate.audits]\n{target}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(PLUGINS))


def _frame(n=400, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"y": rng.integers(0, 2, n), "sex": rng.choice(["F", "M"], n)})
    df["score_y"] = np.clip(0.3 * df.y + 0.7 * rng.random(n), 0, 1)
    return df


def test_builtins_are_registered_as_entry_points():
    names = {ep.name for ep in entry_points(group="curate.audits")}
    assert names >= BUILTINS
    loaded = available_audits()
    assert set(loaded) >= BUILTINS
    for name in BUILTINS:
        assert loaded[name].name == name and callable(loaded[name].compute)


def test_third_party_plugin_is_discovered_and_run(tmp_path, monkeypatch):
    assert "miss_rate" not in entry_point_names()
    _install(tmp_path, monkeypatch, "curate_test_audit",
             "miss_rate = curate_test_audit:MissRate")
    assert "miss_rate" in entry_point_names()
    assert "miss_rate" in available_audits()

    df = _frame()
    res = audit(df, label_cols="y", groups="sex", audits="miss_rate,performance").results
    assert set(res.audit) == {"miss_rate", "performance"}
    yp = df.score_y >= 0.5
    miss = {g: 1 - yp[(df.sex == g) & (df.y == 1)].mean() for g in ("F", "M")}
    for g, v in miss.items():
        row = res[(res.audit == "miss_rate") & (res.metric == "miss_rate") & (res.group == g)].iloc[0]
        assert row.value == pytest.approx(v)
        assert row.n == (df.sex == g).sum()
    ratio = res[(res.metric == "miss_ratio")].iloc[0].value
    assert ratio == pytest.approx(max(miss.values()) / min(miss.values()))
    # plugins needing "groups" are not run on the whole-test-set pseudo attribute
    assert not ((res.audit == "miss_rate") & (res.attribute == "overall")).any()


def test_plugin_rows_get_bootstrap_intervals(tmp_path, monkeypatch):
    _install(tmp_path, monkeypatch, "curate_test_audit", "miss_rate = curate_test_audit:MissRate")
    res = audit(_frame(), label_cols="y", groups="sex", audits="miss_rate", bootstrap=50).results
    row = res[res.metric == "miss_rate"].iloc[0]
    assert row.ci_low <= row.value <= row.ci_high and row.ci_low < row.ci_high


def test_unknown_audit_lists_the_registered_ones():
    with pytest.raises(UsageError, match="unknown audit 'nope'.*performance"):
        get_audits(["nope"])


def test_broken_plugin_fails_with_one_clear_line(tmp_path, monkeypatch):
    _install(tmp_path, monkeypatch, "broken_audit", "broken = no_such_module_for_curate:Audit")
    with pytest.raises(CurateError, match="audit plugin 'broken'.*failed to load"):
        get_audits(["broken"])


def test_plugin_without_compute_is_rejected(tmp_path, monkeypatch):
    _install(tmp_path, monkeypatch, "bad_audit", "bad = curate_test_audit:NOT_AN_AUDIT")
    with pytest.raises(CurateError, match="has no 'compute'"):
        get_audits(["bad"])
