"""Writing the published parquet shards (their inputs are checked in :mod:`curate.pipeline.publish`)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curate.pipeline.publish_columns import IMAGE_COLUMN

if TYPE_CHECKING:  # pragma: no cover
    from curate.pipeline.publish import PublishPlan, PublishResult


def write_shards(plan: PublishPlan, data_dir: Path, max_bytes: int, result: PublishResult) -> dict[str, int]:
    """Parquet shards ``data/<split>-0000k-of-0000n.parquet``; returns the arrow bytes per split."""
    import datasets

    from curate.output import write_dataset

    data_dir.mkdir(parents=True, exist_ok=True)
    nbytes: dict[str, int] = {}
    counter = 0
    was_disabled = datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()
    try:
        for name in plan.split_names:
            rows = [i for i, s in enumerate(plan.split) if s == name]
            size = sum(plan.files[i].stat().st_size for i in rows)
            n_shards = max(1, min(len(rows), math.ceil(size / max_bytes)))
            nbytes[name] = 0
            for k in range(n_shards):
                part = rows[k * len(rows) // n_shards:(k + 1) * len(rows) // n_shards]
                images = []
                for i in part:
                    counter += 1
                    images.append({"bytes": plan.files[i].read_bytes(),
                                   "path": f"image_{counter:06d}{plan.files[i].suffix.lower()}"})
                cols: dict[str, list[Any]] = {IMAGE_COLUMN: images}
                for col, values in plan.columns.items():
                    cols[col] = [values[i] for i in part]
                ds = datasets.Dataset.from_dict(cols, features=plan.features)
                rel = f"data/{name}-{k:05d}-of-{n_shards:05d}.parquet"
                write_dataset(ds, data_dir.parent / rel, roles=plan.roles, image_column=IMAGE_COLUMN)
                nbytes[name] += int(ds.data.nbytes)
                result.shards.append(rel)
    finally:
        if not was_disabled:
            datasets.enable_progress_bars()
    return nbytes
