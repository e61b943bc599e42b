"""Quality manager: planted DICOM corruptions found (recall ≥ 0.95), normal radiographs rarely flagged."""

from __future__ import annotations

import numpy as np
import pytest

from curate.engine.inspect import InspectData
from curate.engine.inspect.planted import CORRUPTIONS, planted_radiographs
from curate.engine.inspect.quality import QualityManager, QualityOptions, find_quality_issues

pytest.importorskip("pydicom")


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    return planted_radiographs(tmp_path_factory.mktemp("dx"), studies=80, per_corruption=20, seed=4)


def test_recall_and_false_flags(planted):
    res = QualityManager().find(InspectData(X=None, files=list(planted.path)))
    flagged = res.issues.groupby("row")["issue"].apply(set)
    for c in CORRUPTIONS:
        rows = np.flatnonzero(planted.corruption.to_numpy() == c)
        found = sum(c in flagged.get(r, set()) for r in rows)
        assert len(rows) >= 20 and found / len(rows) >= 0.95, (c, found, len(rows))
    normal = np.flatnonzero(planted.corruption.to_numpy() == "")
    assert len(normal) >= 50
    assert np.mean([r in flagged.index for r in normal]) <= 0.02


def test_not_dicom_is_counted_not_fatal(planted, tmp_path):
    junk = tmp_path / "README.txt"
    junk.write_text("not an image")
    res = QualityManager().find(InspectData(X=None, files=[*planted.path[:4], str(junk)]))
    assert any("1 file(s) are not DICOM" in n for n in res.notes)
    assert res.summary["checked"] == 4


def test_pydicom_test_files(tmp_path):
    """pydicom's bundled CT_small / MR_small (ordinary images) are not flagged; the same CT re-saved as
    MONOCHROME1 without its window is; a header-only file (no pixels) is counted as not checked."""
    import glob
    import os

    import pydicom
    import pydicom.data

    root = os.path.dirname(pydicom.data.__file__)
    ct, mr, header_only = (glob.glob(f"{root}/**/{n}", recursive=True)[0]
                           for n in ("CT_small.dcm", "MR_small.dcm", "chrJapMulti.dcm"))
    ds = pydicom.dcmread(ct)
    ds.PhotometricInterpretation = "MONOCHROME1"
    ds.Modality = "CR"
    for k in ("WindowCenter", "WindowWidth"):
        if k in ds:
            delattr(ds, k)
    ds.save_as(tmp_path / "inv.dcm")
    res = QualityManager().find(InspectData(X=None, files=[ct, mr, str(tmp_path / "inv.dcm"), header_only]))
    issues = {(int(r.row), r.issue) for r in res.issues.itertuples()}
    assert {r for r, _ in issues} == {2}
    assert {(2, "monochrome1"), (2, "missing_window")} <= issues
    assert res.summary["checked"] == 3 and any("1 file(s)" in n for n in res.notes)


def test_study_and_series_rules():
    import pandas as pd

    base = {"modality": "CT", "photometric": "MONOCHROME2", "blank_share": 0.0, "clip_share": 0.0,
            "mean_share": 0.4, "has_window": True, "rows": 64, "cols": 64, "view": ""}
    recs = pd.DataFrame([
        {**base, "spacing": 0.5, "study": "s1", "series": "a", "laterality": "L", "position": (0, 0, 0),
         "pixel_hash": "h1"},
        {**base, "spacing": 0.5, "study": "s1", "series": "a", "laterality": "L", "position": (0, 0, 0),
         "pixel_hash": "h2"},  # same slice position: duplicate
        {**base, "spacing": 0.5, "study": "s2", "series": "b", "laterality": "", "position": None,
         "pixel_hash": "h3"},
        {**base, "spacing": 5.0, "study": "s3", "series": "c", "laterality": "", "position": None,
         "pixel_hash": "h3"},  # other series: same pixels are not a duplicate slice; spacing ×10
    ])
    got = {(int(r.row), r.issue) for r in find_quality_issues(recs, QualityOptions()).itertuples()}
    assert got == {(1, "duplicate_slice"), (3, "spacing_outlier")}
