"""Licence → access class, and licence → Hugging Face ``license`` id.

The access class drives the publishing guard: ``credentialed`` and ``restricted`` datasets are never
re-published with their images; ``unknown`` needs an explicit acknowledgement.
"""

from __future__ import annotations

import re

_OPEN = (
    r"CC0-1\.0",
    r"CC-BY(-\d\.\d)?",  # a table may print the licence without its version ("CC BY")
    r"CC-BY-SA(-\d\.\d)?",
    r"CC[- ]BY \(version not stated.*\)",
    r"MIT",
    r"Apache-2\.0",
    r"BSD-\d-Clause",
    r"ODbL-1\.0",
    r"PDDL-1\.0",
    r"CDLA-Permissive-\d\.\d",
    r"OpenRAIL.*",
)
_NONCOMMERCIAL = (r"CC-BY-NC(-SA|-ND)?(-\d\.\d)?", r".*\bnon-?commercial\b.*")
_CREDENTIALED = (r"PhysioNet Credentialed Health Data License.*",)
_RESTRICTED = (
    r"PhysioNet Restricted Health Data License.*",
    r".*Research Use Agreement.*",
    r".*Data Use Agreement.*",
    r"Restricted.*",
    r"Not publicly released.*",
    r".*on request.*",
    r".*application.*",
)


def _match(patterns: tuple[str, ...], licence: str) -> bool:
    return any(re.fullmatch(p, licence, flags=re.IGNORECASE) for p in patterns)


def access_for_licence(licence: str | None) -> str:
    """Access class of a licence string (SPDX id or named terms).

    >>> access_for_licence("CC-BY-NC-SA-4.0")
    'open-noncommercial'
    >>> access_for_licence("PhysioNet Credentialed Health Data License 1.5.0")
    'credentialed'
    """
    if not licence:
        return "unknown"
    lic = licence.strip()
    if _match(_NONCOMMERCIAL, lic):
        return "open-noncommercial"
    if _match(_OPEN, lic):
        return "open"
    if _match(_CREDENTIALED, lic):
        return "credentialed"
    if _match(_RESTRICTED, lic):
        return "restricted"
    return "unknown"


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


def hf_license_id(licence: str | None) -> str:
    """The hub's ``license`` value: its id for known SPDX licences, ``other`` for named terms."""
    if not licence:
        return "unknown"
    for spdx, hf in _HF_IDS.items():
        if spdx.lower() == licence.strip().lower():
            return hf
    return "other"
