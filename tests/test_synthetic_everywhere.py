"""Synthetic data says so everywhere (issue 27): scanned synthetic DICOM files, the hub shards of a
published synthetic demo, and the datasheet's labels (the marker column is not a diagnosis)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from curate.synthetic import is_synthetic


@pytest.fixture(scope="module")
def dicom_card(tmp_path_factory):
    pytest.importorskip("pydicom")
    pytest.importorskip("nibabel")
    from curate.cards.build import build_card
    from curate.scan import scan
    from curate.scan.synthetic import write_dicom_demo

    root = tmp_path_factory.mktemp("synthetic-dicom")
    write_dicom_demo(root / "dicom", n_patients=8)
    scan(root / "dicom", root / "scan")
    build_card("RadImageNet", metadata=root / "scan" / "metadata.parquet", out=root / "card")
    return root


def test_scanned_synthetic_dicom_is_marked(dicom_card):
    meta = pd.read_parquet(dicom_card / "scan" / "metadata.parquet")
    dicom = meta["format"] == "dicom"
    assert meta.loc[dicom, "synthetic"].all() and not meta.loc[~dicom, "synthetic"].any()  # NIfTI: no marker
    assert is_synthetic(dicom_card / "scan" / "metadata.parquet")


def test_scan_of_real_files_has_no_marker(tmp_path):
    pydicom = pytest.importorskip("pydicom")
    from curate.scan import scan

    src = tmp_path / "in"
    src.mkdir()
    for name in ("CT_small.dcm", "MR_small.dcm"):
        (src / name).write_bytes(Path(pydicom.data.get_testdata_file(name)).read_bytes())
    scan(src, tmp_path / "out")
    meta = pd.read_parquet(tmp_path / "out" / "metadata.parquet")
    assert "synthetic" not in meta.columns


def test_card_of_synthetic_dicom_says_so_and_claims_nothing_real(dicom_card):
    readme = (dicom_card / "card" / "README.md").read_text(encoding="utf-8")
    front, body = readme.split("\n---\n", 1)
    assert "SYNTHETIC" in front and "synthetic" in body.split("\n\n")[1].lower()
    assert "1M<n<10M" not in readme and "- n<1K" in front  # the measured size, not RadImageNet's
    assert "license: cc-by-4.0" not in front and "license: other" in front
    assert "License (real dataset" in body
    for name in ("datasheet.md", "croissant.json"):
        text = (dicom_card / "card" / name).read_text(encoding="utf-8")
        assert "synthetic" in text.lower()[:2000], name
    doc = json.loads((dicom_card / "card" / "croissant.json").read_text())
    assert doc["description"].lower().startswith("synthetic")


def test_datasheet_does_not_take_the_marker_for_a_label(demo_brset, tmp_path):
    from curate.cards.build import build_card

    sheet = build_card("BRSET", metadata=demo_brset.labels, out=tmp_path / "c").datasheet_md
    label_line = next(line for line in sheet.splitlines() if line.startswith("- label:"))
    assert "`diabetic_retinopathy`" in label_line and "`synthetic`" not in label_line
    assert "| `synthetic` | boolean | label |" not in sheet
    assert not any(line.startswith("| `synthetic` |") and "100.0%" in line for line in sheet.splitlines())


def test_publish_keeps_the_marker_in_the_hub_shards(cli, demo_brset, tmp_path):
    pytest.importorskip("datasets")
    out = tmp_path / "hub"
    r = cli("publish", "BRSET", "--meta", demo_brset.labels, "--images", demo_brset.images,
            "--image-col", "image_id", "--patient-col", "patient_id",
            "--column", "label=diabetic_retinopathy",
            "--resplit", "--out", out)
    assert r.exit_code == 0, r.stderr
    shards = sorted((out / "data").glob("*.parquet"))
    assert shards
    for shard in shards:
        assert is_synthetic(shard), shard.name
        assert pd.read_parquet(shard, columns=["synthetic"])["synthetic"].astype(str).str.lower().isin(
            ["true", "1"]).all()
