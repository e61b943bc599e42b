"""Write outputs atomically so a failure never leaves a half-written file or folder, nor loses a user's.

Everything is written into a temporary sibling ``.<name>.tmp-*`` first and moved into place only when
complete. An existing folder is replaced only when its ``.curate-output`` manifest is a *valid* one written
by curate (``{"written_by": "curate", "kind": ..., "files": [...]}``; extra keys are kept and ignored) and
lists every file the folder holds; an absent, empty or corrupt marker means "not ours" and the run
refuses. A symbolic link is never replaced (curate refuses it). Temporary folders carry an in-progress
marker naming their process, so a later run removes the ones that an earlier, killed run left behind.
See docs/privacy.md, "Output safety".
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from curate.errors import InputError

MARKER = ".curate-output"
#: written into every temporary folder while it is being filled; removed before the folder is committed
TMP_MARKER = ".curate-in-progress"
#: a temporary folder of a live process is left alone unless it is older than this (seconds)
STALE_AFTER_S = 24 * 3600
#: test-only hook: seconds to sleep after the output is written and before it is moved into place, with
#: a ``curate-test: temp ready <path>`` line on stderr, so a test can send a signal at a known moment
PAUSE_ENV = "CURATE_TEST_PAUSE_BEFORE_COMMIT"


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
    if _read_only(parent):
        raise InputError(f"read-only file system: cannot write into '{parent}'")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"permission denied: cannot write into '{parent}'")


check_parent = _check_parent  # the public name: an output's folder exists and is writable


def _read_only(folder: Path) -> bool:
    """Whether ``folder`` lies on a file system mounted read-only (then no permission would help)."""
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # no statvfs (Windows): the write itself will say
        return False


def _check_removable(path: Path) -> None:
    """Replacing an old output deletes it: every folder in it must let us delete its entries, or the old
    output would survive as a hidden ``.<name>.old-<pid>`` folder next to the new one."""
    for folder in [path, *(p for p in path.rglob("*") if p.is_dir() and not p.is_symlink())]:
        if _read_only(folder):
            raise InputError(f"read-only file system: cannot replace the output folder '{path}'")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise InputError(f"cannot replace the output folder '{path}': '{folder}' is not writable by "
                             "you (another user's files?); remove it yourself or choose another --out")


def _check_not_link(path: Path) -> None:
    """curate never replaces a symbolic link (it would turn it into a real file or folder)."""
    if path.is_symlink():
        state = "" if path.exists() else " (a broken one)"
        raise InputError(f"output '{path}' is a symbolic link{state}; curate does not replace links: "
                         f"give the real path ('{os.path.realpath(path)}')")


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() or p.is_symlink()}


def write_marker(folder: Path, kind: str | None, **extra) -> None:
    """Record what curate wrote into ``folder``: the command kind and every file, for safe replacement.

    ``extra`` keys (e.g. a dataset id) are stored too; readers must ignore keys they do not know.
    """
    files = sorted(_files(folder) - {MARKER, TMP_MARKER})
    payload = {"written_by": "curate", "kind": kind, "files": files, **extra}
    (folder / MARKER).write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")


def manifest_problem(folder: Path) -> tuple[dict | None, str | None]:
    """``(manifest, None)`` when ``folder`` has a valid curate manifest, else ``(None, why not)``."""
    marker = folder / MARKER
    if marker.is_symlink() or not marker.exists():
        return None, f"was not written by curate (no {MARKER} manifest)"
    if not marker.is_file():
        return None, f"has a {MARKER} that is not a file"
    try:
        text = marker.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"has an unreadable {MARKER} marker ({getattr(exc, 'strerror', None) or exc})"
    if not text.strip():
        return None, f"has an empty {MARKER} marker"
    try:
        data = json.loads(text)
    except ValueError:
        return None, f"has a {MARKER} marker that is not JSON"
    if not isinstance(data, dict) or data.get("written_by") != "curate":
        return None, f"has a {MARKER} marker that is not a curate manifest"
    files = data.get("files")
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return None, f"has a {MARKER} manifest without its list of files"
    kind = data.get("kind")
    if kind is not None and not isinstance(kind, str):
        return None, f"has a {MARKER} manifest with an invalid kind"
    return data, None


def read_manifest(folder: str | os.PathLike) -> dict | None:
    """The folder's manifest if it is a valid one written by curate, else None."""
    return manifest_problem(Path(folder))[0]


def _way_out(kind: str | None) -> str:
    """How to allow replacing, in the words of the command that refused (build-card has no --overwrite)."""
    if kind and kind.startswith("build-card"):
        return "drop --no-overwrite"
    if kind == "publish":
        return "pass --overwrite"
    return "pass overwrite=True"


def _check_replaceable(path: Path, kind: str | None, overwrite: bool) -> None:
    _check_not_link(path)
    if not path.is_dir():
        raise InputError(f"output '{path}' exists and is not a folder")
    if not any(path.iterdir()):
        return
    manifest, problem = manifest_problem(path)
    if manifest is None:
        raise InputError(f"output folder '{path}' {problem}; not replacing it: choose another --out")
    if not overwrite:
        raise InputError(f"output folder '{path}' exists ({_way_out(kind)} to replace it)")
    old_kind = manifest.get("kind")
    if kind is not None and old_kind is not None and old_kind != kind:
        # e.g. `curate dedup demo/embeddings.parquet --out demo` would delete the demo's own inputs
        raise InputError(f"output folder '{path}' holds the output of `curate {old_kind}`, not of "
                         f"`curate {kind}`; choose another --out")
    foreign = _files(path) - set(manifest["files"]) - {MARKER}
    if foreign:
        raise InputError(f"output folder '{path}' holds {len(foreign)} file(s) curate did not write "
                         f"there (e.g. '{sorted(foreign)[0]}'); choose another --out")
    _check_removable(path)


