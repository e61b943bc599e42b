"""One NIfTI volume header → one metadata row (shape, voxel size, orientation); the data is not loaded.

NIfTI headers carry no patient attributes except the free-text ``descrip`` and ``aux_file`` fields, which
are never copied (converters write scanner or patient text there).
"""

from __future__ import annotations

from typing import Any

NIFTI_SUFFIXES = (".nii", ".nii.gz")


def is_nifti(path: str) -> bool:
    return path.lower().endswith(NIFTI_SUFFIXES)


def read_nifti(path: str, rel: str) -> dict[str, Any]:
    """Header of one ``.nii`` / ``.nii.gz`` file → ``{"row": {...}}`` (raises when nibabel cannot read it)."""
    from curate.errors import require

    nib = require("nibabel", "dicom")
    img = nib.load(path)
    shape = tuple(int(s) for s in img.shape)
    zooms = tuple(float(z) for z in img.header.get_zooms())
    row: dict[str, Any] = {"path": rel, "format": "nifti"}
    row["rows"] = float(shape[1]) if len(shape) > 1 else None
    row["columns"] = float(shape[0]) if shape else None
    row["frames"] = float(shape[3]) if len(shape) > 3 else 1.0
    row["shape"] = "x".join(map(str, shape))
    row["voxel_size"] = "x".join(f"{z:g}" for z in zooms[:3])
    row["orientation"] = "".join(nib.aff2axcodes(img.affine))
    row["slices"] = float(shape[2]) if len(shape) > 2 else 1.0
    row["pixel_spacing_row"] = zooms[1] if len(zooms) > 1 else None
    row["pixel_spacing_col"] = zooms[0] if zooms else None
    row["slice_thickness"] = zooms[2] if len(zooms) > 2 else None
    row["datatype"] = str(img.get_data_dtype())
    hdr = img.header
    text = any(_header_text(hdr, f) for f in ("descrip", "aux_file", "db_name"))
    return {"row": row, "nifti_text": bool(text)}


def _header_text(hdr: object, field: str) -> str:
    """A free-text header field (the audit only learns whether it is empty)."""
    try:
        v = hdr[field]  # type: ignore[index]
    except (KeyError, ValueError, TypeError):
        return ""
    raw = v.item() if hasattr(v, "item") else v
    return (raw.decode("latin-1") if isinstance(raw, bytes) else str(raw)).strip("\x00 ")
