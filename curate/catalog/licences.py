"""Licence → access class, and licence → Hugging Face ``license`` id.

The access class is a summary of the licence's structured use terms (:mod:`curate.policy.terms`), which
drive the publishing guard: restrictions (credentialing, data use agreements, competition rules,
no-derivatives) always win over permissions, whatever their order in the licence text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from curate.policy.terms import TermsDecision, access_for_terms, normalise_licence, terms_for_licence
from curate.policy.upload import RecordTerms, decide_upload

if TYPE_CHECKING:  # pragma: no cover
    from curate.catalog.schema import Dataset


def access_for_licence(licence: str | None) -> str:
    """Access class of a licence string (SPDX id or named terms).

    >>> access_for_licence("CC-BY-NC-SA-4.0")
    'open-noncommercial'
    >>> access_for_licence("PhysioNet Credentialed Health Data License 1.5.0 (non-commercial use only)")
    'credentialed'
    """
    return access_for_terms(terms_for_licence(licence))


#: SPDX → the hub's licence identifiers (https://huggingface.co/docs/hub/repositories-licenses).
_HF_IDS = {
    "CC0-1.0": "cc0-1.0",
    "CC-BY-4.0": "cc-by-4.0",
    "CC-BY-3.0": "cc-by-3.0",
    "CC-BY-SA-4.0": "cc-by-sa-4.0",
    "CC-BY-SA-3.0": "cc-by-sa-3.0",
    "CC-BY-NC-4.0": "cc-by-nc-4.0",
    "CC-BY-NC-SA-4.0": "cc-by-nc-sa-4.0",
    "CC-BY-NC-SA-3.0": "cc-by-nc-sa-3.0",
    "CC-BY-NC-ND-4.0": "cc-by-nc-nd-4.0",
    "CC-BY-NC-3.0": "cc-by-nc-3.0",
    "MIT": "mit",
    "Apache-2.0": "apache-2.0",
    "ODbL-1.0": "odbl",
    "PDDL-1.0": "pddl",
    "OpenRAIL": "openrail",
}
_HF_NORMALISED = {normalise_licence(k): v for k, v in _HF_IDS.items()}


def hf_license_id(licence: str | None) -> str:
    """The hub's ``license`` value: its id for known SPDX licences, ``other`` for named terms."""
    if not licence:
        return "unknown"
    return _HF_NORMALISED.get(normalise_licence(licence), "other")


def record_terms(ds: Dataset) -> RecordTerms:
    """The plain-data view of a record that :func:`curate.policy.upload.decide_upload` decides on."""
    builtin = ds.builtin_record
    return RecordTerms(ds.id, ds.licence.value, ds.use_terms.value if ds.use_terms is not None else None,
                       tuple(str(c.value) for c in ds.conflicts if c.field == "licence"),
                       builtin=record_terms(builtin) if builtin is not None else None)


def upload_decision(ds: Dataset) -> TermsDecision:
    """Whether ``ds``'s images may be uploaded: its licence, the built-in record it replaces, every source
    it derives from, and every dataset a measurement found sharing images with it (measured lineage, with
    that dataset's sources; :mod:`curate.policy.upload`, :func:`curate.catalog.lineage.measured_links`)."""
    sources, missing = ds.lineage
    links, unknown = ds.measured_lineage
    measured = []
    for other, how in links:  # the measured dataset, then its stated sources (their terms bind its images)
        measured.append((record_terms(other), how))
        measured += [(record_terms(s), f"a source (derived_from) of {other.id}, {how}")
                     for s in other.lineage[0] if s.id != ds.id]
    return decide_upload(record_terms(ds), sources=[record_terms(s) for s in sources],
                         missing_sources=missing, measured=measured, missing_measured=unknown)