# ------------------------------------------------------------------------------------ temporary folders
def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process on Windows: rely on age there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: alive, another user's
        return True
    return True


def _stale(info: dict) -> bool:
    try:
        age = time.time() - float(info.get("created", 0))
    except (TypeError, ValueError):
        return False
    pid = info.get("pid")
    if info.get("host") == socket.gethostname() and isinstance(pid, int) and not _pid_alive(pid):
        return True
    return age > STALE_AFTER_S


def _tmp_info(folder: Path, name: str) -> dict | None:
    """The in-progress marker of a temporary folder made by curate for output ``name``, else None."""
    if folder.is_symlink() or not folder.is_dir():
        return None
    try:
        info = json.loads((folder / TMP_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(info, dict) or info.get("written_by") != "curate" or info.get("target") != name:
        return None
    return info


def remove_stale_temps(path: str | os.PathLike) -> list[Path]:
    """Remove ``.<name>.tmp-*`` siblings of ``path`` left by earlier curate runs that were killed.

    Only folders that carry curate's in-progress marker for this very output name, and whose process
    is gone (same host) or that are older than :data:`STALE_AFTER_S`, are removed; anything else named
    like them (a user's own folder) is left alone. A ``.<name>.old-<pid>`` folder (a run killed while
    swapping) is moved back when ``path`` is missing, or removed when ``path`` is there.
    """
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    removed = []
    for cand in parent.glob(f".{glob.escape(path.name)}.tmp-*"):
        info = _tmp_info(cand, path.name)
        if info is not None and _stale(info):
            shutil.rmtree(cand, ignore_errors=True)
            removed.append(cand)
    for cand in parent.glob(f".{glob.escape(path.name)}.old-*"):
        pid = cand.name.rsplit("-", 1)[-1]
        if not pid.isdigit() or _pid_alive(int(pid)) or cand.is_symlink() or read_manifest(cand) is None:
            continue
        if path.exists() or path.is_symlink():
            shutil.rmtree(cand, ignore_errors=True)
            removed.append(cand)
        else:
            cand.rename(path)
    return removed


def _make_tmp(path: Path) -> Path:
    remove_stale_temps(path)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    try:
        info = {"written_by": "curate", "target": path.name, "pid": os.getpid(),
                "host": socket.gethostname(), "created": time.time()}
        (tmp / TMP_MARKER).write_text(json.dumps(info) + "\n", encoding="utf-8")
        tmp.chmod(0o777 & ~_umask())  # mkdtemp makes 0700; outputs get the usual permissions
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp


def _pause_for_tests(tmp: Path) -> None:
    seconds = os.environ.get(PAUSE_ENV)
    if seconds:
        sys.stderr.write(f"curate-test: temp ready {tmp}\n")
        sys.stderr.flush()
        time.sleep(float(seconds))


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, *, overwrite: bool = True, kind: str | None = None,
               make_parents: bool = False, manifest: dict | None = None) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces ``path``.

    ``path`` may already exist only if it is empty, or if its valid curate manifest (``.curate-output``)
    names the same ``kind`` of command and every file it holds — so a user's own folder, or one
    command's inputs, are never deleted. The parent folder must exist unless ``make_parents`` (used
    for the default ``cards/ID``). On any error or signal the temporary folder is removed.
    ``manifest``: extra keys for the manifest (e.g. ``dataset_id``); the dict is read when the folder is
    committed, so keys added to it while writing are stored too.
    """
    from curate._signals import deferred

    path = Path(path)
    _check_not_link(path)
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    else:
        _check_parent(path)
    if path.exists():
        _check_replaceable(path, kind, overwrite)
    tmp = _make_tmp(path)
    try:
        yield tmp
        _pause_for_tests(tmp)
        (tmp / TMP_MARKER).unlink()
        extra = {k: v for k, v in (manifest or {}).items() if k not in ("written_by", "kind", "files")}
        write_marker(tmp, kind, **extra)
        with deferred():
            if path.exists():
                _check_replaceable(path, kind, overwrite)  # it may have changed during a long run
                old = path.with_name(f".{path.name}.old-{os.getpid()}")
                path.rename(old)
                try:
                    tmp.rename(path)
                except BaseException:
                    old.rename(path)
                    raise
                shutil.rmtree(old, ignore_errors=True)
            else:
                tmp.rename(path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path (same name, inside a temporary sibling folder); on success it is renamed
    to ``path``. ``path`` must not be a folder or a symbolic link."""
    from curate._signals import deferred

    path = Path(path)
    _check_not_link(path)
    _check_parent(path)
    if path.is_dir():
        raise InputError(f"output '{path}' is a folder; give a file name")
    tmpdir = _make_tmp(path)
    tmp = tmpdir / path.name
    try:
        yield tmp
        _pause_for_tests(tmpdir)
        if not tmp.exists():  # the writer wrote nothing: keep the previous file
            raise InputError(f"nothing was written to '{path}'")
        tmp.chmod(0o666 & ~_umask())
        with deferred():
            os.replace(tmp, path)
        shutil.rmtree(tmpdir, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmpdir, ignore_errors=True)
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
