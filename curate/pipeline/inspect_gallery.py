"""The review gallery of ``curate inspect``: the top examples of each issue type, when images are at hand.

Gathered here (pipeline: it reads the image files and makes the thumbnails); written by the renderer
(:func:`curate.report.inspect.write_inspect` → :func:`curate.report.gallery.write_review_gallery`, a
look-only page: no script, no choices). Only the checks that read image files (``quality`` on ``--dicom``,
``cleanvision`` on ``--images``) have pictures to show; the embedding checks' rows are not files. Each
flagged image is one tile, labelled by the same keyed pseudonym as ``issues.csv``, with its issue type and
score; per issue type the ``top`` highest scores, so the page is a local working file like ``issues.csv``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from curate.pipeline.thumbnails import GalleryGroup

#: Examples per issue type in the gallery (``--gallery-top``).
GALLERY_TOP = 12


def gallery_groups(report: Any, key: Any, *, top: int = GALLERY_TOP) -> list[GalleryGroup]:
    """One group per shown image of ``report`` (a :class:`curate.pipeline.inspect.InspectReport`): the
    ``top`` highest-scored flagged images of each issue type of every check that has image files, in check,
    issue and score order (an unreadable file gets the "no image" tile)."""
    from curate.pipeline.thumbnails import GalleryGroup, GalleryItem, thumbnail

    groups: list[GalleryGroup] = []
    for name, res in report.results.items():
        paths = report.paths.get(name)
        iss = res.issues
        if not paths or iss is None or not len(iss) or top <= 0:
            continue
        iss = iss[iss["flagged"].astype(bool)].sort_values(["issue", "score", "row"],
                                                           ascending=[True, False, True], kind="stable")
        picked = iss.groupby("issue", sort=True).head(top)
        rows = picked["row"].to_numpy(dtype=int)
        labels = key.pseudonymise(report.ids[name][rows], kind="image")
        for label, row, issue, score in zip(labels, rows, picked["issue"], picked["score"]):
            try:
                image = thumbnail(paths[row])
            except Exception:  # a file the check counted but cannot be shown: a placeholder tile
                image = None
            groups.append(GalleryGroup(key=f"{label}|{issue}", items=[GalleryItem(str(label), image)],
                                       tier=f"{name}: {issue}", score=float(score)))
    return groups
