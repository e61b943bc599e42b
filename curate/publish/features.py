"""Features and Croissant fields of the published parquet shards (one ``datasets`` feature per column)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from curate.publish.folder import PublishResult, _Plan

#: More distinct values than this and a text column stays free text instead of a ClassLabel.
MAX_CLASSES = 50


def feature_for(s: pd.Series, *, label: bool) -> tuple[Any, list[Any], str]:
    """A ``datasets`` feature, the encoded values and a short description for one column.

    Labels and short-vocabulary text become ``ClassLabel`` (missing = -1, the hub's "no label"),
    numbers ``Value(int64/float64)``, long free text ``Value(string)``.
    """
    import datasets
    import numpy as np
    import pandas as pd

    if s.dtype == bool:
        return datasets.Value("bool"), s.tolist(), "Value(bool)"
    num = pd.to_numeric(s, errors="coerce")
    numeric = bool(s.notna().any()) and bool((num.notna() == s.notna()).all())
    text = s.where(s.isna(), s.astype(str).str.strip())
    uniq = text.dropna().unique().tolist()
    if label or (not numeric and len(uniq) <= MAX_CLASSES):
        uniq = sorted(uniq, key=float) if numeric else sorted(uniq)
        index = {v: i for i, v in enumerate(uniq)}
        return (datasets.ClassLabel(names=[str(u) for u in uniq]),
                [-1 if pd.isna(v) else index[v] for v in text], f"ClassLabel({len(uniq)} classes)")
    if numeric:
        vals = num.astype(float)
        if vals.notna().all() and bool(np.all(np.mod(vals, 1) == 0)):
            return datasets.Value("int64"), vals.astype("int64").tolist(), "Value(int64)"
        return datasets.Value("float64"), [None if pd.isna(v) else float(v) for v in vals], "Value(float64)"
    return datasets.Value("string"), [None if pd.isna(v) else str(v) for v in text], "Value(string)"


def croissant_field(name: str, feature: Any) -> dict[str, Any]:
    """One Croissant field reading column ``name`` from the parquet shards."""
    import datasets

    source: dict[str, Any] = {"fileSet": {"@id": "parquet-files"}, "extract": {"column": name}}
    field_: dict[str, Any] = {"@type": "cr:Field", "@id": f"default/{name}", "name": name}
    if isinstance(feature, datasets.Image):
        source["transform"] = {"jsonPath": "bytes"}
        field_.update(dataType="sc:ImageObject", description="the image (bytes embedded in the parquet)")
    elif isinstance(feature, datasets.ClassLabel):
        field_.update(dataType="sc:Integer", description="class index (-1: no label): " + ", ".join(
            f"{i}={n}" for i, n in enumerate(feature.names)))
    else:
        dtype = getattr(feature, "dtype", "string")
        field_["dataType"] = {"int64": "sc:Integer", "float64": "sc:Float", "bool": "sc:Boolean"}.get(
            dtype, "sc:Text")
    field_["source"] = source
    return field_


def add_croissant_distribution(tmp: Path, plan: _Plan, result: PublishResult) -> None:
    """Describe the published parquet shards in croissant.json: one ``FileObject`` per shard (sha256),
    a ``FileSet`` over ``data/*.parquet`` and a ``default`` record set with every feature plus the split
    (from the shard's file name), so ``mlcroissant`` reads the records straight from the folder."""
    import json

    from curate._io import sha256_file

    path = tmp / "croissant.json"
    if not path.exists():
        return
    doc = json.loads(path.read_text(encoding="utf-8"))
    # build_card described the in-memory table it was given; the shards replace it
    dist = [d for d in doc.get("distribution") or []
            if isinstance(d, dict) and d.get("@id") != "metadata-file"]
    for rel in result.shards:
        dist.append({"@type": "cr:FileObject", "@id": rel, "name": rel, "contentUrl": rel,
                     "encodingFormat": "application/x-parquet", "sha256": sha256_file(tmp / rel)})
    dist.append({"@type": "cr:FileSet", "@id": "parquet-files", "name": "parquet-files",
                 "description": "All parquet shards of every split.",
                 "encodingFormat": "application/x-parquet", "includes": "data/*.parquet"})
    fields = [croissant_field(name, feat) for name, feat in plan.features.items()]
    names = "|".join(re.escape(n) for n in plan.split_names)
    fields.append({"@type": "cr:Field", "@id": "default/split", "name": "split", "dataType": "sc:Text",
                   "description": "the split, from the shard's file name",
                   "source": {"fileSet": {"@id": "parquet-files"}, "extract": {"fileProperty": "filename"},
                              "transform": {"regex": f"^({names})-\\d+-of-\\d+\\.parquet$"}}})
    record_sets = [r for r in doc.get("recordSet") or []
                   if isinstance(r, dict) and r.get("@id") != "metadata"]
    record_sets.append({"@type": "cr:RecordSet", "@id": "default", "name": "default",
                        "description": "One record per published image.", "field": fields})
    doc["distribution"] = dist
    doc["recordSet"] = record_sets
    from curate.output import write_json

    write_json(path, doc, atomic=False)  # the whole folder is already atomic
