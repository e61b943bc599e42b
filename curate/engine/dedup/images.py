"""Duplicates in an image folder without embeddings: identical files and perceptual near-copies.

- exact: files with the same SHA-256 of their bytes (re-exports, copies under another name);
- pixels: different bytes but the same decoded pixels (a DICOM file re-sent in another transfer syntax,
  e.g. RLE or JPEG-LS lossless; a PNG re-saved losslessly): SHA-256 of the decoded stored values;
- perceptual: 64-bit DCT perceptual hashes (``imagehash.phash``) within Hamming distance ``max_distance``
  (resized, re-encoded or slightly cropped copies). Searched with a FAISS binary index
  (``IndexBinaryFlat.range_search``), so it is exact, not approximate.

Files are read by :mod:`curate.scan.images` (PNG/JPEG/TIFF, DICOM, NIfTI), the engine's one reader.
Ids are the files' paths relative to the folder (POSIX separators). The result has the same shape as
:func:`curate.dedup` (pairs, groups, keep, summary) with pair columns ``id_a, id_b, kind, hamming``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from curate.engine.dedup.groups import DedupResult, build_result
from curate.engine.dedup.kernel import ProgressFn
from curate.errors import CurateError, InputError, UsageError, require
from curate.scan.images import IMAGE_EXTENSIONS, kind_of, list_image_files, load_array, pixel_digest


def list_images(folder: str | os.PathLike, exts: tuple[str, ...] = IMAGE_EXTENSIONS) -> list[Path]:
    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"image folder '{root}' does not exist or is not a folder")
    if exts == IMAGE_EXTENSIONS:
        files = list_image_files(root)
    else:
        files = sorted(p for p in root.rglob("*") if p.is_file() and p.name.lower().endswith(exts))
    if not files:
        raise InputError(f"no image files ({', '.join(exts)}) found under '{root}'")
    return files


def phash_bits(path: Path, hash_size: int = 8) -> np.ndarray:
    """Perceptual hash of one image as packed bytes (``hash_size**2 / 8`` uint8)."""
    return hash_file(path, hash_size, with_sha=False).phash


@dataclass
class FileHash:
    """What one decode of a file gives: the tiers' keys (shared by ``dedup --images`` and ``overlap``).

    ``sha256`` of the bytes, ``pixels`` the digest of the decoded stored values
    (:func:`curate.scan.images.pixel_digest`), ``phash`` the packed pHash of the display image, and with
    ``keep_image`` the display image itself (PIL) for further features (overlap's robust hash).
    """

    sha256: str
    pixels: str
    phash: np.ndarray
    image: Any = None


def hash_file(path: Path, hash_size: int = 8, *, keep_image: bool = False, with_sha: bool = True) -> FileHash:
    """SHA-256 of the bytes, digest of the decoded pixels and pHash of one file, decoded once.

    Raises what the decoders raise for an unreadable file (callers list it as skipped)."""
    from curate._io import sha256_file

    imagehash = require("imagehash", "engine")
    from PIL import Image

    if kind_of(path) == "pil":
        with Image.open(path) as im:
            im.load()
            h = imagehash.phash(im, hash_size=hash_size)
            stored = np.asarray(im)
            image = im.copy() if keep_image else None
    else:
        display, stored = load_array(path)
        image = Image.fromarray(display)
        h = imagehash.phash(image, hash_size=hash_size)
    return FileHash(sha256_file(path) if with_sha else "", pixel_digest(stored),
                    np.packbits(h.hash.reshape(-1).astype(np.uint8)), image if keep_image else None)


def hash_image(path: Path, hash_size: int = 8) -> tuple[np.ndarray, str]:
    """(packed perceptual hash, digest of the decoded pixels) of one file, decoded once."""
    fh = hash_file(path, hash_size, with_sha=False)
    return fh.phash, fh.pixels


def image_dedup(folder: str | os.PathLike, *, max_distance: int = 4, hash_size: int = 8,
                exts: tuple[str, ...] = IMAGE_EXTENSIONS, strip_ext: bool = False,
                progress: ProgressFn | None = None, skip_bad: bool = False) -> DedupResult:
    """Exact (SHA-256) and perceptual (pHash Hamming <= ``max_distance``) duplicates under ``folder``.

    Ids are relative paths (``sub/img1.png``), or without the extension (``sub/img1``) when
    ``strip_ext`` — the usual form of image ids in metadata tables. A file that cannot be decoded is an
    error, or with ``skip_bad`` (``--skip-bad``, as in ``curate embed``) left out and listed: the result's
    ``skipped`` holds (id, reason) pairs, written as ``skipped.csv`` like ``curate scan``'s.
    """
    faiss = require("faiss", "engine")
    bits = hash_size * hash_size
    if hash_size < 4 or bits % 8:
        raise UsageError(f"hash_size must be >= 4 with hash_size² a multiple of 8, got {hash_size}")
    if not (0 <= max_distance < bits):
        raise UsageError(f"max_distance must be between 0 and {bits - 1}, got {max_distance}")
    t0 = time.perf_counter()
    root = Path(folder)
    files = list_images(root)
    ids = np.array(image_ids(root, strip_ext=strip_ext), dtype=str)
    n = len(files)
    ids, digests, pixel_digests, hashes, skipped = _hash_all(root, files, ids, bits, hash_size, skip_bad,
                                                             progress)
    n = len(ids)
    t1 = time.perf_counter()
    # exact duplicates: same digest -> pairs (first, other) inside each digest group
    ex_i, ex_j = _same_digest_pairs(digests)
    px_i, px_j = _same_digest_pairs(pixel_digests)
    # perceptual: binary range search (FAISS keeps distances strictly below the radius)
    index = faiss.IndexBinaryFlat(bits)
    index.add(hashes)
    lims, dist, idx = index.range_search(hashes, max_distance + 1)
    q = np.repeat(np.arange(n, dtype=np.int64), np.diff(lims).astype(np.int64))
    j = idx.astype(np.int64)
    keep = q < j
    pq_i, pq_j, pq_d = q[keep], j[keep], dist[keep].astype(np.int64)
    exact_keys = set(zip(ex_i, ex_j))
    pixel_keys = set(zip(px_i, px_j)) - exact_keys
    kinds = ["exact" if (a, b) in exact_keys else "pixels" if (a, b) in pixel_keys else "perceptual"
             for a, b in zip(pq_i, pq_j)]
    found = set(zip(pq_i.tolist(), pq_j.tolist()))
    # identical bytes / pixels hash identically, but keep those pairs even if the display were to differ
    extra = sorted((a, b) for a, b in exact_keys | pixel_keys if (a, b) not in found)
    i = np.concatenate([pq_i, np.array([a for a, _ in extra], dtype=np.int64)])
    jj = np.concatenate([pq_j, np.array([b for _, b in extra], dtype=np.int64)])
    dd = np.concatenate([pq_d, np.zeros(len(extra), dtype=np.int64)])
    kinds += ["exact" if p in exact_keys else "pixels" for p in extra]
    res = build_result(ids, i, jj, np.zeros(len(i), np.float32),
                       extra={"kind": np.array(kinds, dtype=str), "hamming": dd})
    t2 = time.perf_counter()
    n_exact = int(sum(k == "exact" for k in kinds))
    n_pixels = int(sum(k == "pixels" for k in kinds))
    res.summary = {
        "n": n, "pairs": len(res.pairs), "exact_pairs": n_exact, "pixel_identical_pairs": n_pixels,
        "perceptual_pairs": len(res.pairs) - n_exact - n_pixels,
        "groups": int(res.groups["group"].nunique()), "removed": n - len(res.keep), "kept": len(res.keep),
        "method": "image-hash", "hash": f"phash {bits}-bit", "max_distance": max_distance,
        "timings": {"hash_s": round(t1 - t0, 3), "search_s": round(t2 - t1, 3), "total_s": round(t2 - t0, 3)},
    }
    if skip_bad:
        res.summary["skipped"] = len(skipped)
    res.skipped = skipped
    return res


def _hash_all(root: Path, files: list, ids: np.ndarray, bits: int, hash_size: int, skip_bad: bool,
              progress: ProgressFn | None) -> tuple[np.ndarray, list[str], list[str], np.ndarray, list]:
    """SHA-256 of the bytes, a digest of the decoded pixels and the pHash of each file; unreadable files are
    an error, or with ``skip_bad`` left out and returned as ``(id, reason)`` pairs."""
    n = len(files)
    digests: list[str] = []
    pixel_digests: list[str] = []
    hashes = np.zeros((n, bits // 8), dtype=np.uint8)
    bad: list[tuple[int, str]] = []
    for k, path in enumerate(files):
        try:
            fh = hash_file(path, hash_size)
            digests.append(fh.sha256)
            hashes[k] = fh.phash
            pixel_digests.append(fh.pixels)
        except CurateError:  # a missing extra (decoder plugin): the install hint, not "unreadable"
            raise
        except Exception as exc:  # PIL / pydicom / nibabel raise many types for corrupt / unsupported files
            bad.append((k, type(exc).__name__))
            digests.append(f"unreadable:{k}")
            pixel_digests.append(f"unreadable:{k}")
        if progress and (k % 64 == 0 or k == n - 1):
            progress("hashing images", k + 1, n)
    skipped = [(str(ids[k]), f"not readable as an image ({why})") for k, why in bad]
    if bad and not skip_bad:
        raise InputError(f"{len(bad)} of {n} files could not be read as images (e.g. "
                         f"{', '.join(repr(i) for i, _ in skipped[:3])}); pass --skip-bad to leave them out "
                         "(they are listed in skipped.csv)")
    if bad:
        if len(bad) == n:
            raise InputError(f"none of the {n} files under '{root}' could be read as an image")
        ok = np.setdiff1d(np.arange(n), [k for k, _ in bad])
        ids, hashes = ids[ok], hashes[ok]
        digests = [digests[k] for k in ok]
        pixel_digests = [pixel_digests[k] for k in ok]
    return ids, digests, pixel_digests, hashes, skipped


def _same_digest_pairs(digests: list[str]) -> tuple[list[int], list[int]]:
    """(i, j) with i < j for every two files sharing a digest."""
    dig = np.array(digests)
    order = np.argsort(dig, kind="stable")
    out_i, out_j = [], []
    start, n = 0, len(dig)
    for k in range(1, n + 1):
        if k == n or dig[order[k]] != dig[order[start]]:
            members = order[start:k]
            for a in range(len(members)):
                for b in range(a + 1, len(members)):
                    out_i.append(int(min(members[a], members[b])))
                    out_j.append(int(max(members[a], members[b])))
            start = k
    return out_i, out_j


def image_ids(folder: str | os.PathLike, *, strip_ext: bool = False) -> list[Any]:
    """The ids :func:`image_dedup` uses for ``folder`` (relative POSIX paths), e.g. to build metadata."""
    root = Path(folder)
    rel = [p.relative_to(root) for p in list_images(root)]
    ids = [(r.with_suffix("") if strip_ext else r).as_posix() for r in rel]
    if strip_ext and len(set(ids)) != len(ids):
        raise InputError(f"{len(ids) - len(set(ids))} images share a name once the extension is removed "
                         "(e.g. a.png and a.jpg); keep the extensions in the metadata ids")
    return ids
