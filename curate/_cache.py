"""A per-user cache of work every start-up would repeat: parsed catalog YAML, compiled Jinja templates.

Why: ``curate build-card BRSET`` must start in well under 1.5 s as the catalog grows to hundreds of
records, and most of that time was spent re-parsing unchanged YAML and recompiling the same templates.
The cache holds only derived data, keyed by the sha256 of each file's bytes (not its timestamp), so an
edited file is always re-read and checked; it is plain JSON and Jinja bytecode (never pickle), and losing
it changes nothing but speed. ``CURATE_CACHE_DIR`` moves it; ``CURATE_NO_CACHE=1`` turns it off.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

FORMAT = 1  # bump when what is cached changes shape


def cache_dir() -> Path | None:
    """The cache folder (created), or None when caching is off or impossible."""
    if os.environ.get("CURATE_NO_CACHE"):
        return None
    base = os.environ.get("CURATE_CACHE_DIR")
    if base:
        path = Path(base)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        path = (Path(xdg) if xdg else Path.home() / ".cache") / "curate"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return path if os.access(path, os.W_OK) else None


def _jsonable(obj: Any) -> Any:
    """``obj`` with dates as ISO strings, or raise TypeError when JSON would change it (non-str keys)."""
    if isinstance(obj, dict):
        if not all(isinstance(k, str) for k in obj):
            raise TypeError("non-string mapping key")
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (_dt.date, _dt.datetime)):
        return obj.isoformat()
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    raise TypeError(f"cannot cache {type(obj).__name__}")


class YamlCache:
    """sha256(bytes) → parsed document, for YAML files that passed the safety checks."""

    def __init__(self) -> None:
        self.dir = cache_dir()
        self.path = self.dir / f"yaml-v{FORMAT}.json" if self.dir else None
        self.entries: dict[str, Any] = {}
        self.dirty = False
        if self.path and self.path.is_file():
            try:
                self.entries = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.entries = {}

    @staticmethod
    def key(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    def get(self, key: str) -> Any:
        return self.entries.get(key)

    def put(self, key: str, doc: Any) -> None:
        try:
            self.entries[key] = _jsonable(doc)
        except TypeError:
            return
        self.dirty = self.path is not None

    #: most documents kept (the newest); a catalog of hundreds of records fits many times over
    LIMIT = 4000

    def save(self) -> None:
        """Write the cache atomically; errors are ignored (the cache only saves time)."""
        if self.path is None or not self.dirty:
            return
        entries = dict(list(self.entries.items())[-self.LIMIT:])
        try:
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".yaml-", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(entries, f, separators=(",", ":"))
            os.replace(tmp, self.path)
        except OSError:
            pass
        self.dirty = False


def jinja_bytecode_cache():
    """A Jinja bytecode cache in the cache folder (None when caching is off)."""
    d = cache_dir()
    if d is None:
        return None
    import jinja2

    sub = d / "jinja"
    try:
        sub.mkdir(exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(sub))
