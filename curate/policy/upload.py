"""The upload decision for a catalog dataset: an allow-list over its licence, its built-in record and
its lineage.

Plain data in, a decision out (this module knows no catalog): the caller describes each record involved
as a :class:`RecordTerms` — the record itself, the built-in record a user record replaced, and every
dataset it derives from (``derived_from``, followed transitively) — and :func:`decide_upload` returns a
:class:`~curate.policy.terms.TermsDecision` naming the record that decided.

Rules
-----
One record's verdict (:func:`record_verdict`):

1. its licence value is exactly a known licence id (:func:`curate.policy.licence_ids.exact_licence`):
   the id's terms, made stricter by the record's structured ``use_terms`` and by any restriction its
   conflicting licences name, decide (:func:`curate.policy.terms.decide`);
2. otherwise (extra words, confusable or control characters, an unknown name) the restrictions the text
   names still count (read with :func:`curate.policy.terms.terms_for_licence`), and:
   a restriction → *refused*; structured ``use_terms`` that state every term needed and allow
   redistribution → *needs-rights* (images only when the uploader confirms holding the rights);
   no such terms → *refused* (card-only: ``--i-have-rights`` alone does not unlock it).

The dataset's decision (:func:`decide_upload`) is the strictest of

- its own verdict;
- the verdict of the built-in record it replaces: a built-in record's restriction always wins over a user
  record with the same id or alias, with or without ``--i-have-rights``; a built-in record whose terms
  curate cannot read caps the decision at *needs-rights*;
- the verdict of each source it derives from (a derived dataset is at most as open as its most restrictive
  source): a source's restriction refuses; a source whose terms curate cannot read, or that is not in the
  catalog, caps the decision at *needs-rights*.
- the verdict of each dataset it *measurably* shares images with (``measured``: a measurement at a copy
  tier, recorded on either record's ``overlaps``; see :func:`curate.catalog.lineage.measured_links`), and
  of that dataset's stated sources: the same bounds as a source; a measured dataset not in the catalog
  caps the decision at *needs-rights*.

The first record (own, built-in, sources in lineage order, then measured ones) reaching the strictest
level is named in ``decided_by`` and in the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from curate.policy.licence_ids import exact_licence, licence_text_problems
from curate.policy.terms import (
    IMAGES_ALLOWED,
    IMAGES_REFUSED,
    NEEDS_RIGHTS,
    REQUIRED_FOR_UPLOAD,
    TermsDecision,
    UseTerms,
    decide,
    terms_for_licence,
)

_LEVEL = {IMAGES_ALLOWED: 0, NEEDS_RIGHTS: 1, IMAGES_REFUSED: 2}
_REMEDY = (" (give the SPDX id, or state use_terms in a catalog record and confirm them with "
           "--i-have-rights)")
_AGREEMENT_RANK = ("credentialed", "not-released", "dua", "application", "none")


@dataclass(frozen=True)
class RecordTerms:
    """One catalog record's licence facts, as plain data.

    ``use_terms`` are the structured terms the record *states* (None when it states none);
    ``conflicting_licences`` are other licence texts its sources give; ``builtin`` is the built-in record
    this (user) record replaces, if any.
    """

    dataset_id: str
    licence: str
    use_terms: UseTerms | None = None
    conflicting_licences: tuple[str, ...] = ()
    builtin: RecordTerms | None = None


@dataclass(frozen=True)
class Verdict:
    """One record's verdict: the level, why, whether it comes from a stated restriction, its terms."""

    images: str
    reason: str
    terms: UseTerms = field(default_factory=UseTerms)
    restriction: bool = False  # True when the terms forbid; False when curate cannot tell


def stated_merge(*terms: UseTerms | None) -> UseTerms:
    """Combine terms where ``None`` means *not stated*: a restriction stated by any wins, then a
    permission stated by any; a term no one states stays ``None``."""
    out: dict[str, object] = {}
    for name in UseTerms.model_fields:
        vals = [getattr(t, name) for t in terms if t is not None and getattr(t, name) is not None]
        if not vals:
            out[name] = None
        elif name == "agreement":
            out[name] = min(vals, key=_AGREEMENT_RANK.index)
        elif name in ("attribution", "share_alike", "competition"):  # True is the restriction
            out[name] = True in vals
        else:
            out[name] = False not in vals
    return UseTerms(**out)  # type: ignore[arg-type]


