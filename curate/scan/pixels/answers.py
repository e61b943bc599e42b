"""Answer keys in the MIDI-B layout and the "% correct actions" score, headers and pixels apart.

**Layout** (the MIDI-B challenge's validation script, github.com/CBIIT/MIDI_validation_script, reads it from
an SQLite table ``answer_data``): one row per instance, with ``SOPInstanceUID``, ``SeriesInstanceUID``,
``StudyInstanceUID``, an optional ``scope`` (``<Instance>``, ``<Series>``, ``<Study>``, ``<Patient>``) and
``AnswerData``: a JSON object of checks, each with ``action``, ``tag`` (``<(0010,0010)>``), ``tag_name``,
``value`` (the original value) and ``action_text``; values are wrapped in ``<...>``. The same table as CSV
is read too (the key shipped for the synthetic set, :data:`curate.scan.pixels.synthetic.SHIPPED_KEY`).

**Actions** scored the way the script scores them (``modules/curation_validator.py``):
``text_removed`` (absent or empty, or none of the original's words left), ``text_retained``,
``text_notnull``, ``tag_retained``, ``date_shifted`` and ``uid_changed`` (the original value no longer in
the element), ``uid_consistent`` (with a UID map), ``pixels_retained`` (curate's pixel digest of the
decoded values, :func:`curate.scan.images.pixel_digest`, equals ``action_text``) and ``pixels_hidden``: the
script leaves these blank for a human; here a region passes when OCR reads no text in it. Region values are
``x,y,w,h`` or ``frame:x,y,w,h``; anything else means the whole image. Checks on nested sequence items and
actions this module does not know are counted as *not evaluated* and left out of the percentages.

No value of the key or of a file is ever returned: only (group, action, passed).
"""

from __future__ import annotations

import csv
import json
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curate.errors import InputError

HEADER_ACTIONS = {"text_removed", "text_retained", "text_notnull", "tag_retained", "date_shifted",
                  "uid_changed", "uid_consistent", "patid_consistent"}
PIXEL_ACTIONS = {"pixels_hidden", "pixels_retained"}
_STOP = {"a", "an", "and", "the", "of", "in", "on", "at", "to", "for", "by", "with", "is", "are", "was"}
_TAG = re.compile(r"^\(([0-9A-Fa-f]{4}),([0-9A-Fa-f]{4})\)$")


@dataclass(frozen=True)
class Action:
    action: str
    tag: str | None  # "(0010,0010)" upper case; None for a nested path
    value: str
    action_text: str
    scope: str = "Instance"

    @property
    def group(self) -> str:
        return "pixels" if self.action in PIXEL_ACTIONS else "headers"


def _strip(v: Any) -> str:
    s = "" if v is None else str(v)
    return s[1:-1] if s.startswith("<") and s.endswith(">") else s


def _actions(answer_json: str, scope: str) -> list[Action]:
    try:
        data = json.loads(answer_json)
    except (TypeError, ValueError):
        raise InputError("--answers: an AnswerData cell is not JSON") from None
    items = data.values() if isinstance(data, dict) else data
    out = []
    for a in items:
        if not isinstance(a, dict):
            raise InputError("--answers: an AnswerData entry is not an object")
        tag = _strip(a.get("tag_ds") or a.get("tag"))
        m = _TAG.match(tag.replace(" ", ""))
        tag_text = f"({m.group(1).upper()},{m.group(2).upper()})" if m else None
        out.append(Action(_strip(a.get("action")), tag_text, _strip(a.get("value")),
                          _strip(a.get("action_text")), scope))
    return out


def _rows(path: Path) -> list[dict[str, Any]]:
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            cur = con.execute("SELECT * FROM answer_data")
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r)) for r in cur.fetchall()]
        finally:
            con.close()
    except sqlite3.Error:
        raise InputError(f"--answers: '{path}' is not a MIDI-B answer key (an SQLite file with a table "
                         "answer_data, or that table as CSV)") from None


@dataclass
class AnswerKey:
    """Actions by instance / series / study UID (the original UIDs; ``uid_map`` maps old → new)."""

    instance: dict[str, list[Action]]
    series: dict[str, list[Action]]
    study: dict[str, list[Action]]
    uid_map: dict[str, str]

    def for_file(self, sop: str, series: str, study: str) -> list[Action] | None:
        back = {v: k for k, v in self.uid_map.items()} if self.uid_map else {}
        sop, series, study = back.get(sop, sop), back.get(series, series), back.get(study, study)
        found = self.instance.get(sop, []) + self.series.get(series, []) + self.study.get(study, [])
        return found if sop in self.instance or series in self.series or study in self.study else None

    @property
    def n_instances(self) -> int:
        return len(self.instance)


