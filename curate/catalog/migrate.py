"""Migrate catalog records from schema v1 to v2 by editing their text (comments and layout kept).

Why text edits and not load-and-dump: the records are hand-written and reviewed line by line; a re-dump
would reformat every file. Each edit is checked: the migrated text must parse to exactly the v1 record
plus ``schema_version: 2`` and, on every fact and conflict, ``source_type`` (and ``locator`` where the
v1 record had none). Nothing is guessed: a v1 fact without a locator gets ``locator: not recorded``
(the explicit "unknown" a later re-reading replaces), and ``checked`` is never set by the migration.

Run: ``python -m curate.catalog.migrate [DIR]`` (default: the built-in catalog).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml

from curate.catalog.facts import LOCATOR_NOT_RECORDED
from curate.catalog.sections import SCHEMA_VERSION

#: Locator of a v1 fact that did not record where in its source the value is.

#: Seed papers that are the dataset's own paper (otherwise a seed is a secondary source).
SEED_PRIMARY: dict[str, set[str]] = {"luo2024": {"Harvard-FairVLMed"}}
SEED_KEYS = ("queiroz2025", "germani2025", "luo2024", "bahre2025")

#: Non-seed references that are not the data holder's own paper, page or repository.
MIRRORS = {"busi_mirror", "ham_card", "octdesc", "nihcc", "kaggle2015", "zawacki2020", "rajpurkar2017",
           "carpl_cq500"}
SECONDARY = {"pmc_camelyon_table", "c2c_lidc", "cam_blog", "gulshan2016", "kawai2023", "karargyris2023",
             "hdr2024"}


def source_type(record_id: str, key: str) -> str:
    """primary / mirror / secondary for a reference key of a record (the table above, reviewed by hand)."""
    if key in SEED_KEYS:
        return "primary" if record_id in SEED_PRIMARY.get(key, set()) else "secondary"
    if key in MIRRORS:
        return "mirror"
    if key in SECONDARY:
        return "secondary"
    return "primary"


def _is_fact(d: Any) -> bool:
    return isinstance(d, dict) and "source" in d and ("value" in d)


def expected(raw: dict) -> dict:
    """The v2 record the text edit must produce (the oracle of :func:`migrate_text`)."""
    rid = raw["id"]

    def walk(obj: Any) -> Any:
        if isinstance(obj, dict):
            out = {k: walk(v) for k, v in obj.items()}
            if _is_fact(obj):
                out.setdefault("locator", LOCATOR_NOT_RECORDED)
                out.setdefault("source_type", source_type(rid, obj["source"]))
            return out
        if isinstance(obj, list):
            return [walk(v) for v in obj]
        return obj

    out = walk(raw)
    out["schema_version"] = SCHEMA_VERSION
    return out


_FLOW = re.compile(r"^(?P<head>\s*(?:- |[A-Za-z_]+: ))\{(?P<body>.*)\}\s*$")
_SOURCE = re.compile(r"^(?P<ind>\s*)(?:- )?source: (?P<key>\S+)\s*$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _block_keys(lines: list[str], i: int, n: int) -> set[str]:
    """Keys of the block mapping (indent ``n``) that holds line ``i``."""
    keys = set()
    item = re.compile(rf"^ {{{max(n - 2, 0)}}}- ")
    j = i
    while j >= 0 and lines[j].strip() and (_indent(lines[j]) >= n or item.match(lines[j])):
        if _indent(lines[j]) == n or item.match(lines[j]):
            keys.add(lines[j].strip().removeprefix("- ").split(":", 1)[0])
        if item.match(lines[j]):
            break
        j -= 1
    j = i + 1
    while j < len(lines) and lines[j].strip() and _indent(lines[j]) >= n and not item.match(lines[j]):
        if _indent(lines[j]) == n:
            keys.add(lines[j].strip().split(":", 1)[0])
        j += 1
    return keys


def migrate_text(text: str, record_id: str) -> str:
    lines = text.split("\n")
    out: list[str] = []
    for i, line in enumerate(lines):
        if line.startswith("id:") and not any(x.startswith("schema_version:") for x in lines):
            out.append(f"schema_version: {SCHEMA_VERSION}")
        m = _FLOW.match(line)
        if m and re.search(r"(?:^|, )source: ", m["body"]) and "value:" in m["body"]:
            key = re.search(r"(?:^|, )source: ([^,}\s]+)", m["body"])[1]
            extra = ""
            if not re.search(r"(?:^|, )locator: ", m["body"]):
                extra += f", locator: {LOCATOR_NOT_RECORDED}"
            if "source_type:" not in m["body"]:
                extra += f", source_type: {source_type(record_id, key)}"
            out.append(f"{m['head']}{{{m['body']}{extra}}}")
            continue
        out.append(line)
        s = _SOURCE.match(line)
        if s and not _FLOW.match(line):
            n = _indent(line) + (2 if line.lstrip().startswith("- ") else 0)
            keys = _block_keys(lines, i, n)
            if "value" not in keys:
                continue
            if "locator" not in keys:
                out.append(" " * n + f"locator: {LOCATOR_NOT_RECORDED}")
            if "source_type" not in keys:
                out.append(" " * n + f"source_type: {source_type(record_id, s['key'])}")
    return "\n".join(out)


def migrate_file(path: Path) -> bool:
    """Migrate one record in place; False when it is already v2. Raises if the edit is not exact."""
    text = path.read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    if raw.get("schema_version") == SCHEMA_VERSION:
        return False
    new = migrate_text(text, raw["id"])
    if yaml.safe_load(new) != expected(raw):
        raise ValueError(f"{path}: the text migration does not match the expected v2 record")
    from curate.output import write_text

    write_text(path, new)  # a catalog record (sourced facts about a dataset): no counts of individuals
    return True


def main(argv: list[str] | None = None) -> int:
    from curate.catalog.files import builtin_dir

    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else builtin_dir()
    done = [p.name for p in sorted(folder.glob("*.yaml")) if migrate_file(p)]
    from curate.output import Measure, say_plain

    say_plain("migrated {n} record(s) in {folder} to schema_version {version}", n=Measure(len(done)),
              folder=folder, version=SCHEMA_VERSION)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
