"""Redistribution policy as data: a record's structured use terms, and the one upload decision.

Why structured terms instead of a list of licence patterns: a pattern list is only as safe as its order
("non-commercial" tested before "credentialed" let a credentialed dataset through). Here a licence string
is read into :class:`UseTerms` — every restriction it names is recorded, and a restriction always wins
over a permission — and :func:`decide` computes from those terms alone whether a dataset's images may be
uploaded, or only its documentation (*card-only*).

Rules of :func:`decide`, first match wins:

1. credentialed access, a data/research use agreement, access by application, or data not publicly
   released → card-only (these terms bind each user individually);
2. competition terms → card-only (the data may be used only under the competition's rules);
3. redistribution not allowed → card-only;
4. no-derivatives (ND) → card-only (a re-packaged, re-encoded copy with pseudonymised metadata is adapted
   material);
5. any of redistribution, derivatives, agreement or competition unknown → images only with
   ``--i-have-rights``;
6. a user record that overrides a built-in record's licence or access → images only with
   ``--i-have-rights``;
7. otherwise the images may be uploaded (the card carries the licence, including NC and SA terms).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

#: What each user must do before getting the data (``none``: download freely).
AGREEMENTS: tuple[str, ...] = ("none", "credentialed", "dua", "application", "not-released")
Agreement = Literal[AGREEMENTS]  # type: ignore[valid-type]
#: Outcomes of :func:`decide` for the images.
IMAGES_ALLOWED, IMAGES_REFUSED, NEEDS_RIGHTS = "allowed", "refused", "needs-rights"
#: Fields that must all be known before images may be uploaded without ``--i-have-rights``.
REQUIRED_FOR_UPLOAD: tuple[str, ...] = ("redistribution", "derivatives", "agreement", "competition")


class UseTerms(BaseModel):
    """What a licence lets a re-publisher do; ``None`` means the source does not say."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    redistribution: bool | None = None
    derivatives: bool | None = None
    commercial: bool | None = None
    attribution: bool | None = None
    share_alike: bool | None = None
    agreement: Agreement | None = None
    competition: bool | None = None

    def describe(self) -> str:
        """One readable line, e.g. ``redistribution allowed; no derivatives; non-commercial only``."""
        def yn(v: bool | None, yes: str, no: str, what: str) -> str:
            return yes if v is True else no if v is False else f"{what} not stated"

        parts = [yn(self.redistribution, "redistribution allowed", "no redistribution", "redistribution"),
                 yn(self.derivatives, "derivatives allowed", "no derivatives", "derivatives"),
                 yn(self.commercial, "commercial use allowed", "non-commercial only", "commercial use")]
        if self.attribution:
            parts.append("attribution required")
        if self.share_alike:
            parts.append("share-alike")
        agreement = {"none": None, "credentialed": "credentialed access (training and a signed agreement)",
                     "dua": "a data use agreement for each user",
                     "application": "access by application / on request",
                     "not-released": "not publicly released", None: "access conditions not stated"}
        if agreement[self.agreement]:
            parts.append(agreement[self.agreement])  # type: ignore[arg-type]
        if self.competition:
            parts.append("competition terms")
        return "; ".join(parts)


UNKNOWN = UseTerms()

# ------------------------------------------------------------------------------------ normalisation
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d"), "-")


def normalise_licence(text: str | None) -> str:
    """Canonical form for *reading* restrictions: NFKC, format characters (zero-width space, joiners,
    BOM, soft hyphen, bidi controls) removed, Unicode confusables folded to the Latin letters they imitate
    (:mod:`curate.policy.confusables`), dashes unified, case folded, ``licence`` → ``license``, whitespace
    collapsed. Whether images may be uploaded is never decided on this form: see
    :mod:`curate.policy.upload`.

    >>> normalise_licence("CC\u200b-BY-NC\u2013ND 4.0 Licence")
    'cc-by-nc-nd 4.0 license'
    """
    if not text:
        return ""
    t = unicodedata.normalize("NFKC", str(text))
    t = "".join(ch for ch in t if unicodedata.category(ch) != "Cf")  # zero-width, bidi, soft hyphen
    if not t.isascii():  # letters that imitate Latin ones (Cyrillic с) read as what they imitate
        from curate.policy.confusables import fold_confusables

        t = fold_confusables(t)
    t = t.translate(_DASHES).casefold()
    t = re.sub(r"\blicen[cs]e", "license", t)
    return re.sub(r"\s+", " ", t).strip()


