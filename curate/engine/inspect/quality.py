"""Quality manager: modality-aware checks on DICOM headers and decoded pixels (pydicom).

Per image (one row per file), each check gives an issue type, a score (higher = worse) and a flag:

- ``blank``: a constant frame (pixel standard deviation ≤ ``blank_rel_std`` × the stored range, 2^BitsStored);
  score = share of frames that are constant.
- ``clipped``: share of pixels at the top of the stored bit depth (2^BitsStored − 1, detector saturation)
  ≥ ``clip_fraction``; score = that share. (Zeros are not counted: collimated background is normal.)
- ``monochrome1``: PhotometricInterpretation MONOCHROME1 (minimum = white), which a pipeline that does not
  apply the inversion (PS3.3 C.7.6.3.1.2) reads as a negative; score 1.
- ``missing_window``: a projection modality (``window_modalities``) without WindowCenter/WindowWidth and
  without a VOI LUT Sequence (PS3.3 C.11.2), so display depends on the reader's guess; score 1.
- ``underexposed`` / ``overexposed``: the mean pixel, as a share of the stored range, below ``dark`` or above
  ``bright``; score = distance beyond the threshold.
- ``odd_size``: a side below ``min_side`` pixels or an aspect ratio above ``max_aspect``; score = aspect.
- ``spacing_outlier``: PixelSpacing more than ``spacing_mad`` robust z (median / 1.4826·MAD of log spacing,
  per modality) from the others; score = |z|.
- ``mixed_laterality`` / ``mixed_view``: one study (StudyInstanceUID) whose images carry both L and R
  (ImageLaterality or Laterality), or several ViewPosition values; every image of the study is flagged.
  Bilateral or two-view protocols (mammography CC+MLO, chest PA+lateral) are legitimate: read these flags
  as "check the study" rather than errors.
- ``duplicate_slice``: within one series, an image whose pixels (SHA-256) or ImagePositionPatient repeat an
  earlier one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from curate.engine.inspect import InspectData, IssueResult
from curate.errors import UsageError, require


@dataclass
class QualityOptions:
    blank_rel_std: float = 1e-3
    clip_fraction: float = 0.05
    dark: float = 0.03
    bright: float = 0.92
    min_side: int = 32
    max_aspect: float = 3.0
    spacing_mad: float = 5.0
    window_modalities: tuple[str, ...] = ("DX", "CR", "MG", "RF", "XA", "PX", "IO")
    seed: int = 0
    n_splits: int = 5  # accepted (the pipeline passes it to every manager); unused here

    def validate(self) -> None:
        if not 0 < self.clip_fraction < 1:
            raise UsageError("clip_fraction must be between 0 and 1")
        if not 0 <= self.dark < self.bright <= 1:
            raise UsageError("dark and bright must satisfy 0 ≤ dark < bright ≤ 1")


def _text(ds, key: str) -> str:
    v = ds.get(key)
    return "" if v is None else str(v).strip().upper()


def image_record(path: str | Path, opt: QualityOptions) -> dict | None:
    """Header and pixel features of one file (None when it is not a DICOM image)."""
    pydicom = require("pydicom", "dicom")
    try:
        ds = pydicom.dcmread(path)
        px = ds.pixel_array
    except Exception:  # not DICOM, or no decodable pixels: counted by the caller
        return None
    photometric = _text(ds, "PhotometricInterpretation")
    bits = int(ds.get("BitsStored", px.dtype.itemsize * 8))
    top = (1 << bits) - 1 if int(ds.get("PixelRepresentation", 0)) == 0 else (1 << (bits - 1)) - 1
    bottom = 0 if int(ds.get("PixelRepresentation", 0)) == 0 else -(1 << (bits - 1))
    rng_ = float(top - bottom) or 1.0
    frames = px[None] if px.ndim == 2 or (px.ndim == 3 and int(ds.get("SamplesPerPixel", 1)) == 3) else px
    stds = np.array([float(np.std(f)) for f in frames])
    spacing = ds.get("PixelSpacing") or ds.get("ImagerPixelSpacing")
    position = ds.get("ImagePositionPatient")
    rgb = int(ds.get("SamplesPerPixel", 1)) == 3
    rows, cols = (int(px.shape[-3]), int(px.shape[-2])) if rgb else (int(px.shape[-2]), int(px.shape[-1]))
    return {
        "modality": _text(ds, "Modality"), "photometric": photometric,
        "blank_share": float((stds <= opt.blank_rel_std * rng_).mean()),
        "clip_share": float((px >= top).mean()),
        "mean_share": float((px.mean() - bottom) / rng_),
        "has_window": "WindowCenter" in ds and "WindowWidth" in ds or "VOILUTSequence" in ds,
        "rows": rows, "cols": cols,
        "spacing": float(spacing[0]) if spacing else np.nan,
        "study": str(ds.get("StudyInstanceUID", "")), "series": str(ds.get("SeriesInstanceUID", "")),
        "laterality": _text(ds, "ImageLaterality") or _text(ds, "Laterality"),
        "view": _text(ds, "ViewPosition"),
        "position": tuple(float(x) for x in position) if position else None,
        "pixel_hash": hashlib.sha256(np.ascontiguousarray(px).tobytes()).hexdigest(),
    }


def _per_image(rec, opt: QualityOptions) -> list[tuple[str, float, bool]]:
    out = [("blank", rec.blank_share, rec.blank_share > 0),
           ("clipped", rec.clip_share, rec.clip_share >= opt.clip_fraction),
           ("monochrome1", 1.0, rec.photometric == "MONOCHROME1"),
           ("missing_window", 1.0, rec.modality in opt.window_modalities and not rec.has_window),
           ("underexposed", opt.dark - rec.mean_share, rec.mean_share < opt.dark and rec.blank_share == 0),
           ("overexposed", rec.mean_share - opt.bright, rec.mean_share > opt.bright and rec.blank_share == 0)]
    aspect = max(rec.rows, rec.cols) / max(1, min(rec.rows, rec.cols))
    out.append(("odd_size", aspect, min(rec.rows, rec.cols) < opt.min_side or aspect > opt.max_aspect))
    return out


def _spacing_z(frame) -> np.ndarray:
    z = np.zeros(len(frame))
    logs = np.log(frame["spacing"].to_numpy(dtype=float))
    for mod in frame["modality"].unique():
        sel = (frame["modality"] == mod).to_numpy() & np.isfinite(logs)
        if sel.sum() < 3:
            continue
        med = np.median(logs[sel])
        mad = 1.4826 * np.median(np.abs(logs[sel] - med))
        dev = np.abs(logs[sel] - med)
        z[sel] = dev / mad if mad > 0 else np.where(dev > np.log(1.1), np.inf, 0.0)
    return z


def _study_flags(frame) -> list[tuple[int, str]]:
    out = []
    for _, g in frame[frame["study"] != ""].groupby("study"):
        lat = set(g["laterality"]) & {"L", "R"}
        if len(lat) == 2:
            out += [(int(i), "mixed_laterality") for i in g.index]
        if len(set(g["view"]) - {""}) > 1:
            out += [(int(i), "mixed_view") for i in g.index]
    for _, g in frame[frame["series"] != ""].groupby("series"):
        seen_hash = g["pixel_hash"].duplicated()
        pos = g["position"].map(lambda p: p if p is not None else object())
        seen_pos = pos.duplicated()
        out += [(int(i), "duplicate_slice") for i in g.index[(seen_hash | seen_pos).to_numpy()]]
    return out


def find_quality_issues(records, opt: QualityOptions):
    """Issues frame (row, issue, score, flagged) from :func:`image_record` rows (a DataFrame)."""
    import pandas as pd

    rows = []
    for i, rec in enumerate(records.itertuples(index=False)):
        rows += [(i, issue, float(score), bool(flag)) for issue, score, flag in _per_image(rec, opt)]
    z = _spacing_z(records)
    rows += [(i, "spacing_outlier", float(z[i]), bool(z[i] > opt.spacing_mad)) for i in range(len(records))]
    rows += [(i, issue, 1.0, True) for i, issue in _study_flags(records)]
    issues = pd.DataFrame(rows, columns=["row", "issue", "score", "flagged"])
    return issues[issues["flagged"]].reset_index(drop=True)


class QualityManager:
    """DICOM image quality; see the module docstring for the checks."""

    name = "quality"
    needs = ("files",)

    def find(self, data: InspectData, **options) -> IssueResult:
        import pandas as pd

        opt = QualityOptions(**options)
        opt.validate()
        if not data.files:
            raise UsageError("the quality check needs DICOM files (--dicom)")
        recs, skipped = [], []
        for i, f in enumerate(data.files):
            r = image_record(f, opt)
            if r is None:
                skipped.append(i)
            else:
                recs.append({"row": i, **r})
        frame = pd.DataFrame(recs)
        notes = [f"{len(skipped)} file(s) are not DICOM images with decodable pixels: not checked"
                 ] if skipped else []
        if frame.empty:
            empty = pd.DataFrame(columns=["row", "issue", "score", "flagged"])
            return IssueResult(self.name, empty, notes=notes)
        issues = find_quality_issues(frame.drop(columns="row"), opt)
        issues["row"] = frame["row"].to_numpy()[issues["row"].to_numpy()]
        counts = issues.groupby("issue")["row"].nunique().to_dict()
        summary = {"files": len(data.files), "checked": len(frame),
                   "images_flagged": int(issues["row"].nunique()),
                   "flagged_by_issue": {k: int(v) for k, v in counts.items()}}
        return IssueResult(self.name, issues, summary=summary, notes=notes)
