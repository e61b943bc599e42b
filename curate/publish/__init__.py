"""Publishing: a hub-ready folder (``folder``), the licence guard (``guard``) and the upload (``push``).

Importing this package is cheap; ``datasets`` and ``huggingface_hub`` are imported inside the functions.
"""

from __future__ import annotations
