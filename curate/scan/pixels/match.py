"""Recognised text against the file's own header values and the identifier shapes: *what* kind matched.

Header values become search strings (all in memory; none is ever returned):

- **names** (PatientName, OtherPatientNames, ReferringPhysicianName, ...): the DICOM form ``FAMILY^GIVEN``
  and the written forms ``Given Family``, ``Family, Given``, ``G. Family``, ``Family G``, and each name
  part of four letters or more on its own;
- **ids**: PatientID, OtherPatientIDs, AccessionNumber, StudyID, MRN-like values;
- **dates** (PatientBirthDate, StudyDate, SeriesDate, AcquisitionDate, ContentDate): ``YYYYMMDD``,
  ``YYYY-MM-DD``, ``DD/MM/YYYY``, ``MM/DD/YYYY``, ``DD.MM.YYYY``, ``01 Jan 1960``, ``Jan 01 1960``;
- **institution** (InstitutionName, InstitutionAddress, StationName).

Comparison is on a folded form: upper case, letters and digits only, and the characters OCR confuses
most folded together (``O``/``Q``/``D`` → ``0``, ``I``/``L`` → ``1``, ``S`` → ``5``, ``B`` → ``8``, ``Z`` →
``2``, ``G`` → ``6``). A search string of ``n`` folded characters matches a line when rapidfuzz's
``partial_ratio`` (best-aligned substring, Indel similarity) allows ``n // 6`` substituted characters;
strings shorter than 4 characters must appear as a whole word. Each OCR word (and each pair of adjacent
words) is also tested against the identifier shapes of :func:`curate.policy.identifiers.value_shape`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

KINDS = ("name", "id", "date", "institution", "shape")
NAME_TAGS = ("PatientName", "OtherPatientNames", "PatientBirthName", "PatientMotherBirthName",
             "ReferringPhysicianName", "PerformingPhysicianName", "OperatorsName",
             "NameOfPhysiciansReadingStudy")
ID_TAGS = ("PatientID", "OtherPatientIDs", "AccessionNumber", "StudyID", "IssuerOfPatientID")
DATE_TAGS = ("PatientBirthDate", "StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate")
PLACE_TAGS = ("InstitutionName", "InstitutionAddress", "StationName", "InstitutionalDepartmentName")
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_FOLD = str.maketrans({"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "S": "5", "B": "8", "Z": "2",
                       "G": "6"})


def fold(text: str) -> str:
    """Upper case, letters and digits only, OCR-confusable characters folded together."""
    return re.sub(r"[^0-9A-Z]", "", str(text).upper()).translate(_FOLD)


def name_forms(value: Any) -> list[str]:
    """Written forms of a DICOM person name (``FAMILY^GIVEN^MIDDLE^PREFIX^SUFFIX``)."""
    text = str(value or "").split("=")[0]  # the alphabetic group only
    parts = [p.strip() for p in text.split("^")]
    family, given = (parts + ["", ""])[:2]
    forms = {text.strip(), family, given} if family or given else set()
    if family and given:
        forms |= {f"{given} {family}", f"{family}, {given}", f"{family} {given}", f"{given[0]}. {family}",
                  f"{family} {given[0]}"}
    words = {w for p in parts for w in p.split() if len(w) >= 4}
    return sorted({f for f in forms | words if f})


def date_forms(value: Any) -> list[str]:
    """A DICOM DA value (``YYYYMMDD``) in the common written formats."""
    m = re.match(r"^\s*(\d{4})(\d{2})(\d{2})", str(value or ""))
    if not m:
        return []
    y, mo, d = m.groups()
    if not (1 <= int(mo) <= 12):
        return [f"{y}{mo}{d}"]
    mon = MONTHS[int(mo) - 1]
    return [f"{y}{mo}{d}", f"{y}-{mo}-{d}", f"{d}/{mo}/{y}", f"{mo}/{d}/{y}", f"{d}.{mo}.{y}",
            f"{d} {mon} {y}", f"{int(d)} {mon} {y}", f"{mon} {d} {y}"]


@dataclass
class Needles:
    """Folded search strings by kind (built from one file's header; never leaves the worker)."""

    by_kind: dict[str, list[str]] = field(default_factory=dict)

    def add(self, kind: str, values: list[str]) -> None:
        folded = {fold(v) for v in values}
        self.by_kind.setdefault(kind, [])
        self.by_kind[kind] += sorted(f for f in folded if len(f) >= 2 and f not in self.by_kind[kind])


def needles_from_header(get: Any) -> Needles:
    """``get(keyword)`` → value (a pydicom Dataset's ``get``, or a dict's) → the search strings."""
    n = Needles()

    def values(tag: str) -> list[str]:
        v = get(tag)
        if v is None or v == "":
            return []
        return [str(x) for x in v] if isinstance(v, (list, tuple)) or type(v).__name__ == "MultiValue" \
            else [str(v)]

    n.add("name", [f for t in NAME_TAGS for v in values(t) for f in name_forms(v)])
    n.add("id", [v for t in ID_TAGS for v in values(t) if len(v.strip()) >= 3])
    n.add("date", [f for t in DATE_TAGS for v in values(t) for f in date_forms(v)])
    n.add("institution", [v for t in PLACE_TAGS for v in values(t) if len(v.strip()) >= 4])
    return n


def _hit(needle: str, hay: str, words: set[str]) -> bool:
    if len(needle) < 4:
        return needle in words
    from rapidfuzz import fuzz

    k = len(needle) // 6
    cutoff = 100.0 * (1 - k / len(needle)) - 1e-6
    if len(hay) < len(needle) - k:
        return False
    return fuzz.partial_ratio(needle, hay, score_cutoff=cutoff) > 0


def match_line(words: list[str], needles: Needles) -> list[str]:
    """Kinds (:data:`KINDS`) found in one OCR line; empty when nothing identifying was read."""
    from curate.policy.identifiers import value_shape

    hay = fold(" ".join(words))
    folded_words = {fold(w) for w in words}
    found = []
    if hay:
        for kind, items in needles.by_kind.items():
            if any(_hit(n, hay, folded_words) for n in items):
                found.append(kind)
    cleaned = [w.strip(".,;:()[]") for w in words]
    pairs = [f"{a} {b}" for a, b in zip(cleaned, cleaned[1:])]
    if any(value_shape(w) for w in cleaned + pairs if len(w) >= 6):
        found.append("shape")
    return found
