"""The licence guard: what may be uploaded to the Hugging Face Hub for a catalog dataset.

The decision is :func:`curate.policy.terms.decide`, computed from the record's structured use terms
(``use_terms``, or the terms read from its licence); this module only turns it into an error or a
:class:`GuardDecision`. Checked before any network call; building a folder locally is never refused.

==================================================  ==========================  ===========================
terms                                               upload with images          card-only upload
==================================================  ==========================  ===========================
redistribution and derivatives allowed (CC BY,      allowed (the card carries   allowed
CC BY-SA, CC BY-NC(-SA), CC0, MIT ...)              the licence)
credentialed, data use agreement, application,      **refused**                 allowed
not released, competition rules, no redistribution,
no derivatives (ND)
unknown terms, or a user record overriding a        refused unless              allowed
built-in record's licence or access                 ``i_have_rights``
==================================================  ==========================  ===========================

Credentialed and agreement terms bind every user individually: a re-upload would hand the images to people
who never agreed to them, whatever the uploader's own rights. An unknown licence may be fine, but only the
uploader can know that, so they must say so explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from curate.catalog.schema import Dataset
from curate.errors import LicenceError
from curate.policy.terms import IMAGES_REFUSED, NEEDS_RIGHTS, TermsDecision, UseTerms, decide

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
                "conflict": self.conflict}


def decision_for(dataset: Dataset) -> TermsDecision:
    """The terms' decision for ``dataset`` (its use terms, and whether a user record overrides them)."""
    return decide(dataset.terms, override=dataset.licence_override is not None)


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
            f"refusing to upload the images of {dataset.id}: its licence '{licence}' is {access} access "
            f"({decision.reason}; each user must obtain the data from the source); "
            "push the documentation only with --card-only"
        )
    if with_images and decision.images == NEEDS_RIGHTS and not i_have_rights:
        why = [] if decision.reason.startswith("a user catalog record") else [
            f"its licence '{licence}' is not one curate recognises as allowing redistribution "
            f"({decision.reason})"]
        why += [decision.conflict] if decision.conflict else []
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
                         terms=dataset.terms, images=terms.images, reason=terms.reason,
                         conflict=override.statement() if override is not None else None)
