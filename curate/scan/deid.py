"""De-identification audit of a DICOM folder against PS3.15 Annex E: counts only, never a value.

The attribute list is data: ``annex_e.csv`` beside this module holds *every* row of PS3.15 Table E.1-1
(620 attributes; tag, keyword, the Basic Profile's action and each option's action). Every header is
walked *including nested sequences* (a PatientName inside ReferencedPatientSequence counts as a
PatientName present).

The audit keeps two things apart (PS3.15 E.1.1):

- **what the file declares**: ``PatientIdentityRemoved``, ``DeidentificationMethod`` (free text) and the
  CID 7050 codes of ``DeidentificationMethodCodeSequence`` (the profile and its options);
- **what values remain**: for each attribute, the files where it is present, non-empty, and — in a file that
  declares de-identification — whether the declared profile permits the value: Z (empty *or dummy*),
  D (dummy), U (replacement UID) and an option's K (keep) / C (clean) permit a value; X (remove) does not.
  A value is therefore a leak only where nothing declared permits it: a dummy name written by a
  de-identifier that declares the Basic Profile is not reported as left behind.

No value of any attribute is kept: the per-file records hold only indices and flags.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

PROFILE = "DICOM PS3.15 Annex E, Basic Application Level Confidentiality Profile (Table E.1-1)"
BASIC = "113100"

#: Options whose kept attributes can be seen in headers: key -> CID 7050 code.
OPTIONS = {
    "dates": "113106", "modified_dates": "113107", "uids": "113110", "device": "113109",
    "institution": "113112", "patient": "113108", "descriptors": "113105", "graphics": "113103",
    "structured": "113104", "safe_private": "113111",
}


@lru_cache(maxsize=1)
def method_codes() -> dict[str, str]:
    """CID 7050 (De-identification Method, PS3.16) code -> meaning, from pydicom's copy of PS3.16."""
    from pydicom.sr.codedict import codes

    cid = codes.CID7050
    return dict(sorted((getattr(cid, k).value, getattr(cid, k).meaning) for k in cid.dir()))


@dataclass(frozen=True)
class AnnexAttribute:
    """One row of Table E.1-1: ``mask`` is set for a repeating group (50XX, 60XX)."""

    tag: int
    keyword: str
    basic: str
    options: dict[str, str] = field(default_factory=dict)  # CID 7050 code -> K or C
    mask: int = 0xFFFFFFFF

    @property
    def tag_text(self) -> str:
        g, e = f"{self.tag >> 16:04X}", f"{self.tag & 0xFFFF:04X}"
        if self.mask != 0xFFFFFFFF:
            g = g[:2] + "XX"
        return f"({g},{e})"

    @property
    def option(self) -> str | None:
        """The first option that keeps the attribute (code), or None."""
        return next((c for c, a in self.options.items() if a == "K"), None)

    def permits_value(self, declared: frozenset[str]) -> bool:
        """Whether a non-empty value is permitted in a file declaring ``declared`` codes (plus the Basic
        Profile): Z, D or U in the basic action, or K / C of a declared option."""
        if any(declared_code in self.options for declared_code in declared):
            return True
        return any(a in self.basic for a in "ZDU")


def _parse_tag(text: str) -> tuple[int, int]:
    if "X" in text.upper():
        return int(text.upper().replace("X", "0"), 16), 0xFF00FFFF
    return int(text, 16), 0xFFFFFFFF


@lru_cache(maxsize=1)
def annex_e() -> tuple[AnnexAttribute, ...]:
    """The whole of Table E.1-1 (``annex_e.csv``), in file order."""
    path = Path(__file__).with_name("annex_e.csv")
    with path.open(encoding="utf-8") as fh:
        lines = [ln for ln in fh if ln.strip() and not ln.startswith("#")]
    out = []
    for r in csv.DictReader(lines):
        tag, mask = _parse_tag(r["tag"])
        opts = dict(o.split("=") for o in r["options"].split(";") if o)
        out.append(AnnexAttribute(tag, r["keyword"], r["basic"], opts, mask))
    return tuple(out)


def annex_tags() -> list[int]:
    """The table's tags, in order (a repeating group by its first group, 5000 / 6000)."""
    return [a.tag for a in annex_e()]


