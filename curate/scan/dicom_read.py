"""Reading a DICOM file without stalling: a sniff before any forced read, and a guard on every read.

pydicom reads a zero-filled or preallocated file element by element at about 1-5 s per MB (every zero
byte is a tag): a sparse 2 GB ``.dcm`` made by ``truncate`` stalls a scan for hours. So:

- a file is read as DICOM only when it has the 128-byte preamble and the ``DICM`` magic (PS3.10 7.1), or —
  for a ``.dcm`` / ``.dicom`` name, forced — when its first bytes are a plausible data element of group
  0002 or 0008 (a file written without the preamble);
- every read goes through :class:`_Guarded`, which stops it (:class:`DicomReadAborted`) after a run of
  all-zero element headers (no valid data set has even two consecutive elements with tag (0000,0000)),
  after ``header_limit`` bytes for a header read, and after ``seconds``.
"""

from __future__ import annotations

import os
import time
from typing import Any

#: The most bytes a header read (no pixel data) may take; a header is kilobytes, rarely megabytes.
HEADER_LIMIT = 64 * 1024 * 1024
#: The longest a single file's read may take.
READ_SECONDS = 60.0
#: Consecutive all-zero small reads (element headers) that mean the rest of the file is zeros.
ZERO_RUN = 16
DICOM_NAMES = (".dcm", ".dicom")


class DicomReadAborted(ValueError):
    """A read stopped by the guard (zero-filled content, an oversized header, or too slow)."""


class _Guarded:
    """A binary file object that pydicom reads through; aborts runaway reads."""

    def __init__(self, fh: Any, *, limit: int | None, seconds: float) -> None:
        self._fh, self._limit, self._deadline = fh, limit, time.monotonic() + seconds
        self._zeros = 0

    def read(self, n: int = -1) -> bytes:
        b = self._fh.read(n)
        if 0 < len(b) <= 16:
            self._zeros = self._zeros + 1 if not any(b) else 0
            if self._zeros >= ZERO_RUN:
                raise DicomReadAborted(f"zero-filled from byte {self._fh.tell() - 8 * ZERO_RUN:,} on")
        if self._limit is not None and self._fh.tell() > self._limit:
            raise DicomReadAborted(f"header larger than {self._limit // 2**20} MiB")
        if time.monotonic() > self._deadline:
            raise DicomReadAborted("reading took too long")
        return b

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fh, name)


def sniff(path: str | os.PathLike) -> str | None:
    """``"preamble"`` (preamble + ``DICM``), ``"bare"`` (a data set without preamble, group 0002/0008
    first) or None (not DICOM)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(132)
    except OSError:
        return None
    if len(head) == 132 and head[128:] == b"DICM":
        return "preamble"
    if len(head) >= 8:
        for order in ("little", "big"):
            group = int.from_bytes(head[0:2], order)
            elem = int.from_bytes(head[2:4], order)
            if group in (0x0002, 0x0008) and elem != 0xFFFF and any(head[4:8]):
                return "bare"
    return None


def read_dataset(path: str | os.PathLike, *, stop_before_pixels: bool = True,
                 seconds: float = READ_SECONDS) -> Any:
    """``pydicom.dcmread`` of ``path`` behind the sniff and the guard.

    Raises ``pydicom.errors.InvalidDicomError`` for a file that is not DICOM (a ``.dcm`` name without the
    preamble is read forced only when its first element is plausible) and :class:`DicomReadAborted` when
    the guard stops the read.
    """
    import pydicom
    from pydicom.errors import InvalidDicomError

    kind = sniff(path)
    if kind is None or (kind == "bare" and not str(path).lower().endswith(DICOM_NAMES)):
        raise InvalidDicomError("not a DICOM file: no 'DICM' preamble and no DICOM data set at its start")
    with open(path, "rb") as fh:
        guarded = _Guarded(fh, limit=HEADER_LIMIT if stop_before_pixels else None, seconds=seconds)
        return pydicom.dcmread(guarded, stop_before_pixels=stop_before_pixels, force=kind == "bare")
