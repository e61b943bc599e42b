"""A planted overlap benchmark: synthetic datasets that share images at every tier, with known truth.

:func:`make_planted` writes datasets ``A``, ``B`` (and ``C``) under a folder. Images are synthetic
cross-sections: a body outline with organs (smooth edges), a patient-level texture shared by a patient's
slices, a slice-level texture and noise, stored as 12-bit DICOM (explicit VR little endian or RLE Lossless,
with a window in the header) or 8-bit PNG. ``B`` holds copies of ``A``'s images at every tier — byte copies
(tier 1); DICOM re-encoded in the other transfer syntax (explicit VR LE ↔ RLE Lossless) and PNG re-saved
(tier 2, same pixels); resized × 0.5–0.8, JPEG quality 60–95, 8-bit conversion of the
12-bit data, crops of up to 10 % and window / level changes (tier 3) — plus hard negatives: another slice of
an ``A`` patient (same anatomy, shifted structures, shared patient texture) and look-alike anatomy (the same
generator, slightly moved organs, new texture), and unrelated images. ``C`` copies some of ``B``'s images
(so some of ``A``'s, transitively).

The truth is derived from what each file was made from: two files are copies when they come from the same
rendered image; at tier ``bytes`` when their bytes are equal, ``pixels`` when their decoded values are,
else ``perceptual``. Every value is synthetic.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from curate.errors import InputError

SIZE = 128
PERCEPTUAL_KINDS = ("resize", "jpeg", "8-bit", "crop", "window")


@dataclass
class _File:
    dataset: str
    id: str
    patient: str
    origin: str      # the rendered image it shows
    pixels: str      # the decoded content it holds (equal -> tier 2)
    content: str     # the bytes it holds (equal -> tier 1)
    kind: str        # how it was made ("original", "bytes", "rle" (other transfer syntax), "resize", ...)


@dataclass
class Planted:
    """What :func:`make_planted` wrote: per dataset its folder, files, ids and patients, and the truth.

    ``copies``: every cross-dataset pair of copies (``dataset_a`` earlier than ``dataset_b``), columns
    ``dataset_a, id_a, dataset_b, id_b, tier, kind``. ``hard_negatives``: pairs that are *not* copies but
    look alike (``kind``: ``same patient`` or ``look-alike``).
    """

    root: Path
    folders: dict[str, Path]
    files: dict[str, list[Path]]
    ids: dict[str, list[str]]
    patients: dict[str, list[str]]
    copies: pd.DataFrame
    hard_negatives: pd.DataFrame
    catalog: list[_File] = field(default_factory=list, repr=False)


# ------------------------------------------------------------------------------------------- images
def _patient(rng: np.random.Generator) -> dict[str, Any]:
    organs = [(0.3 + 0.4 * rng.random(), 0.3 + 0.4 * rng.random(), 0.05 + 0.1 * rng.random(),
               0.05 + 0.1 * rng.random(), 300 + 900 * rng.random()) for _ in range(int(rng.integers(3, 6)))]
    return {"body": (0.5 + 0.04 * rng.normal(), 0.5 + 0.04 * rng.normal(), 0.36 + 0.05 * rng.random(),
                     0.3 + 0.06 * rng.random()),
            "organs": organs, "texture_seed": int(rng.integers(1 << 31)), "level": 900 + 300 * rng.random()}


def _field(seed: int, sigma: float, size: int, shift: tuple[int, int] = (0, 0)) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    pad = size + 16
    f = gaussian_filter(np.random.default_rng(seed).normal(size=(pad, pad)), sigma)
    f = f[8 + shift[0]:8 + shift[0] + size, 8 + shift[1]:8 + shift[1] + size]
    return f / (f.std() or 1.0)


def _render(p: dict[str, Any], rng: np.random.Generator, size: int = SIZE, jitter: float = 0.0) -> np.ndarray:
    """One 12-bit slice of patient ``p``; ``jitter`` moves the organs (another slice / a look-alike)."""
    from scipy.ndimage import gaussian_filter

    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) / size
    bx, by, ax, ay = p["body"]
    body = (((xx - bx) / ax) ** 2 + ((yy - by) / ay) ** 2 < 1).astype(np.float64)
    img = 150 + p["level"] * body
    for cx, cy, rx, ry, val in p["organs"]:
        cx, cy = cx + jitter * rng.normal(), cy + jitter * rng.normal()
        img += val * body * ((((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2) < 1)
    img = gaussian_filter(img, 1.2)
    shift = tuple(int(s) for s in rng.integers(-6, 7, 2))
    own = int(rng.integers(1 << 31))
    texture = 0.5 * _field(p["texture_seed"], 3.0, size, shift) + 0.8 * _field(own, 2.0, size)
    img += body * (180 * texture + 90 * _field(int(rng.integers(1 << 31)), 1.0, size))
    img += rng.normal(0, 12, (size, size))
    return np.clip(img, 0, 4095).astype(np.uint16)


def _window8(v: np.ndarray, center: float, width: float) -> np.ndarray:
    return np.round(np.clip((v - (center - width / 2)) / width, 0, 1) * 255).astype(np.uint8)


# ------------------------------------------------------------------------------------------- writers
def _png_bytes(arr: np.ndarray, **save: Any) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG", **save)
    return buf.getvalue()


def _jpeg_bytes(arr: np.ndarray, quality: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def _write(path: Path, data: bytes) -> None:
    from curate.output import write_bytes

    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(path, data, atomic=False)


def _dicom(path: Path, v: np.ndarray, syntax: str = "explicit") -> None:
    from curate.scan.synthetic import make_dicom

    make_dicom(path, v, modality="CT", transfer_syntax=syntax,
               attrs={"BitsStored": 12, "HighBit": 11, "WindowCenter": 1400, "WindowWidth": 2600})


class _Builder:
    """Writes files and remembers what each one was made from."""

    def __init__(self, root: Path, rng: np.random.Generator) -> None:
        self.root, self.rng, self.files, self.data = root, rng, [], {}
        self._uid = 0

    def uid(self) -> str:
        self._uid += 1
        return f"u{self._uid}"

    def add(self, rec: _File, data: Any) -> _File:
        self.files.append(rec)
        self.data[(rec.dataset, rec.id)] = data
        return rec

    def original(self, dataset: str, name: str, patient: str, v: np.ndarray, fmt: str) -> _File:
        """A new rendered image; ``fmt``: ``dicom`` (explicit VR little endian), ``dicom-rle`` or ``png``."""
        path = self.root / dataset / f"{name}.{'png' if fmt == 'png' else 'dcm'}"
        if fmt != "png":
            _dicom(path, v, "rle" if fmt == "dicom-rle" else "explicit")
        else:
            _write(path, _png_bytes(_window8(v, 1400, 2600)))
        rec = _File(dataset, path.name, patient, self.uid(), self.uid(), self.uid(), "original")
        return self.add(rec, (v, fmt))

    def derive(self, src: _File, dataset: str, name: str, patient: str, kind: str) -> _File:
        """A copy of ``src`` made by ``kind`` (bytes, rle, resave or one of PERCEPTUAL_KINDS)."""
        v, fmt = self.data[(src.dataset, src.id)]
        rng, folder = self.rng, self.root / dataset
        shown = _window8(v, 1400, 2600)
        pixels, content, ext = self.uid(), self.uid(), "png"
        if kind == "bytes":
            ext = src.id.rsplit(".", 1)[1]
            _write(folder / f"{name}.{ext}", (self.root / src.dataset / src.id).read_bytes())
            pixels, content = src.pixels, src.content
        elif kind == "rle":  # the other transfer syntax: explicit VR LE <-> RLE Lossless
            ext = "dcm"
            _dicom(folder / f"{name}.dcm", v, "explicit" if fmt == "dicom-rle" else "rle")
            pixels = src.pixels
        elif kind == "resave":
            _write(folder / f"{name}.png", _png_bytes(shown, compress_level=1))
            pixels = src.pixels
        elif kind == "jpeg":
            ext = "jpg"
            _write(folder / f"{name}.jpg", _jpeg_bytes(shown, int(rng.integers(60, 96))))
        else:
            _write(folder / f"{name}.png", _png_bytes(_perceptual(kind, v, shown, rng)))
        rec = _File(dataset, f"{name}.{ext}", patient, src.origin, pixels, content, kind)
        return self.add(rec, (v, fmt))


def _perceptual(kind: str, v: np.ndarray, shown: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    from PIL import Image

    if kind == "resize":
        f = rng.uniform(0.5, 0.8)
        size = (max(8, round(shown.shape[1] * f)), max(8, round(shown.shape[0] * f)))
        return np.asarray(Image.fromarray(shown).resize(size, Image.Resampling.LANCZOS))
    if kind == "8-bit":
        return (v >> 4).astype(np.uint8)
    if kind == "crop":
        h, w = shown.shape
        cut = [rng.uniform(0.03, 0.10) for _ in range(2)]
        sx, sy = rng.uniform(0, 1, 2)
        top, left = round(h * cut[0] * sy), round(w * cut[1] * sx)
        return shown[top:h - (round(h * cut[0]) - top), left:w - (round(w * cut[1]) - left)]
    if kind == "window":
        return _window8(v, 1400 + rng.uniform(-250, 250), 2600 * rng.uniform(0.6, 0.85))
    raise InputError(f"unknown copy kind '{kind}'")


def make_planted(folder: str | os.PathLike, *, n: int = 80, seed: int = 0, third: bool = True) -> Planted:
    """Write datasets ``A`` (``n`` images, two slices per patient) and ``B`` (about ``n`` images: copies of
    ``A`` at every tier, hard negatives, unrelated images), and with ``third`` a smaller ``C``; return the
    folders, files, ids, patients and the truth (:class:`Planted`)."""
    if int(n) < 40:
        raise InputError(f"n must be at least 40 (got {n})")
    root = Path(folder)
    if root.exists() and any(root.iterdir()):
        raise InputError(f"'{root}' exists and is not empty; curate never overwrites")
    rng = np.random.default_rng(seed)
    b = _Builder(root, rng)
    people = [_patient(rng) for _ in range(n // 2)]
    formats = ("dicom", "png", "dicom-rle", "png")
    a_files = [b.original("A", f"p{p:03d}_s{s}", f"A{p:03d}", _render(people[p], rng, jitter=0.01),
                          formats[p % 4]) for p in range(n // 2) for s in range(2)]
    k = max(2, n // 12)
    order = rng.permutation(len(a_files))
    dicoms = [i for i in order if a_files[i].id.endswith(".dcm")]
    pngs = [i for i in order if a_files[i].id.endswith(".png")]
    plan = [("rle", dicoms[:k // 2 + 1]), ("resave", pngs[:k // 2 + 1]), ("8-bit", dicoms[k:2 * k])]
    rest = [i for i in order if i not in {j for _, js in plan for j in js}]
    for m, kind in enumerate(("bytes", "resize", "jpeg", "crop", "window")):
        plan.append((kind, rest[m * k:(m + 1) * k]))
    names = iter(rng.permutation(10 * n))
    for kind, rows in plan:
        for i in rows:
            src = a_files[i]
            b.derive(src, "B", f"img{next(names):04d}", "B" + src.patient, kind)
    negatives = _hard_negatives(b, people, a_files, rng, names, max(4, n // 8))
    for _ in range(max(4, n // 4)):
        b.original("B", f"img{next(names):04d}", f"B-new{b.uid()}", _render(_patient(rng), rng),
                   "dicom" if rng.random() < 0.5 else "png")
    if third:
        _third(b, a_files, rng, k)
    return _truth(root, b, negatives)


def _hard_negatives(b: _Builder, people: list, a_files: list[_File], rng: np.random.Generator, names: Any,
                    count: int) -> list[tuple[str, str, str]]:
    """Another slice of an A patient, and look-alike anatomy; (A id, B id, kind) for each A slice."""
    out = []
    for m, p in enumerate(rng.choice(len(people), size=min(count, len(people)), replace=False)):
        same = m % 2 == 0
        if same:
            person, patient = people[p], f"BA{p:03d}"
        else:
            person = dict(people[p], texture_seed=int(rng.integers(1 << 31)))
            person["organs"] = [(cx + 0.02 * rng.normal(), cy + 0.02 * rng.normal(), rx, ry, val)
                                for cx, cy, rx, ry, val in people[p]["organs"]]
            patient = f"B-look{p:03d}"
        rec = b.original("B", f"img{next(names):04d}", patient, _render(person, rng, jitter=0.01),
                         "dicom" if p % 2 == 0 else "png")
        out += [(a.id, rec.id, "same patient" if same else "look-alike") for a in a_files[2 * p:2 * p + 2]]
    return out


def _third(b: _Builder, a_files: list[_File], rng: np.random.Generator, k: int) -> None:
    """C: byte copies of B files, JPEG copies of A images, RLE copies of A's DICOMs, unrelated images."""
    b_files = [f for f in b.files if f.dataset == "B"]
    names = iter(rng.permutation(10_000))
    for f in rng.choice(len(b_files), size=k, replace=False):
        b.derive(b_files[f], "C", f"c{next(names):04d}", "C" + b_files[f].patient, "bytes")
    dicoms = [f for f in a_files if f.id.endswith(".dcm")]
    for kind, pool in (("jpeg", a_files), ("rle", dicoms)):
        for f in rng.choice(len(pool), size=k // 2, replace=False):
            b.derive(pool[f], "C", f"c{next(names):04d}", "C" + pool[f].patient, kind)
    for _ in range(k):
        b.original("C", f"c{next(names):04d}", f"C-new{b.uid()}", _render(_patient(rng), rng), "png")


def _truth(root: Path, b: _Builder, negatives: list[tuple[str, str, str]]) -> Planted:
    names = sorted({f.dataset for f in b.files})
    files = {d: sorted((f for f in b.files if f.dataset == d), key=lambda f: f.id) for d in names}
    rows = []
    for x, dx in enumerate(names):
        for dy in names[x + 1:]:
            for fa in files[dx]:
                for fb in files[dy]:
                    if fa.origin == fb.origin:
                        tier = ("bytes" if fa.content == fb.content else
                                "pixels" if fa.pixels == fb.pixels else "perceptual")
                        kind = fb.kind if fa.kind == "original" else f"{fa.kind}+{fb.kind}"
                        rows.append((dx, fa.id, dy, fb.id, tier, kind))
    copies = pd.DataFrame(rows, columns=["dataset_a", "id_a", "dataset_b", "id_b", "tier", "kind"])
    hard = pd.DataFrame([("A", a, "B", bb, kind) for a, bb, kind in negatives],
                        columns=["dataset_a", "id_a", "dataset_b", "id_b", "kind"])
    return Planted(root=root, folders={d: root / d for d in names},
                   files={d: [root / d / f.id for f in fs] for d, fs in files.items()},
                   ids={d: [f.id for f in fs] for d, fs in files.items()},
                   patients={d: [f.patient for f in fs] for d, fs in files.items()},
                   copies=copies, hard_negatives=hard, catalog=b.files)
