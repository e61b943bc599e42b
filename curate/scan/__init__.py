"""Medical images as they come: DICOM and NIfTI folders → metadata table, de-identification audit, pixels.

- :mod:`curate.scan.walk` — ``curate scan``: parallel header walk, keyed pseudonyms, outputs;
- :mod:`curate.scan.dicom_header` / :mod:`curate.scan.nifti` — one file's header → one row;
- :mod:`curate.scan.deid` — PS3.15 Annex E audit (the whole Table E.1-1 in ``annex_e.csv``, nested
  sequences walked, declared profile apart from remaining values), counts only;
- :mod:`curate.scan.dicom_read` — DICOM reads behind a preamble sniff and a guard against zero-filled files;
- :mod:`curate.scan.images` — the one pixel reader (PNG/JPEG, DICOM, NIfTI) used by embed and dedup;
- :mod:`curate.scan.synthetic` — a generated DICOM/NIfTI folder for the tutorial and tests.
"""

from curate.scan.walk import ScanResult, scan

__all__ = ["ScanResult", "scan"]
