"""Simulate README's core install (``pip install -e .``): the optional extras' modules cannot be imported.

Put this folder first on PYTHONPATH of a subprocess; Python imports ``sitecustomize`` at start-up, and the
finder below refuses every optional top-level module as if it were not installed.
"""

import sys

BLOCKED = frozenset({
    "PIL", "matplotlib", "torch", "torchvision", "faiss", "sklearn", "fairlearn", "datasets",
    "mlcroissant", "dask", "distributed", "geopandas", "shapely", "transformers", "safetensors", "imagehash",
    "pytesseract", "rapidfuzz",
})


class _BlockOptional:
    """Meta-path finder: optional modules are not installed (ModuleNotFoundError, as pip would leave it)."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named '{name}'", name=name)
        return None


sys.meta_path.insert(0, _BlockOptional())
