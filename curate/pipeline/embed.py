"""What ``curate embed`` runs: the paths checked before the (long) run, then the embedding and its file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from curate.errors import UsageError


def check_embed_paths(source: str, out: str, *, weights: str | None = None, batch_size: int | None = None,
                      num_workers: int | None = None) -> None:
    """Fail before the embedding run, not after it: output suffix and folder, inputs, numeric limits."""
    from curate._io import check_parent
    from curate._paths import check_io
    from curate.limits import check_range

    if not out.lower().endswith(".parquet"):  # the file IS parquet; another suffix would mislead
        raise UsageError(f"--out must end in .parquet (got '{out}')")
    check_parent(Path(out))
    check_io({"IMAGES_DIR_OR_METADATA": source, "--weights": weights}, {"--out": out})
    check_range("batch_size", batch_size)
    check_range("num_workers", num_workers)


def embed_to_file(source: str, out: str, **options: Any):
    """Embed (:func:`curate.engine.embed.embed`) and write the embeddings to ``out`` (parquet)."""
    from curate.engine.embed import embed

    res = embed(source, **options)
    res.embeddings.save_parquet(out)
    return res
