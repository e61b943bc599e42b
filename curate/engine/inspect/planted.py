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
                        ) -> tuple[np.ndarray, pd.DataFrame, np.ndarray]:
    """Embeddings, metadata (``id``, ``pid``, observed ``y``, true ``y_true``) and the flipped-row mask.

    Labels are per patient (a diagnosis), and a fraction ``flip`` of the patients has its label flipped on
    all of its images — the way report-derived labels go wrong. Each patient has a strong random offset
    (``patient_noise``), so a model trained with that patient's other images memorises the patient.
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
    meta = pd.DataFrame({"id": [f"img{i:05d}" for i in range(len(pid))], "pid": [f"p{p:04d}" for p in pid],
                         "y": y_obs[pid], "y_true": y_true[pid]})
    return X.astype(np.float32), meta, flipped_p[pid]
