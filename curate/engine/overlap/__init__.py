"""Cross-dataset overlap: which images (and patients) of one dataset appear in another, in tiers.

1. ``bytes`` — identical files (SHA-256 of the bytes);
2. ``pixels`` — identical decoded pixels (a DICOM re-sent in another transfer syntax, a PNG re-saved);
3. ``perceptual`` — resized, re-compressed, bit-depth-reduced, slightly cropped or re-windowed copies:
   robust hashes on equalised thumbnails (:mod:`.features`) propose candidates, a pixel check
   (:mod:`.verify`) confirms them;
4. ``embedding`` — embedding near-neighbours across datasets (:mod:`.embedding`): candidates for review,
   never copies.

:func:`find_overlap` (``find``) runs the tiers; :class:`OverlapResult` (``result``) holds the pairs at their
strongest tier and counts them (matrix, contamination, drop list). :mod:`.planted` writes a benchmark with
known truth. Per-file hashing is shared with ``curate dedup --images``
(:func:`curate.engine.dedup.images.hash_file`).
"""

from __future__ import annotations

from curate.engine.overlap.find import find_overlap
from curate.engine.overlap.inputs import OverlapInput
from curate.engine.overlap.result import COPY_TIERS, TIERS, OverlapResult

__all__ = ["COPY_TIERS", "TIERS", "OverlapInput", "OverlapResult", "find_overlap"]