def declared_codes(record: dict[str, Any]) -> frozenset[str] | None:
    """The CID 7050 codes a file declares, or None when it does not declare de-identification at all.

    PS3.15 E.1.1: a de-identifier sets PatientIdentityRemoved to YES and adds CID 7050 codes and/or a
    DeidentificationMethod text; any of the three declares it. A file that declares without a code is
    read as declaring the Basic Profile (113100), the profile every option extends."""
    codes = frozenset(c for c in record["codes"] if c)
    if record["identity_removed"] == "YES" or record["method"] or codes:
        return codes | {BASIC}
    return None


def remaining(record: dict[str, Any]) -> tuple[list[int], list[int]]:
    """``(values the declared profile permits, values nothing declared permits)`` as attribute indices.

    In a file that declares no de-identification every non-empty attribute is a value left behind."""
    attrs = annex_e()
    declared = declared_codes(record)
    if declared is None:
        return [], list(record["non_empty"])
    ok, bad = [], []
    for i in record["non_empty"]:
        (ok if attrs[i].permits_value(declared) else bad).append(i)
    return ok, bad


def _declarations(records: list[dict[str, Any]]) -> dict[str, Any]:
    removed = Counter(r["identity_removed"] or "(absent)" for r in records)
    codes: Counter = Counter()
    for r in records:
        codes.update(set(r["codes"]))
    names = method_codes()
    return {
        "files_declaring_deidentification": sum(1 for r in records if declared_codes(r) is not None),
        "patient_identity_removed": dict(sorted(removed.items())),
        "deidentification_method_present": sum(1 for r in records if r["method"]),
        "deidentification_method_codes": {f"{c} {names[c]}" if c in names else "other code": k
                                          for c, k in sorted(codes.items())},
        "files_declaring_without_a_code": sum(1 for r in records if declared_codes(r) is not None
                                              and not any(r["codes"])),
    }


