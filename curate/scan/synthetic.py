"""Generated DICOM / NIfTI files: the tutorial's folder, the tests' planted identifiers, the benchmark's tree.

Every value is synthetic. The demo folder deliberately keeps identifying-looking fake values (names, ids,
birth dates, an institution, a private tag) so ``curate scan``'s audit has something to flag and its
outputs can be checked not to contain them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from curate.errors import InputError, require

MR_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
DX_STORAGE = "1.2.840.10008.5.1.4.1.1.1.1"
US_STORAGE = "1.2.840.10008.5.1.4.1.1.6.1"
SOP_CLASS = {"MR": MR_STORAGE, "CT": CT_STORAGE, "DX": DX_STORAGE, "US": US_STORAGE}
VENDORS = [("GE MEDICAL SYSTEMS", "Signa HDxt"), ("SIEMENS", "Skyra"), ("Philips", "Ingenia")]


def make_dicom(path: str | os.PathLike, pixels: np.ndarray, *, modality: str = "MR",
               attrs: dict[str, Any] | None = None, private: dict[int, str] | None = None,
               transfer_syntax: str = "explicit", photometric: str | None = None,
               uid_prefix: str = "1.2.826.0.1.3680043.8.498.") -> Path:
    """Write one DICOM file holding ``pixels`` (2-D greyscale uint8/uint16/int16, or ``(H, W, 3)`` uint8 RGB).

    ``attrs`` sets any header keyword; ``private`` adds private elements in group 0x0009 (creator
    ``CURATE SYNTHETIC``); ``transfer_syntax`` is ``explicit``, ``implicit`` or ``rle`` (RLE Lossless,
    pixel-identical to the others).
    """
    require("pydicom", "dicom")
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, RLELossless, generate_uid

    path = Path(path)
    pixels = np.asarray(pixels)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SOP_CLASS.get(modality, MR_STORAGE)
    sop_uid = generate_uid(prefix=uid_prefix)
    meta.MediaStorageSOPInstanceUID = sop_uid
    implicit = transfer_syntax == "implicit"
    meta.TransferSyntaxUID = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = meta.MediaStorageSOPClassUID, sop_uid, modality
    ds.StudyInstanceUID = generate_uid(prefix=uid_prefix)
    ds.SeriesInstanceUID = generate_uid(prefix=uid_prefix)
    rgb = pixels.ndim == 3
    ds.Rows, ds.Columns = int(pixels.shape[0]), int(pixels.shape[1])
    ds.SamplesPerPixel = 3 if rgb else 1
    ds.PhotometricInterpretation = photometric or ("RGB" if rgb else "MONOCHROME2")
    if rgb:
        ds.PlanarConfiguration = 0
    bits = 8 if pixels.dtype == np.uint8 else 16
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = bits, bits, bits - 1
    ds.PixelRepresentation = 1 if pixels.dtype.kind == "i" else 0
    ds.PixelData = np.ascontiguousarray(pixels).tobytes()
    for k, v in (attrs or {}).items():
        setattr(ds, k, v)
    if private:
        block = ds.private_block(0x0009, "CURATE SYNTHETIC", create=True)
        for off, value in private.items():
            block.add_new(off, "LO", value)
    if transfer_syntax == "rle":
        ds.compress(RLELossless)
    elif transfer_syntax not in ("explicit", "implicit"):
        raise InputError(f"transfer_syntax must be explicit, implicit or rle (got '{transfer_syntax}')")
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_dicom(path, ds)
    return path


def _picture(rng: np.random.Generator, size: int, kind: int) -> np.ndarray:
    """A smooth 12-bit test picture (a disc on a gradient) that differs clearly between ``kind`` values."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) / size
    cx, cy = 0.3 + 0.4 * rng.random(), 0.3 + 0.4 * rng.random()
    disc = ((xx - cx) ** 2 + (yy - cy) ** 2) < (0.05 + 0.1 * rng.random())
    grad = np.sin((kind % 5 + 1) * np.pi * xx) * np.cos((kind % 3 + 1) * np.pi * yy)
    blocks = np.kron(rng.normal(0, 1, (4, 4)), np.ones((size // 4 + 1, size // 4 + 1)))[:size, :size]
    img = 1500 + 600 * grad + 1000 * disc + 700 * blocks + rng.normal(0, 20, (size, size))
    return np.clip(img, 0, 4095).astype(np.uint16)


def write_dicom_demo(out: str | os.PathLike, *, n_patients: int = 60, seed: int = 0,
                     size: int = 64) -> dict[str, Any]:
    """A synthetic study folder: ``n_patients`` patients × 2 images (MR / CT / DX / US, three vendors, three
    sites, DICOM ages in years / months, or only birth + study dates), one image re-saved as RLE Lossless
    (pixel-identical duplicate), one NIfTI volume and a README (a non-DICOM file)."""
    root = Path(out)
    if root.exists() and any(root.iterdir()):
        raise InputError(f"--out '{root}' exists and is not empty; curate never overwrites")
    rng = np.random.default_rng(seed)
    sites = ["SYNTHETIC GENERAL HOSPITAL", "SYNTHETIC CHILDREN'S CLINIC", "SYNTHETIC IMAGING CENTRE"]
    n = 0
    first: Path | None = None
    for p in range(n_patients):
        vendor, model = VENDORS[p % len(VENDORS)]
        sex = "F" if rng.random() < 0.5 else "M"
        modality = ["MR", "CT", "DX", "US"][p % 4]
        attrs: dict[str, Any] = {
            "PatientName": f"SYNTHETIC^PATIENT{p:04d}", "PatientID": f"SYN-{p:06d}",
            "PatientSex": sex, "Manufacturer": vendor, "ManufacturerModelName": model,
            "InstitutionName": sites[p % len(sites)], "ReferringPhysicianName": f"SYNTHETIC^DOCTOR{p % 7}",
            "StudyDate": f"2021{1 + p % 12:02d}15",
            "BodyPartExamined": ["BRAIN", "CHEST", "CHEST", "ABDOMEN"][p % 4],
            "PixelSpacing": [0.7, 0.7],
        }
        mode = p % 3
        if mode == 0:
            attrs["PatientAge"] = f"{int(rng.integers(18, 95)):03d}Y"
        elif mode == 1:
            attrs["PatientAge"] = f"{int(rng.integers(1, 23)):03d}M"
        else:
            attrs["PatientBirthDate"] = f"19{int(rng.integers(30, 99)):02d}0704"
        study = None
        for k in range(2):
            path = root / f"patient{p:04d}" / f"image{k}.dcm"
            a = dict(attrs)
            if study is not None:
                a["StudyInstanceUID"] = study
            make_dicom(path, _picture(rng, size, p * 2 + k), modality=modality, attrs=a,
                       private={0x01: f"SYN-{p:06d}"})
            if study is None:
                import pydicom

                study = pydicom.dcmread(path, stop_before_pixels=True).StudyInstanceUID
            first = first or path
            n += 1
    # the same pixels, stored again as RLE Lossless: bytes differ, pixels do not
    import pydicom
    from pydicom.uid import RLELossless

    ds = pydicom.dcmread(first)
    ds.compress(RLELossless)
    (root / "resent").mkdir(exist_ok=True)
    _write_dicom(root / "resent" / "image0_rle.dcm", ds)
    n += 1
    nib = require("nibabel", "dicom")
    vol = (rng.random((32, 32, 12)) * 1000).astype(np.int16)
    (root / "volumes").mkdir(exist_ok=True)
    import gzip

    from curate.output import write_bytes

    image = nib.Nifti1Image(vol, np.diag([1.0, 1.0, 2.5, 1.0]))
    write_bytes(root / "volumes" / "ct_volume.nii.gz", gzip.compress(image.to_bytes(), mtime=0), atomic=False)
    from curate.output import write_text

    write_text(root / "README.txt", "Synthetic DICOM demo written by curate: not real patients.\n",
               synthetic=True, atomic=False)
    return {"dicom_files": n, "nifti_files": 1, "other_files": 1}


def _write_dicom(path: Path, ds) -> None:
    """A synthetic DICOM file, through the exit gate (:func:`curate.output.write_bytes`)."""
    import io

    import pydicom

    from curate.output import write_bytes

    buf = io.BytesIO()
    pydicom.dcmwrite(buf, ds, enforce_file_format=True)
    write_bytes(path, buf.getvalue(), atomic=False)
