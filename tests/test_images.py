"""The engine's one image reader on DICOM / NIfTI, and `embed` / `dedup --images` using it.

Oracles: the DICOM VOI formula and MONOCHROME1 inversion written out with numpy, pydicom's decoded
``pixel_array`` (pixel identity across transfer syntaxes), nibabel's canonical reorientation.
"""

from __future__ import annotations

import shutil
from itertools import combinations

import numpy as np
import pandas as pd
import pytest

pydicom = pytest.importorskip("pydicom")
nib = pytest.importorskip("nibabel")
pytest.importorskip("PIL")

from PIL import Image  # noqa: E402
from pydicom.data import get_testdata_file  # noqa: E402

from curate.scan.images import list_image_files, load_array, load_image, pixel_digest  # noqa: E402
from curate.scan.synthetic import make_dicom  # noqa: E402

MR_VARIANTS = ["MR_small.dcm", "MR_small_RLE.dcm", "MR_small_jpeg_ls_lossless.dcm",
               "MR_small_jp2klossless.dcm", "MR_small_bigendian.dcm", "MR_small_implicit.dcm"]
OTHERS = ["CT_small.dcm", "SC_rgb_rle.dcm", "SC_rgb_jpeg_dcmtk.dcm"]


def _ramp(h=16, w=24) -> np.ndarray:
    return (np.arange(h * w).reshape(h, w) * 9 % 4000).astype(np.uint16)


def _oracle_minmax(x) -> np.ndarray:
    x = x.astype(np.float64)
    return np.round((x - x.min()) / (x.max() - x.min()) * 255).astype(np.uint8)


def test_monochrome1_is_inverted(tmp_path):
    px = _ramp()
    m2 = make_dicom(tmp_path / "m2.dcm", px, photometric="MONOCHROME2")
    m1 = make_dicom(tmp_path / "m1.dcm", px, photometric="MONOCHROME1")
    want = _oracle_minmax(px)
    np.testing.assert_array_equal(np.asarray(load_image(m2)), want)
    np.testing.assert_array_equal(np.asarray(load_image(m1)), 255 - want)


def test_modality_lut_then_window(tmp_path):
    px = _ramp()
    p = make_dicom(tmp_path / "w.dcm", px, modality="CT", attrs={
        "RescaleSlope": 2, "RescaleIntercept": -100, "WindowCenter": 3000, "WindowWidth": 2000})
    hu = px.astype(np.float64) * 2 - 100
    c, w = 3000.0, 2000.0
    want = np.round(np.clip((hu - (c - 0.5)) / (w - 1) + 0.5, 0, 1) * 255).astype(np.uint8)
    got = np.asarray(load_image(p))
    np.testing.assert_array_equal(got, want)
    assert got.min() == 0 and got.max() == 255  # the window clips both ends of this ramp


def test_multiframe_takes_the_middle_frame_and_colour_stays_colour():
    path = get_testdata_file("SC_rgb_rle_2frame.dcm")
    ds = pydicom.dcmread(path)
    img = load_image(path)
    assert img.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(img), ds.pixel_array[1])


def test_nifti_middle_axial_slice_in_canonical_orientation(tmp_path):
    data = np.random.default_rng(0).integers(0, 1000, (6, 5, 7)).astype(np.int16)
    affine = np.diag([-1.0, 1.0, 2.0, 1.0])  # x stored right→left (LAS): canonical flips the first axis
    p = tmp_path / "v.nii.gz"
    nib.save(nib.Nifti1Image(data, affine), str(p))
    want = _oracle_minmax(np.rot90(data[::-1, :, 3]))
    np.testing.assert_array_equal(np.asarray(load_image(p)), want)


def test_transfer_syntaxes_decode_to_identical_pixels():
    arrays = {f: pydicom.dcmread(get_testdata_file(f)).pixel_array for f in MR_VARIANTS}
    ref = arrays["MR_small.dcm"]
    assert all(np.array_equal(a.astype(ref.dtype), ref) for a in arrays.values())  # the oracle agrees
    displays = {f: load_array(get_testdata_file(f)) for f in MR_VARIANTS}
    for f, (display, stored) in displays.items():
        np.testing.assert_array_equal(display, displays["MR_small.dcm"][0])
        assert pixel_digest(stored) == pixel_digest(ref), f


