"""Display thumbnails for the review gallery: one small 8-bit picture per image file.

Files are opened by :func:`curate.scan.images.load_image`, the engine's one reader, so a thumbnail shows
the pixels dedup and embed saw: DICOM through its Modality LUT and first VOI LUT / window (MONOCHROME1
inverted, the middle frame of a multi-frame file), NIfTI as the middle axial slice of the canonical volume.
What is added here is display only: 16-bit and float PIL images scaled min..max to 8 bits, palette and
alpha images flattened to RGB, and the longest side reduced to ``size`` pixels (Lanczos). A row that has
no image file (an embeddings-only input) gets :func:`embedding_placeholder`, a grey tile saying so.

:class:`GalleryItem` and :class:`GalleryGroup` are what a pipeline gathers for the review gallery (the
renderer :mod:`curate.report.gallery` re-exports them and writes the page).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from curate.errors import UsageError

#: Longest side of a thumbnail, in pixels.
THUMB_SIZE = 192


def _check_size(size: int) -> int:
    if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or not 16 <= int(size) <= 2048:
        raise UsageError(f"size must be an integer between 16 and 2048, got {size!r}")
    return int(size)


def _to_display(im) -> np.ndarray:
    """A PIL image → uint8 ``(h, w)`` or ``(h, w, 3)``: greyscale of any depth scaled min..max
    (:func:`curate.scan.images.eight_bit`), else RGB."""
    from curate.scan.images import eight_bit

    im = eight_bit(im)
    if im.mode == "L":
        return np.asarray(im)
    if im.mode == "1":
        return np.asarray(im).astype(np.uint8) * 255
    return np.asarray(im.convert("RGB"))


def thumbnail(path: str | os.PathLike, *, size: int = THUMB_SIZE) -> np.ndarray:
    """The display thumbnail of one image file: uint8 ``(h, w)`` or ``(h, w, 3)``, longest side ``size``
    (never enlarged). DICOM windowed as for display, NIfTI's middle slice (see the module docstring)."""
    from PIL import Image

    from curate.scan.images import load_image

    size = _check_size(size)
    arr = _to_display(load_image(path))
    im = Image.fromarray(arr)
    im.thumbnail((size, size), Image.Resampling.LANCZOS)
    return np.asarray(im)


def embedding_placeholder(*, size: int = THUMB_SIZE, text: str = "no image") -> np.ndarray:
    """A grey ``size`` × ``size`` tile with ``text`` for a row that has no image file."""
    from PIL import Image, ImageDraw

    size = _check_size(size)
    im = Image.new("L", (size, size), 200)
    draw = ImageDraw.Draw(im)
    box = draw.textbbox((0, 0), text)
    draw.text(((size - (box[2] - box[0])) // 2, (size - (box[3] - box[1])) // 2), text, fill=60)
    return np.asarray(im)


@dataclass
class GalleryItem:
    """One image of a group: ``label`` is a keyed pseudonym (never a raw id or path)."""

    label: str
    image: np.ndarray | None  # a thumbnail (curate.pipeline.thumbnails), or None: a "no image" tile
    dataset: str = ""


@dataclass
class GalleryGroup:
    """A pair (2 items) or a dedup group (first = the kept one), with its tier and score.

    ``pairs``: the (a, b) pseudonym pairs a decision on this group applies to; by default each item with
    the first one (for a pair: the pair itself)."""

    key: str
    items: list[GalleryItem]
    tier: str
    score: float | None
    pairs: list[tuple[str, str]] | None = None
    kept_first: bool = field(default=False)
