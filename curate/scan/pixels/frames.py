"""Which frames of a file are checked, and what they look like on a display (the pixels a reader sees).

- **Sampling**: a multi-frame secondary capture (SOP class ``1.2.840.10008.5.1.4.1.1.7.*``) has every frame
  checked; any other multi-frame image its first, middle and last frame; a single-frame image its one frame.
  Across a series of single-frame files, :func:`sample_series` keeps the first, middle and last instance
  (burn-in-prone modalities — ultrasound, screen captures, ... — keep every file).
- **Display**: each frame goes through the Modality LUT, the VOI LUT or window, and MONOCHROME1 inversion
  (:func:`curate.scan.images.display_frame`), so text that only reads after windowing is seen as a reader
  sees it; colour frames become luminance.
- **Size bound**: a frame larger than :data:`MAX_SIDE` pixels on a side is downsampled by an integer factor
  (block mean) to fit; the file's record says how many frames were.
- A compressed transfer syntax whose decoder is missing raises :class:`NoDecoder` naming the plugin; a frame
  that cannot be decoded is listed as corrupt and the rest of the file continues.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np

#: Largest side (pixels) of a frame handed to OCR; larger frames are downsampled to fit.
MAX_SIDE = 2048
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
#: Transfer syntax UID prefix / value → the plugin that decodes it.
DECODERS = {
    "1.2.840.10008.1.2.4.50": "pylibjpeg-libjpeg", "1.2.840.10008.1.2.4.51": "pylibjpeg-libjpeg",
    "1.2.840.10008.1.2.4.57": "pylibjpeg-libjpeg", "1.2.840.10008.1.2.4.70": "pylibjpeg-libjpeg",
    "1.2.840.10008.1.2.4.80": "pylibjpeg-libjpeg", "1.2.840.10008.1.2.4.81": "pylibjpeg-libjpeg",
    "1.2.840.10008.1.2.4.90": "pylibjpeg-openjpeg", "1.2.840.10008.1.2.4.91": "pylibjpeg-openjpeg",
    "1.2.840.10008.1.2.4.201": "pylibjpeg-openjpeg", "1.2.840.10008.1.2.4.202": "pylibjpeg-openjpeg",
    "1.2.840.10008.1.2.4.203": "pylibjpeg-openjpeg",
}


class NoDecoder(Exception):
    """The file's transfer syntax needs a decoder plugin that is not installed (``plugin`` names it)."""

    def __init__(self, plugin: str) -> None:
        super().__init__(plugin)
        self.plugin = plugin


