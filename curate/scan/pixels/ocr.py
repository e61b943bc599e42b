"""Tesseract on the candidate text lines of a frame: one or two OCR calls, words mapped back to lines.

Each candidate line (:mod:`curate.scan.pixels.prefilter`) is cropped with a margin, turned dark-on-light
(a crop whose median is dark holds light text and is inverted), scaled so the line is about
:data:`LINE_PX` pixels tall (Tesseract reads best at 20-40 px capitals), and put on one white page three
times (:data:`FIRST`): binarised with either Otsu class as ink (blobs touching the crop's edge removed) and
in contrast-stretched grey levels; one ``image_to_data`` call (``--psm 6``, LSTM engine) reads the page and
every word is assigned back to the line and reading whose band it falls in. Lines that matched nothing are
read once more (:data:`SECOND`, a second call) as their white and black top-hats binarised. Each reading
catches lines the others miss (blocky bitmap fonts, text in label boxes, text crossing anatomy).
The recognised words live only in memory: callers match them against the header and keep the *kind* of
match, never the text.

Tesseract itself is Debian's ``tesseract-ocr`` package (``pytesseract`` drives it); :func:`ensure_tesseract`
fails early with the install line when it is missing.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field

import numpy as np

from curate.errors import CurateError, require
from curate.scan.pixels.prefilter import Region

#: Target height (pixels) of a text line handed to Tesseract.
LINE_PX = 44
MARGIN = 4
PAD = 12
#: Words below this Tesseract confidence (0-100) are ignored.
MIN_CONF = 0
CONFIG = "--psm 6 --oem 1"
INSTALL = "apt-get install tesseract-ocr"


class TesseractMissing(CurateError):
    """The ``tesseract`` program is not installed (exit 2, like a missing extra)."""

    exit_code = 2


@dataclass
class Line:
    """One candidate line: its box in frame pixels and the readings of it (word lists, in memory only)."""

    box: tuple[int, int, int, int]
    readings: list[list[str]] = field(default_factory=lambda: [[]])

    @property
    def words(self) -> list[str]:
        return next((r for r in self.readings if r), [])

    @property
    def has_text(self) -> bool:
        """At least two letters or digits were read in some reading (a lone mark is not text)."""
        return any(sum(ch.isalnum() for ch in " ".join(r)) >= 2 for r in self.readings)


def ensure_tesseract(command: str = "deid-check") -> str:
    """Path of the ``tesseract`` program; raises :class:`TesseractMissing` with the install line."""
    require("pytesseract", "pixels")
    path = shutil.which("tesseract")
    if path is None:
        raise TesseractMissing(f"curate {command} needs Debian's tesseract-ocr: {INSTALL}")
    return path


def otsu(values: np.ndarray) -> float:
    """Otsu's threshold of 8-bit values (maximum between-class variance; Otsu 1979)."""
    hist = np.bincount(np.clip(values.ravel(), 0, 255).astype(np.int64), minlength=256).astype(np.float64)
    p = hist / max(hist.sum(), 1)
    omega, mu = np.cumsum(p), np.cumsum(p * np.arange(256))
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mu[-1] * omega - mu) ** 2 / (omega * (1 - omega))
    return float(np.nanargmax(between))


#: The readings of each line: binarised with the dark class as ink, with the light class as ink (the
#: same line in the other polarity: text in a label box), contrast-stretched grey levels, and the white and
#: black top-hats binarised (strokes against their local background: text over anatomy).
READINGS = ("dark", "light", "grey", "tophat-light", "tophat-dark")
#: The first call reads these; lines that matched nothing are read again with :data:`SECOND`.
FIRST, SECOND = READINGS[:3], READINGS[3:]


