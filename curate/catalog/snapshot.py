"""A parsed snapshot of the built-in catalog, shipped beside it, so a first run needs no YAML parsing.

Why: parsing hundreds of YAML records costs more than a second on a 2-core machine, and the per-user cache
(:mod:`curate._cache`) is empty on the first run after installing. ``catalog/_parsed.json`` holds each
built-in file's parsed document keyed by the sha256 of its bytes, so a file edited after the snapshot was
written simply misses it and is parsed and checked as usual. Regenerate it after editing records:

    python -m curate.catalog.snapshot

``tests/test_cache.py`` fails when the snapshot no longer matches the files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from curate.catalog._yaml import parse_checked
from curate.catalog.files import NAME, builtin_dir, documents

__all__ = ["NAME", "build", "documents", "files", "write"]



def files(folder: Path) -> list[Path]:
    return sorted([*folder.glob("*.yaml"), *(folder / "collections").glob("*.yaml")])


def build(folder: Path) -> dict[str, Any]:
    """{sha256: parsed document} for every record and collection file (each passes the safety checks)."""
    from curate._cache import YamlCache, _jsonable

    docs = {}
    for path in files(folder):
        data = path.read_bytes()
        docs[YamlCache.key(data)] = _jsonable(parse_checked(data))
    return {"format": 1, "documents": docs}


def write(folder: Path | None = None) -> Path:

    folder = folder or builtin_dir()
    out = folder / NAME
    docs = build(folder)["documents"]
    # one document per line, sorted by hash: editing one record changes two lines of the diff. Inside a
    # document the keys keep the file's order (record order is shown order: never sort them)
    lines = [f"{json.dumps(k)}:{json.dumps(v, separators=(',', ':'))}" for k, v in sorted(docs.items())]
    from curate.output import write_text

    # the parsed catalog shipped with curate (sourced records): no counts of individuals
    write_text(out, '{"format":1,"documents":{\n' + ",\n".join(lines) + "\n}}\n")
    return out




if __name__ == "__main__":  # pragma: no cover
    from curate.output import say_plain

    say_plain("wrote {path}", path=write())
