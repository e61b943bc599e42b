"""Writing the published parquet shards, and the checks on their inputs (shard size, readable images)."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curate.errors import InputError, UsageError, require

if TYPE_CHECKING:  # pragma: no cover
    from curate.publish.folder import PublishResult, _Plan

IMAGE_COLUMN = "image"


def parse_size(size: str | int) -> int:
    """``"500MB"`` / ``"2GB"`` / ``1048576`` → bytes (the hub's default shard size is 500MB)."""
    if isinstance(size, int):
        n = size
    else:
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*", str(size), flags=re.IGNORECASE)
        if not m:
            raise UsageError(f"--max-shard-size expects a size such as 500MB or 2GB (got '{size}')")
        n = int(float(m.group(1)) * 1024 ** " KMGT".index(m.group(2).upper() or " "))
    from curate.limits import SHARD_BYTES

    if not SHARD_BYTES[0] <= n <= SHARD_BYTES[1]:
        raise UsageError(f"--max-shard-size must be between 1KB and 50GB (got '{size}')")
    return n


def check_images(files: list[Path], result: PublishResult) -> None:
    """Every file must be an image PIL can open (header only: fast); note embedded text metadata."""
    require("PIL", "hub")
    from PIL import Image, UnidentifiedImageError

    tagged = 0
    for i, f in enumerate(files):
        try:
            with Image.open(f) as im:
                if any(k in im.info for k in ("exif", "comment")) or getattr(im, "text", None):
                    tagged += 1
        except (UnidentifiedImageError, OSError) as exc:
            raise InputError(f"image of metadata line {i + 2} is not a readable image "
                             f"({type(exc).__name__})") from exc
    if tagged:
        result.warnings.append(f"{tagged} image(s) carry embedded EXIF/text metadata, published unchanged; "
                               "strip it first if it may identify a person")


def write_shards(plan: _Plan, data_dir: Path, max_bytes: int, result: PublishResult) -> dict[str, int]:
    """Parquet shards ``data/<split>-0000k-of-0000n.parquet``; returns the arrow bytes per split."""
    import datasets

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
                ds.to_parquet(str(data_dir.parent / rel))
                nbytes[name] += int(ds.data.nbytes)
                result.shards.append(rel)
    finally:
        if not was_disabled:
            datasets.enable_progress_bars()
    return nbytes