def _crop(gray: np.ndarray, r: Region, reading: str = "dark") -> np.ndarray:
    """The line as dark text on white, scaled to about :data:`LINE_PX` tall, for one of :data:`READINGS`.

    The crop is made dark-on-light by its median (inverted when dark) — or replaced by its white / black
    top-hat for those readings — then upscaled (and smoothed); a binarised reading keeps one Otsu class as
    ink and clears the ink blobs touching the crop's edge (a label box's frame, an organ's border, the
    background around a label): what is left are the glyphs.
    """
    from PIL import Image
    from scipy import ndimage as ndi

    H, W = gray.shape
    y0, y1 = max(r.y - MARGIN, 0), min(r.y + r.h + MARGIN, H)
    x0, x1 = max(r.x - MARGIN, 0), min(r.x + r.w + MARGIN, W)
    c = gray[y0:y1, x0:x1]
    if reading in ("tophat-light", "tophat-dark"):  # strokes against their local background
        from curate.scan.pixels.prefilter import STROKE

        g = c.astype(np.int16)
        th = (g - ndi.grey_opening(g, size=(STROKE, STROKE)) if reading == "tophat-light"
              else ndi.grey_closing(g, size=(STROKE, STROKE)) - g)
        c = np.clip(255 - th * (255.0 / max(int(th.max()), 1)), 0, 255)
    elif np.median(c) < 128:
        c = 255 - c
    scale = min(4.0, max(1.0, LINE_PX / max(r.h, 1)))
    im = Image.fromarray(np.ascontiguousarray(c, dtype=np.uint8))
    if scale > 1:
        im = im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))),
                       Image.Resampling.BICUBIC)
    a = np.asarray(im, dtype=np.float64)
    if reading == "grey":
        lo, hi = np.percentile(a, 2), np.percentile(a, 98)
        return np.clip((a - lo) / max(hi - lo, 1) * 255, 0, 255).astype(np.uint8)
    if scale >= 2:  # round off the blocks of an upscaled bitmap font before thresholding
        a = ndi.gaussian_filter(a, scale / 3)
    t = otsu(np.round(a))
    ink = a >= t if reading == "light" else a < t
    labels, _ = ndi.label(ink)
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    ink &= ~np.isin(labels, edge[edge > 0])
    return np.where(ink, 0, 255).astype(np.uint8)


def page(gray: np.ndarray, regions: list[Region], readings: tuple[str, ...] = FIRST
         ) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The stacked page — each line once per reading — and each crop's vertical band (top, bottom) on it:
    crop ``n * k + j`` is reading ``j`` of line ``k``."""
    crops = [_crop(gray, r, reading) for r in regions for reading in readings]
    width = max(c.shape[1] for c in crops) + 2 * PAD
    height = sum(c.shape[0] + PAD for c in crops) + PAD
    out = np.full((height, width), 255, np.uint8)
    bands, y = [], PAD
    for c in crops:
        out[y:y + c.shape[0], PAD:PAD + c.shape[1]] = c
        bands.append((y - PAD // 2, y + c.shape[0] + PAD // 2))
        y += c.shape[0] + PAD
    return out, bands


def read_lines(gray: np.ndarray, regions: list[Region], readings: tuple[str, ...] = FIRST) -> list[Line]:
    """OCR of the candidate lines of one frame: one Tesseract call reads every line in every reading."""
    if not regions:
        return []
    pytesseract = require("pytesseract", "pixels")
    img, bands = page(gray, regions, readings)
    data = pytesseract.image_to_data(img, config=CONFIG, output_type=pytesseract.Output.DICT)
    n = len(readings)
    lines = [Line(r.box, readings=[[] for _ in readings]) for r in regions]
    for text, conf, top, h in zip(data["text"], data["conf"], data["top"], data["height"]):
        text = (text or "").strip()
        if not text or float(conf) < MIN_CONF:
            continue
        mid = top + h / 2
        for k, (b0, b1) in enumerate(bands):
            if b0 <= mid < b1:
                lines[k // n].readings[k % n].append(text)
                break
    return lines


def plain_ocr(gray: np.ndarray) -> list[str]:
    """The whole frame through ``image_to_data`` as it is (the benchmark's baseline); words only."""
    pytesseract = require("pytesseract", "pixels")
    data = pytesseract.image_to_data(gray, output_type=pytesseract.Output.DICT)
    return [t.strip() for t, c in zip(data["text"], data["conf"]) if (t or "").strip() and float(c) >= 0]