def frame_indices(n_frames: int, *, all_frames: bool) -> list[int]:
    """First, middle and last frame (deduplicated, in order), or every frame."""
    if n_frames <= 1:
        return [0]
    if all_frames:
        return list(range(n_frames))
    return sorted({0, n_frames // 2, n_frames - 1})


def is_secondary_capture(sop_class: Any) -> bool:
    return str(sop_class or "").startswith(SECONDARY_CAPTURE)


def sample_series(items: list[tuple[int, str | None, float, bool]]) -> list[int]:
    """Indices of the files to check: ``items`` are (index, series key, instance number, keep-all).

    Files of the same series keep the first, middle and last by instance number; files flagged keep-all
    (burn-in-prone modality, secondary capture, no series) are always kept.
    """
    keep: list[int] = []
    series: dict[str, list[tuple[float, int]]] = {}
    for idx, key, number, keep_all in items:
        if keep_all or key is None:
            keep.append(idx)
        else:
            series.setdefault(key, []).append((number, idx))
    for members in series.values():
        members.sort()
        picks = {0, len(members) // 2, len(members) - 1}
        keep += [members[p][1] for p in picks]
    return sorted(set(keep))


def bound(gray: np.ndarray) -> tuple[np.ndarray, int]:
    """Downsample by the smallest integer factor that fits :data:`MAX_SIDE` (block mean); (frame, factor)."""
    f = max(1, -(-max(gray.shape) // MAX_SIDE))
    if f == 1:
        return gray, 1
    h, w = (gray.shape[0] // f) * f, (gray.shape[1] // f) * f
    g = gray[:h, :w].reshape(h // f, f, w // f, f).mean(axis=(1, 3))
    return np.round(g).astype(np.uint8), f


def luminance(arr: np.ndarray) -> np.ndarray:
    """8-bit greyscale: RGB(A) → ITU-R BT.601 luma; anything else scaled min..max when not already 8-bit."""
    a = np.asarray(arr)
    if a.ndim == 3:
        a = a[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])
        return np.clip(np.round(a), 0, 255).astype(np.uint8)
    if a.dtype == np.uint8:
        return a
    a = a.astype(np.float64)
    lo, hi = float(a.min()), float(a.max())
    return np.zeros(a.shape, np.uint8) if hi <= lo else np.round((a - lo) / (hi - lo) * 255).astype(np.uint8)


def _decoder_for(ds: Any) -> str | None:
    """The missing plugin for a compressed transfer syntax pydicom cannot decode here, else None."""
    ts = str(getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", "") or "")
    plugin = DECODERS.get(ts)
    if plugin is None:
        return None
    import importlib.util

    module = plugin.replace("-", "_")
    return plugin if importlib.util.find_spec(module) is None else None


def dicom_frames(ds: Any, *, all_frames: bool | None = None) -> Iterator[tuple[int, np.ndarray | None]]:
    """(frame index, 8-bit display frame or None when that frame is corrupt) for the sampled frames."""
    from curate.scan.images import display_frame

    missing = _decoder_for(ds)
    if missing:
        raise NoDecoder(missing)
    n = int(ds.get("NumberOfFrames") or 1)
    if all_frames is None:
        all_frames = is_secondary_capture(ds.get("SOPClassUID"))
    wanted = frame_indices(n, all_frames=all_frames)
    try:
        arr = ds.pixel_array
    except Exception:  # one frame at a time: a bad frame does not lose the others
        arr = None
    for i in wanted:
        try:
            frame = arr[i] if (arr is not None and n > 1) else arr
            if frame is None:
                frame = _one_frame(ds, i)
            yield i, luminance(display_frame(ds, frame))
        except Exception:
            yield i, None


def _one_frame(ds: Any, i: int) -> np.ndarray:
    """Frame ``i`` alone: native data sliced from the bytes (so a truncated file keeps its whole frames),
    encapsulated data through pydicom's per-frame decoding."""
    ts = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
    if ts is not None and not ts.is_compressed and int(ds.get("BitsAllocated") or 0) in (8, 16, 32):
        rows, cols, spp = int(ds.Rows), int(ds.Columns), int(ds.get("SamplesPerPixel") or 1)
        size = int(ds.BitsAllocated) // 8
        kind = "i" if int(ds.get("PixelRepresentation") or 0) else "u"
        dtype = np.dtype(f"{'<' if ts.is_little_endian else '>'}{kind}{size}")
        n = rows * cols * spp * size
        buf = ds.PixelData[i * n:(i + 1) * n]
        if len(buf) < n:
            raise ValueError("truncated frame")
        arr = np.frombuffer(buf, dtype)
        return arr.reshape(rows, cols, spp) if spp > 1 else arr.reshape(rows, cols)
    from pydicom.pixels import pixel_array

    return pixel_array(ds, index=i)


def image_frames(path: str | os.PathLike) -> Iterator[tuple[int, np.ndarray | None]]:
    """PNG / JPEG / other PIL images: one frame (the first of an animated file)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.load()
            arr = np.asarray(im.convert("RGB") if im.mode not in ("L", "I;16", "I") else im)
    except Exception:
        yield 0, None
        return
    yield 0, luminance(arr)


def masked_thumbnail(path: str | os.PathLike, frame: int, boxes: list[list[Any]], *,
                     width: int = 220) -> np.ndarray | None:
    """The display frame with every text box AND every pre-filter candidate filled (red: identifier,
    blue: other text, grey: candidate), downscaled to ``width``; RGB uint8, or None when unreadable."""
    from curate.scan.pixels.prefilter import text_regions

    try:
        if str(path).lower().endswith((".dcm", ".dicom")) or not os.path.splitext(str(path))[1]:
            import pydicom

            ds = pydicom.dcmread(path)
            gray = dict(dicom_frames(ds, all_frames=True)).get(frame)
        else:
            gray = dict(image_frames(path)).get(frame)
    except Exception:
        return None
    if gray is None:
        return None
    gray, f = bound(gray)
    rgb = np.repeat(gray[..., None], 3, axis=2)
    for r in text_regions(gray):
        rgb[max(r.y - 2, 0):r.y + r.h + 2, max(r.x - 2, 0):r.x + r.w + 2] = (128, 128, 128)
    for b in boxes:
        x, y, w, h = (int(v) // f for v in b[1:5])
        colour = (40, 90, 200) if b[5] == ["text"] else (200, 40, 40)
        rgb[max(y - 2, 0):y + h + 2, max(x - 2, 0):x + w + 2] = colour
    from PIL import Image

    im = Image.fromarray(rgb)
    if im.width > width:
        im = im.resize((width, max(1, round(im.height * width / im.width))), Image.Resampling.BILINEAR)
    return np.asarray(im)
