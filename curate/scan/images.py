"""The one image reader of the engine: PNG/JPEG/TIFF (PIL), DICOM (pydicom) and NIfTI (nibabel).

``embed``, ``dedup --images`` and the header checks all open files through :func:`load_image`, so an image
means the same pixels everywhere. What a medical file becomes:

- **DICOM** (pydicom; JPEG, JPEG-LS and JPEG 2000 through the ``pylibjpeg`` plugins, RLE natively):
  the stored values go through the Modality LUT (Rescale Slope / Intercept or a LUT sequence), then the
  first VOI transform the header gives — a VOI LUT sequence, else the first Window Center / Width (the
  linear DICOM formula; SIGMOID is treated as linear); with neither, the image's own min..max. The result is
  scaled to 8 bits, and MONOCHROME1 (white = low values) is inverted so bright always means dense.
  Colour images (RGB, YBR_* converted to RGB by pydicom) are kept in colour.
  **Multi-frame**: the middle frame (``frames // 2``) stands for the file.
- **NIfTI** (nibabel): the volume is reoriented to the closest canonical (RAS+) axes; a 4-D series keeps
  its first volume; the **middle slice along the third (inferior–superior) axis** is taken, rotated so
  anterior is up, and min..max scaled to 8 bits.
- Anything else goes to PIL unchanged (``to_rgb`` in :mod:`curate.engine.embed` handles 16-bit greyscale).

:func:`pixel_digest` hashes the *decoded stored values* (before any display transform), so a file
re-encoded in another transfer syntax (RLE, JPEG-LS lossless, JPEG 2000 lossless, big-endian) has the
same digest while its bytes differ.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np

from curate.errors import require

#: Files PIL decodes.
PIL_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".webp")
DICOM_EXTENSIONS = (".dcm", ".dicom")
NIFTI_EXTENSIONS = (".nii", ".nii.gz")
#: Every extension the engine lists as an image (folder files without an extension are sniffed for DICOM).
IMAGE_EXTENSIONS = (*PIL_EXTENSIONS, *DICOM_EXTENSIONS, *NIFTI_EXTENSIONS)


def kind_of(path: str | os.PathLike) -> str:
    """``"dicom"``, ``"nifti"`` or ``"pil"`` from the name (a name without extension is sniffed)."""
    name = str(path).lower()
    if name.endswith(NIFTI_EXTENSIONS):
        return "nifti"
    if name.endswith(DICOM_EXTENSIONS):
        return "dicom"
    if not Path(name).suffix and _has_dicom_preamble(path):
        return "dicom"
    return "pil"


def _has_dicom_preamble(path: str | os.PathLike) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:] == b"DICM"


def is_image_file(path: Path) -> bool:
    """Listed as an image: a known extension, or no extension and a DICOM preamble (``DICM`` at 128)."""
    name = path.name.lower()
    if name.endswith(IMAGE_EXTENSIONS):
        return True
    return not path.suffix and _has_dicom_preamble(path)


def list_image_files(root: Path) -> list[Path]:
    """Image files under ``root`` (recursive, sorted)."""
    return sorted(p for p in root.rglob("*") if p.is_file() and is_image_file(p))


def check_image(path: str | os.PathLike) -> None:
    """Read the header only (cheap); raises when the file is missing or is not a readable image."""
    kind = kind_of(path)
    if kind == "dicom":
        require("pydicom", "dicom")
        from curate.scan.dicom_read import read_dataset

        ds = read_dataset(path, stop_before_pixels=True)  # no stall on zero-filled / preallocated files
        if "Rows" not in ds or "Columns" not in ds:
            raise ValueError("DICOM file without an image (no Rows / Columns)")
    elif kind == "nifti":
        nib = require("nibabel", "dicom")
        if len(nib.load(str(path)).shape) < 2:
            raise ValueError("NIfTI file with fewer than 2 dimensions")
    else:
        from PIL import Image

        with Image.open(path):
            pass


# ------------------------------------------------------------------------------------------- DICOM
def dicom_pixels(ds: Any) -> np.ndarray:
    """All decoded stored values; a compressed file without the decoder plugins gives the install hint."""
    try:
        return ds.pixel_array
    except (RuntimeError, NotImplementedError) as exc:
        import importlib.util

        ts = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
        if ts is not None and ts.is_compressed and importlib.util.find_spec("pylibjpeg") is None:
            from curate.errors import MissingDependencyError

            raise MissingDependencyError("pylibjpeg", "dicom") from exc
        raise


def dicom_frame(ds: Any) -> np.ndarray:
    """Stored values of the frame that stands for the file (the middle one of a multi-frame image)."""
    frames = int(ds.get("NumberOfFrames") or 1)
    arr = dicom_pixels(ds)
    if frames > 1:
        arr = arr[frames // 2]
    return arr


def _window(arr: np.ndarray, ds: Any) -> np.ndarray | None:
    """Linear VOI windowing (PS3.3 C.11.2.1.2) to 0..1, or None when the header has no window."""
    from pydicom.multival import MultiValue

    c, w = ds.get("WindowCenter"), ds.get("WindowWidth")
    if c is None or w is None:
        return None
    c = float(c[0] if isinstance(c, MultiValue) else c)
    w = float(w[0] if isinstance(w, MultiValue) else w)
    if w < 1:
        return None
    return np.clip((arr - (c - 0.5)) / (w - 1) + 0.5, 0.0, 1.0)


def _minmax(arr: np.ndarray) -> np.ndarray:
    arr = np.asarray(arr, dtype=np.float64)
    lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
    return (arr - lo) / (hi - lo) if hi > lo else np.zeros_like(arr)


def _to_uint8(unit: np.ndarray) -> np.ndarray:
    return np.round(np.nan_to_num(unit) * 255.0).astype(np.uint8)


#: PIL modes of more than 8 bits per grey pixel (16-bit PNG/TIFF, 32-bit integer, float).
DEEP_GREY_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N", "F")


def eight_bit(im: Any) -> Any:
    """A PIL image with more than 8 bits of grey scaled min..max to 8-bit ``L`` (the display curate shows
    and checks: thumbnails, CleanVision); any other image is returned unchanged."""
    if im.mode not in DEEP_GREY_MODES:
        return im
    from PIL import Image

    return Image.fromarray(_to_uint8(_minmax(np.asarray(im))), mode="L")


def dicom_display(ds: Any) -> np.ndarray:
    """8-bit display array (``(H, W)`` or ``(H, W, 3)``) of a DICOM dataset (see the module docstring)."""
    return display_frame(ds, dicom_frame(ds))


def display_frame(ds: Any, arr: np.ndarray) -> np.ndarray:
    """One frame's stored values → the 8-bit display array (Modality LUT, VOI / window, MONOCHROME1)."""
    from pydicom.pixels import apply_modality_lut, apply_voi_lut

    if int(ds.get("SamplesPerPixel") or 1) == 3:
        return arr if arr.dtype == np.uint8 else _to_uint8(_minmax(arr))
    values = apply_modality_lut(arr, ds).astype(np.float64)
    if "VOILUTSequence" in ds:
        unit = _minmax(apply_voi_lut(values, ds, index=0))
    else:
        unit = _window(values, ds)
        if unit is None:
            unit = _minmax(values)
    if str(ds.get("PhotometricInterpretation", "")).strip() == "MONOCHROME1":
        unit = 1.0 - unit
    return _to_uint8(unit)


