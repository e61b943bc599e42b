"""One DICOM header → one metadata row plus the counts the de-identification audit needs.

Only the header is read (``stop_before_pixels=True``), and only the attributes listed here become columns.
Identifying values (patient id, study / series UIDs, institution) are handed back as raw values only so the
caller can turn them into keyed pseudonyms; every other identifying attribute is reduced to a
present / non-empty flag and never copied.
"""

from __future__ import annotations

import datetime as _dt
import re
from functools import lru_cache
from typing import Any

from curate.policy.disclosure import AGE_TOP_CODE

#: Header attributes copied when their value passes the identifier detectors (none of them is in PS3.15
#: Table E.1-1, but a site may type a name or a record number into any of them): a value that looks like a
#: name, a record number or a date is withheld (:func:`curate.policy.identifiers.value_reason`).
COPIED = {
    "modality": "Modality", "body_part": "BodyPartExamined", "manufacturer": "Manufacturer",
    "manufacturer_model": "ManufacturerModelName", "photometric": "PhotometricInterpretation",
}
#: Raw identifiers returned for pseudonymisation: column → (attribute, pseudonym kind).
KEYED = {
    "patient_key": ("PatientID", "patient"), "study_key": ("StudyInstanceUID", "study"),
    "series_key": ("SeriesInstanceUID", "series"), "site": ("InstitutionName", "site"),
}
#: Modalities / SOP classes whose pixels often carry burned-in text (ultrasound, screen captures, ...).
BURN_IN_PRONE = {"US", "XC", "ES", "OT", "SC", "IVUS", "GM", "SM"}
SECONDARY_CAPTURE_PREFIX = "1.2.840.10008.5.1.4.1.1.7"
_AGE = re.compile(r"^\s*(\d{1,3})\s*([DWMY])\s*$", re.I)
_DAYS_PER_YEAR = 365.25


def parse_age(value: Any) -> float | None:
    """A DICOM Age String (``060Y``, ``018M``, ``003W``, ``010D``) or a plain number → years, top-coded.

    Months become ``n / 12`` years (``018M`` → 1.5), weeks and days ``n * 7 / 365.25`` and
    ``n / 365.25``, rounded to 2 decimals; ages of ``AGE_TOP_CODE`` (90) and above become 90.
    Anything else (empty, malformed) is ``None``.
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    m = _AGE.match(text)
    if m:
        n, unit = int(m.group(1)), m.group(2).upper()
        years = {"Y": n, "M": n / 12, "W": n * 7 / _DAYS_PER_YEAR, "D": n / _DAYS_PER_YEAR}[unit]
    else:
        try:
            years = float(text)
        except ValueError:
            return None
        if not (years >= 0) or years == float("inf"):
            return None
    return float(min(round(years, 2), AGE_TOP_CODE))


def _date(value: Any) -> _dt.date | None:
    text = str(value or "").strip()
    if len(text) < 8 or not text[:8].isdigit():
        return None
    try:
        return _dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


def derived_age(birth: Any, on: Any) -> float | None:
    """Completed years between two DA values (fractional below 2 years), top-coded; None if not dates."""
    b, d = _date(birth), _date(on)
    if b is None or d is None or d < b:
        return None
    years = d.year - b.year - ((d.month, d.day) < (b.month, b.day))
    if years < 2:
        return float(round((d - b).days / _DAYS_PER_YEAR, 2))
    return float(min(years, AGE_TOP_CODE))


@lru_cache(maxsize=256)
def _tag(keyword: str) -> int:
    from pydicom.datadict import tag_for_keyword

    return int(tag_for_keyword(keyword))


def _keys(ds: Any) -> set[int]:
    """The dataset's top-level tags as plain ints (cached on the dataset: int lookups are fast)."""
    keys = ds.__dict__.get("_curate_keys")
    if keys is None:
        keys = {int(t) for t in ds.keys()}  # noqa: SIM118 - iterating a Dataset yields elements
        ds.__dict__["_curate_keys"] = keys
    return keys


def _value(ds: Any, keyword: str) -> Any:
    """A converted value by int tag (skips pydicom's keyword lookup), None when absent."""
    tag = _tag(keyword)
    return ds[tag].value if tag in _keys(ds) else None


