"""Croissant fields of the published parquet shards (the features are chosen by
:func:`curate.pipeline.publish_columns.feature_for`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover

    from curate.pipeline.publish import PublishPlan, PublishResult

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


def add_croissant_distribution(tmp: Path, plan: PublishPlan, result: PublishResult) -> None:
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
