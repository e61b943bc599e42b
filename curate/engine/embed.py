"""Embed images with a backbone: batched torch DataLoader, deterministic preprocessing, optional autocast.

Files are opened by :func:`curate.scan.images.load_image` (PNG/JPEG/TIFF, DICOM, NIfTI). Preprocessing is
plain PIL + numpy (resize, centre crop, rescale, normalise; see
:class:`curate.engine.backbones.Preprocess`) so the same image gives the same tensor on every machine, and
no torchvision transform is involved. Inputs are checked before any model runs: every file must exist
and have a readable image header; an image that fails to decode later still stops the run with its file
name (or is skipped and counted with ``skip_bad=True``). Nothing is written until all vectors are ready.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from curate.engine.backbones import Preprocess
from curate.engine.devices import resolve_device
from curate.errors import InputError, UsageError
from curate.scan.images import IMAGE_EXTENSIONS, check_image, list_image_files, load_image  # the one reader
from curate.validation import ParameterError

if TYPE_CHECKING:  # pragma: no cover

    from curate.engine.embeddings import Embeddings

PRECISIONS = ("fp32", "fp16", "bf16")


@dataclass
class EmbedResult:
    """The embeddings plus what was skipped (file paths of unreadable images, only with ``skip_bad``)."""

    embeddings: Embeddings
    backbone: str
    device: str
    precision: str
    skipped: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------------ preprocessing
def to_rgb(img: Any) -> Any:
    """PIL image -> 8-bit RGB. 16-bit / float greyscale (common in X-ray) is min-max scaled to 0..255."""
    from PIL import Image

    if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        arr = (arr - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(arr)
        img = Image.fromarray(np.round(arr).astype(np.uint8), mode="L")
    return img if img.mode == "RGB" else img.convert("RGB")


def preprocess_image(img: Any, prep: Preprocess) -> np.ndarray:
    """One PIL image -> float32 ``(3, H, W)`` array following ``prep`` (the embedder's exact recipe)."""
    img = to_rgb(img)
    if prep.resize is not None:
        w, h = img.size
        if isinstance(prep.resize, int):
            short, long = (w, h) if w <= h else (h, w)
            new_short, new_long = prep.resize, int(prep.resize * long / short)
            size = (new_short, new_long) if w <= h else (new_long, new_short)
        else:
            size = (prep.resize[1], prep.resize[0])
        if size != img.size:
            img = img.resize(size, resample=prep.resample)
    if prep.crop is not None:
        ch, cw = prep.crop
        w, h = img.size
        top, left = (h - ch) // 2, (w - cw) // 2
        img = img.crop((left, top, left + cw, top + ch))  # PIL pads outside the image with zeros
    arr = np.asarray(img, dtype=np.float32) * np.float32(prep.rescale)
    if prep.normalize:
        arr = (arr - np.asarray(prep.mean, np.float32)) / np.asarray(prep.std, np.float32)
    return np.ascontiguousarray(arr.transpose(2, 0, 1), dtype=np.float32)


class _ImageFiles:
    """Map-style dataset for torch's DataLoader (no torch import needed): idx -> (idx, array | error)."""

    def __init__(self, paths: Sequence[str], prep: Preprocess) -> None:
        self.paths, self.prep = list(paths), prep

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> tuple[int, np.ndarray | None, str | None]:
        try:
            return i, preprocess_image(load_image(self.paths[i]), self.prep), None
        except Exception as exc:  # report, don't crash the worker: the main process decides
            return i, None, f"{type(exc).__name__}: {exc}"


def _collate(items: list[tuple[int, np.ndarray | None, str | None]]) -> tuple[Any, Any, list]:
    import torch

    good = [(i, a) for i, a, _ in items if a is not None]
    bad = [(i, e) for i, a, e in items if a is None]
    idx = torch.tensor([i for i, _ in good], dtype=torch.long)
    shape = good[0][1].shape if good else (0,)
    pixels = torch.from_numpy(np.stack([a for _, a in good])) if good else torch.empty((0, *shape))
    return idx, pixels, bad


# ------------------------------------------------------------------------------------------- inputs
def list_images(source: str | os.PathLike, *, image_col: str = "image", id_col: str | None = None,
                id_from: str = "path") -> tuple[list[str], list[str]]:
    """``(ids, paths)`` for an image folder (recursive) or a metadata table.

    In a folder the id is the relative path (``id_from="path"``, e.g. ``sub/img1.png``) or the relative
    path without its extension (``"stem"``: ``sub/img1``, matching metadata ids such as BRSET's image_id).

    For a table, image paths are relative to the table's folder (or absolute); ``id_col`` defaults to
    ``id`` when that column exists, else the image column's values.
    """
    from curate.tables import read_table

    src = Path(source)
    if not src.exists():
        raise InputError(f"'{source}' does not exist")
    if src.is_dir():
        paths = list_image_files(src)
        if not paths:
            raise InputError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) found under '{source}'")
        if id_from not in ("path", "stem"):
            raise ParameterError("id_from", f"must be path or stem (got '{id_from}')")
        rel = [p.relative_to(src) for p in paths]
        ids = [(r.with_suffix("") if id_from == "stem" else r).as_posix() for r in rel]
        if len(set(ids)) != len(ids):
            raise InputError("two images share a name without extension; use --id-from path")
        return ids, [str(p) for p in paths]
    meta = read_table(src)
    if len(meta) == 0:
        raise InputError(f"metadata '{source}' has no rows")
    if image_col not in meta.columns:
        raise InputError(f"image column '{image_col}' not in '{source}' "
                         f"(columns: {', '.join(map(str, meta.columns))}); pass --image-col")
    if id_col is not None and id_col not in meta.columns:
        raise InputError(f"id column '{id_col}' not in '{source}' "
                         f"(columns: {', '.join(map(str, meta.columns))})")
    if meta[image_col].isna().any():
        raise InputError(f"column '{image_col}' has {int(meta[image_col].isna().sum())} empty values")
    rel = meta[image_col].astype(str).tolist()
    paths = [p if os.path.isabs(p) else str(src.parent / p) for p in rel]
    col = id_col or ("id" if "id" in meta.columns else image_col)
    ids = meta[col].astype(str).tolist()
    if len(set(ids)) != len(ids):
        raise InputError(f"column '{col}' has duplicate ids; embeddings need one id per image")
    return ids, paths