def _text(ds: Any, keyword: str) -> str | None:
    """A string attribute, decoded from the raw bytes when they are ASCII (no value conversion: fast)."""
    tag = _tag(keyword)
    if tag not in _keys(ds):
        return None
    v = ds.get_item(tag).value
    if isinstance(v, bytes):
        text = v.decode("ascii") if v.isascii() else str(ds[tag].value)  # non-ASCII: pydicom's charsets
    else:
        text = "" if v is None else str(v)
    return text.strip(" \x00") or None


def _number(v: Any) -> float | None:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _non_empty(elem: Any) -> bool:
    v = elem.value
    if v is None:
        return False
    if isinstance(v, (bytes, str)):
        return bool(v.strip(b"\x00 " if isinstance(v, bytes) else "\x00 "))
    try:
        return len(v) > 0  # sequences, multi-values
    except TypeError:
        return True


@lru_cache(maxsize=4)
def _annex_index(tags: tuple[int, ...]) -> tuple[dict[int, int], dict[int, int]]:
    """Table E.1-1 as lookups: exact tag -> row, and repeating group (50XX / 60XX) masked tag -> row."""
    from curate.scan.deid import annex_e

    exact, masked = {}, {}
    for i, (t, a) in enumerate(zip(tags, annex_e())):
        if a.mask != 0xFFFFFFFF:
            masked[t & a.mask] = i
        else:
            exact[t] = i
    return exact, masked


def _is_sequence(ds: Any, tag: int) -> bool:
    elem = ds.get_item(tag)
    vr = getattr(elem, "VR", None)
    if vr == "SQ":
        return True
    if vr in (None, "UN"):
        from pydicom.datadict import dictionary_VR

        try:
            return dictionary_VR(tag) == "SQ" or getattr(elem, "length", 0) == 0xFFFFFFFF
        except KeyError:
            return getattr(elem, "length", 0) == 0xFFFFFFFF
    return False


def _annex_walk(ds: Any, tags: tuple[int, ...]) -> tuple[list[int], list[int], list[int]]:
    """Rows of Table E.1-1 present, non-empty and found inside a sequence, anywhere in ``ds`` (nested
    sequences walked to any depth)."""
    exact, masked = _annex_index(tags)
    present: set[int] = set()
    non_empty: set[int] = set()
    nested: set[int] = set()

    def visit(d: Any, depth: int) -> None:
        if depth > 32:
            return
        for t in _keys(d):
            i = exact.get(t)
            if i is None and (t >> 24) in (0x50, 0x60):
                i = masked.get(t & 0xFF00FFFF)
            if i is not None:
                present.add(i)
                if depth:
                    nested.add(i)
                if _non_empty(d.get_item(t)):
                    non_empty.add(i)
            if _is_sequence(d, t):
                try:
                    items = d[t].value
                except Exception:  # an undecodable sequence: its presence is counted, its items not
                    continue
                for item in items or ():
                    visit(item, depth + 1)

    visit(ds, 0)
    return sorted(present), sorted(non_empty), sorted(nested)


class NoImage(ValueError):
    """A DICOM file without an image (a truncated file, a structured report, a plan, ...)."""


