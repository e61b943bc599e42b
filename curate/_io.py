"""Write outputs atomically so a failure never leaves a half-written file or folder.

Everything is written into a temporary sibling first and moved into place only when complete; an
existing output is replaced only after the new one is ready, and folders that curate did not create
are never deleted (``Nothing user-owned is lost``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from curate.errors import InputError

MARKER = ".curate-output"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _check_parent(path: Path) -> None:
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        raise InputError(f"output directory '{parent}' does not exist")
    if not parent.is_dir():
        raise InputError(f"'{parent}' is not a directory")


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() or p.is_symlink()}


def write_marker(folder: Path, kind: str | None) -> None:
    """Record what curate wrote into ``folder``: the command kind and every file, for safe replacement."""
    files = sorted(_files(folder) - {MARKER})
    payload = {"written_by": "curate", "kind": kind, "files": files}
    (folder / MARKER).write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")


def _read_marker(folder: Path) -> dict | None:
    """The marker's content; ``{}`` for markers written before manifests existed; None when absent."""
    marker = folder / MARKER
    if not marker.is_file():
        return None
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return {}
    return data if isinstance(data, dict) else {}


def _check_replaceable(path: Path, kind: str | None, overwrite: bool) -> None:
    if not path.is_dir():
        raise InputError(f"output '{path}' exists and is not a folder")
    if not any(path.iterdir()):
        return
    marker = _read_marker(path)
    if marker is None:
        raise InputError(f"output folder '{path}' exists and was not written by curate; choose another --out")
    if not overwrite:
        raise InputError(f"output folder '{path}' exists (pass --overwrite to replace it)")
    old_kind = marker.get("kind")
    if kind is not None and old_kind is not None and old_kind != kind:
        # e.g. `curate dedup demo/embeddings.parquet --out demo` would delete the demo's own inputs
        raise InputError(f"output folder '{path}' holds the output of `curate {old_kind}`, not of "
                         f"`curate {kind}`; choose another --out")
    listed = marker.get("files")
    if listed is not None:
        foreign = _files(path) - set(listed) - {MARKER}
        if foreign:
            raise InputError(f"output folder '{path}' holds {len(foreign)} file(s) curate did not write "
                             "there; choose another --out")


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, *, overwrite: bool = True, kind: str | None = None,
               make_parents: bool = False) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces ``path``.

    ``path`` may already exist only if it is empty, or if curate wrote it (marker file
    ``.curate-output``) with the same ``kind`` of command and it holds no file curate did not write —
    so a user's own folder, or one command's inputs, are never deleted. The parent folder must exist
    unless ``make_parents`` (used for the default ``cards/ID``).
    """
    path = Path(path)
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    else:
        _check_parent(path)
    if path.exists():
        _check_replaceable(path, kind, overwrite)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    tmp.chmod(0o777 & ~_umask())  # mkdtemp makes 0700; outputs get the usual permissions
    try:
        yield tmp
        write_marker(tmp, kind)
        if path.exists():
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            path.rename(old)
            tmp.rename(path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary file path in the same folder; on success it is renamed to ``path``."""
    path = Path(path)
    _check_parent(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent or ".")
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.chmod(0o666 & ~_umask())  # mkstemp makes 0600
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json_atomic(path: str | os.PathLike, obj) -> Path:
    return write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()
