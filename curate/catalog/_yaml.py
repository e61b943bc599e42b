"""Read one user-supplied YAML file safely: size-limited, with no anchors/aliases and bounded nesting.

A 1.5 KB file of nested aliases ("billion laughs") expands to hundreds of millions of nodes when the
record is printed, so ``catalog show`` and ``build-card`` spun until killed. Catalog records never need
anchors, so they are refused outright, before anything is built from the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from curate.catalog.files import documents

M = TypeVar("M", bound="BaseModel")

#: largest catalog file accepted (the biggest shipped record is under 4 KB)
MAX_YAML_BYTES = 256 * 1024
#: deepest nesting of mappings/sequences accepted (records are about 4 deep)
MAX_YAML_DEPTH = 32
# libyaml's C parser when available: the catalog is parsed at every start-up.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class UnsafeYAML(ValueError):
    """The file is too large, uses anchors/aliases, or nests too deeply (message says which)."""


def _line(event: Any) -> str:
    mark = getattr(event, "start_mark", None)
    return f" (line {mark.line + 1})" if mark is not None else ""


def check_events(text: str) -> None:
    """Walk the parser's events (no objects built) and refuse anchors, aliases, deep nesting and a key given
    twice in one mapping (PyYAML keeps the last value silently, so an edit lower in a file would win over a
    sourced value above it without a word)."""
    stack: list[list[Any]] = []  # per open container: [is_mapping, keys seen, next scalar is a key]
    for ev in yaml.parse(text, Loader=LOADER):
        if isinstance(ev, yaml.AliasEvent) or getattr(ev, "anchor", None):
            raise UnsafeYAML(f"YAML anchors and aliases (&name / *name) are not allowed{_line(ev)}")
        if isinstance(ev, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            if stack and stack[-1][0]:
                stack[-1][2] = not stack[-1][2]  # a container takes the parent mapping's key or value slot
            stack.append([isinstance(ev, yaml.MappingStartEvent), set(), True])
            if len(stack) > MAX_YAML_DEPTH:
                raise UnsafeYAML(f"nested more than {MAX_YAML_DEPTH} levels deep{_line(ev)}")
        elif isinstance(ev, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            stack.pop()
        elif isinstance(ev, yaml.ScalarEvent) and stack and stack[-1][0]:
            top = stack[-1]
            if top[2]:
                if ev.value in top[1]:
                    shown = ev.value if len(ev.value) <= 60 else ev.value[:60] + "…"
                    raise UnsafeYAML(f"key '{shown}' is given twice in one mapping{_line(ev)}")
                top[1].add(ev.value)
            top[2] = not top[2]


def parse_checked(data: bytes) -> Any:
    """UTF-8 bytes → the YAML document, after :func:`check_events` (the one parse every cache stores)."""
    text = data.decode("utf-8")
    check_events(text)
    return yaml.load(text, Loader=LOADER)


def load_user_yaml(path: Path) -> Any:
    """Parse ``path``; raises :class:`UnsafeYAML`, ``yaml.YAMLError`` or ``OSError``."""
    size = path.stat().st_size
    if size > MAX_YAML_BYTES:
        raise UnsafeYAML(f"file is {size:,} bytes; catalog files are limited to {MAX_YAML_BYTES:,} bytes")
    with path.open("rb") as f:
        data = f.read(MAX_YAML_BYTES + 1)  # the file may grow between stat and read
    if len(data) > MAX_YAML_BYTES:
        raise UnsafeYAML(f"file is over {MAX_YAML_BYTES:,} bytes, the limit for catalog files")
    cache = _cache()
    key = cache.key(data)
    if (hit := cache.get(key)) is not None:
        return hit  # these exact bytes passed the checks below before (curate._cache)
    if (hit := documents().get(key)) is not None:
        return hit  # a built-in file as shipped: parsed and checked when the snapshot was written
    doc = parse_checked(data)
    cache.put(key, doc)
    return doc


_CACHE: Any = None


def _cache():
    """The process's YAML cache (None when off), saved once at exit if anything was added."""
    global _CACHE
    if _CACHE is None:
        import atexit

        from curate._cache import YamlCache

        _CACHE = YamlCache()  # in memory for the process; on disk too unless caching is off
        if _CACHE.path is not None:
            atexit.register(_CACHE.save)
    return _CACHE


def _format_validation(path: Path, err: ValidationError) -> list[str]:
    lines = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"] if not str(p).startswith("function-after"))
        msg = e["msg"].removeprefix("Value error, ")
        lines.append(f"{path}: {loc + ': ' if loc else ''}{msg}")
    return lines


def parse_model_file(path: Path, model: type[M]) -> tuple[M | None, list[str]]:
    """Parse one YAML file into ``model`` (a record or a collection). Returns the object or the
    problems found, each naming file and field; the object's ``id`` must match the file name."""
    try:
        raw = load_user_yaml(path)
    except UnsafeYAML as exc:
        return None, [f"{path}: refused: {exc}"]
    except UnicodeDecodeError:
        return None, [f"{path}: not UTF-8 text"]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        return None, [f"{path}: not valid YAML{where}: {getattr(exc, 'problem', exc)}"]
    except OSError as exc:
        return None, [f"{path}: cannot read: {exc.strerror}"]
    if not isinstance(raw, dict):
        return None, [f"{path}: expected a mapping of fields, got {type(raw).__name__}"]
    try:
        obj = model.model_validate(raw)
    except ValidationError as err:
        return None, _format_validation(path, err)
    if path.stem.upper() != obj.id.upper():
        return None, [f"{path}: id: '{obj.id}' does not match the file name (expected {path.stem}.yaml)"]
    return obj, []
