"""The sourced catalog of public medical-imaging datasets (``catalog/*.yaml``).

>>> from curate import catalog
>>> cat = catalog.load()
>>> cat.get("BRSET").countries.value
['BRA']
"""

from curate.catalog.collections import Collection
from curate.catalog.licences import access_for_licence, hf_license_id
from curate.catalog.schema import (
    ACCESS_CLASSES,
    DEMOGRAPHICS,
    FACT_FIELDS,
    MODALITIES,
    SEEDS,
    Conflict,
    Dataset,
    Fact,
    Reference,
)
from curate.catalog.store import Catalog, builtin_dir, load, parse_file, validate_dir

__all__ = [
    "ACCESS_CLASSES",
    "DEMOGRAPHICS",
    "FACT_FIELDS",
    "MODALITIES",
    "SEEDS",
    "Catalog",
    "Collection",
    "Conflict",
    "Dataset",
    "Fact",
    "Reference",
    "access_for_licence",
    "builtin_dir",
    "hf_license_id",
    "load",
    "parse_file",
    "validate_dir",
]