# ------------------------------------------------------------------------------------------- NIfTI
def nifti_slice(img: Any) -> np.ndarray:
    """Float 2-D slice that stands for a NIfTI volume (canonical axes, first volume, middle axial slice)."""
    nib = require("nibabel", "dicom")
    img = nib.as_closest_canonical(img)
    data = np.asanyarray(img.dataobj)
    while data.ndim > 3:
        data = data[..., 0]
    if data.ndim == 3:
        data = data[:, :, data.shape[2] // 2]
    return np.rot90(np.asarray(data, dtype=np.float64))  # (x right, y anterior) → rows top = anterior


# ------------------------------------------------------------------------------------------- public
def load_array(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """``(display, stored)``: the 8-bit display array and the decoded stored values of one file."""
    kind = kind_of(path)
    if kind == "dicom":
        require("pydicom", "dicom")
        from curate.scan.dicom_read import read_dataset

        ds = read_dataset(path, stop_before_pixels=False)
        return dicom_display(ds), dicom_pixels(ds)
    if kind == "nifti":
        nib = require("nibabel", "dicom")
        img = nib.load(str(path))
        sl = nifti_slice(img)
        return _to_uint8(_minmax(sl)), np.asanyarray(img.dataobj)
    from PIL import Image

    with Image.open(path) as im:
        im.load()
        arr = np.asarray(im)
    return arr, arr


def load_image(path: str | os.PathLike) -> Any:
    """One file → PIL image: 8-bit L / RGB for DICOM and NIfTI; PIL formats as PIL decodes them."""
    from PIL import Image

    if kind_of(path) == "pil":
        with Image.open(path) as im:
            im.load()
            return im.copy()
    display, _ = load_array(path)
    return Image.fromarray(display, mode="RGB" if display.ndim == 3 else "L")


def pixel_digest(stored: np.ndarray) -> str:
    """SHA-256 of decoded values (shape, native-endian dtype and data): equal for pixel-identical files."""
    arr = np.asarray(stored)
    arr = np.ascontiguousarray(arr.astype(arr.dtype.newbyteorder("="), copy=False))
    h = hashlib.sha256(f"{arr.shape}|{arr.dtype.str}|".encode())
    h.update(arr.tobytes())
    return h.hexdigest()