@pytest.fixture()
def dicom_folder(tmp_path):
    root = tmp_path / "imgs"
    (root / "sub").mkdir(parents=True)
    for f in MR_VARIANTS + OTHERS:
        shutil.copy(get_testdata_file(f), root / f)
    shutil.copy(get_testdata_file("MR_small.dcm"), root / "sub" / "copy_of_MR_small.dcm")
    vol = np.arange(60, dtype=np.int16).reshape(3, 4, 5)
    nib.save(nib.Nifti1Image(vol, np.eye(4)), str(root / "v.nii.gz"))
    (root / "notes.txt").write_text("not an image")
    return root


def test_dedup_images_finds_pixel_identical_files_across_transfer_syntaxes(dicom_folder, cli, tmp_path):
    from curate.engine.dedup.images import image_dedup

    res = image_dedup(dicom_folder, max_distance=0)
    files = list_image_files(dicom_folder)
    rel = [p.relative_to(dicom_folder).as_posix() for p in files]
    assert "notes.txt" not in rel and "v.nii.gz" in rel
    raw = {}
    for r, p in zip(rel, files):
        a = pydicom.dcmread(p).pixel_array if p.suffix == ".dcm" else np.asanyarray(nib.load(str(p)).dataobj)
        raw[r] = a.astype(a.dtype.newbyteorder("="))
    same_pixels = {(a, b) for a, b in combinations(sorted(rel), 2)
                   if raw[a].shape == raw[b].shape and np.array_equal(raw[a], raw[b])}
    same_bytes = {(a, b) for a, b in same_pixels
                  if (dicom_folder / a).read_bytes() == (dicom_folder / b).read_bytes()}
    got = {(r.id_a, r.id_b): r.kind for r in res.pairs.itertuples()}
    assert {k for k, v in got.items() if v == "pixels"} == same_pixels - same_bytes
    assert {k for k, v in got.items() if v == "exact"} == same_bytes
    assert same_bytes == {("MR_small.dcm", "sub/copy_of_MR_small.dcm")}
    assert len(same_pixels) == 21  # 7 copies of MR_small in 6 encodings: every pair
    assert res.summary["pixel_identical_pairs"] == 20
    r = cli("dedup", "--images", dicom_folder, "--out", tmp_path / "dd", "--max-distance", "0")
    assert r.exit_code == 0, r.stderr
    assert "20 pixel-identical pairs" in r.stdout and "1 identical-file pairs" in r.stdout
    keep = (tmp_path / "dd" / "keep.txt").read_text().split()
    assert sum(k.startswith(("MR_small", "sub/copy_of_MR")) for k in keep) == 1


def test_embed_reads_dicom_and_nifti(dicom_folder, tmp_path, cli):
    from curate.engine.embed import embed

    res = embed(dicom_folder, backbone="pixels").embeddings
    ids = list(res.ids)
    assert "MR_small_RLE.dcm" in ids and "v.nii.gz" in ids and "notes.txt" not in ids
    vec = dict(zip(ids, res.vectors))
    for f in MR_VARIANTS:
        np.testing.assert_array_equal(vec[f], vec["MR_small.dcm"])
    # the same display pixels saved as PNG (windowed by the oracle formula) embed identically
    ds = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
    c, w = float(ds.WindowCenter), float(ds.WindowWidth)
    disp = np.round(np.clip((ds.pixel_array - (c - 0.5)) / (w - 1) + 0.5, 0, 1) * 255).astype(np.uint8)
    png_dir = tmp_path / "png"
    png_dir.mkdir()
    Image.fromarray(disp).save(png_dir / "mr.png")
    np.testing.assert_allclose(embed(png_dir, backbone="pixels").embeddings.vectors[0], vec["MR_small.dcm"],
                               atol=1e-6)
    # a metadata table listing .dcm files (the "not a readable image")
    pd.DataFrame({"image": ["CT_small.dcm", "MR_small.dcm"], "id": ["ct", "mr"]}).to_csv(
        dicom_folder / "meta.csv", index=False)
    r = cli("embed", dicom_folder / "meta.csv", "--backbone", "pixels", "--out", tmp_path / "e.parquet",
            "--quiet")
    assert r.exit_code == 0, r.stderr
    (dicom_folder / "fake.dcm").write_text("not dicom")
    r = cli("embed", dicom_folder, "--backbone", "pixels", "--out", tmp_path / "e2.parquet", "--quiet")
    assert r.exit_code != 0 and "fake.dcm" in r.stderr and "not a readable image" in r.stderr