def _check_headers(paths: list[str], skip_bad: bool) -> tuple[list[int], list[str]]:
    """Open every file's header (cheap) so a missing or non-image file fails before the model runs."""
    ok, bad = [], []
    for i, p in enumerate(paths):
        try:
            check_image(p)
            ok.append(i)
        except Exception as exc:
            if not skip_bad:
                why = "file not found" if isinstance(exc, FileNotFoundError) else "not a readable image"
                raise InputError(f"cannot read image '{p}' ({why}); fix it or pass --skip-bad") from None
            bad.append(p)
    return ok, bad


# -------------------------------------------------------------------------------------------- embed
def embed(
    source: str | os.PathLike,
    *,
    backbone: str,
    weights: str | os.PathLike | None = None,
    image_col: str = "image",
    id_col: str | None = None,
    batch_size: int = 32,
    device: str = "auto",
    precision: str = "fp32",
    num_workers: int = 0,
    skip_bad: bool = False,
    id_from: str = "path",
    pool: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> EmbedResult:
    """Embed every image of ``source`` (a folder or a metadata table) with ``backbone``.

    Returns float32 vectors (not normalised; loaders normalise for cosine) with one id per image, in
    input order. ``precision`` fp16/bf16 runs the model under ``torch.autocast`` (fp16 only on CUDA);
    vectors are always returned as float32. ``progress(done, total)`` is called after every batch.
    ``id_from``: for a folder, ids are relative paths (``path``) or paths without extension (``stem``).

    >>> res = embed("images/", backbone="hf", weights="models/dinov2-small")  # doctest: +SKIP
    >>> res.embeddings.vectors.shape  # doctest: +SKIP
    (1200, 384)
    """
    import torch

    from curate.engine.backbones import get_backbone
    from curate.engine.embeddings import Embeddings

    if batch_size < 1:
        raise ParameterError("batch_size", f"must be at least 1 (got {batch_size})")
    if precision not in PRECISIONS:
        raise ParameterError("precision", f"must be one of {', '.join(PRECISIONS)} (got '{precision}')")
    dev = resolve_device(device, backend="torch")
    if precision == "fp16" and not dev.startswith("cuda"):
        raise UsageError("--precision fp16 needs a CUDA device; use fp32 or bf16 on CPU")
    ids, paths = list_images(source, image_col=image_col, id_col=id_col, id_from=id_from)
    ok, skipped = _check_headers(paths, skip_bad)
    if not ok:
        raise InputError(f"none of the {len(paths)} images in '{source}' could be read")
    bb = get_backbone(backbone, weights, pool=pool)
    module = bb.module.to(dev).eval()
    loader = torch.utils.data.DataLoader(
        _ImageFiles([paths[i] for i in ok], bb.preprocess), batch_size=batch_size, shuffle=False,
        num_workers=num_workers, collate_fn=_collate, pin_memory=dev.startswith("cuda"))
    out = np.empty((len(ok), bb.dim), dtype=np.float32)
    filled = np.zeros(len(ok), dtype=bool)
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(precision)
    autocast = torch.autocast(device_type=dev.split(":")[0], dtype=dtype, enabled=dtype is not None)
    done = 0
    with torch.inference_mode(), autocast:
        for idx, pixels, bad in loader:
            for j, err in bad:
                if not skip_bad:
                    raise InputError(f"cannot decode image '{paths[ok[j]]}' ({err}); "
                                     "fix it or pass --skip-bad")
                skipped.append(paths[ok[j]])
            if len(idx):
                vec = bb.forward(pixels.to(dev, non_blocking=True))
                out[idx.numpy()] = vec.float().cpu().numpy().reshape(len(idx), -1)
                filled[idx.numpy()] = True
            done += len(idx) + len(bad)
            if progress is not None:
                progress(done, len(ok))
    del module
    keep = np.flatnonzero(filled)
    if len(keep) == 0:
        raise InputError(f"none of the {len(paths)} images in '{source}' could be decoded")
    if not np.isfinite(out[keep]).all():
        raise InputError(f"the backbone produced non-finite values (precision {precision}); try fp32")
    emb = Embeddings(np.asarray([ids[ok[i]] for i in keep]).astype(str), np.ascontiguousarray(out[keep]),
                     normalized=False, source=str(source))
    return EmbedResult(emb, bb.name, dev, precision, skipped)
