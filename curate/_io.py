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


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, *, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces ``path``.

    ``path`` may already exist only if it is empty or was written by curate (it holds the marker file
    ``.curate-output``); otherwise we refuse, so a user's own folder is never replaced.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)  # e.g. the default cards/ID/
    if path.exists():
        if not path.is_dir():
            raise InputError(f"output '{path}' exists and is not a folder")
        owned = (path / MARKER).exists() or not any(path.iterdir())
        if not owned:
            raise InputError(
                f"output folder '{path}' exists and was not written by curate; choose another --out"
            )
        if not overwrite:
            raise InputError(f"output folder '{path}' exists (pass --overwrite to replace it)")
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    tmp.chmod(0o777 & ~_umask())  # mkdtemp makes 0700; outputs get the usual permissions
    try:
        yield tmp
        (tmp / MARKER).write_text("written by curate; safe to replace with a newer build\n")
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
