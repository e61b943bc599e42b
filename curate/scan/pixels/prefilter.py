"""A cheap text-region pre-filter: which parts of a frame could hold a line of burned-in text.

Burned-in text is a row of small, sharp, high-contrast strokes. The filter (all numpy / ``scipy.ndimage``):

1. **Strokes**: white and black top-hats (a grey-level opening / closing with a :data:`STROKE`-pixel square)
   above :data:`EDGE` grey levels — thin light or dark strokes stand out, whatever the polarity, while the
   step edges of anatomy, an ultrasound sector or a label box and smooth gradients do not;
2. **Glyphs**: connected components of the stroke mask no taller than :data:`MAX_GLYPH` pixels (lines,
   borders and organ outlines are longer) and not a single pixel;
3. **Lines**: glyph boxes merged horizontally (closing with a ``1 × GAP`` structuring element), then kept
   when the merged component is between :data:`MIN_H` and :data:`MAX_GLYPH` pixels tall, wider than tall,
   its stroke density is text-like, and its rows alternate stroke and gap (at least :data:`MIN_RISES`
   rising edges per pixel of width: glyphs do, box outlines and organ borders do not).

A frame with no candidate line is skipped without OCR. The filter is tuned for recall, not precision: OCR
and the matching decide what a candidate holds; ``benchmarks/bench_pixels.py`` and the tests measure that
skipping does not lose planted text.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Minimum grey-level jump (0..255) across a stroke edge.
EDGE = 48
#: Structuring element (pixels) of the top-hats: strokes thinner than this stand out, step edges do not.
STROKE = 7
#: Tallest glyph / text line considered (pixels, after the size bound).
MAX_GLYPH = 64
MIN_H = 6
#: Horizontal gap (pixels) that still joins two glyphs into one line.
GAP = 12
MIN_GLYPHS = 2
#: Rising stroke edges per pixel of line width (busiest third of its rows): text ≈ 0.1-0.3, outlines ≈ 0.
MIN_RISES = 0.05


@dataclass(frozen=True)
class Region:
    """A candidate text line: box in frame pixels (x, y, w, h)."""

    x: int
    y: int
    w: int
    h: int

    @property
    def box(self) -> tuple[int, int, int, int]:
        return (self.x, self.y, self.w, self.h)


def stroke_masks(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(light strokes, dark strokes): white and black top-hats above :data:`EDGE`."""
    from scipy import ndimage as ndi

    g = gray.astype(np.int16)
    bright = g - ndi.grey_opening(g, size=(STROKE, STROKE))
    dark = ndi.grey_closing(g, size=(STROKE, STROKE)) - g
    return bright >= EDGE, dark >= EDGE


def _lines(mask: np.ndarray) -> list[Region]:
    from scipy import ndimage as ndi

    labels, _ = ndi.label(mask, structure=np.ones((3, 3), bool))
    glyph = np.zeros(mask.shape, bool)
    n_glyphs = 0
    for sl in ndi.find_objects(labels):
        h, w = sl[0].stop - sl[0].start, sl[1].stop - sl[1].start
        if 2 <= h <= MAX_GLYPH and w <= 3 * MAX_GLYPH and (h > 2 or w > 2):
            glyph[sl] = True  # the glyph's box
            n_glyphs += 1
    if n_glyphs < MIN_GLYPHS:
        return []
    lines = ndi.binary_closing(glyph, structure=np.ones((1, GAP), bool), border_value=0) | glyph
    lab2, _ = ndi.label(lines)
    out = []
    for sl in ndi.find_objects(lab2):
        y0, y1, x0, x1 = sl[0].start, sl[0].stop, sl[1].start, sl[1].stop
        h, w = y1 - y0, x1 - x0
        if not (MIN_H <= h <= MAX_GLYPH * 1.5 and w >= 1.2 * h):
            continue
        m = mask[sl]
        density = float(m.mean())
        # glyphs alternate stroke / gap along a line: rising edges per pixel of width, busiest third of rows
        rises = np.sort((np.diff(m.astype(np.int8), axis=1) == 1).sum(axis=1))[::-1]
        busy = float(rises[:max(1, h // 3)].mean()) / w
        if busy >= MIN_RISES and 0.08 <= density <= 0.85:
            out.append(Region(int(x0), int(y0), int(w), int(h)))
    return out


def _merge(regions: list[Region]) -> list[Region]:
    """Union of boxes that overlap (the same line seen as light strokes and as the gaps between them)."""
    boxes = [list(r.box) for r in regions]
    merged = True
    while merged:
        merged = False
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                a, b = boxes[i], boxes[j]
                if a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]:
                    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
                    x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
                    boxes[i] = [x0, y0, x1 - x0, y1 - y0]
                    del boxes[j]
                    merged = True
                    break
            if merged:
                break
    return sorted((Region(*b) for b in boxes), key=lambda r: (r.y, r.x))


def text_regions(gray: np.ndarray) -> list[Region]:
    """Candidate text lines of an 8-bit frame, top to bottom (empty: nothing text-like)."""
    light, dark = stroke_masks(gray)
    return _merge(_lines(light) + _lines(dark))
