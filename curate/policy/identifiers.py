"""Identifier detection by column name *and* content: the one place that decides what looks like an id.

A name check alone misses ``medical_record``, ``cpf`` or a ``notes`` column full of names; a per-row
uniqueness check alone misses identifiers that repeat once per patient and numeric ids. So a column looks
like an identifier when any of these holds (:func:`identifier_reason` says which, never quoting a value):

- its name says id / record number / national id / name / contact / date of birth / file / path / date;
- most values have an identifier *shape*: DICOM or other dotted UIDs, UUIDs, CPF (``000.000.000-00``),
  SSN (``000-00-0000``), NHS number (``000 000 0000``), MRN-like codes (``MRN0012345``, ``AB-123456``),
  dates (``1980-02-13``, ``13/02/1980``), e-mail addresses, telephone numbers;
- person-like text: full-name shaped values (``Maria Silva``) in many distinct values, or free text with
  an honorific (``Mr.``, ``Dr.``, ``Sra.``) or several capitalised name pairs;
- it is (nearly) unique per row, or constant within each patient with about one value per patient —
  for text, and for integers too (``pid = 1, 2, 3 …``), since numbers are ids as often as measurements.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: Fewer distinct units (rows or patients) than this and the content checks on cardinality are skipped.
MIN_UNITS = 10

_NAME_TOKENS = {
    "id", "ids", "uid", "uuid", "guid", "mrn", "mrns", "identifier", "accession", "pid", "cpf", "cns", "ssn",
    "nhs", "nino", "passport", "rg", "nif", "nie", "dni", "curp", "aadhaar", "dob", "birthdate", "birthday",
    "name", "names", "firstname", "lastname", "surname", "fullname", "initials", "email", "phone",
    "telephone", "mobile", "fax", "address", "street", "zip", "zipcode", "postcode", "postal", "url",
    "file", "filename", "path", "filepath", "date", "datetime", "timestamp", "record", "records", "signature",
}
#: Whole (normalised) names that are identifiers although none of their tokens is.
_NAME_WHOLE = {
    "patient", "subject", "participant", "person", "case", "image", "study", "series", "img", "dicom",
    "patientid", "subjectid", "caseid", "personid", "studyid", "seriesid", "imageid", "medicalrecord",
    "medical_record", "record_number", "chart_number", "social_security", "national_insurance",
}

_SHAPES: dict[str, re.Pattern[str]] = {
    "UIDs": re.compile(r"^\d+(\.\d+){3,}$"),
    "UUIDs": re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", re.I),
    "CPF numbers": re.compile(r"^\d{3}\.?\d{3}\.?\d{3}-?\d{2}$"),
    "social security numbers": re.compile(r"^\d{3}-\d{2}-\d{4}$"),
    "NHS numbers": re.compile(r"^\d{3}[ -]?\d{3}[ -]?\d{4}$"),
    "record numbers": re.compile(r"^(?=.*\d{4})[A-Z]{1,5}[-_ ]?\d{4,}[A-Z]{0,3}$", re.I),
    "dates": re.compile(r"^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})([ T]\d{1,2}:\d{2}"
                        r"(:\d{2}(\.\d+)?)?Z?)?$"),
    "e-mail addresses": re.compile(r"^[\w.+-]+@[\w-]+(\.[\w-]+)+$"),
    "telephone numbers": re.compile(r"^\+?\(?\d{1,4}\)?([ .-]?\(?\d{2,5}\)?){2,4}$"),
}
_EMAIL_IN = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_WORD = r"[^\W\d_][^\W\d_'’-]+"
_CAP = r"[^\W\d_a-z][^\W\d_A-Z][^\W\d_'’-]*"
#: A value that is only a personal name: two to five capitalised words (particles such as "da" allowed).
_FULL_NAME = re.compile(rf"^{_CAP}(\s+((da|de|do|dos|das|di|del|van|von|der|le|la|y|e)\s+)?{_CAP}){{1,4}}$")
_CAP_WORD = re.compile(_CAP)
_HONORIFIC = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Dra|Prof|Sr|Sra|Srta|Herr|Frau|Mme|Mlle)\.?\s+"
                        rf"{_CAP}")
#: Words that make a capitalised pair a place, a device or an institution rather than a person.
_NOT_PERSON = re.compile(r"\b(?:hospital|clinic|clinica|center|centre|centro|university|universidade|"
                         r"institute|instituto|medical|health|saude|santa|santo|san|sao|são|general|"
                         r"canon|nikon|topcon|zeiss|optos|siemens|philips|ge|healthcare|kodak|fuji|"
                         r"fujifilm|agfa|carestream|hologic|samsung|toshiba|hitachi|leica|olympus|"
                         r"city|county|state|north|south|east|west|new|united|republic)\b", re.I)
del _WORD


def _pair_words(text: str) -> set[str]:
    """Second words of capitalised word pairs (``Maria Silva``) that do not name a place or a device."""
    words = [w.strip(",;:()[]\"'") for w in text.split()]
    out = set()
    for a, b in zip(words, words[1:]):
        if _CAP_WORD.fullmatch(a) and _CAP_WORD.fullmatch(b) and not _NOT_PERSON.search(f"{a} {b}"):
            out.add(b)
    return out


def norm_name(name: object) -> str:
    """``"Patient ID"`` / ``"PatientID"`` / ``"patient-id"`` → ``"patient_id"``."""
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(name).strip())
    return re.sub(r"[^0-9a-z]+", "_", s.lower()).strip("_")


def name_reason(name: object) -> str | None:
    """Why a column *name* says identifier, or None."""
    n = norm_name(name)
    if n in _NAME_WHOLE or n.replace("_", "") in _NAME_WHOLE:
        return "its name says it identifies people or files"
    tokens = n.split("_")
    if any(t in _NAME_TOKENS for t in tokens):
        return "its name says it identifies people or files"
    if re.search(r"(^|_)(id|no|num|number|code)$", n) and tokens[0] in {
            "patient", "subject", "person", "case", "record", "chart", "study", "exam", "visit", "image",
            "series", "member", "participant", "hospital_record", "medical"}:
        return "its name says it identifies people or files"
    return None


def _strings(values: pd.Series) -> pd.Series:
    v = values.dropna()
    v = v[~v.map(lambda x: isinstance(x, float) and x != x)]
    return v.astype(str).str.strip().loc[lambda s: s.ne("")]


def _numeric(values: pd.Series):
    """Values as floats when every present value is a number, else None."""
    import pandas as pd

    if values.dtype == bool:
        return None
    num = pd.to_numeric(values, errors="coerce")
    present = values.notna() & values.astype(str).str.strip().ne("")
    if not present.any() or bool(num[present].isna().any()):
        return None
    return num[present]


def shape_reason(values: pd.Series) -> str | None:
    """Most values have an identifier shape (UID, CPF, MRN, date, e-mail …), or person-like text."""
    s = _strings(values)
    if s.empty:
        return None
    distinct = s.drop_duplicates()
    sample = distinct.head(2000)
    for what, pat in _SHAPES.items():
        hits = sample.str.match(pat)
        if what in ("NHS numbers", "telephone numbers", "record numbers") and _numeric(sample) is not None \
                and not sample.str.contains(r"[ \-().+]").any():
            continue  # plain integers: judged by the cardinality rules, not as phone / NHS numbers
        enough = MIN_UNITS if what == "record numbers" else min(3, len(sample))
        if hits.mean() >= 0.5 and int(hits.sum()) >= enough:
            return f"its values are shaped like {what}"
    if sample.str.contains(_EMAIL_IN).mean() >= 0.2:
        return "its values contain e-mail addresses"
    if sample.str.contains(_HONORIFIC).any():
        return "its text contains names of people (titles such as Mr./Dr.)"
    person = sample[~sample.str.contains(_NOT_PERSON)]
    names = person.str.match(_FULL_NAME)
    if int(names.sum()) >= 5 and names.mean() >= 0.5 and (
            len(distinct) >= 20 or len(distinct) >= 0.2 * len(s)):
        return "its values look like names of people"
    texts = sample[sample.str.contains(r"\b[a-z]{2,}\b")]  # sentences, not labels
    words = set().union(*(_pair_words(t) for t in texts.head(500))) if len(texts) else set()
    if len(words) >= 4 and int(texts.map(lambda t: bool(_pair_words(t))).sum()) >= 2:
        return "its text contains names of people"
    return None


def cardinality_reason(values: pd.Series, patients: pd.Series | None = None) -> str | None:
    """Unique per row, or constant per patient with about one value per patient (text or integers)."""
    import numpy as np

    present = values.notna() & values.astype(str).str.strip().ne("")
    if int(present.sum()) < MIN_UNITS:
        return None
    v = values[present].astype(str).str.strip()
    num = _numeric(values)
    integral = num is not None and bool(np.all(np.mod(num.to_numpy(dtype=float), 1) == 0))
    if num is not None and not integral:
        return None  # measurements (floats) are not ids because they are all different
    if patients is not None:
        pat = patients[present].astype(str)
        n_pat = pat.nunique()
        if n_pat >= MIN_UNITS and n_pat < len(v):
            per = v.groupby(pat.to_numpy()).nunique()
            if bool((per <= 1).all()) and v.nunique() >= (0.9 if integral else 0.5) * n_pat:
                return "it holds about one value per patient"
    n_unique = v.nunique()
    if integral:
        vals = num.to_numpy(dtype=float)
        span = float(vals.max() - vals.min()) + 1
        if n_unique == len(v) and (span <= 2 * len(v) or float(np.abs(vals).min()) >= 10_000):
            return "it holds a different number for every row"
        return None
    if n_unique / len(v) > 0.9:
        return "it holds a different value for almost every row"
    return None


def identifier_reason(name: object, values: pd.Series | None = None, *,
                      patients: pd.Series | None = None, numeric_ok: bool = False) -> str | None:
    """Why column ``name`` (with ``values``) looks like an identifier, or None when it does not.

    ``patients`` (the patient column, aligned with ``values``) enables the once-per-patient rule;
    ``numeric_ok`` skips the cardinality rule for numbers (ages, which may be unique per patient).
    """
    why = name_reason(name)
    if why or values is None:
        return why
    why = shape_reason(values)
    if why:
        return why
    if numeric_ok and _numeric(values) is not None:
        return None
    return cardinality_reason(values, patients)


def looks_like_identifier(name: object, values: pd.Series | None = None, *,
                          patients: pd.Series | None = None) -> bool:
    """True when :func:`identifier_reason` finds a reason."""
    return identifier_reason(name, values, patients=patients) is not None


def label_reason(value: Any) -> str | None:
    """Why one value that becomes a label (a class, a group, a site) identifies someone, or None.

    Judged value by value (a name in a third of a column's values is still a name): identifier shapes
    (UIDs, MRNs, dates, e-mail addresses), titles (``Dr.``), and a personal name left once the words of
    places and institutions are taken out (``Clinic Maria Quixabeira`` → ``Maria Quixabeira``).
    """
    import pandas as pd

    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    if not text or re.fullmatch(r"[-+]?\d+(\.\d+)?", text):
        return None
    one = pd.Series([text])
    for what, pat in _SHAPES.items():
        if what in ("NHS numbers", "telephone numbers", "record numbers"):
            continue  # shapes judged on a column's many values, not on one label
        if re.match(pat, text):
            return f"it is shaped like {what}"
    if one.str.contains(_EMAIL_IN).any():
        return "it contains an e-mail address"
    if one.str.contains(_HONORIFIC).any():
        return "it contains a title of a person (Mr./Dr.)"
    rest = re.sub(r"\s+", " ", _NOT_PERSON.sub(" ", text)).strip()
    if rest != text and rest and re.fullmatch(_FULL_NAME, rest):
        return "it contains the name of a person"
    return None


# ------------------------------------------------------------------------------------- single values
#: Words that make a capitalised pair a disease, a finding or a device rather than a person (eponyms such as
#: "Addison Disease" name a disease, not a patient).
_NOT_PERSON_VALUE = re.compile(
    r"\b(?:disease|syndrome|sign|palsy|lymphoma|sarcoma|tumou?r|carcinoma|cell|cells|disorder|anomaly|"
    r"classification|grade|stage|score|type|test|criteria|scale|effusion|fracture|lesion|nodule|"
    r"retinopathy|degeneration|edema|oedema|finding|findings|normal|abnormal|other|unknown|none|"
    r"scanner|system|systems|series|model|camera|device|ward|unit|department|room|lab|laboratory)\b", re.I)
_TITLE = re.compile(r"^[^\W\d_][^\W\d_A-Z]+$")  # Maria, Quixabeira (not SIGNA, not HDxt)
_PN = re.compile(r"[^\W\d_]\^[^\W\d_]")  # DICOM person name: FAMILY^GIVEN
_ID_WORD = re.compile(r"(?i)(?<![a-z])(?:mrn|pid|id|acc|accession|nhs|ssn|cpf|record|patient|case|subject)"
                      r"[-_#:. ]?\d{3,}")
_LONG_DIGITS = re.compile(r"\d{6,}")
_DICOM_DATE = re.compile(r"(?<!\d)(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?!\d)")
_ISO_DATE = re.compile(r"(?<!\d)(?:19|20)\d{2}[-_./](?:0?[1-9]|1[0-2])[-_./](?:0?[1-9]|[12]\d|3[01])(?!\d)"
                       r"|(?<!\d)(?:0?[1-9]|[12]\d|3[01])[-_./](?:0?[1-9]|1[0-2])[-_./](?:19|20)\d{2}(?!\d)")


def _first_names() -> frozenset[str]:
    """Given names of every locale of Faker's person providers (census and registry lists), case-folded."""
    global _NAMES_CACHE
    if _NAMES_CACHE is None:
        import importlib
        import pkgutil

        import faker.providers.person as person

        names: set[str] = set()
        for mod in pkgutil.iter_modules(person.__path__):
            provider = getattr(importlib.import_module(f"{person.__name__}.{mod.name}"), "Provider", None)
            for attr in ("first_names", "first_names_female", "first_names_male"):
                for klass in getattr(provider, "__mro__", ()):
                    if attr in klass.__dict__:
                        v = klass.__dict__[attr]
                        if isinstance(v, (tuple, list, dict, set, frozenset)):
                            names.update(str(x).casefold() for x in v)
                        break
        _NAMES_CACHE = frozenset(n for n in names if len(n) >= 3)
    return _NAMES_CACHE


_NAMES_CACHE: frozenset[str] | None = None


def person_name_in(text: str) -> bool:
    """True when ``text`` holds a person's name: a DICOM ``FAMILY^GIVEN`` name, a title (``Dr.``), or two
    adjacent capitalised words one of which is a given name (``Clinic Maria Quixabeira``,
    ``Quixabeira_Maria``) — unless they name a place, a device or a disease (``Addison Disease``)."""
    if _PN.search(text) or _HONORIFIC.search(text):
        return True
    words = [w for w in re.split(r"[\s_\-^,;:/()\[\]\"'.]+", text) if w]
    pairs = [(a, b) for a, b in zip(words, words[1:]) if _TITLE.match(a) and _TITLE.match(b)]
    if not pairs:
        return False
    names = _first_names()
    return any((a.casefold() in names or b.casefold() in names)
               and not _NOT_PERSON.search(f"{a} {b}") and not _NOT_PERSON_VALUE.search(f"{a} {b}")
               for a, b in pairs)


def value_reason(value: object) -> str | None:
    """Why one *value* (a label, a site, a device name) looks identifying, or None; never quotes it.

    Each value is judged alone — a name in a third of a column's values is still a name.

    >>> value_reason("Clinic Maria Quixabeira"), value_reason("Addison Disease"), value_reason("SIEMENS")
    ('it looks like a name of a person', None, None)
    """
    if value is None or (isinstance(value, float) and value != value):
        return None
    return _text_reason(str(value).strip())


@lru_cache(maxsize=8192)
def _text_reason(text: str) -> str | None:
    """:func:`value_reason` of a stripped text (cached: a column repeats its values)."""
    if not text or len(text) > 10_000:
        return "it is too long to check" if text else None
    for what, pat in _SHAPES.items():
        if what == "record numbers" or (what in ("NHS numbers", "telephone numbers") and text.isdigit()):
            continue  # a model name such as "HDI 5000" has that shape: record numbers are judged below
        if pat.match(text):
            return f"it is shaped like {what[:-1] if what.endswith('s') else what}"
    if _ID_WORD.search(text) or _LONG_DIGITS.search(text):
        return "it holds a record number"
    if _DICOM_DATE.search(text) or _ISO_DATE.search(text):
        return "it holds a date"
    if _EMAIL_IN.search(text):
        return "it holds an e-mail address"
    if person_name_in(text):
        return "it looks like a name of a person"
    return None


def path_reason(rel_path: str) -> str | None:
    """Why a file path (folder and file names) looks like it names a person or a date, or None."""
    parts = [p for p in str(rel_path).replace("\\", "/").split("/") if p]
    for part in parts:
        stem = part.split(".")[0] if "." in part else part
        if _DICOM_DATE.search(stem) or _ISO_DATE.search(stem):
            return "a folder or file name holds a date"
        if person_name_in(stem):
            return "a folder or file name holds a name"
    return None


def value_shape(value: object) -> str | None:
    """The identifier shape of ONE value (``"dates"``, ``"record numbers"``, ...), or None.

    Plain integers are not judged here (a burned-in "120" is a measurement as often as an id), and a value
    needs a digit: the same shapes as :func:`shape_reason`, applied to a single value (e.g. a word read by
    OCR from a frame). The value itself is never returned.
    """
    text = str(value).strip()
    if not text or text.isdigit() or not any(ch.isdigit() for ch in text):
        return None
    for what, pat in _SHAPES.items():
        if pat.match(text):
            return what
    return None