def _options(records: list[dict[str, Any]], declared_files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    attrs = annex_e()
    codes: Counter = Counter()
    for r in records:
        codes.update(set(r["codes"]))
    names = method_codes()
    out = []
    for key in ("dates", "uids", "device", "institution", "patient", "descriptors"):
        code = OPTIONS[key]
        idx = {i for i, a in enumerate(attrs) if a.options.get(code) == "K"}
        kept = sum(1 for r in declared_files if idx & set(r["non_empty"]))
        if key == "uids":
            seen = "cannot be told from the headers (replaced UIDs look like kept ones)"
        elif key == "descriptors":
            seen = "cannot be told from the headers (cleaned text looks like kept text)"
        elif not declared_files:
            seen = "not assessed: no file declares de-identification"
        else:
            seen = (("appears followed" if kept else "not followed") + f": kept attributes non-empty in "
                    f"{kept:,} of {len(declared_files):,} files that declare de-identification")
        out.append({"option": names.get(code, code), "code": code, "declared_in_files": codes.get(code, 0),
                    "appears": seen})
    return out


def audit(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Aggregate the per-file ``deid`` records of :func:`curate.scan.dicom_header.read_dicom` into counts."""
    attrs = annex_e()
    present, non_empty, nested, permitted, left = Counter(), Counter(), Counter(), Counter(), Counter()
    files_left = declared_left = declared_ok = 0
    declared_files = []
    for r in records:
        present.update(r["present"])
        non_empty.update(r["non_empty"])
        nested.update(r.get("nested", ()))
        ok, bad = remaining(r)
        permitted.update(ok)
        left.update(bad)
        files_left += bool(bad)
        if declared_codes(r) is not None:
            declared_files.append(r)
            declared_left += bool(bad)
            declared_ok += not bad
    by_mod: dict[str, Counter] = {}
    for r in records:
        by_mod.setdefault(r["modality"], Counter())[r["burned_in"] or "(absent)"] += 1
    decl = _declarations(records)
    return {
        "profile": PROFILE,
        "table_rows": len(attrs),
        "dicom_files": len(records),
        "declared": decl,
        # kept for readers of earlier audits: the same counts as under "declared"
        "patient_identity_removed": decl["patient_identity_removed"],
        "deidentification_method_present": decl["deidentification_method_present"],
        "deidentification_method_codes": decl["deidentification_method_codes"],
        "remaining": {
            "files_with_values_nothing_declared_permits": files_left,
            "declaring_files_with_values_the_profile_does_not_permit": declared_left,
            "declaring_files_with_only_permitted_values": declared_ok,
            "files_not_declaring_with_identifying_values": files_left - declared_left,
        },
        "files_with_basic_profile_attributes_non_empty": files_left,
        "attributes": [
            {"tag": a.tag_text, "keyword": a.keyword, "basic_profile_action": a.basic,
             "options": {c: a.options[c] for c in sorted(a.options)},
             "present": present.get(i, 0), "non_empty": non_empty.get(i, 0),
             "nested": nested.get(i, 0), "permitted_as_declared": permitted.get(i, 0),
             "left_behind": left.get(i, 0)}
            for i, a in enumerate(attrs)
        ],
        "private_tags": {"files_with_private_tags": sum(1 for r in records if r["private"]),
                         "private_elements": int(sum(r["private"] for r in records))},
        "burned_in_annotation": {
            "by_modality": {m: dict(sorted(c.items())) for m, c in sorted(by_mod.items())},
            "burn_in_prone_files": sum(1 for r in records if r["burn_in_prone"]),
            "burn_in_prone_files_without_it": sum(1 for r in records
                                                  if r["burn_in_prone"] and r["burned_in"] is None),
        },
        "retain_options": _options(records, declared_files),
        "files_whose_path_contains_patient_id_or_name": sum(1 for r in records if r["path_has_identifier"]),
        "files_whose_path_looks_like_a_name_or_date": sum(1 for r in records
                                                          if r.get("path_looks_identifying")),
        "files_with_copied_values_withheld": sum(1 for r in records if r.get("withheld_values")),
    }


def render_markdown(report: dict[str, Any]) -> str:
    """``deid.md``: the audit as tables (a renderer: every number comes from ``report``)."""
    n = report["dicom_files"]
    d = report["declared"]
    out = ["# De-identification audit\n", f"{report['profile']}, all {report['table_rows']:,} rows, nested "
           f"sequences included. {n:,} DICOM files. Counts only: no value of any attribute is written "
           "here.\n", "## What the files declare\n", "| | files |", "|---|---:|",
           f"| declare de-identification (any of the three below) | "
           f"{d['files_declaring_deidentification']:,} |"]
    for k, v in d["patient_identity_removed"].items():
        out.append(f"| PatientIdentityRemoved = {k} | {v:,} |")
    out.append(f"| DeidentificationMethod present | {d['deidentification_method_present']:,} |")
    for k, v in d["deidentification_method_codes"].items():
        out.append(f"| method code {k} | {v:,} |")
    out.append(f"| declare without a CID 7050 code (read as the Basic Profile) | "
               f"{d['files_declaring_without_a_code']:,} |")
    r = report["remaining"]
    p = report["private_tags"]
    out += ["", "## What values remain\n",
            "A value is *permitted* where the declared profile allows a dummy or kept value (Z, D, U; an "
            "option's K or C); *left behind* where nothing declared permits it (X), or the file declares no "
            "de-identification.\n", "| | count |", "|---|---:|",
            f"| files with values nothing declared permits | "
            f"{r['files_with_values_nothing_declared_permits']:,} |",
            f"| of them declaring de-identification | "
            f"{r['declaring_files_with_values_the_profile_does_not_permit']:,} |",
            f"| declaring files with only permitted values | "
            f"{r['declaring_files_with_only_permitted_values']:,} |",
            f"| files with private tags | {p['files_with_private_tags']:,} |",
            f"| private elements | {p['private_elements']:,} |",
            f"| files whose path contains their PatientID or PatientName | "
            f"{report['files_whose_path_contains_patient_id_or_name']:,} |",
            f"| files whose path looks like a name or a date | "
            f"{report.get('files_whose_path_looks_like_a_name_or_date', 0):,} |",
            f"| files with a Manufacturer / model / body part value withheld (looked like a name, a record "
            f"number or a date) | {report.get('files_with_copied_values_withheld', 0):,} |"]
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
    out += ["", "## Attributes present\n",
            "| tag | keyword | basic profile | options | present | in a sequence | non-empty | permitted | "
            "left behind |", "|---|---|---|---|---:|---:|---:|---:|---:|"]
    for a in report["attributes"]:
        if not a["present"]:
            continue
        opts = " ".join(f"{c}={v}" for c, v in a["options"].items())
        out.append(f"| {a['tag']} | {a['keyword']} | {a['basic_profile_action']} | {opts} | "
                   f"{a['present']:,} | {a['nested']:,} | {a['non_empty']:,} | "
                   f"{a['permitted_as_declared']:,} | {a['left_behind']:,} |")
    return "\n".join(out) + "\n"
