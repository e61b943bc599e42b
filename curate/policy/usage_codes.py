"""A record's use terms as machine-readable codes: GA4GH DUO consent codes and an ODRL policy.

Croissant 1.1 codes data-use conditions in ``usageInfo`` with DUO and ODRL (shared/standards.md). Only
terms the sources state become codes: a term that is ``None`` (not stated) is left out rather than coded
as permitted, and a restriction is never dropped. DUO identifiers and labels are those of the ontology's
``duo.csv`` (EBISPOT/DUO); ODRL actions are from the ODRL 2.2 common vocabulary.
"""

from __future__ import annotations

from typing import Any

from curate.policy.terms import UseTerms

DUO = "http://purl.obolibrary.org/obo/"
ODRL = "http://www.w3.org/ns/odrl/2/"

#: DUO codes curate emits: id -> (shorthand, label).
DUO_TERMS: dict[str, tuple[str, str]] = {
    "DUO:0000046": ("NCU", "non-commercial use only"),
    "DUO:0000026": ("US", "user specific restriction"),
    "DUO:0000021": ("IRB", "ethics approval required"),
}


def duo_codes(terms: UseTerms) -> list[str]:
    """DUO modifiers the terms state: non-commercial use (NCU); use by approved users only (US) when
    access needs credentialing, a data use agreement or an application."""
    codes = []
    if terms.commercial is False:
        codes.append("DUO:0000046")
    if terms.agreement in ("credentialed", "dua", "application"):
        codes.append("DUO:0000026")
    return codes


def odrl_policy(terms: UseTerms, target: str) -> dict[str, Any] | None:
    """An ODRL policy over ``target`` with the stated permissions, prohibitions and duties (or None)."""
    perm, proh, duty = [], [], []
    for flag, action in ((terms.redistribution, "distribute"), (terms.derivatives, "derive")):
        if flag is True:
            perm.append(action)
        elif flag is False:
            proh.append(action)
    if terms.attribution:
        duty.append("attribute")
    if not (perm or proh or duty):
        return None
    policy: dict[str, Any] = {"@type": "odrl:Policy", "odrl:uid": f"{target}#use-terms"}
    if perm or duty:
        rules = [{"odrl:action": {"@id": f"odrl:{a}"}, "odrl:target": target} for a in perm or ["use"]]
        if duty:
            for r in rules:
                r["odrl:duty"] = [{"odrl:action": {"@id": f"odrl:{d}"}} for d in duty]
        policy["odrl:permission"] = rules
    if proh:
        policy["odrl:prohibition"] = [{"odrl:action": {"@id": f"odrl:{a}"}, "odrl:target": target}
                                      for a in proh]
    return policy


def usage_info(terms: UseTerms, target: str, source: str) -> list[dict[str, Any]]:
    """Croissant ``usageInfo``: one DefinedTerm per DUO code and the ODRL policy, each citing ``source``."""
    out: list[dict[str, Any]] = []
    for code in duo_codes(terms):
        short, label = DUO_TERMS[code]
        out.append({"@type": "sc:DefinedTerm", "termCode": code, "name": f"{label} ({short})",
                    "inDefinedTermSet": f"{DUO}duo.owl", "url": DUO + code.replace(":", "_"),
                    "description": f"GA4GH Data Use Ontology code, from the record's use terms ({source})"})
    policy = odrl_policy(terms, target)
    if policy is not None:
        out.append(policy)
    return out