# ------------------------------------------------------------------------------------------ parsing
_CC = re.compile(r"\bcc[- ]?by((?:[- ](?:nc|nd|sa))*)(?:[- ]v?\d(?:\.\d)?)?(?=$|[\s(),;:.])")
_CC_LONG = re.compile(r"\bcreative commons attribution\b")
_PUBLIC_DOMAIN = re.compile(r"\bcc[- ]?(?:0|zero)(?:[- ]1\.0)?(?=$|[\s(),;:.])|\bpublic domain\b|\bpddl\b")
_PERMISSIVE = re.compile(r"^(?:mit|apache[- ]2\.0|bsd[- ]\d[- ]clause|cdla[- ]permissive[- ]\d\.\d)"
                         r"(?: license)?$")
_SHARE_ALIKE_DATA = re.compile(r"^(?:odbl[- ]1\.0|cdla[- ]sharing[- ]\d\.\d|openrail\b.*)")
_FLAGS = {
    "nc": re.compile(r"\bnon-?commercial\b|\bnot for commercial\b|\bno commercial\b|\bnc\b"),
    "nd": re.compile(r"\bno[- ]?derivatives?\b|\bnoderivs\b|\bno derivative works\b|\bnd\b"),
    "sa": re.compile(r"\bshare-?alike\b|\bsa\b"),
    "credentialed": re.compile(r"\bcredentialed\b|\bcredentialing\b"),
    "dua": re.compile(r"\b(?:data|research) (?:use|usage|access|sharing|transfer) agreement\b|\bdua\b"
                      r"|\brua\b|\bdta\b|\bsign(?:ed|ing|s)? (?:a |the )?(?:\w+ ){0,3}(?:agreement|terms)\b"
                      r"|\brestricted health data license\b|\blicense agreement\b"),
    "application": re.compile(r"\bon request\b|\bupon request\b|\bapplication\b|\bapply\b|\bapproval\b"
                              r"|^restricted\b|\brestricted access\b|\bregistration\b|\bmust register\b"),
    "not-released": re.compile(r"\bnot (?:publicly )?released\b|\bnot public(?:ly available)?\b"
                               r"|\bproprietary\b"),
    "competition": re.compile(r"\bchallenge\b|\bcompetition\b|\bkaggle\b|\bcontest\b"),
}


def terms_for_licence(licence: str | None) -> UseTerms:
    """Read a licence string (SPDX id or named terms) into :class:`UseTerms`; restrictions win.

    >>> terms_for_licence("CC-BY-NC-ND-4.0").derivatives
    False
    >>> terms_for_licence("PhysioNet Credentialed Health Data Licence 1.5 (non-commercial only)").agreement
    'credentialed'
    """
    t = normalise_licence(licence)
    if not t:
        return UNKNOWN
    v: dict[str, object] = {}
    cc = _CC.search(t)
    if cc or _CC_LONG.search(t):
        mods = set(re.split(r"[- ]", cc.group(1))) if cc else set()
        v = dict(redistribution=True, derivatives="nd" not in mods, commercial="nc" not in mods,
                 attribution=True, share_alike="sa" in mods, agreement="none", competition=False)
    elif _PUBLIC_DOMAIN.search(t):
        v = dict(redistribution=True, derivatives=True, commercial=True, attribution=False, share_alike=False,
                 agreement="none", competition=False)
    elif _PERMISSIVE.match(t):
        v = dict(redistribution=True, derivatives=True, commercial=True, attribution=True, share_alike=False,
                 agreement="none", competition=False)
    elif _SHARE_ALIKE_DATA.match(t):
        v = dict(redistribution=True, derivatives=True, commercial=True, attribution=True, share_alike=True,
                 agreement="none", competition=False)
    flags = {name for name, rx in _FLAGS.items() if rx.search(t)}
    # restrictions, applied after the permissions so that they always win
    if "nc" in flags:
        v["commercial"] = False
    if "nd" in flags:
        v["derivatives"] = False
    if "sa" in flags:
        v["share_alike"] = True
    for agreement in ("application", "dua", "not-released", "credentialed"):  # the strongest last
        if agreement in flags:
            v["agreement"] = agreement
            v["redistribution"] = False
            if agreement != "application":
                v["derivatives"] = False
    if "competition" in flags:
        v["competition"] = True
        v["redistribution"] = False
    return UseTerms(**v)  # type: ignore[arg-type]


