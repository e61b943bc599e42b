"""`curate scan` on a folder no one here wrote (pydicom's own test files) plus generated files that carry
planted identifying values, a NIfTI volume, a text file and a corrupt DICOM file.

Oracles: pydicom read independently (every header field, every Annex E count), hmac recomputed with the
standard library (pseudonyms), nibabel (NIfTI header), and a byte search of every output file — parquet
decoded — and of stdout / stderr for every planted value.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pydicom = pytest.importorskip("pydicom")
nib = pytest.importorskip("nibabel")

from pydicom.data import get_testdata_file  # noqa: E402

from curate.scan.dicom_header import derived_age, parse_age  # noqa: E402
from curate.scan.synthetic import make_dicom  # noqa: E402

#: Real files shipped with pydicom (all present offline in its wheel).
PYDICOM_FILES = ["MR_small.dcm", "MR_small_RLE.dcm", "MR_small_jpeg_ls_lossless.dcm",
                 "MR_small_jp2klossless.dcm", "MR_small_bigendian.dcm", "CT_small.dcm", "SC_rgb_rle.dcm",
                 "SC_rgb_rle_2frame.dcm", "SC_rgb_jpeg_dcmtk.dcm"]
MR_VARIANTS = [f for f in PYDICOM_FILES if f.startswith("MR_small")]
PLANTED = {
    "PatientName": "Plantedname^Zebediah", "PatientID": "MRN-7731-PLANTED", "PatientBirthDate": "19470312",
    "InstitutionName": "St Plantedvalue Infirmary", "ReferringPhysicianName": "Plantedreferrer^Ophelia",
    "AccessionNumber": "ACC99PLANT11", "OtherPatientIDs": "OTHERPLANTED42", "StationName": "PLANTSTATION9",
    "DeviceSerialNumber": "SERIALPLANT77",
}
PRIVATE_VALUE = "PRIVATE-PLANTED-SECRET-4242"
NIFTI_TEXT = "Plantednifti^Person 1951"


def _secret(key_file: Path) -> bytes:
    return bytes.fromhex(key_file.read_text().strip())


def _hmac(secret: bytes, kind: str, raw: str, context: str = "") -> str:
    """Independent oracle of curate.policy.pseudonyms: HMAC-SHA256, 16 hex digits."""
    msg = "\x00".join([kind, context, raw]).encode()
    return kind + "_" + hmac.new(secret, msg, hashlib.sha256).hexdigest()[:16]


def _ramp(h: int = 32, w: int = 32) -> np.ndarray:
    return (np.arange(h * w, dtype=np.uint16).reshape(h, w) * 3 % 4096).astype(np.uint16)


@pytest.fixture()
def mixed(tmp_path) -> dict:
    root = tmp_path / "incoming"
    (root / "pydicom").mkdir(parents=True)
    for name in PYDICOM_FILES:
        shutil.copy(get_testdata_file(name), root / "pydicom" / name)
    uids = []
    gen = root / "generated"
    ages = {"a.dcm": ("PatientAge", "018M"), "b.dcm": ("PatientAge", "003W"), "c.dcm": ("PatientAge", "010D"),
            "d.dcm": ("PatientAge", "097Y"), "e.dcm": ("StudyDate", "20210101")}
    for i, (name, (k, v)) in enumerate(ages.items()):
        attrs = dict(PLANTED, PatientSex="F" if i % 2 else "M", Manufacturer="SIEMENS",
                     ManufacturerModelName="Skyra", StudyDate="20200615")
        attrs[k] = v
        p = make_dicom(gen / name, _ramp() + i, modality="MR", attrs=attrs, private={0x01: PRIVATE_VALUE})
        ds = pydicom.dcmread(p, stop_before_pixels=True)
        uids += [ds.SOPInstanceUID, ds.StudyInstanceUID, ds.SeriesInstanceUID]
    # an ultrasound without BurnedInAnnotation, and a declared de-identified file keeping its dates
    make_dicom(gen / "us.dcm", _ramp(16, 16).astype(np.uint8), modality="US", attrs={"PatientSex": "F"})
    deid = pydicom.Dataset()
    deid.CodeValue, deid.CodingSchemeDesignator, deid.CodeMeaning = "113100", "DCM", "Basic Profile"
    dates = pydicom.Dataset()
    dates.CodeValue, dates.CodingSchemeDesignator, dates.CodeMeaning = "113106", "DCM", "Full Dates"
    make_dicom(gen / "deid.dcm", _ramp(), attrs={"PatientIdentityRemoved": "YES", "StudyDate": "20190101",
                                                 "DeidentificationMethodCodeSequence": [deid, dates],
                                                 "PatientID": "ANON0001", "PatientSex": "M"})
    vol = np.arange(6 * 5 * 4, dtype=np.int16).reshape(6, 5, 4)
    (root / "nifti").mkdir()
    nimg = nib.Nifti1Image(vol, np.diag([0.8, 0.9, 2.5, 1.0]))
    nimg.header["descrip"] = NIFTI_TEXT.encode()  # converters put scanner / patient text here
    nib.save(nimg, str(root / "nifti" / "vol.nii.gz"))
    (root / "notes.txt").write_text("not an image\n")
    (root / "broken.dcm").write_bytes((gen / "a.dcm").read_bytes()[:200])  # truncated header
    key = tmp_path / "secret" / "pseudonym.key"
    key.parent.mkdir()
    key.write_text(bytes(range(32)).hex() + "\n")
    return {"root": root, "key": key, "uids": uids, "tmp": tmp_path}


def _scan(cli, mixed, *extra) -> tuple[Path, object]:
    out = mixed["tmp"] / "scan-out"
    r = cli("scan", mixed["root"], "--out", out, "--key-file", mixed["key"], *extra)
    assert r.exit_code == 0, r.stderr
    return out, r


def _every_output_text(out: Path) -> str:
    texts = []
    for p in sorted(out.rglob("*")):
        if p.suffix == ".parquet":
            texts.append(pd.read_parquet(p).to_csv(index=False))
        if p.is_file():
            texts.append(p.read_bytes().decode("utf-8", errors="replace"))
    return "\n".join(texts)


# ----------------------------------------------------------------------------------------- ages
@pytest.mark.parametrize("raw, years", [("060Y", 60.0), ("018M", 1.5), ("003W", 0.06), ("010D", 0.03),
                                        ("090Y", 90.0), ("104Y", 90.0), ("000Y", 0.0), ("45", 45.0),
                                        ("", None), ("abc", None), (None, None), ("12X", None)])
def test_parse_age(raw, years):
    assert parse_age(raw) == years


def test_derived_age_completed_years_and_top_coding():
    assert derived_age("19470312", "20210311") == 73.0  # birthday not reached yet
    assert derived_age("19470312", "20210312") == 74.0
    assert derived_age("20200101", "20200701") == round(182 / 365.25, 2)  # infants: fractional years
    assert derived_age("19000101", "20200101") == 90.0
    assert derived_age("20200101", "20190101") is None and derived_age("", "20190101") is None


# ----------------------------------------------------------------------------------------- scan
def test_scan_rows_match_pydicom_and_nibabel(cli, mixed):
    out, r = _scan(cli, mixed)
    df = pd.read_parquet(out / "metadata.parquet")
    secret = _secret(mixed["key"])
    dicoms = sorted(p for p in mixed["root"].rglob("*.dcm") if p.name != "broken.dcm")
    assert len(df) == len(dicoms) + 1
    assert set(df["format"]) == {"dicom", "nifti"}
    skipped = pd.read_csv(out / "skipped.csv")
    reasons = dict(zip(skipped["path"], skipped["reason"]))
    assert set(reasons) == {"broken.dcm", "notes.txt"}
    assert reasons["notes.txt"] == "not DICOM or NIfTI"
    assert reasons["broken.dcm"].startswith("DICOM file without an image")
    assert "2 skipped" in r.stdout
    rows = df.set_index("path")
    for p in dicoms:
        ds = pydicom.dcmread(p)
        row = rows.loc[p.relative_to(mixed["root"]).as_posix()]
        assert row["modality"] == ds.Modality
        assert row["rows"] == ds.Rows and row["columns"] == ds.Columns
        assert row["frames"] == int(ds.get("NumberOfFrames") or 1)
        assert row["transfer_syntax"] == ds.file_meta.TransferSyntaxUID.name
        assert row["photometric"] == ds.PhotometricInterpretation
        assert row["bits_stored"] == ds.BitsStored
        manufacturer = row["manufacturer"] if pd.notna(row["manufacturer"]) else None
        assert manufacturer == (ds.get("Manufacturer") or None)
        pid = str(ds.get("PatientID") or "").strip()
        got = row["patient_key"] if pd.notna(row["patient_key"]) else None
        assert got == (_hmac(secret, "patient", pid) if pid else None)
        assert row["study_key"] == _hmac(secret, "study", ds.StudyInstanceUID)
        assert row["series_key"] == _hmac(secret, "series", ds.SeriesInstanceUID)
        if ds.get("PixelSpacing"):
            assert row["pixel_spacing_row"] == pytest.approx(float(ds.PixelSpacing[0]))
    gen = {k.split("/")[-1]: v for k, v in rows["patient_age"].items() if k.startswith("generated/")}
    assert gen["a.dcm"] == 1.5 and gen["b.dcm"] == 0.06 and gen["c.dcm"] == 0.03 and gen["d.dcm"] == 90.0
    assert gen["e.dcm"] == 73.0  # no PatientAge: 1947-03-12 → 2021-01-01, from birth and study dates
    assert rows.loc["generated/e.dcm", "age_source"] == "birth and study dates"
    assert rows.loc["pydicom/CT_small.dcm", "patient_age"] == 0.0  # its header says 000Y
    nrow = rows.loc["nifti/vol.nii.gz"]
    img = nib.load(str(mixed["root"] / "nifti" / "vol.nii.gz"))
    assert nrow["shape"] == "x".join(map(str, img.shape)) == "6x5x4"
    assert nrow["voxel_size"] == "0.8x0.9x2.5" and nrow["orientation"] == "".join(nib.aff2axcodes(img.affine))
    assert pd.isna(nrow["patient_key"])


def test_no_identifying_value_in_any_output(cli, mixed):
    out, r = _scan(cli, mixed, "--splits", "0.5,0.5")
    card = mixed["tmp"] / "card"
    r2 = cli("build-card", "ADNI-1.5T", "--meta", out / "metadata.parquet", "--out", card)
    assert r2.exit_code == 0, r2.stderr
    text = _every_output_text(out) + _every_output_text(card) + r.stdout + r.stderr + r2.stdout + r2.stderr
    planted = [*PLANTED.values(), PRIVATE_VALUE, NIFTI_TEXT, *mixed["uids"], "ANON0001"]
    # and every identifying attribute of pydicom's own files (values long enough to be specific, that are not
    # also an attribute curate copies on purpose: InstitutionName TOSHIBA is in Manufacturer TOSHIBA_MEC)
    from curate.scan.deid import annex_e

    copied_kw = ("Manufacturer", "ManufacturerModelName", "Modality", "BodyPartExamined", "PatientSex",
                 "PatientAge", "PhotometricInterpretation")
    for p in (mixed["root"] / "pydicom").iterdir():
        ds = pydicom.dcmread(p, stop_before_pixels=True)
        copied = " ".join(str(ds.get(k, "")) for k in copied_kw)
        for a in annex_e():
            if a.keyword in copied_kw or a.tag not in ds or ds[a.tag].VR == "SQ":
                continue
            v = str(ds[a.tag].value).strip()
            if len(v) >= 5 and v not in copied:
                planted.append(v)
    leaks = [v for v in planted if v.lower() in text.lower()]
    assert not leaks
    assert "patient_" in text and "site_" in text  # the keyed forms are there instead


def test_deid_counts_match_pydicom(cli, mixed):
    out, _ = _scan(cli, mixed)
    report = json.loads((out / "deid.json").read_text())
    files = sorted(p for p in mixed["root"].rglob("*.dcm") if p.name != "broken.dcm")
    dss = [pydicom.dcmread(p, stop_before_pixels=True) for p in files]
    assert report["dicom_files"] == len(dss)
    by_kw = {a["keyword"]: a for a in report["attributes"]}
    for kw in ("PatientName", "PatientID", "PatientBirthDate", "InstitutionName", "ReferringPhysicianName",
               "StudyDate", "StudyInstanceUID", "AccessionNumber", "OtherPatientIDs", "StationName"):
        present = sum(kw in ds for ds in dss)
        non_empty = sum(kw in ds and str(ds[kw].value).strip() != "" for ds in dss)
        assert (by_kw[kw]["present"], by_kw[kw]["non_empty"]) == (present, non_empty), kw
    private = [sum(e.tag.is_private for e in ds) for ds in dss]
    assert report["private_tags"]["files_with_private_tags"] == sum(n > 0 for n in private) >= 6
    assert report["private_tags"]["private_elements"] == sum(private)
    assert report["patient_identity_removed"] == {"(absent)": len(dss) - 1, "YES": 1}
    codes = report["deidentification_method_codes"]
    assert codes == {"113100 Basic Application Confidentiality Profile": 1,
                     "113106 Retain Longitudinal Temporal Information Full Dates Option": 1}  # CID 7050
    opts = {o["code"]: o for o in report["retain_options"]}
    assert opts["113106"]["declared_in_files"] == 1
    assert opts["113106"]["appears"].startswith("appears followed")
    assert opts["113109"]["appears"].startswith("not followed")  # the de-identified file has no station name
    assert "cannot be told" in opts["113110"]["appears"]
    burn = report["burned_in_annotation"]
    assert burn["by_modality"]["US"] == {"(absent)": 1}
    # US plus pydicom's secondary-capture RGB files (SOP class 1.2.840.10008.5.1.4.1.1.7)
    sc = sum(str(ds.SOPClassUID).startswith("1.2.840.10008.5.1.4.1.1.7") for ds in dss)
    assert burn["burn_in_prone_files"] == burn["burn_in_prone_files_without_it"] == 1 + sc
    assert report["nifti_files"] == report["nifti_files_with_header_text"] == 1
    md = (out / "deid.md").read_text()
    assert "| (0010,0010) | PatientName | Z |" in md and "BurnedInAnnotation" in md


def test_path_named_after_patient_is_flagged(cli, tmp_path):
    make_dicom(tmp_path / "in" / "MRN-55501" / "x.dcm", _ramp(), attrs={"PatientID": "MRN-55501"})
    key = tmp_path / "k.key"
    key.write_text("ab" * 32)
    r = cli("scan", tmp_path / "in", "--out", tmp_path / "o", "--key-file", key)
    assert r.exit_code == 0, r.stderr
    rep = json.loads((tmp_path / "o" / "deid.json").read_text())
    assert rep["files_whose_path_contains_patient_id_or_name"] == 1


def test_refuses_non_empty_out_and_bad_input(cli, mixed, tmp_path):
    out = tmp_path / "taken"
    out.mkdir()
    (out / "mine.txt").write_text("user data")
    r = cli("scan", mixed["root"], "--out", out, "--key-file", mixed["key"])
    assert r.exit_code != 0 and r.stderr.startswith("error:") and "Traceback" not in r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["mine.txt"]
    r = cli("scan", tmp_path / "nope", "--out", tmp_path / "o2", "--key-file", mixed["key"])
    assert r.exit_code != 0 and "does not exist" in r.stderr and not (tmp_path / "o2").exists()
    r = cli("scan", mixed["root"], "--out", mixed["root"] / "o3", "--key-file", mixed["key"])
    assert r.exit_code != 0 and "inside the scanned folder" in r.stderr
    assert not (mixed["root"] / "o3").exists()
    empty = tmp_path / "only-text"
    empty.mkdir()
    (empty / "a.txt").write_text("x")
    r = cli("scan", empty, "--out", tmp_path / "o4", "--key-file", mixed["key"])
    assert r.exit_code != 0 and "no DICOM or NIfTI" in r.stderr and not (tmp_path / "o4").exists()
    assert not list(tmp_path.glob(".o4.*"))  # no temporary folder left behind


def test_process_pool_gives_the_same_table(tmp_path, monkeypatch):
    import curate.scan.resume as resume
    from curate.scan import scan

    monkeypatch.setattr(resume, "BLOCK", 64)  # the pool also goes through checkpointed blocks

    rng = np.random.default_rng(0)
    for i in range(140):
        make_dicom(tmp_path / "in" / f"{i:03d}.dcm", rng.integers(0, 4000, (8, 8)).astype(np.uint16),
                   attrs={"PatientID": f"P{i % 17}", "PatientAge": f"{20 + i % 60:03d}Y"})
    (tmp_path / "in" / "junk.bin").write_bytes(b"\x00" * 300)
    key = tmp_path / "k.key"
    key.write_text("cd" * 32)
    a = scan(tmp_path / "in", tmp_path / "serial", key_file=key, workers=1)
    b = scan(tmp_path / "in", tmp_path / "pool", key_file=key, workers=2)
    assert a.n_dicom == b.n_dicom == 140 and len(a.skipped) == len(b.skipped) == 1
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "serial" / "metadata.parquet"),
                                  pd.read_parquet(tmp_path / "pool" / "metadata.parquet"))
    assert (tmp_path / "serial" / "deid.json").read_text() == (tmp_path / "pool" / "deid.json").read_text()
    assert not resume.partial_folder(tmp_path / "pool").exists()


def test_build_card_composition_per_split(cli, tmp_path):
    from curate.scan.synthetic import write_dicom_demo

    write_dicom_demo(tmp_path / "dicom", n_patients=60, seed=1)
    key = tmp_path / "k.key"
    key.write_text("ef" * 32)
    r = cli("scan", tmp_path / "dicom", "--out", tmp_path / "scan", "--key-file", key, "--splits", "0.5,0.5",
            "--seed", "3")
    assert r.exit_code == 0, r.stderr
    df = pd.read_parquet(tmp_path / "scan" / "metadata.parquet")
    assert df.groupby("patient_key")["split"].nunique().max() == 1  # patient-level splits
    r = cli("build-card", "ADNI-1.5T", "--meta", tmp_path / "scan" / "metadata.parquet",
            "--out", tmp_path / "card")
    assert r.exit_code == 0, r.stderr
    sheet = (tmp_path / "card" / "datasheet.md").read_text()
    for line in ("- patient: `patient_key`", "- device: `device`", "- site: `site`", "- split: `split`"):
        assert line in sheet
    assert "**Per split: patients, studies, images**" in sheet and "**Sex by split (images)**" in sheet
    assert "**Device by split (images)**" in sheet and "**Site by split (images)**" in sheet
    assert "- label:" not in sheet  # rows, frames, bits_stored... are image properties, not labels
    # the per-split patient counts are the true ones (independent pandas count), or suppressed
    per = df.groupby("split")["patient_key"].nunique()
    block = sheet.split("**Per split: patients, studies, images**")[1].split("**", 1)[0]
    for split, n in per.items():
        shown = next(ln for ln in block.splitlines() if ln.startswith(f"| {split} |")).split("|")[2].strip()
        assert shown == (f"{n:,}" if n >= 11 else "<11") or shown == "*"


def test_dicom_age_strings_accepted_in_a_csv(tmp_path):
    from curate.pipeline.composition import measure_composition

    df = pd.DataFrame({"patient_id": range(30), "patient_age": ["060Y"] * 12 + ["018M"] * 12 + ["095Y"] * 6})
    comp = measure_composition(df)
    assert comp.age_summary["n"] == "30" and comp.age_summary["median"] == "60.0"


def test_interrupted_scan_resumes_without_rereading(tmp_path, monkeypatch):
    import curate.scan.resume as resume
    import curate.scan.walk as walk

    monkeypatch.setattr(resume, "BLOCK", 10)
    monkeypatch.setattr(walk, "CHUNK", 5)
    for i in range(35):
        make_dicom(tmp_path / "in" / f"{i:03d}.dcm", _ramp(8, 8) + i,
                   attrs={"PatientID": f"MRN-PLANT-{i:04d}", "PatientName": f"Plantedname^{i:04d}"})
    key = tmp_path / "k.key"
    key.write_text("12" * 32)
    real = walk._read_chunk
    calls: list[int] = []

    def dies_on_the_fifth_chunk(items, tags):
        calls.append(len(items))
        if len(calls) == 5:
            raise KeyboardInterrupt
        return real(items, tags)

    monkeypatch.setattr(walk, "_read_chunk", dies_on_the_fifth_chunk)
    with pytest.raises(KeyboardInterrupt):
        walk.scan(tmp_path / "in", tmp_path / "out", key_file=key, workers=1)
    partial = resume.partial_folder(tmp_path / "out")
    assert not (tmp_path / "out").exists() and len(list(partial.glob("*.json"))) == 2  # blocks 0-9, 10-19
    saved = "".join(p.read_text() for p in partial.glob("*.json"))
    assert "MRN-PLANT" not in saved and "Plantedname" not in saved and "patient_" in saved
    calls.clear()
    res = walk.scan(tmp_path / "in", tmp_path / "out", key_file=key, workers=1)
    assert res.resumed == 20 and sum(calls) == 15 and not partial.exists()
    monkeypatch.setattr(walk, "_read_chunk", real)
    fresh = walk.scan(tmp_path / "in", tmp_path / "fresh", key_file=key, workers=1)
    assert fresh.resumed == 0
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out" / "metadata.parquet"),
                                  pd.read_parquet(tmp_path / "fresh" / "metadata.parquet"))
    # a changed file or another key invalidates its block
    walk.scan(tmp_path / "in", tmp_path / "other", key_file=key, workers=1)  # leaves no checkpoint
    key2 = tmp_path / "k2.key"
    key2.write_text("34" * 32)
    cp = resume.Checkpoint(resume.partial_folder(tmp_path / "x"), "salt-a")
    block = [(str(tmp_path / "in" / "000.dcm"), "000.dcm")]
    cp.save(0, block, [{"skip": "x"}])
    assert cp.load(0, block) == [{"skip": "x"}]
    assert resume.Checkpoint(cp.folder, "salt-b").load(0, block) is None
    os_time = (tmp_path / "in" / "000.dcm").stat().st_mtime_ns + 10**9
    import os

    os.utime(tmp_path / "in" / "000.dcm", ns=(os_time, os_time))
    assert cp.load(0, block) is None


def test_demo_dicom_refuses_a_non_empty_folder(cli, tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "mine.dcm").write_text("user file")
    r = cli("demo-dicom", "--out", tmp_path / "d", "--n-patients", "2")
    assert r.exit_code != 0 and r.stderr.startswith("error:") and "never overwrites" in r.stderr
    assert [p.name for p in (tmp_path / "d").iterdir()] == ["mine.dcm"]
    r = cli("demo-dicom", "--out", tmp_path / "new", "--n-patients", "2")
    assert r.exit_code == 0 and "5 synthetic DICOM files" in r.stdout
