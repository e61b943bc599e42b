"""The catalog's controlled vocabularies (modalities, demographic attributes, access classes) and seeds.

Kept apart from :mod:`curate.catalog.schema` so the models stay short; ``schema`` re-exports every name.
"""

from __future__ import annotations

from typing import Literal

#: Controlled vocabulary of imaging modalities (lower-case; ``CXR`` is chest radiography).
MODALITIES: tuple[str, ...] = (
    "fundus",
    "oct",
    "slo",
    "cxr",
    "radiograph",
    "ct",
    "mri",
    "pet",
    "spect",
    "ultrasound",
    "echocardiography",
    "mammography",
    "dermoscopy",
    "clinical-photo",
    "histopathology",
    "endoscopy",
    "surgical-video",
    "cytology",
    "multimodal",
    "other",
)
Modality = Literal[MODALITIES]  # type: ignore[valid-type]

#: Demographic attributes a dataset may report per image or patient.
DEMOGRAPHICS: tuple[str, ...] = (
    "age",
    "sex",
    "race",
    "ethnicity",
    "nationality",
    "skin_type",
    "language",
    "marital_status",
    "insurance",
    "education",
    "income",
)
Demographic = Literal[DEMOGRAPHICS]  # type: ignore[valid-type]

ACCESS_CLASSES: tuple[str, ...] = ("open", "open-noncommercial", "credentialed", "restricted", "unknown")
Access = Literal[ACCESS_CLASSES]  # type: ignore[valid-type]

#: The seed papers shipped in ``shared/seeds``; usable as a ``source`` key in any record.
SEEDS: dict[str, dict[str, str]] = {
    "queiroz2025": {
        "title": "Fair Foundation Models for Medical Image Analysis: Challenges and Perspectives",
        "authors": "Queiroz, Carlos, Anjos, Berton",
        "year": "2025",
        "seed": "queiroz2025-fair-foundation-models-review.txt",
    },
    "germani2025": {
        "title": "Bias and Generalizability of Foundation Models across Datasets in Breast Mammography",
        "authors": "Germani, Selin-Türk, Zeineddine, Mourad, Albarqouni",
        "year": "2025",
        "seed": "germani2025-mammography-fm-bias.txt",
    },
    "luo2024": {
        "title": "FairCLIP: Harnessing Fairness in Vision-Language Learning",
        "authors": "Luo, Shi, Khan, Afzal, Huang, Yuan, Tian, Song, Kouhana, Elze, Fang, Wang",
        "year": "2024",
        "seed": "luo2024-fairclip-harvard-fairvlmed.txt",
    },
    "bahre2025": {
        "title": "Embedding vs Image-Based AI: A Comparative Fairness Study in Chest X-ray Analysis",
        "authors": "Bahre, Hamidi, Sellergren, Celi, Calimeri, Seyyed-Kalantari",
        "year": "2025",
        "seed": "bahre2025-embedding-vs-image-fairness-cxr.txt",
    },
}