def load_answers(path: str | Path, uid_map: str | Path | None = None) -> AnswerKey:
    """Read a MIDI-B answer key (SQLite ``answer_data`` or its CSV export) and an optional UID map CSV
    (``id_old,id_new``, the script's ``uid_mapping_file``)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"--answers: '{p}' does not exist")
    rows = _rows(p)
    need = {"SOPInstanceUID", "AnswerData"}
    if not rows or not need <= set(rows[0]):
        raise InputError(f"--answers: '{p}' has no rows with SOPInstanceUID and AnswerData")
    key = AnswerKey({}, {}, {}, {})
    for r in rows:
        scope = _strip(r.get("scope") or "Instance")
        bucket, uid = {"Series": (key.series, r.get("SeriesInstanceUID")),
                       "Study": (key.study, r.get("StudyInstanceUID")),
                       "Patient": (key.study, r.get("StudyInstanceUID"))}.get(
            scope, (key.instance, r.get("SOPInstanceUID")))
        bucket.setdefault(_strip(uid), []).extend(_actions(r["AnswerData"], scope))
    if uid_map is not None:
        m = Path(uid_map)
        if not m.is_file():
            raise InputError(f"--uid-map: '{m}' does not exist")
        with m.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or not {"id_old", "id_new"} <= set(reader.fieldnames):
                raise InputError(f"--uid-map: '{m}' needs the columns id_old,id_new")
            key.uid_map = {_strip(r["id_old"]): _strip(r["id_new"]) for r in reader}
    return key


# ------------------------------------------------------------------------------------------- checks
def text_check(file_value: str, answer: str, method: str) -> bool:
    """The validation script's ``validate_text``: numbers compare equal; else the whole answer, else its
    words (stop words and punctuation left out), must all remain (retain) or all be gone (remove)."""
    f, a = file_value.lower(), answer.lower()
    try:
        same = float(f) == float(a)
        return same if method == "retain" else not same
    except ValueError:
        pass
    if a in f:
        return method == "retain"
    tokens = [t for t in re.findall(r"\w+", a) if t not in _STOP]
    kept = sum(t in f for t in tokens)
    return kept == len(tokens) if method == "retain" else kept == 0


def _element(ds: Any, tag: str) -> str | None:
    """The element's value as text (None when absent); sequences and bytes become a marker."""
    m = _TAG.match(tag)
    t = int(m.group(1) + m.group(2), 16)
    if t not in ds:
        return None
    v = ds[t].value
    if v is None:
        return ""
    if isinstance(v, (bytes, bytearray)):
        return "<bytes>"
    return str(v).strip()


def _overlaps(region: tuple[int, int, int, int], box: tuple[int, int, int, int]) -> bool:
    ax, ay, aw, ah = region
    bx, by, bw, bh = box
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def parse_region(value: str) -> tuple[int | None, tuple[int, int, int, int] | None]:
    """``frame:x,y,w,h`` / ``x,y,w,h`` → (frame or None, box); anything else → (None, None)."""
    m = re.match(r"^\s*(?:(\d+)\s*:)?\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*$", value or "")
    if not m:
        return None, None
    frame = int(m.group(1)) if m.group(1) is not None else None
    return frame, (int(m.group(2)), int(m.group(3)), int(m.group(4)), int(m.group(5)))


def evaluate(ds: Any, actions: list[Action], boxes: list[list[Any]], digest: str | None,
             uid_map: dict[str, str]) -> list[list[Any]]:
    """[group, action, passed (True / False / None = not evaluated), phi_found (pixels_hidden only)]."""
    out: list[list[Any]] = []
    for a in actions:
        passed: bool | None = None
        phi = None
        if a.action in PIXEL_ACTIONS:
            if a.action == "pixels_retained":
                passed = None if digest is None else digest == a.action_text
            else:
                frame, region = parse_region(a.value)
                hits = [b for b in boxes if (frame is None or b[0] == frame)
                        and (region is None or _overlaps(region, tuple(b[1:5])))]
                passed = not hits
                phi = any(k != "text" for b in hits for k in b[5])
        elif a.tag is not None and a.action in HEADER_ACTIONS:
            v = _element(ds, a.tag)
            present = v is not None and v != ""
            if a.action in ("tag_retained", "text_notnull"):
                passed = present
            elif a.action == "text_retained":
                passed = present and text_check(v, a.action_text or a.value, "retain")
            elif a.action == "text_removed":
                passed = (not present) or text_check(v, a.action_text or a.value, "remove")
            elif a.action in ("date_shifted", "uid_changed"):
                passed = (not present) or a.value.replace("\\", "") not in v.replace("\\", "")
            elif a.action == "uid_consistent" and uid_map:
                passed = v == uid_map.get(a.value, "")
        out.append([a.group, a.action, passed, phi])
    return out


def score(results: list[list[Any]], *, instances_in_key: int, instances_found: int) -> dict[str, Any]:
    """% correct actions per group (passed / evaluated), counts by action, residual-PHI recall."""
    groups: dict[str, dict[str, Any]] = {}
    for group, action, passed, _ in results:
        g = groups.setdefault(group, {"passed": 0, "failed": 0, "not_evaluated": 0, "by_action": {}})
        slot = "not_evaluated" if passed is None else ("passed" if passed else "failed")
        g[slot] += 1
        ba = g["by_action"].setdefault(action, {"passed": 0, "failed": 0, "not_evaluated": 0})
        ba[slot] += 1
    for g in groups.values():
        n = g["passed"] + g["failed"]
        g["percent_correct"] = round(100.0 * g["passed"] / n, 2) if n else None
    hidden = [r for r in results if r[1] == "pixels_hidden"]
    found = sum(1 for r in hidden if r[3])
    return {"headers": groups.get("headers"), "pixels": groups.get("pixels"),
            "residual_phi_recall": round(found / len(hidden), 4) if hidden else None,
            "pixel_regions": len(hidden), "pixel_regions_with_identifier_found": found,
            "instances_in_key": instances_in_key, "instances_found": instances_found}
