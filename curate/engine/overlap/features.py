"""Per-file keys of tiers 1-3, from one decode of each file.

The SHA-256 of the bytes, the digest of the decoded pixels and the decode itself come from
:func:`curate.engine.dedup.images.hash_file` (the function ``curate dedup --images`` uses). From the decoded
display image this module adds tier 3's keys:

- a **normalised thumbnail**: the image in grey, resized to ``THUMB`` × ``THUMB`` (area average) and
  histogram-equalised by rank (each pixel replaced by its rank / n), so any monotonic intensity change —
  a window / level change, a bit-depth reduction, a gamma — leaves it (nearly) unchanged;
- **robust hashes**: the 64-bit pHash (``imagehash.phash``) of the equalised thumbnail's central region and
  of that region shifted and shrunk (``HASH_BOXES``); two images are candidates when any hash of one is
  near any of the other's (:func:`curate.engine.overlap.search.hash_candidates`), so a copy cropped by up
  to 10 % still meets its source within a few bits, and one unstable hash (many DCT coefficients near the
  median) does not lose a copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from curate.engine.dedup.images import hash_file
from curate.engine.dedup.kernel import ProgressFn
from curate.errors import CurateError, require

THUMB = 96
HASH_SIZE = 8
#: Boxes (left, top, right, bottom, fractions of the image) hashed per image: the central 80 % (box 0),
#: the same region shifted by 5 % towards each side, and a 3 x 3 grid of 72 % regions (where a copy
#: cropped by up to 10 % has its central 80 %).
HASH_BOXES = ((0.1, 0.1, 0.9, 0.9),
              (0.05, 0.1, 0.85, 0.9), (0.15, 0.1, 0.95, 0.9), (0.1, 0.05, 0.9, 0.85), (0.1, 0.15, 0.9, 0.95),
              *((x, y, x + 0.72, y + 0.72) for y in (0.09, 0.14, 0.19) for x in (0.09, 0.14, 0.19)))


@dataclass
class ImageKeys:
    """Tier 1-3 keys of one dataset's readable files (rows aligned with ``ids``)."""

    ids: list[str]
    sha256: list[str] = field(default_factory=list)
    pixels: list[str] = field(default_factory=list)
    hashes: np.ndarray = field(default_factory=lambda: np.zeros((0, len(HASH_BOXES), HASH_SIZE ** 2 // 8),
                                                                np.uint8))
    thumbs: np.ndarray = field(default_factory=lambda: np.zeros((0, THUMB, THUMB), np.uint8))


def grey(image: Any) -> np.ndarray:
    """A PIL image as a float32 grey array (16-bit and float modes keep their values)."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return np.asarray(image, dtype=np.float32)
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    return np.asarray(image.convert("L"), dtype=np.float32)


def equalise(arr: np.ndarray) -> np.ndarray:
    """Rank normalisation to 0..255, ties sharing their mean rank (``scipy.stats.rankdata``'s ``average``):
    monotonic intensity changes cancel."""
    _, inverse, counts = np.unique(arr.ravel(), return_inverse=True, return_counts=True)
    mean_rank = np.cumsum(counts) - (counts - 1) / 2.0          # 1-based mean rank of each distinct value
    r = mean_rank[inverse].reshape(arr.shape)
    return np.round((r - 0.5) / arr.size * 255.0).astype(np.uint8)


def thumbnail(image: Any, size: int = THUMB) -> np.ndarray:
    """``size`` × ``size`` grey thumbnail of a PIL image (area average), min..max scaled to 0..255."""
    from PIL import Image

    g = np.asarray(Image.fromarray(grey(image), mode="F").resize((size, size), Image.Resampling.BOX))
    lo, hi = float(g.min()), float(g.max())
    return np.round((g - lo) / (hi - lo) * 255 if hi > lo else np.zeros_like(g)).astype(np.uint8)


def robust_hashes(thumb: np.ndarray) -> np.ndarray:
    """Packed pHash of each of :data:`HASH_BOXES` of the equalised thumbnail, ``(len(HASH_BOXES), 8)``."""
    imagehash = require("imagehash", "engine")
    from PIL import Image

    im = Image.fromarray(equalise(thumb), mode="L")
    s = thumb.shape[0]
    out = np.zeros((len(HASH_BOXES), HASH_SIZE ** 2 // 8), np.uint8)
    for k, box in enumerate(HASH_BOXES):
        h = imagehash.phash(im.crop(tuple(round(f * s) for f in box)),
                            hash_size=HASH_SIZE)
        out[k] = np.packbits(h.hash.reshape(-1).astype(np.uint8))
    return out


def image_keys(name: str, files: list[Path], ids: list[str], *, perceptual: bool, skip_bad: bool,
               progress: ProgressFn | None = None) -> tuple[ImageKeys, list[tuple[str, str, str]]]:
    """Keys of every readable file; unreadable ones are returned as ``(dataset, id, reason)``, or, without
    ``skip_bad``, an error."""
    from curate.errors import InputError

    keys = ImageKeys(ids=[])
    hashes, thumbs, skipped = [], [], []
    for k, (path, i) in enumerate(zip(files, ids)):
        try:
            fh = hash_file(path, keep_image=perceptual)
            if perceptual:
                th = thumbnail(fh.image)
                hashes.append(robust_hashes(th))
                thumbs.append(th)
        except CurateError:  # a missing extra (decoder plugin): the install hint, not "unreadable"
            raise
        except Exception as exc:  # PIL / pydicom / nibabel raise many types for corrupt / unsupported files
            skipped.append((name, i, f"not readable as an image ({type(exc).__name__})"))
            continue
        keys.ids.append(i)
        keys.sha256.append(fh.sha256)
        keys.pixels.append(fh.pixels)
        if progress and (k % 64 == 0 or k == len(files) - 1):
            progress(f"hashing images of {name}", k + 1, len(files))
    if skipped and not skip_bad:
        raise InputError(f"'{name}': {len(skipped)} of {len(files)} files could not be read as images; "
                         "pass skip_bad=True to leave them out (they are listed)")
    if not keys.ids:
        raise InputError(f"'{name}': none of the {len(files)} files could be read as an image")
    if perceptual:
        keys.hashes, keys.thumbs = np.stack(hashes), np.stack(thumbs)
    return keys, skipped
