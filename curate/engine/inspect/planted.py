"""Synthetic data with planted issues, for the tests, the benchmark (benchmarks/bench_inspect.py) and docs.

Every value is generated; nothing here reads real data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def planted_shortcut(*, patients: int = 60, per_patient: int = 2, dim: int = 8, cameras: int = 2,
                     strength: float = 1.0, label_signal: float = 1.0, camera_label_link: float = 0.0,
                     patient_noise: float = 0.5, seed: int = 0) -> tuple[np.ndarray, pd.DataFrame]:
    """Embeddings and metadata: a patient-level binary label ``y``, a patient-level ``camera`` and ``pid``.

    The camera adds ``strength`` × a fixed random direction per camera (orthonormal, so two cameras' means
    are ``strength`` × √2 apart) to the embeddings of its images, the
    same in both label classes (so it is readable *within* label classes); ``camera_label_link`` is the
    probability that a patient's camera is set from its label instead of drawn at random (0: independent).
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, patients)
    cam = rng.integers(0, cameras, patients)
    linked = rng.random(patients) < camera_label_link
    cam[linked] = y[linked] % cameras
    dirs = np.linalg.qr(rng.normal(size=(dim, max(cameras, 1))))[0].T[:cameras]  # orthonormal directions
    label_dir = rng.normal(size=dim)
    label_dir /= np.linalg.norm(label_dir)
    pat_off = rng.normal(scale=patient_noise, size=(patients, dim))
    pid = np.repeat(np.arange(patients), per_patient)
    X = (rng.normal(size=(len(pid), dim)) + pat_off[pid] + label_signal * np.outer(y[pid], label_dir)
         + strength * dirs[cam[pid]])
    meta = pd.DataFrame({"id": [f"img{i:05d}" for i in range(len(pid))], "pid": [f"p{p:04d}" for p in pid],
                         "y": y[pid], "camera": [f"cam{c}" for c in cam[pid]]})
    return X.astype(np.float32), meta


def planted_label_flips(*, patients: int = 150, per_patient: int = 4, dim: int = 32, flip: float = 0.1,
                        label_signal: float = 2.0, patient_noise: float = 1.5, seed: int = 0,
                        unit: str = "patient") -> tuple[np.ndarray, pd.DataFrame, np.ndarray]:
    """Embeddings, metadata (``id``, ``pid``, observed ``y``, true ``y_true``) and the flipped-row mask.

    Labels are per patient (a diagnosis), and a fraction ``flip`` of the patients has its label flipped on
    all of its images — the way report-derived labels go wrong. Each patient has a strong random offset
    (``patient_noise``), so a model trained with that patient's other images memorises the patient.
    ``unit="image"``: per-image annotation errors instead: in a fraction ``flip`` of the patients *one*
    image (chosen at random) has its label flipped and the patient's other images keep the right label.
    """
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 2, patients)
    flipped_p = rng.random(patients) < flip
    y_obs = np.where(flipped_p, 1 - y_true, y_true)
    label_dir = rng.normal(size=dim)
    label_dir /= np.linalg.norm(label_dir)
    pat_off = rng.normal(scale=patient_noise, size=(patients, dim))
    pid = np.repeat(np.arange(patients), per_patient)
    X = (rng.normal(size=(len(pid), dim)) + pat_off[pid]
         + label_signal * np.outer(y_true[pid] - 0.5, label_dir))
    flipped = flipped_p[pid]
    if unit == "image":
        one = np.flatnonzero(flipped_p) * per_patient + rng.integers(0, per_patient, int(flipped_p.sum()))
        flipped = np.zeros(len(pid), dtype=bool)
        flipped[one] = True
        y_obs = y_true[pid] ^ flipped
    elif unit == "patient":
        y_obs = y_obs[pid]
    else:
        raise ValueError(f"unit must be 'patient' or 'image', got {unit!r}")
    meta = pd.DataFrame({"id": [f"img{i:05d}" for i in range(len(pid))], "pid": [f"p{p:04d}" for p in pid],
                         "y": y_obs, "y_true": y_true[pid]})
    return X.astype(np.float32), meta, flipped


CORRUPTIONS = ("blank", "monochrome1", "clipped", "missing_window", "mixed_laterality")


