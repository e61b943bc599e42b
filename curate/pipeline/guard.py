"""The licence guard: what may be uploaded to the Hugging Face Hub for a catalog dataset.

The decision is :func:`curate.policy.upload.decide_upload` — an allow-list over the record's licence id,
the built-in record it replaces and every dataset it derives from — gathered by
:func:`curate.catalog.licences.upload_decision`; this module only turns it into an error or a
:class:`GuardDecision`. Checked before any network call; building a folder locally is never refused.

==================================================  ==========================  ===========================
licence and terms                                   upload with images          card-only upload
==================================================  ==========================  ===========================
exactly a known licence id (``CC-BY-4.0``,          allowed (the card carries   allowed
``CC0-1.0``, ``MIT`` ...) allowing redistribution   the licence)
and derivatives, use_terms agreeing, every source
(``derived_from``) and the built-in record too
credentialed, data use agreement, application,      **refused**                 allowed
not released, competition rules, no redistribution,
no derivatives (ND) — in the record, the built-in
record it replaces, any source, or any dataset
measured (``overlaps``) to share images with it
any other licence text (extra words, confusable     **refused** (card-only)     allowed
or control characters, unknown names) without
complete structured ``use_terms``
such text *with* permissive structured use_terms,   refused unless              allowed
or a source / built-in record curate cannot read    ``i_have_rights``
==================================================  ==========================  ===========================

Credentialed and agreement terms bind every user individually: a re-upload would hand the images to people
who never agreed to them, whatever the uploader's own rights. ``i_have_rights`` never unlocks a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from curate.catalog.schema import Dataset
from curate.errors import LicenceError
from curate.policy.terms import IMAGES_REFUSED, NEEDS_RIGHTS, TermsDecision, UseTerms

#: Access classes whose images are never re-published (kept for callers; the decision uses the terms).
NEVER_WITH_IMAGES = ("credentialed", "restricted")


@dataclass(frozen=True)
class GuardDecision:
    """What the guard allowed, and the sentence the card and the CLI show about it."""

    dataset_id: str
    licence: str
    access: str
    with_images: bool
    acknowledged: bool = False
    terms: UseTerms = field(default_factory=UseTerms)
    images: str = "allowed"  # the terms' own decision: allowed, refused or needs-rights
    reason: str = ""
    conflict: str | None = None
    decided_by: str | None = None

    def statement(self) -> str:
        what = "images and metadata" if self.with_images else "documentation only (no images)"
        ack = (" The uploader confirmed holding the rights to redistribute the images."
               if self.acknowledged else "")
        conflict = f" Licence conflict: {self.conflict}." if self.conflict else ""
        return (f"Licence: {self.licence} (access class: {self.access}; use terms: {self.terms.describe()})."
                f" This repository holds {what}.{ack}{conflict}")

    def manifest(self) -> dict:
        """JSON-ready record of the decision, written into the hub folder and checked by the push."""
        return {"dataset_id": self.dataset_id, "licence": self.licence, "access": self.access,
                "terms": self.terms.model_dump(), "images": self.images, "with_images": self.with_images,
                "conflict": self.conflict, "decided_by": self.decided_by}


def decision_for(dataset: Dataset) -> TermsDecision:
    """The upload decision for ``dataset``: its licence, the built-in record it replaces, its sources."""
    from curate.catalog.licences import upload_decision

    return upload_decision(dataset)


def check_upload(dataset: Dataset, *, with_images: bool, i_have_rights: bool = False) -> GuardDecision:
    """Allow or refuse uploading ``dataset`` to the hub; raise :class:`LicenceError` saying why.

    >>> import curate
    >>> brset = curate.catalog.load().get("BRSET")
    >>> check_upload(brset, with_images=False).access
    'credentialed'
    """
    decision = local_decision(dataset, with_images=with_images, i_have_rights=i_have_rights)
    licence, access = decision.licence, decision.access
    if with_images and decision.images == IMAGES_REFUSED:
        raise LicenceError(
            f"refusing to upload the images of {dataset.id}: its licence '{_shown(licence)}' ({access} "
            f"access) keeps them card-only: {_shown(decision.reason)}; --i-have-rights alone does not "
            "change that; push the documentation only with --card-only"
        )
    if with_images and decision.images == NEEDS_RIGHTS and not i_have_rights:
        why = [f"its licence '{_shown(licence)}' is not one curate recognises as allowing redistribution "
               f"({_shown(decision.reason)})"]
        why += [_shown(decision.conflict)] if decision.conflict else []
        raise LicenceError(
            f"refusing to upload the images of {dataset.id}: {'; '.join(why)}; pass --i-have-rights if you "
            "hold the rights to redistribute these images, or push the documentation only with --card-only"
        )
    return decision


def local_decision(dataset: Dataset, *, with_images: bool, i_have_rights: bool = False) -> GuardDecision:
    """The decision recorded for a folder built locally (no push): never refuses."""
    terms = decision_for(dataset)
    override = dataset.licence_override
    return GuardDecision(dataset.id, dataset.licence.value, dataset.access or "unknown", with_images,
                         acknowledged=with_images and terms.images == NEEDS_RIGHTS and i_have_rights,
                         terms=terms.terms or dataset.terms, images=terms.images, reason=terms.reason,
                         conflict=override.statement() if override is not None else None,
                         decided_by=terms.decided_by)


def _shown(text: str) -> str:
    """``text`` with invisible and bidirectional control characters made visible (``<U+202E>``), so that
    a message quoting a licence shows what it says, not what it displays as."""
    import unicodedata

    return "".join(f"<U+{ord(c):04X}>" if unicodedata.category(c) in ("Cf", "Cc") else c for c in text)
