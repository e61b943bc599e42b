"""The licence guard: what may be uploaded to the Hugging Face Hub for a catalog dataset.

Rules (checked before any network call; building a folder locally is never refused):

============================  =====================  ==========================================
access class (from licence)   upload with images     card-only upload (README, croissant, datasheet)
============================  =====================  ==========================================
open                          allowed                allowed
open-noncommercial            allowed (the card      allowed
                              carries the licence)
credentialed (PhysioNet ...)  **refused**            allowed
restricted (DUA, research     **refused**            allowed
use only, on request ...)
unknown                       refused unless         allowed
                              ``i_have_rights``
============================  =====================  ==========================================

Credentialed and restricted terms bind every user individually (a signed data-use agreement, training,
an approved application): a re-upload would hand the images to people who never agreed to them, whatever
the uploader's own rights. An unknown licence may be fine, but only the uploader can know that, so they
must say so explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass

from curate.catalog.schema import Dataset
from curate.errors import LicenceError

#: Access classes whose images are never re-published.
NEVER_WITH_IMAGES = ("credentialed", "restricted")


@dataclass(frozen=True)
class GuardDecision:
    """What the guard allowed, and the sentence the card and the CLI show about it."""

    dataset_id: str
    licence: str
    access: str
    with_images: bool
    acknowledged: bool = False

    def statement(self) -> str:
        what = "images and metadata" if self.with_images else "documentation only (no images)"
        ack = (" The uploader confirmed holding the rights to redistribute the images."
               if self.acknowledged else "")
        return (f"Licence: {self.licence} (access class: {self.access}). This repository holds {what}.{ack}")


def check_upload(dataset: Dataset, *, with_images: bool, i_have_rights: bool = False) -> GuardDecision:
    """Allow or refuse uploading ``dataset`` to the hub; raise :class:`LicenceError` saying why.

    >>> import curate
    >>> brset = curate.catalog.load().get("BRSET")
    >>> check_upload(brset, with_images=False).access
    'credentialed'
    """
    licence = dataset.licence.value
    access = dataset.access or "unknown"
    if with_images and access in NEVER_WITH_IMAGES:
        raise LicenceError(
            f"refusing to upload the images of {dataset.id}: its licence '{licence}' is {access} access "
            "(each user must obtain the data from the source under its own terms); "
            "push the documentation only with --card-only"
        )
    if with_images and access == "unknown" and not i_have_rights:
        raise LicenceError(
            f"refusing to upload the images of {dataset.id}: its licence '{licence}' is not one curate "
            "recognises as allowing redistribution; pass --i-have-rights if you hold the rights to "
            "redistribute these images, or push the documentation only with --card-only"
        )
    return GuardDecision(dataset.id, licence, access, with_images,
                         acknowledged=with_images and access == "unknown" and i_have_rights)
