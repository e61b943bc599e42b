"""A synthetic folder with identifiers burned into the pixels, and its answer key (MIDI-B layout).

Every value is fake. Files: ultrasound (8-bit), multi-frame secondary capture (3 frames), CT (16-bit with a
Rescale Intercept and a soft-tissue window, so the text only reads after windowing), DX in MONOCHROME1
(inverted display), PNG and JPEG screenshots. About half of the frames carry one to three lines of burned-in
text taken from the file's own header — the patient's name in one of its written forms, the patient id,
the accession number, a date in one of six formats, the institution — in two fonts (Pillow's bundled
FreeType font at several sizes, and its bitmap font scaled up), light-on-dark or dark-on-light, some
rotated by up to 5°. Some clean frames carry harmless annotation text ("L", "AXIAL", "5 cm").

Only Pillow's own fonts are used and every UID is derived from ``seed``, so the same call writes the same
files on every machine and the answer key in :data:`SHIPPED_KEY` (``seed=0``, the defaults) stays valid.
The ground-truth text region of a line is computed from its position, length, size and angle (not from
font metrics), so it does not depend on the FreeType version either.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from curate.errors import InputError, require

#: The answer key shipped for ``write_burned_in_demo(out)`` with the default arguments.
SHIPPED_KEY = Path(__file__).with_name("synthetic_answers.csv")
FAMILY = ["HALVORSEN", "OKONKWO", "MARCHETTI", "LINDQVIST", "ABERNATHY", "DESROCHERS", "NAKAMURA",
          "FITZGERALD", "VASQUEZ", "KOWALCZYK", "BRANDAO", "ASHWORTH"]
GIVEN = ["MARGARET", "THEODORE", "BEATRIZ", "OSWALDO", "HENRIETTA", "LEOPOLD", "ROSALIND", "EZEKIEL",
         "CORNELIA", "AUGUSTIN", "PERPETUA", "WINIFRED"]
PLACES = ["ST WILLIBRORD INFIRMARY", "RIVERMOUTH DIAGNOSTICS", "HOLLOWAY MEMORIAL",
          "NORTHGATE RADIOLOGY"]
BENIGN = ["L", "R", "AXIAL", "5 cm", "GAIN 50", "TGC", "ABD", "HEAD FIRST"]
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
KINDS = ("US", "SC", "CT", "DX", "PNG", "JPEG")
UID_ROOT = "1.2.826.0.1.3680043.8.498.77"
SC_STORAGE = "1.2.840.10008.5.1.4.1.1.7.2"  # Multi-frame Grayscale Byte Secondary Capture


@dataclass
class Planted:
    """One burned-in line: where (frame, box x, y, w, h), what kind, and the text (tests only)."""

    frame: int
    box: tuple[int, int, int, int]
    kind: str
    text: str


@dataclass
class SyntheticFile:
    rel: str
    kind: str
    frames: int
    header: dict[str, str] = field(default_factory=dict)
    planted: list[Planted] = field(default_factory=list)
    benign_frames: list[int] = field(default_factory=list)
    sop_uid: str | None = None
    study_uid: str | None = None
    series_uid: str | None = None


def _date_text(da: str, style: int) -> str:
    y, m, d = da[:4], da[4:6], da[6:8]
    return [f"{y}{m}{d}", f"{y}-{m}-{d}", f"{d}/{m}/{y}", f"{m}/{d}/{y}", f"{d}.{m}.{y}",
            f"{d} {MONTHS[int(m) - 1].title()} {y}"][style % 6]


def _name_text(family: str, given: str, style: int) -> str:
    return [f"{family}^{given}", f"{given.title()} {family.title()}", f"{family.title()}, {given.title()}",
            f"{given[0]}. {family}", f"{family} {given}"][style % 5]


def _header(i: int, rng: np.random.Generator) -> dict[str, str]:
    fam, giv = FAMILY[i % len(FAMILY)], GIVEN[(i * 5 + 3) % len(GIVEN)]
    return {"PatientName": f"{fam}^{giv}", "PatientID": f"MRN{int(rng.integers(100000, 999999))}",
            "AccessionNumber": f"ACC{int(rng.integers(10000, 99999))}",
            "PatientBirthDate": f"19{int(rng.integers(30, 99)):02d}{int(rng.integers(1, 13)):02d}"
                                f"{int(rng.integers(1, 29)):02d}",
            "StudyDate": f"20{int(rng.integers(10, 24)):02d}{int(rng.integers(1, 13)):02d}"
                         f"{int(rng.integers(1, 29)):02d}",
            "InstitutionName": PLACES[i % len(PLACES)]}


def _line(header: dict[str, str], kind: str, style: int) -> str:
    fam, giv = header["PatientName"].split("^")
    if kind == "name":
        return _name_text(fam, giv, style)
    if kind == "id":
        return [header["PatientID"], f"ID: {header['PatientID']}", header["AccessionNumber"]][style % 3]
    if kind == "date":
        da = header["PatientBirthDate"] if style % 2 else header["StudyDate"]
        return ("DOB " if style % 4 == 1 else "") + _date_text(da, style // 2)
    return header["InstitutionName"]


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """8-bit display picture: a smooth bright sector in the middle, dark margins (as on an ultrasound)."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) / size
    sector = ((xx - 0.5) ** 2 / 0.12 + (yy - 0.62) ** 2 / 0.10) < 1
    tex = np.kron(rng.normal(0, 1, (8, 8)), np.ones((size // 8 + 1, size // 8 + 1)))[:size, :size]
    from scipy.ndimage import gaussian_filter

    img = 25 + sector * (90 + 25 * gaussian_filter(tex, 3) + 30 * np.sin(6 * xx)) + rng.normal(0, 3, xx.shape)
    return np.clip(img, 0, 255)


def _text_layer(text: str, font: str, size: int) -> np.ndarray:
    """Text rendered white on black (``float`` 0..1 coverage), tightly cropped."""
    from PIL import Image, ImageDraw, ImageFont

    if font == "bm":
        f = ImageFont.load_default_imagefont()
        scale = max(2, round(size / 10))
        w, h = 6 * len(text) + 4, 14
        im = Image.new("L", (w, h), 0)
        ImageDraw.Draw(im).text((2, 1), text, fill=255, font=f)
        im = im.resize((w * scale, h * scale), Image.Resampling.NEAREST)
    else:
        f = ImageFont.load_default(size=size)
        w, h = int(0.75 * size * len(text)) + 8, int(size * 1.6) + 4
        im = Image.new("L", (w, h), 0)
        ImageDraw.Draw(im).text((4, 2), text, fill=255, font=f)
    arr = np.asarray(im, dtype=np.float64) / 255.0
    ys, xs = np.nonzero(arr > 0.05)
    if len(ys) == 0:
        return arr
    return arr[max(ys.min() - 2, 0):ys.max() + 3, max(xs.min() - 2, 0):xs.max() + 3]


def _stamp(img: np.ndarray, text: str, x: int, y: int, *, font: str, size: int, light: bool,
           angle: float) -> tuple[int, int, int, int]:
    """Burn ``text`` into ``img`` (display 0..255) at (x, y); returns the ground-truth box (x, y, w, h)."""
    from PIL import Image

    layer = _text_layer(text, font, size)
    if angle:
        im = Image.fromarray((layer * 255).astype(np.uint8)).rotate(angle, resample=Image.Resampling.BICUBIC,
                                                                      expand=True)
        layer = np.asarray(im, dtype=np.float64) / 255.0
    h, w = layer.shape
    H, W = img.shape
    h, w = min(h, H - y), min(w, W - x)
    layer = layer[:h, :w]
    region = img[y:y + h, x:x + w]
    if light:
        region[:] = region * (1 - layer) + 245 * layer
    else:
        region[:] = 228  # a light label box, dark text
        region[:] = region * (1 - layer) + 12 * layer
    # the key's box from the planned geometry (font-independent): length, size, angle
    est_w = 0.7 * size * len(text) + 6 if font == "ft" else 6.2 * max(2, round(size / 10)) * len(text) + 6
    est_h = 1.5 * size if font == "ft" else 14 * max(2, round(size / 10))
    a = math.radians(abs(angle))
    bw = est_w * math.cos(a) + est_h * math.sin(a)
    bh = est_w * math.sin(a) + est_h * math.cos(a)
    return (int(x), int(y), int(min(bw, W - x)), int(min(bh, H - y)))


def _frame(rng: np.random.Generator, size: int, header: dict[str, str], plant: bool, benign: bool,
           frame_no: int, style: int) -> tuple[np.ndarray, list[Planted]]:
    img = _background(rng, size)
    planted: list[Planted] = []
    if plant:
        kinds = ["name", "id", "date", "institution"]
        n = 1 + int(rng.integers(0, 3))
        chosen = [kinds[(style + k) % 4] for k in range(n)]
        ys = [6, 6 + size // 5, size - size // 6][:n]
        for k, (kind, y) in enumerate(zip(chosen, ys)):
            text = _line(header, kind, style + k)
            x = 6 + int(rng.integers(0, 12))
            room = size - x - 10
            font = "ft" if (style + k) % 3 or 12.4 * len(text) > room else "bm"
            fsize = min(int(rng.integers(11, 19)), int(room / (0.7 * len(text))))
            light = bool((style + k) % 2 == 0 or kind == "institution")
            angle = float(rng.uniform(-5, 5)) if (style + k) % 4 == 3 else 0.0
            box = _stamp(img, text, x, y, font=font, size=max(fsize, 10), light=light, angle=angle)
            planted.append(Planted(frame_no, box, kind, text))
    elif benign:
        text = BENIGN[style % len(BENIGN)]
        _stamp(img, text, size - 12 * len(text) - 8, 8, font="ft", size=14, light=True, angle=0.0)
    return np.clip(np.round(img), 0, 255).astype(np.uint8), planted


def _uid(seed: int, *parts: int) -> str:
    return ".".join([UID_ROOT, str(seed), *map(str, parts)])


def write_burned_in_demo(out: str | os.PathLike, *, n_files: int = 24, seed: int = 0,
                         size: int = 256) -> list[SyntheticFile]:
    """Write the folder (see the module docstring) into the new folder ``out``; returns its ground truth.

    Tests use the returned :class:`SyntheticFile` records (planted text included) as their oracle; nothing
    of them is written besides the images themselves.
    """
    from curate.scan.synthetic import make_dicom

    require("pydicom", "dicom")
    from PIL import Image

    root = Path(out)
    if root.exists() and any(root.iterdir()):
        raise InputError(f"--out '{root}' exists and is not empty; curate never overwrites")
    if n_files < 1 or size < 96:
        raise InputError(f"n_files must be at least 1 and size at least 96 (got {n_files}, {size})")
    rng = np.random.default_rng(seed)
    files: list[SyntheticFile] = []
    for i in range(n_files):
        kind = KINDS[i % len(KINDS)]
        header = _header(i, rng)
        n_frames = 3 if kind == "SC" else 1
        rel = f"case{i:03d}/{kind.lower()}{i:03d}." + {"PNG": "png", "JPEG": "jpg"}.get(kind, "dcm")
        sf = SyntheticFile(rel, kind, n_frames, header)
        frames = []
        for f in range(n_frames):
            plant = bool(rng.random() < 0.5)
            benign = not plant and bool(rng.random() < 0.5)
            arr, planted = _frame(rng, size, header, plant, benign, f, i * 3 + f)
            sf.planted += planted
            if benign:
                sf.benign_frames.append(f)
            frames.append(arr)
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if kind in ("PNG", "JPEG"):
            im = Image.fromarray(frames[0])
            im.save(path, **({"quality": 92} if kind == "JPEG" else {}))
        else:
            _write_dicom(path, kind, frames, header, sf, seed, i, make_dicom)
        files.append(sf)
    return files


def _write_dicom(path: Path, kind: str, frames: list[np.ndarray], header: dict[str, str],
                 sf: SyntheticFile, seed: int, i: int, make_dicom: Any) -> None:
    """Store the display frames the way ``kind`` stores pixels (see the module docstring)."""
    attrs: dict[str, Any] = dict(header)
    attrs.update(StudyInstanceUID=_uid(seed, i, 1), SeriesInstanceUID=_uid(seed, i, 2), InstanceNumber=1,
                 ReferringPhysicianName="", StudyID="1", SeriesNumber=1)
    photometric = None
    if kind == "CT":  # window 40 / 400: display 0..255 ↔ HU -160..240; stored = HU + 1024
        hu = frames[0].astype(np.float64) / 255.0 * 400 - 160
        pixels = np.round(hu + 1024).astype(np.uint16)
        attrs.update(RescaleIntercept=-1024, RescaleSlope=1, WindowCenter=40, WindowWidth=400)
    elif kind == "DX":  # MONOCHROME1: low stored values display white
        pixels = ((255 - frames[0].astype(np.uint16)) * 16).astype(np.uint16)
        photometric = "MONOCHROME1"
    elif kind == "SC":
        pixels = np.stack(frames)
    else:
        pixels = frames[0]
    attrs["BurnedInAnnotation"] = "NO" if kind in ("US", "DX") else "YES"
    modality = {"SC": "OT"}.get(kind, kind)
    make_dicom(path, pixels if pixels.ndim == 2 else pixels[0], modality=modality, attrs=attrs,
               photometric=photometric)
    import pydicom

    ds = pydicom.dcmread(path)
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = _uid(seed, i, 3)
    if kind == "SC":
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = SC_STORAGE
        ds.NumberOfFrames = pixels.shape[0]
        ds.PixelData = np.ascontiguousarray(pixels).tobytes()
    import io

    from curate.output import write_bytes

    buf = io.BytesIO()  # synthetic pixels and fake identifiers, written by the gate's byte writer
    pydicom.dcmwrite(buf, ds, enforce_file_format=True)
    write_bytes(path, buf.getvalue(), atomic=False)
    sf.sop_uid, sf.study_uid, sf.series_uid = ds.SOPInstanceUID, ds.StudyInstanceUID, ds.SeriesInstanceUID


#: Header checks of the synthetic key: (action, tag, tag name, header keyword).
KEY_HEADER_CHECKS = [
    ("text_removed", "(0010,0010)", "Patient's Name", "PatientName"),
    ("text_removed", "(0010,0020)", "Patient ID", "PatientID"),
    ("text_removed", "(0008,0050)", "Accession Number", "AccessionNumber"),
    ("text_removed", "(0008,0080)", "Institution Name", "InstitutionName"),
    ("date_shifted", "(0010,0030)", "Patient's Birth Date", "PatientBirthDate"),
    ("date_shifted", "(0008,0020)", "Study Date", "StudyDate"),
    ("uid_changed", "(0008,0018)", "SOP Instance UID", None),
    ("tag_retained", "(0008,0060)", "Modality", None),
]


def answer_rows(files: list[SyntheticFile]) -> list[dict[str, str]]:
    """The MIDI-B ``answer_data`` rows of the synthetic set (DICOM files; one row per instance)."""
    import json

    rows = []
    for f in files:
        if f.sop_uid is None:
            continue
        checks = []
        for action, tag, name, kw in KEY_HEADER_CHECKS:
            value = f.sop_uid if tag == "(0008,0018)" else ({"CT": "CT", "DX": "DX", "US": "US"}.get(
                f.kind, "OT") if kw is None else f.header[kw])
            checks.append({"action": f"<{action}>", "tag": f"<{tag}>", "tag_name": f"<{name}>",
                           "value": f"<{value}>", "action_text": f"<{value}>"})
        for p in f.planted:
            x, y, w, h = p.box
            checks.append({"action": "<pixels_hidden>", "tag": "<(7FE0,0010)>", "tag_name": "<Pixel Data>",
                           "value": f"<{p.frame}:{x},{y},{w},{h}>", "action_text": "<>"})
        rows.append({"SOPInstanceUID": f.sop_uid, "SeriesInstanceUID": f.series_uid or "",
                     "StudyInstanceUID": f.study_uid or "", "scope": "<Instance>",
                     "AnswerData": json.dumps({str(k): c for k, c in enumerate(checks)}, sort_keys=True)})
    return rows


def write_answer_key(files: list[SyntheticFile], path: str | os.PathLike) -> Path:
    """Write :func:`answer_rows` as CSV (the ``answer_data`` table's columns)."""
    import csv
    import io

    from curate.output import write_text

    buf = io.StringIO()
    w = csv.DictWriter(buf, ["SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID", "scope",
                             "AnswerData"], lineterminator="\n")
    w.writeheader()
    w.writerows(answer_rows(files))
    return write_text(Path(path), buf.getvalue())
