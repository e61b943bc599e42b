"""De-identification audit of a DICOM folder against PS3.15 Annex E: counts only, never a value.

The attribute list is data (``annex_e.csv`` beside this module: tag, keyword, the Basic Profile's action
and the Retain / Clean option that keeps the attribute). For each attribute the audit counts the files in
which it is present and present with a non-empty value; it also counts private tags, the de-identification
declarations (``PatientIdentityRemoved``, ``DeidentificationMethod``, the method code sequence),
``BurnedInAnnotation`` by modality, and infers which Retain options the data appears to follow. No value
of any attribute is kept: the per-file records hold only indices and flags.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

PROFILE = "DICOM PS3.15 Annex E, Basic Application Level Confidentiality Profile (Table E.1-1)"

#: Options (PS3.15 Table E.1-1 columns) and their CID 7050 codes.
OPTIONS = {
    "dates": ("113106", "Retain Longitudinal Temporal Information with Full Dates Option"),
    "uids": ("113110", "Retain UIDs Option"),
    "device": ("113109", "Retain Device Identity Option"),
    "institution": ("113112", "Retain Institution Identity Option"),
    "patient": ("113108", "Retain Patient Characteristics Option"),
    "descriptors": ("113105", "Clean Descriptors Option"),
}
#: CID 7050 de-identification method codes (the ones a header may declare).
METHOD_CODES = {
    "113100": "Basic Application Confidentiality Profile",
    "113101": "Clean Pixel Data Option",
    "113102": "Clean Recognizable Visual Features Option",
    "113103": "Clean Graphics Option",
    "113104": "Clean Structured Content Option",
    "113105": "Clean Descriptors Option",
    "113106": "Retain Longitudinal Temporal Information with Full Dates Option",
    "113107": "Retain Longitudinal Temporal Information with Modified Dates Option",
    "113108": "Retain Patient Characteristics Option",
    "113109": "Retain Device Identity Option",
    "113110": "Retain UIDs Option",
    "113111": "Retain Safe Private Option",
    "113112": "Retain Institution Identity Option",
}


@dataclass(frozen=True)
class AnnexAttribute:
    tag: int
    keyword: str
    basic: str
    option: str | None

    @property
    def tag_text(self) -> str:
        return f"({self.tag >> 16:04X},{self.tag & 0xFFFF:04X})"


@lru_cache(maxsize=1)
def annex_e() -> tuple[AnnexAttribute, ...]:
    """The declared attribute table (``annex_e.csv``), in file order."""
    path = Path(__file__).with_name("annex_e.csv")
    with path.open(encoding="utf-8") as fh:
        lines = [ln for ln in fh if ln.strip() and not ln.startswith("#")]
    rows = csv.DictReader(lines)
    return tuple(AnnexAttribute(int(r["tag"], 16), r["keyword"], r["basic"], r["option"] or None)
                 for r in rows)


def annex_tags() -> list[int]:
    return [a.tag for a in annex_e()]


def audit(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Aggregate the per-file ``deid`` records of :func:`curate.scan.dicom_header.read_dicom` into counts."""
    attrs = annex_e()
    n = len(records)
    present, non_empty = Counter(), Counter()
    for r in records:
        present.update(r["present"])
        non_empty.update(r["non_empty"])
    removed = Counter(r["identity_removed"] or "(absent)" for r in records)
    declared = [r for r in records if r["identity_removed"] == "YES"]
    codes = Counter()
    for r in records:
        codes.update(set(r["codes"]))
    by_mod: dict[str, Counter] = {}
    for r in records:
        by_mod.setdefault(r["modality"], Counter())[r["burned_in"] or "(absent)"] += 1
    prone_absent = sum(1 for r in records if r["burn_in_prone"] and r["burned_in"] is None)
    prone = sum(1 for r in records if r["burn_in_prone"])
    # basic-profile attributes that should be gone (X) or empty (Z) but are still non-empty
    leaky = sum(1 for r in records
                if any(attrs[i].basic[0] in "XZD" and attrs[i].option is None for i in r["non_empty"]))
    options = []
    for key, (code, name) in OPTIONS.items():
        idx = {i for i, a in enumerate(attrs) if a.option == key}
        kept = sum(1 for r in declared if idx & set(r["non_empty"]))
        if key == "uids":
            seen = "cannot be told from the headers (replaced UIDs look like kept ones)"
        elif key == "descriptors":
            seen = "cannot be told from the headers (cleaned text looks like kept text)"
        elif not declared:
            seen = "not assessed: no file declares PatientIdentityRemoved = YES"
        else:
            seen = (("appears followed" if kept else "not followed") + f": kept attributes non-empty in "
                    f"{kept:,} of {len(declared):,} declared de-identified files")
        options.append({"option": name, "code": code, "declared_in_files": codes.get(code, 0),
                        "appears": seen})
    return {
        "profile": PROFILE,
        "dicom_files": n,
        "attributes": [
            {"tag": a.tag_text, "keyword": a.keyword, "basic_profile_action": a.basic,
             "option": OPTIONS[a.option][1] if a.option else None,
             "present": present.get(i, 0), "non_empty": non_empty.get(i, 0)}
            for i, a in enumerate(attrs)
        ],
        "files_with_basic_profile_attributes_non_empty": leaky,
        "private_tags": {"files_with_private_tags": sum(1 for r in records if r["private"]),
                         "private_elements": int(sum(r["private"] for r in records))},
        "patient_identity_removed": dict(sorted(removed.items())),
        "deidentification_method_present": sum(1 for r in records if r["method"]),
        "deidentification_method_codes": {
            f"{c} {METHOD_CODES[c]}" if c in METHOD_CODES else "other code": k
            for c, k in sorted(codes.items())
        },
        "burned_in_annotation": {
            "by_modality": {m: dict(sorted(c.items())) for m, c in sorted(by_mod.items())},
            "burn_in_prone_files": prone,
            "burn_in_prone_files_without_it": prone_absent,
        },
        "retain_options": options,
        "files_whose_path_contains_patient_id_or_name": sum(1 for r in records if r["path_has_identifier"]),
    }


