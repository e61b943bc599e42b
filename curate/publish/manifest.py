"""The hub folder's publish manifest: which dataset a folder was built for, under which licence decision.

``curate publish`` writes ``.curate-publish.json`` (hidden, so it is never uploaded) next to the card;
:func:`curate.publish.push.push_folder` reads it back and refuses — before any network call — a folder
built for another dataset, under other licence terms, or holding files the publish run did not write
(images dropped into a card-only folder). Without this check a folder built locally for a credentialed
dataset could be pushed as an open one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from curate.errors import InputError, LicenceError
from curate.policy.terms import normalise_licence

if TYPE_CHECKING:  # pragma: no cover
    from curate.catalog.schema import Dataset
    from curate.pipeline.guard import GuardDecision

PUBLISH_MANIFEST = ".curate-publish.json"
_VERSION = 1


def _listed(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def write_publish_manifest(folder: Path, dataset: Dataset, decision: GuardDecision, *,
                           card_only: bool) -> None:
    """Record the dataset, its licence decision and every (uploadable) file of a freshly built folder."""
    payload = {"written_by": "curate publish", "version": _VERSION, **decision.manifest(),
               "card_only": card_only, "record_hash": dataset.record_hash(), "files": _listed(folder)}
    from curate.output import write_text

    write_text(folder / PUBLISH_MANIFEST, json.dumps(payload, indent=1, ensure_ascii=False) + "\n",
               atomic=False)


def read_publish_manifest(folder: Path) -> dict:
    """The manifest of ``folder``; a missing or corrupt one is an error (the folder is not curate's)."""
    path = folder / PUBLISH_MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"'{folder}' has no {PUBLISH_MANIFEST} (build it with curate publish first); "
                         "nothing uploaded") from None
    except (OSError, ValueError):
        data = None
    if (not isinstance(data, dict) or data.get("written_by") != "curate publish"
            or not isinstance(data.get("dataset_id"), str) or not isinstance(data.get("files"), list)):
        raise InputError(f"'{folder}': {PUBLISH_MANIFEST} is not a valid curate publish manifest "
                         "(rebuild the folder with curate publish); nothing uploaded")
    return data


def check_folder_matches(folder: Path, dataset: Dataset) -> dict:
    """Refuse a push of ``folder`` as ``dataset`` unless its manifest says it was built for it, under the
    same licence and terms, and the folder holds only the files that publish wrote."""
    m = read_publish_manifest(folder)
    if m["dataset_id"] != dataset.id:
        raise LicenceError(f"'{folder}' was built for {m['dataset_id']}, not {dataset.id}: push it as "
                           f"{m['dataset_id']} or rebuild it with curate publish {dataset.id}; "
                           "nothing uploaded")
    if (normalise_licence(m.get("licence")) != normalise_licence(dataset.licence.value)
            or m.get("terms") != _effective_terms(dataset)
            or m.get("access") != (dataset.access or "unknown")):
        raise LicenceError(f"'{folder}' was built under the licence '{m.get('licence')}' "
                           f"({m.get('access')} access); the catalog now gives '{dataset.licence.value}' "
                           f"({dataset.access} access): rebuild it with curate publish; nothing uploaded")
    extra = sorted(set(_listed(folder)) - set(m["files"]))
    if extra:
        raise InputError(f"'{folder}' holds {len(extra)} file(s) curate publish did not write (e.g. "
                         f"{extra[0]}): rebuild it with curate publish; nothing uploaded")
    return m


def _effective_terms(dataset: Dataset) -> dict:
    """The terms the guard decides on now (the record's, its built-in record's and its sources')."""
    from curate.pipeline.guard import decision_for

    d = decision_for(dataset)
    return (d.terms or dataset.terms).model_dump()
