"""The de-identification audit against the standard (issue 27), with an independent de-identifier.

- dicognito (PyPI) de-identifies pydicom's own test files; its dummy values (names, ids, shifted dates,
  replaced UIDs) are permitted by the Basic Profile's Z / D / U actions, so `curate scan` must not report
  them as left behind — while on the original files the same attributes are.
- Every string attribute of PS3.15 Table E.1-1, planted at top level and nested in sequences
  (ReferencedPatientSequence, and a sequence the table does not list), is found, and no planted value
  reaches any output.
- Values curate copies (Manufacturer, ManufacturerModelName, BodyPartExamined) that look like a name, a
  record number or a date are withheld; paths named after a person or a date are counted, never printed.
- A zero-filled (sparse, 2 GB) or preallocated ``.dcm`` is skipped within seconds by scan and by the image
  reader of embed / dedup.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pydicom = pytest.importorskip("pydicom")
dicognito_anonymizer = pytest.importorskip("dicognito.anonymizer")

from pydicom.datadict import dictionary_VR  # noqa: E402
from pydicom.dataset import Dataset  # noqa: E402

from curate.scan.deid import annex_e  # noqa: E402
from curate.scan.synthetic import make_dicom  # noqa: E402

#: Rows the audit read before it kept the whole table.
OLD_ROWS = 90
STRING_VRS = {"PN": "Plant{i}^Zed", "LO": "PLANTLO{i:04d}", "SH": "PLANTSH{i:04d}",
              "LT": "PLANTLT{i:04d} text", "ST": "PLANTST{i:04d} text", "UT": "PLANTUT{i:04d} text",
              "DA": "1961{m:02d}{d:02d}",
              "DT": "1961{m:02d}{d:02d}101010", "TM": "10{m:02d}{d:02d}"}


def _ramp() -> np.ndarray:
    return (np.arange(16 * 16, dtype=np.uint16).reshape(16, 16) * 7 % 4096).astype(np.uint16)


def _key(tmp: Path) -> Path:
    k = tmp / "secret" / "k.key"
    k.parent.mkdir(parents=True, exist_ok=True)
    k.write_text("ab" * 32)
    return k


def _scan(cli, folder: Path, out: Path, key: Path):
    r = cli("scan", folder, "--out", out, "--key-file", key, "--workers", "1")
    assert r.exit_code == 0, r.stderr
    return json.loads((out / "deid.json").read_text()), r


def _text_of(out: Path) -> str:
    parts = []
    for p in sorted(out.rglob("*")):
        if p.suffix == ".parquet":
            parts.append(pd.read_parquet(p).to_csv(index=False))
        elif p.is_file():
            parts.append(p.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(parts)


# ------------------------------------------------------------------------------- dicognito as the oracle
@pytest.fixture(scope="module")
def dicognito_pair(tmp_path_factory):
    """pydicom's readable test files, as they are and as dicognito de-identified them."""
    from pydicom.data import get_testdata_files

    root = tmp_path_factory.mktemp("dicognito")
    orig, anon = root / "orig", root / "anon"
    orig.mkdir()
    anon.mkdir()
    changed: dict[str, set[int]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for f in sorted(get_testdata_files("*.dcm")):
            try:
                ds = pydicom.dcmread(f)
                if "Rows" not in ds:
                    continue
                before = {int(e.tag): str(e.value) for e in ds if e.VR != "SQ"}
                dicognito_anonymizer.Anonymizer(seed="curate").anonymize(ds)
                name = Path(f).name
                ds.save_as(anon / name)
                shutil.copy(f, orig / name)
            except Exception:  # pydicom's deliberately broken test files
                continue
            changed[name] = {int(e.tag) for e in ds if e.VR != "SQ" and int(e.tag) in before
                             and str(e.value) != before[int(e.tag)] and str(e.value).strip()}
    assert len(changed) >= 40
    return orig, anon, changed


def test_dummy_values_of_a_declared_deidentification_are_not_left_behind(cli, tmp_path, dicognito_pair):
    orig, anon, changed = dicognito_pair
    rep, _ = _scan(cli, anon, tmp_path / "anon", _key(tmp_path))
    by_tag = {a.tag: i for i, a in enumerate(annex_e())}
    attrs = rep["attributes"]
    replaced = {by_tag[t] for tags in changed.values() for t in tags if t in by_tag}
    dummies = [i for i in replaced if any(x in annex_e()[i].basic for x in "ZDU")]
    assert len(dummies) >= 10  # names, ids, dates, UIDs dicognito replaced
    # every file declares (dicognito writes DeidentificationMethod), and no dummy is a leak
    assert rep["declared"]["files_declaring_deidentification"] == rep["dicom_files"]
    assert rep["declared"]["deidentification_method_present"] == rep["dicom_files"]
    for i in dummies:
        assert attrs[i]["left_behind"] == 0, attrs[i]["keyword"]
        assert attrs[i]["permitted_as_declared"] == attrs[i]["non_empty"] > 0, attrs[i]["keyword"]
    # the same attributes in the original files (no declaration) are values left behind
    rep0, _ = _scan(cli, orig, tmp_path / "orig", _key(tmp_path))
    assert rep0["declared"]["files_declaring_deidentification"] < rep0["dicom_files"]
    assert any(rep0["attributes"][i]["left_behind"] > 0 for i in dummies)


def test_declared_profile_and_remaining_values_are_reported_apart(cli, tmp_path, dicognito_pair):
    """Oracle: pydicom walks each de-identified file; a file keeps a value the profile does not permit when a
    non-empty attribute whose Basic Profile action is X alone (no option declared) is anywhere in it."""
    _, anon, _ = dicognito_pair
    rep, _ = _scan(cli, anon, tmp_path / "o", _key(tmp_path))
    x_only = {a.tag for a in annex_e() if a.basic == "X" and a.mask == 0xFFFFFFFF}

    def keeps_x(ds) -> bool:
        for elem in ds.iterall():
            if int(elem.tag) in x_only and elem.VR != "SQ" and str(elem.value).strip(" \x00"):
                return True
            if int(elem.tag) in x_only and elem.VR == "SQ" and len(elem.value):
                return True
        return False

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = sum(keeps_x(pydicom.dcmread(p, stop_before_pixels=True)) for p in sorted(anon.iterdir()))
    r = rep["remaining"]
    assert r["declaring_files_with_values_the_profile_does_not_permit"] == expected
    assert r["declaring_files_with_only_permitted_values"] == rep["dicom_files"] - expected
    assert r["files_not_declaring_with_identifying_values"] == 0


# ------------------------------------------------------------------------- the whole table, nested too
def _plantable() -> list[tuple[int, str, str]]:
    out = []
    for i, a in enumerate(annex_e()):
        if a.mask != 0xFFFFFFFF:
            continue
        try:
            vr = dictionary_VR(a.tag)
        except KeyError:
            continue
        if vr in STRING_VRS:
            out.append((a.tag, vr, STRING_VRS[vr].format(i=i, m=1 + i % 12, d=1 + i % 28)))
    return out


def test_every_string_attribute_of_the_table_is_found_top_level_and_nested(cli, tmp_path):
    plants = _plantable()
    assert len(plants) >= 250
    folder = tmp_path / "in"
    top = make_dicom(folder / "top.dcm", _ramp())
    ds = pydicom.dcmread(top)
    for tag, vr, value in plants:
        ds.add_new(tag, vr, value)
    ds.save_as(top)
    # nested: inside ReferencedPatientSequence (a table row) and AnatomicRegionSequence (not a row)
    for name, seq_kw in (("ref.dcm", "ReferencedPatientSequence"), ("anat.dcm", "AnatomicRegionSequence")):
        p = make_dicom(folder / name, _ramp())
        ds = pydicom.dcmread(p)
        item = Dataset()
        for tag, vr, value in plants:
            item.add_new(tag, vr, value)
        setattr(ds, seq_kw, [item])
        ds.save_as(p)
    out = tmp_path / "out"
    rep, r = _scan(cli, folder, out, _key(tmp_path))
    by_tag = {a.tag: row for a, row in zip(annex_e(), rep["attributes"])}
    for tag, _, _ in plants:
        row = by_tag[tag]
        assert row["present"] == 3 and row["non_empty"] == 3 and row["nested"] == 2, row["keyword"]
        assert row["left_behind"] == 3, row["keyword"]  # no file declares de-identification
    assert len(plants) > 2 * OLD_ROWS  # far more than the rows it used to read
    text = _text_of(out) + r.stdout + r.stderr
    leaked = [v for _, _, v in plants if v in text and not v.isdigit()]
    assert not leaked
    md = (out / "deid.md").read_text()
    assert "620 rows" in md and "| (0010,0010) | PatientName |" in md


def test_declared_options_permit_what_they_keep(cli, tmp_path):
    """StudyDate is Z (a dummy permitted); PerformedProcedureStepStartDate is X unless 113106 (Retain
    Longitudinal Temporal Information Full Dates) is declared, which keeps it (K)."""
    def code(value: str) -> Dataset:
        c = Dataset()
        c.CodeValue, c.CodingSchemeDesignator, c.CodeMeaning = value, "DCM", "x"
        return c

    folder = tmp_path / "in"
    attrs = {"PatientIdentityRemoved": "YES", "StudyDate": "20000101",
             "PerformedProcedureStepStartDate": "20000101"}
    make_dicom(folder / "basic.dcm", _ramp(),
               attrs={**attrs, "DeidentificationMethodCodeSequence": [code("113100")]})
    make_dicom(folder / "dates.dcm", _ramp(),
               attrs={**attrs, "DeidentificationMethodCodeSequence": [code("113100"), code("113106")]})
    rep, _ = _scan(cli, folder, tmp_path / "out", _key(tmp_path))
    kw = {a["keyword"]: a for a in rep["attributes"]}
    assert kw["StudyDate"]["left_behind"] == 0 and kw["StudyDate"]["permitted_as_declared"] == 2
    assert kw["PerformedProcedureStepStartDate"]["left_behind"] == 1  # basic.dcm only
    assert rep["remaining"]["declaring_files_with_values_the_profile_does_not_permit"] == 1
    codes = rep["declared"]["deidentification_method_codes"]
    assert codes["113106 Retain Longitudinal Temporal Information Full Dates Option"] == 1


def test_cid_7050_meanings_are_the_standards(tmp_path):
    """The code meanings come from pydicom's copy of PS3.16 CID 7050 (113100-113112)."""
    from curate.scan.deid import method_codes

    codes = method_codes()
    assert sorted(codes) == [str(c) for c in range(113100, 113113)]
    assert codes["113100"] == "Basic Application Confidentiality Profile"


# ----------------------------------------------------------------- copied values and identifying paths
def test_copied_values_and_paths_that_identify_are_withheld_and_counted(cli, tmp_path):
    folder = tmp_path / "in"
    planted = {"Manufacturer": "Plantedname^Zebediah", "ManufacturerModelName": "MRN-7731-PLANTED",
               "BodyPartExamined": "Maria Quixabeira"}
    make_dicom(folder / "plain" / "a.dcm", _ramp(), attrs={**planted})
    make_dicom(folder / "plain" / "b.dcm", _ramp(), attrs={"Manufacturer": "SIEMENS",
                                                             "ManufacturerModelName": "Skyra",
                                                             "BodyPartExamined": "HEAD"})
    make_dicom(folder / "Smith_John_19600101.dcm", _ramp())
    make_dicom(folder / "Quixabeira_Maria" / "x.dcm", _ramp())
    out = tmp_path / "out"
    rep, r = _scan(cli, folder, out, _key(tmp_path))
    df = pd.read_parquet(out / "metadata.parquet").set_index("path")
    assert df.loc["plain/a.dcm", ["manufacturer", "manufacturer_model", "body_part"]].isna().all()
    assert tuple(df.loc["plain/b.dcm", ["manufacturer", "manufacturer_model", "body_part"]]) == (
        "SIEMENS", "Skyra", "HEAD")
    assert rep["files_with_copied_values_withheld"] == 1
    assert rep["files_whose_path_looks_like_a_name_or_date"] == 2
    shown = r.stdout + r.stderr
    assert "2 file(s) have a folder or file name" in " ".join(shown.split())
    assert "Smith" not in shown and "Quixabeira" not in shown and "19600101" not in shown
    text = _text_of(out).replace("Smith_John_19600101.dcm", "").replace("Quixabeira_Maria/x.dcm", "")
    assert not [v for v in planted.values() if v in text]


# ---------------------------------------------------------------------------- zero-filled / preallocated
@pytest.fixture()
def stalling_files(tmp_path) -> Path:
    folder = tmp_path / "in"
    good = make_dicom(folder / "good.dcm", _ramp())
    with open(folder / "sparse.dcm", "wb") as fh:  # 2 GB of zeros without writing them (sparse)
        fh.truncate(2 * 1024**3)
    head = good.read_bytes()
    meta_len = int.from_bytes(head[140:144], "little")  # (0002,0000) group length: the file meta ends here
    with open(folder / "prealloc.dcm", "wb") as fh:  # a valid file meta, then 50 MB of zeros
        fh.write(head[:144 + meta_len])
        fh.truncate(144 + meta_len + 50 * 1024**2)
    return folder


def test_zero_filled_and_preallocated_files_do_not_stall_scan(cli, tmp_path, stalling_files):
    t0 = time.monotonic()
    r = cli("scan", stalling_files, "--out", tmp_path / "out", "--key-file", _key(tmp_path), "--workers", "1")
    assert r.exit_code == 0, r.stderr
    assert time.monotonic() - t0 < 60
    skipped = pd.read_csv(tmp_path / "out" / "skipped.csv").set_index("path")["reason"]
    assert set(skipped.index) == {"sparse.dcm", "prealloc.dcm"}
    assert skipped["prealloc.dcm"].startswith("unreadable DICOM: zero-filled")
    assert len(pd.read_parquet(tmp_path / "out" / "metadata.parquet")) == 1


@pytest.mark.parametrize("name", ["sparse.dcm", "prealloc.dcm"])
def test_zero_filled_files_do_not_stall_the_image_reader(stalling_files, name):
    """The reader of embed and dedup --images (curate.scan.images): an error within a second."""
    from curate.scan.images import check_image, load_image

    for fn in (check_image, load_image):
        t0 = time.monotonic()
        with pytest.raises(Exception):  # noqa: B017 - InvalidDicomError or DicomReadAborted
            fn(stalling_files / name)
        assert time.monotonic() - t0 < 5
    assert os.path.getsize(stalling_files / name) >= 50 * 1024**2