def render_markdown(report: dict[str, Any]) -> str:
    """``deid.md``: the audit as tables (a renderer: every number comes from ``report``)."""
    n = report["dicom_files"]
    out = ["# De-identification audit\n", f"{report['profile']}. {n:,} DICOM files. Counts only: no value "
           "of any attribute is written here.\n", "## Declarations\n", "| | files |", "|---|---:|"]
    for k, v in report["patient_identity_removed"].items():
        out.append(f"| PatientIdentityRemoved = {k} | {v:,} |")
    out.append(f"| DeidentificationMethod present | {report['deidentification_method_present']:,} |")
    for k, v in report["deidentification_method_codes"].items():
        out.append(f"| method code {k} | {v:,} |")
    p = report["private_tags"]
    out += ["", "## Private tags and paths\n", "| | count |", "|---|---:|",
            f"| files with private tags | {p['files_with_private_tags']:,} |",
            f"| private elements | {p['private_elements']:,} |",
            f"| files with a Basic-Profile attribute still non-empty | "
            f"{report['files_with_basic_profile_attributes_non_empty']:,} |",
            f"| files whose path contains their PatientID or PatientName | "
            f"{report['files_whose_path_contains_patient_id_or_name']:,} |"]
    if report.get("nifti_files"):
        out.append(f"| NIfTI files with free text in descrip / aux_file / db_name | "
                   f"{report.get('nifti_files_with_header_text', 0):,} of {report['nifti_files']:,} |")
    b = report["burned_in_annotation"]
    out += ["", "## BurnedInAnnotation\n",
            f"{b['burn_in_prone_files']:,} files are of a modality that often burns text into pixels "
            f"(US, screen captures, ...); {b['burn_in_prone_files_without_it']:,} of them do not say whether "
            "they do.\n", "| modality | YES | NO | absent |", "|---|---:|---:|---:|"]
    for m, c in b["by_modality"].items():
        out.append(f"| {m} | {c.get('YES', 0):,} | {c.get('NO', 0):,} | {c.get('(absent)', 0):,} |")
    out += ["", "## Retain / Clean options\n", "| option | declared (files) | from the headers |",
            "|---|---:|---|"]
    for o in report["retain_options"]:
        out.append(f"| {o['option']} ({o['code']}) | {o['declared_in_files']:,} | {o['appears']} |")
    out += ["", "## Attributes\n", "| tag | keyword | basic profile | option | present | non-empty |",
            "|---|---|---|---|---:|---:|"]
    for a in report["attributes"]:
        out.append(f"| {a['tag']} | {a['keyword']} | {a['basic_profile_action']} | {a['option'] or ''} | "
                   f"{a['present']:,} | {a['non_empty']:,} |")
    return "\n".join(out) + "\n"