def read_dicom(path: str, rel: str, annex_tags: list[int]) -> dict[str, Any]:
    """Header of one DICOM file → ``{"row": {...}, "raw": {...}, "deid": {...}}`` (raises if not DICOM)."""
    import pydicom

    from curate.policy.identifiers import path_reason, value_reason
    from curate.scan.dicom_read import read_dataset

    ds = read_dataset(path, stop_before_pixels=True)  # preamble / DICM checked; runaway reads stopped
    if getattr(ds, "preamble", None) is None and "SOPClassUID" not in ds and "Modality" not in ds:
        raise pydicom.errors.InvalidDicomError("no DICOM image attributes")
    if "Rows" not in ds or "Columns" not in ds:
        raise NoImage("no Rows / Columns")
    row: dict[str, Any] = {"path": rel, "format": "dicom"}
    withheld = 0
    for col, kw in COPIED.items():
        v = _text(ds, kw)
        if v is not None and value_reason(v):
            v, withheld = None, withheld + 1
        row[col] = v
    sex = (_text(ds, "PatientSex") or "").upper()
    row["patient_sex"] = sex if sex in ("M", "F", "O") else None
    age = parse_age(_text(ds, "PatientAge"))
    source = "PatientAge" if age is not None else None
    if age is None:
        on = next((_text(ds, k) for k in ("StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate")
                   if _date(_text(ds, k))), None)
        age = derived_age(_text(ds, "PatientBirthDate"), on)
        source = "birth and study dates" if age is not None else None
    row["patient_age"], row["age_source"] = age, source
    row["rows"], row["columns"] = _number(_value(ds, "Rows")), _number(_value(ds, "Columns"))
    frames = _number(_value(ds, "NumberOfFrames"))
    row["frames"] = frames if frames else 1.0
    spacing = _value(ds, "PixelSpacing") or _value(ds, "ImagerPixelSpacing")
    try:
        row["pixel_spacing_row"], row["pixel_spacing_col"] = float(spacing[0]), float(spacing[1])
    except (TypeError, ValueError, IndexError):
        row["pixel_spacing_row"] = row["pixel_spacing_col"] = None
    row["slice_thickness"] = _number(_value(ds, "SliceThickness"))
    row["bits_stored"] = _number(_value(ds, "BitsStored"))
    ts = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
    row["transfer_syntax"] = (ts.name if ts else None) or None
    raw = {col: _text(ds, kw) for col, (kw, _) in KEYED.items()}

    keys = _keys(ds)
    present, non_empty, nested = _annex_walk(ds, tuple(annex_tags))
    codes = []
    for item in ds.get("DeidentificationMethodCodeSequence") or []:
        codes.append(str(item.get("CodeValue", "")).strip())
    sop = _text(ds, "SOPClassUID") or ""
    modality = row["modality"] or ""
    burned = (_text(ds, "BurnedInAnnotation") or "").upper()
    pid, name = raw["patient_key"], _text(ds, "PatientName")
    deid = {
        "present": present, "non_empty": non_empty, "nested": nested,
        "private": sum(1 for t in keys if (t >> 16) % 2 == 1),
        "identity_removed": (_text(ds, "PatientIdentityRemoved") or "").upper() or None,
        "method": _non_empty(ds.get_item(0x00120063)) if 0x00120063 in ds else False,
        "codes": codes,
        "modality": modality or "(missing)",
        "burn_in_prone": modality in BURN_IN_PRONE or sop.startswith(SECONDARY_CAPTURE_PREFIX),
        "burned_in": burned if burned in ("YES", "NO") else None,
        # a folder or file named after the patient publishes the identifier with the path
        "path_has_identifier": any(v and len(v) >= 3 and v.lower() in rel.lower() for v in (pid, name)),
        # a folder or file named like a person or a date (Smith_John_19600101.dcm): counted, never printed
        "path_looks_identifying": path_reason(rel) is not None,
        "withheld_values": withheld,
    }
    out = {"row": row, "raw": raw, "deid": deid}
    if _curate_synthetic(ds):
        out["synthetic"] = True
    return out


#: the private creator that ``curate demo-dicom`` (curate.scan.synthetic.make_dicom) writes into every file
SYNTHETIC_CREATOR = "CURATE SYNTHETIC"


def _curate_synthetic(ds: Any) -> bool:
    """Whether the file declares itself synthetic: curate's generator writes the private creator
    ``CURATE SYNTHETIC`` (group 0x0009); such rows get ``synthetic = True`` (curate.synthetic's rule)."""
    for el in ds.group_dataset(0x0009):
        if 0x10 <= el.tag.element <= 0xFF and str(el.value).strip() == SYNTHETIC_CREATOR:
            return True
    return False


def dicom_ages(values: Any) -> Any:
    """A Series with DICOM Age Strings (``060Y``, ``018M``) turned into years; other values unchanged."""
    def one(v: Any) -> Any:
        return parse_age(v) if isinstance(v, str) and _AGE.match(v) else v

    import pandas as pd

    if pd.api.types.is_numeric_dtype(values):  # nothing to convert (and no per-value Python call)
        return values
    return values.map(one)
