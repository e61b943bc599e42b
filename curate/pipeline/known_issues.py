"""The datasheet's *Known issues*: read a ``curate inspect`` output folder for ``build-card --inspect DIR``.

Only ``summary.json`` is read: its counts left through the exit gate already protected (small cells
``<11``, complements ``*``; :mod:`curate.report.inspect`), and they are kept exactly as shown there. A
count of people between 1 and 10 in it (a hand-edited or foreign file) is refused rather than published:
suppression is decided once, at the gate, never re-done here. ``issues.csv`` (a local working file) is never
read. The renderer (:func:`curate.cards.known_issues.known_issues_section`) prints what this returns.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curate.errors import InputError

SUMMARY = "summary.json"
#: How each check's flagged rows are named in the card (plugins: their own name).
ISSUE_NAMES = {"label": "suspected label errors", "outlier": "outliers (far from other patients' images)",
               "near_duplicate": "images in near-duplicate groups"}
#: Keys of a check's summary that count people (images); anything else is a setting or a count of files.
PEOPLE_COUNTS = ("rows", "flagged", "groups", "pairs", "pairs_across_patients")


@dataclass
class IssueRow:
    check: str
    issue: str
    flagged: Any  # an int ≥ 11 or 0, or a shown marker ("<11", "*") as summary.json holds it
    checked: Any  # the images (or files) the check looked at, as shown; None when not given


@dataclass
class KnownIssues:
    """Counts per issue type from one ``curate inspect`` run (protected as written by the exit gate)."""

    source: str  # the folder as given on the command line (a relative path or the folder's name)
    sha256: str  # of summary.json (a provenance input)
    rows: list[IssueRow] = field(default_factory=list)
    shortcuts: list[dict[str, Any]] = field(default_factory=list)  # attribute, verdict, AUC, p, drop
    notes: list[str] = field(default_factory=list)
    synthetic: bool = False


def _shown(value: Any, where: str) -> Any:
    """The count as summary.json shows it; a small unprotected count of people is refused."""
    if isinstance(value, dict):
        if "shown" not in value:
            raise InputError(f"--inspect: {where} is not a count (not the output of curate inspect)")
        return value["shown"]
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"--inspect: {where} is not a count (not the output of curate inspect)")
    if 0 < value < 11:
        raise InputError(f"--inspect: {where} is an unprotected small count: the file was not written by "
                         "curate inspect; re-run it")
    return value


def _check_rows(name: str, entry: dict) -> list[IssueRow]:
    s = entry.get("summary", {})
    for k in PEOPLE_COUNTS:
        if k in s:
            _shown(s[k], f"{name}.{k}")
    if "flagged_by_issue" in entry:  # quality / cleanvision: images per issue; checked counts files
        checked = s.get("checked")
        return [IssueRow(name, issue, _shown(n, f"{name}.flagged_by_issue"), checked)
                for issue, n in entry["flagged_by_issue"].items()]
    if "flagged" in s:
        return [IssueRow(name, ISSUE_NAMES.get(name, name), _shown(s["flagged"], f"{name}.flagged"),
                         _shown(s["rows"], f"{name}.rows") if "rows" in s else None)]
    return []


def read_summary(folder: str | os.PathLike) -> tuple[dict, str]:
    """(summary.json of an inspect folder, its sha256); one-line errors for a missing or foreign file."""
    path = Path(folder) / SUMMARY
    if not Path(folder).is_dir():
        raise InputError(f"--inspect '{folder}' is not a folder (give the output folder of curate inspect)")
    if not path.is_file():
        raise InputError(f"--inspect '{folder}' has no {SUMMARY} (give the output folder of curate inspect)")
    raw = path.read_bytes()
    try:
        summ = json.loads(raw)
    except ValueError as exc:
        raise InputError(f"--inspect: {SUMMARY} is not valid JSON ({exc.msg})") from exc
    if not isinstance(summ, dict):
        raise InputError(f"--inspect: {SUMMARY} is not the output of curate inspect")
    return summ, hashlib.sha256(raw).hexdigest()


def known_issues(folder: str | os.PathLike) -> KnownIssues:
    """Counts per issue type, shortcut verdicts and notes from ``folder/summary.json``."""
    from curate.pipeline.curation import shown_path

    summ, sha = read_summary(folder)
    out = KnownIssues(source=shown_path(folder), sha256=sha, synthetic=bool(summ.get("synthetic")))
    for name, entry in summ.items():
        if not isinstance(entry, dict) or "summary" not in entry:
            continue
        out.rows += _check_rows(name, entry)
        out.notes += [f"{name}: {n}" for n in entry.get("notes", []) if isinstance(n, str)]
        for row in entry.get("table", []) if name == "shortcut" else []:
            out.shortcuts.append({k: row.get(k) for k in ("attribute", "verdict", "within_label_auc",
                                                          "permutation_p", "held_out_drop")})
    if not out.rows and not out.shortcuts:
        raise InputError(f"--inspect: {SUMMARY} holds no check's results (not the output of curate inspect)")
    return out