def record_verdict(record: RecordTerms) -> Verdict:
    """The verdict of one record alone (rules 1-2 of the module docstring)."""
    conflicts = [terms_for_licence(c) for c in record.conflicting_licences]
    exact = exact_licence(record.licence)
    if exact is not None:
        terms = stated_merge(exact[1], record.use_terms, *conflicts)
        d = decide(terms)
        return Verdict(d.images, f"licence {exact[0]}: {d.reason}", terms, d.images == IMAGES_REFUSED)
    read = terms_for_licence(record.licence)
    terms = stated_merge(read, record.use_terms, *conflicts)
    d = decide(terms)
    if d.images == IMAGES_REFUSED:
        return Verdict(IMAGES_REFUSED, d.reason, terms, True)
    why = "; ".join(licence_text_problems(record.licence))
    stated = record.use_terms
    if stated is None or any(getattr(stated, f) is None for f in REQUIRED_FOR_UPLOAD):
        return Verdict(IMAGES_REFUSED, f"the licence text is not exactly a licence id curate knows ({why}), "
                                       "and the record states no complete structured use_terms", terms, False)
    return Verdict(NEEDS_RIGHTS, f"the licence text is not exactly a licence id curate knows ({why}); the "
                                 "record's structured use_terms allow redistribution, which only the "
                                 "uploader can confirm", terms, False)


def _with_builtin(record: RecordTerms) -> list[tuple[str, Verdict]]:
    out = [(record.dataset_id, record_verdict(record))]
    if record.builtin is not None:
        out.append((f"the built-in record of {record.builtin.dataset_id}", record_verdict(record.builtin)))
    return out


def _capped(v: Verdict) -> Verdict:
    """A built-in record's or a source's verdict as a bound on another record: a stated restriction
    refuses; terms curate cannot read cap at needs-rights."""
    if v.images == IMAGES_REFUSED and not v.restriction:
        return Verdict(NEEDS_RIGHTS, v.reason, v.terms, False)
    return v


def decide_upload(record: RecordTerms, *, sources: Sequence[RecordTerms] = (),
                  missing_sources: Sequence[str] = (),
                  measured: Sequence[tuple[RecordTerms, str]] = (),
                  missing_measured: Sequence[str] = ()) -> TermsDecision:
    """The upload decision for ``record`` given its lineage ``sources`` (ancestors, transitively, each
    with its own ``builtin``) and the names of sources not in the catalog (``missing_sources``); and its
    measured lineage: ``measured`` (each dataset a measurement found sharing images with it, with the
    sentence saying how) and ``missing_measured`` (datasets its measurements name that are not in the
    catalog). A measured dataset bounds the decision exactly as a source does, and is named as measured.

    Returns a :class:`TermsDecision` with ``images`` (allowed / refused / needs-rights), ``reason``,
    ``terms`` (the effective terms: every stated restriction of every record involved) and ``decided_by``.

    >>> from curate.policy.upload import RecordTerms, decide_upload
    >>> decide_upload(RecordTerms("X", "CC-BY-4.0 (NC-ND)")).images
    'refused'
    >>> brset = RecordTerms("BRSET", "PhysioNet Credentialed Health Data License")
    >>> d = decide_upload(RecordTerms("BRSET", "CC-BY-4.0", builtin=brset))
    >>> d.images, d.decided_by
    ('refused', 'the built-in record of BRSET')
    """
    chain = _with_builtin(record)
    own = chain[0][1]
    bounds = [(who, _capped(v)) for who, v in chain[1:]]
    for src in sources:
        for who, v in _with_builtin(src):
            bounds.append((f"source {src.dataset_id} (derived_from)" if who == src.dataset_id
                           else f"{who} (a source, derived_from)", _capped(v)))
    for name in missing_sources:
        bounds.append((f"source {name} (derived_from)",
                       Verdict(NEEDS_RIGHTS, f"its source {name} is not in the catalog, so its terms are "
                                             "unknown", UseTerms(), False)))
    for src, how in measured:
        for who, v in _with_builtin(src):
            bounds.append((f"{who} ({how})" if who == src.dataset_id
                           else f"{who} (of {src.dataset_id}: {how})", _capped(v)))
    for name in missing_measured:
        bounds.append((f"{name} (measured overlap)",
                       Verdict(NEEDS_RIGHTS, f"a measurement found images shared with {name}, which is not "
                                             "in the catalog, so its terms are unknown", UseTerms(), False)))
    ranked = [(record.dataset_id, own), *bounds]
    level = max(_LEVEL[v.images] for _, v in ranked)
    who, v = next((w, x) for w, x in ranked if _LEVEL[x.images] == level)
    terms = stated_merge(*(x.terms for _, x in ranked))
    if who == record.dataset_id:
        reason = v.reason + ("" if v.restriction or v.images != IMAGES_REFUSED else _REMEDY)
    else:
        reason = f"decided by {who}: {v.reason}"
    return TermsDecision(v.images, reason, terms=terms, decided_by=who)