def _radiograph(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    """A smooth 12-bit projection image: a body-like ellipse on a darker background, with texture."""
    yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float64)
    yy, xx = yy / rows - 0.5, xx / cols - 0.5
    body = np.exp(-((xx / (0.3 + 0.1 * rng.random())) ** 2 + (yy / 0.4) ** 2) * 2)
    texture = np.kron(rng.normal(0, 1, (8, 8)), np.ones((rows // 8 + 1, cols // 8 + 1)))[:rows, :cols]
    img = 400 + 1800 * body + 120 * texture + rng.normal(0, 15, (rows, cols))
    return np.clip(img, 0, 3800).astype(np.uint16)


def planted_radiographs(folder, *, studies: int = 60, per_corruption: int = 20,
                        seed: int = 0) -> pd.DataFrame:
    """Write DX studies (two images each, one laterality and view per study) under ``folder``; corrupt
    ``per_corruption`` images (or studies, for mixed laterality) with each of :data:`CORRUPTIONS`.

    Returns one row per file: ``path``, ``corruption`` ('' for a normal image).
    """
    from pydicom.uid import generate_uid

    from curate.scan.synthetic import make_dicom

    rng = np.random.default_rng(seed)
    folder = __import__("pathlib").Path(folder)
    plan: list[str] = []
    for c in CORRUPTIONS[:-1]:
        plan += [c] * per_corruption
    n_images = 2 * studies
    slots = [""] * n_images
    order = rng.permutation(n_images)
    mixed_studies = set(rng.choice(studies, per_corruption // 2, replace=False).tolist())
    free = [i for i in order if i // 2 not in mixed_studies]
    for i, c in zip(free, plan):
        slots[i] = c
    out = []
    for s in range(studies):
        study_uid = generate_uid(prefix="1.2.826.0.1.3680043.8.498.")
        lat = "L" if rng.random() < 0.5 else "R"
        for j in range(2):
            i = 2 * s + j
            c = "mixed_laterality" if s in mixed_studies else slots[i]
            px = _radiograph(rng, 96, 80)
            other = "R" if lat == "L" else "L"
            attrs = {"StudyInstanceUID": study_uid, "ViewPosition": "PA",
                     "ImageLaterality": other if c == "mixed_laterality" and j else lat,
                     "BitsStored": 12, "HighBit": 11, "WindowCenter": 1500, "WindowWidth": 3000,
                     "PixelSpacing": [0.14 + rng.normal(0, 0.002)] * 2}
            if c == "blank":
                px = np.full_like(px, int(rng.integers(0, 4096)))
            elif c == "clipped":
                px = px.copy()
                px[rng.random(px.shape) < 0.1 + 0.2 * rng.random()] = 4095
            elif c == "missing_window":
                del attrs["WindowCenter"], attrs["WindowWidth"]
            path = folder / f"s{s:03d}" / f"im{j}.dcm"
            make_dicom(path, px, modality="DX", attrs=attrs,
                       photometric="MONOCHROME1" if c == "monochrome1" else None)
            out.append({"path": str(path), "corruption": c})
    return pd.DataFrame(out)


def planted_outliers(*, patients: int = 300, per_patient: int = 2, dim: int = 32, clusters: int = 6,
                     outliers: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Embeddings, patient ids and the outlier-row mask.

    Images lie around ``clusters`` centres that share a mean direction (as real embeddings do); every image
    of ``outliers`` patients is replaced by one random direction per patient plus small noise (images from
    another domain, alike within the patient).
    """
    rng = np.random.default_rng(seed)
    mu = rng.normal(size=dim)
    mu *= 3 / np.linalg.norm(mu)
    centres = mu + rng.normal(scale=0.5, size=(clusters, dim))
    pid = np.repeat(np.arange(patients), per_patient)
    X = centres[rng.integers(0, clusters, patients)][pid] + rng.normal(scale=0.3, size=(len(pid), dim))
    mask = np.isin(pid, rng.choice(patients, outliers, replace=False))
    away = rng.normal(scale=1.5, size=(patients, dim))
    X[mask] = away[pid[mask]] + rng.normal(scale=0.3, size=(int(mask.sum()), dim))
    return X.astype(np.float32), np.array([f"p{p:04d}" for p in pid]), mask


def planted_near_copies(*, rows: int = 400, dim: int = 32, copies: int = 10, noise: float = 0.01,
                        seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random embeddings with ``copies`` rows appended that are near-copies (small noise) of random rows;
    returns the embeddings and the (original, copy) row pairs."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, dim))
    src = rng.choice(rows, copies, replace=False)
    X = np.vstack([X, X[src] + rng.normal(scale=noise, size=(copies, dim))])
    return X.astype(np.float32), np.column_stack([src, rows + np.arange(copies)])


def _chest(rng: np.random.Generator, size: int) -> np.ndarray:
    """An 8-bit chest-radiograph-like picture: lungs, ribs and spine with sharp edges, mild noise."""
    from PIL import Image, ImageDraw

    img = Image.new("L", (size, size), 20)
    d = ImageDraw.Draw(img)
    for x0, x1 in ((0.15, 0.48), (0.52, 0.85)):
        d.ellipse([size * x0, size * 0.1, size * x1, size * 0.9], fill=int(rng.integers(70, 110)))
    for k in range(8):
        y = int(size * (0.15 + 0.09 * k)) + int(rng.integers(-3, 4))
        d.line([size * 0.12, y, size * 0.88, y + int(rng.integers(8, 16))], fill=int(rng.integers(150, 200)),
               width=int(rng.integers(4, 8)))
    d.rectangle([size * 0.47, 0, size * 0.53, size], fill=int(rng.integers(180, 220)))
    a = np.asarray(img, dtype=np.float64) + rng.normal(0, 4, (size, size))
    return np.clip(a, 0, 255).astype(np.uint8)


def planted_images(folder, *, normal: int = 40, size: int = 256, seed: int = 0) -> pd.DataFrame:
    """PNG radiograph-like images (8-bit grayscale) in ``folder`` plus planted copies of the first one:
    heavily blurred (Gaussian radius size/16), dark (× 0.15), blank (constant) and narrow (aspect 6.4).
    Returns one row per file: ``file`` (name) and ``planted`` ("" for a normal image)."""
    from pathlib import Path

    from PIL import Image, ImageFilter

    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(normal):
        Image.fromarray(_chest(rng, size)).save(folder / f"n{i:03d}.png")
        rows.append((f"n{i:03d}.png", ""))
    base = Image.open(folder / "n000.png")
    base.filter(ImageFilter.GaussianBlur(size / 16)).save(folder / "blurred.png")
    Image.fromarray((np.asarray(base) * 0.15).astype(np.uint8)).save(folder / "dark.png")
    Image.fromarray(np.full((size, size), 128, np.uint8)).save(folder / "blank.png")
    Image.fromarray(_chest(rng, size)[:, : size * 10 // 64]).save(folder / "narrow.png")
    rows += [("blurred.png", "blurry"), ("dark.png", "dark"), ("blank.png", "low_information"),
             ("narrow.png", "odd_aspect_ratio")]
    return pd.DataFrame(rows, columns=["file", "planted"])