def most_restrictive(*terms: UseTerms) -> UseTerms:
    """Combine the terms several sources give: a restriction stated by any source wins; a permission
    holds only if no source restricts it (unknown stays unknown unless some source restricts)."""
    out: dict[str, object] = {}
    for name in UseTerms.model_fields:
        vals = [getattr(t, name) for t in terms]
        if name == "agreement":
            ranked = [a for a in ("credentialed", "not-released", "dua", "application") if a in vals]
            out[name] = ranked[0] if ranked else (None if None in vals else "none")
        elif name in ("competition", "attribution", "share_alike"):  # True is the restriction
            out[name] = True if True in vals else (None if None in vals else False)
        else:
            out[name] = False if False in vals else (None if None in vals else True)
    return UseTerms(**out)  # type: ignore[arg-type]


def more_permissive_fields(claimed: UseTerms, derived: UseTerms) -> list[str]:
    """Fields where ``claimed`` grants what ``derived`` (read from the licence) restricts."""
    bad = []
    for name in ("redistribution", "derivatives", "commercial"):
        if getattr(derived, name) is False and getattr(claimed, name) is True:
            bad.append(name)
    for name in ("attribution", "share_alike", "competition"):
        if getattr(derived, name) is True and getattr(claimed, name) is False:
            bad.append(name)
    if derived.agreement not in (None, "none") and claimed.agreement == "none":
        bad.append("agreement")
    return bad


def access_for_terms(terms: UseTerms) -> str:
    """The catalog's access class (open, open-noncommercial, credentialed, restricted, unknown)."""
    if terms.agreement == "credentialed":
        return "credentialed"
    if terms.agreement in ("dua", "application", "not-released") or terms.competition:
        return "restricted"
    if terms.redistribution is True and terms.commercial is False:
        return "open-noncommercial"
    if terms.redistribution is True and terms.commercial is True:
        return "open"
    return "unknown"


# ------------------------------------------------------------------------------------------ decision
@dataclass(frozen=True)
class TermsDecision:
    """Whether images may be uploaded (``allowed``, ``refused``, ``needs-rights``) and why."""

    images: str
    reason: str
    #: the effective terms the decision was made on (None for the terms-only :func:`decide`)
    terms: UseTerms | None = None
    #: which record decided: the dataset itself, the built-in record it replaces, or a source
    decided_by: str | None = None

    @property
    def card_only(self) -> bool:
        """True when only the documentation may be uploaded without an explicit acknowledgement."""
        return self.images != IMAGES_ALLOWED


_REFUSALS = {
    "credentialed": "credentialed access: each user must complete training and sign the data use agreement "
                    "themselves",
    "dua": "a data use agreement binds each user individually",
    "application": "access is granted per application or on request",
    "not-released": "the data is not publicly released",
}


def decide(terms: UseTerms, *, override: bool = False) -> TermsDecision:
    """The one upload decision, from the terms alone (see the module docstring for the rules)."""
    if terms.agreement in _REFUSALS:
        return TermsDecision(IMAGES_REFUSED, _REFUSALS[terms.agreement])
    if terms.competition:
        return TermsDecision(IMAGES_REFUSED, "competition terms: the data may be used only under the "
                                             "competition's rules")
    if terms.redistribution is False:
        return TermsDecision(IMAGES_REFUSED, "the terms do not allow redistribution")
    if terms.derivatives is False:
        return TermsDecision(IMAGES_REFUSED, "no-derivatives (ND) terms: a re-packaged copy is adapted "
                                             "material, which they forbid sharing")
    unknown = [f for f in REQUIRED_FOR_UPLOAD if getattr(terms, f) is None]
    if unknown:
        return TermsDecision(NEEDS_RIGHTS, "the sources do not state " + ", ".join(unknown))
    if override:
        return TermsDecision(NEEDS_RIGHTS, "a user catalog record overrides the built-in record's licence "
                                           "or access")
    return TermsDecision(IMAGES_ALLOWED, "the terms allow redistribution of the images")
