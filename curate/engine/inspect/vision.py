"""CleanVision manager: CleanVision's image-property checks on a folder of images.

CleanVision (Apache-2.0, ``cleanvision.Imagelab``) is the implementation: its ``blurry``, ``dark``,
``light``, ``odd_aspect_ratio``, ``odd_size`` and ``low_information`` checks with their default thresholds,
run on each image as curate displays it (:func:`curate.scan.images.load_image`: DICOM windowed to 8 bits,
NIfTI's middle slice; 8-bit PNG/JPEG/TIFF as they are; 16-bit and float PIL images stretched min–max to
8 bits, so for those the dark/light checks see the displayed image, not the stored exposure — the DICOM
quality check measures exposure on the stored range). Score = 1 − CleanVision's score (CleanVision scores
are in [0, 1], low = issue; here high = worse).

Its ``grayscale`` check flags every single-channel image: it is made for colour photographs, where a grey
picture is out of place. For a grayscale modality (radiographs, CT, MRI, ultrasound) it would flag every
image, so it is turned off: not run when ``grayscale=True``; when ``grayscale`` is None (the default) it is
run, and if at least half of the images are grayscale (CleanVision's own test) the folder is taken to be a
grayscale modality and its grayscale flags are dropped, with a note. ``grayscale=False`` keeps them.
CleanVision's own near-duplicate checks are not used: ``near_duplicate`` is curate's dedup engine.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

import numpy as np

from curate.engine.inspect import InspectData, IssueResult
from curate.errors import InputError, UsageError, require

#: CleanVision checks that hold for any modality.
CHECKS = ("blurry", "dark", "light", "odd_aspect_ratio", "odd_size", "low_information")
#: CleanVision checks that only make sense for colour photographs.
COLOUR_ONLY = ("grayscale",)
#: Share of grayscale images from which a folder is taken to be a grayscale modality.
GRAYSCALE_SHARE = 0.5


@dataclass
class VisionOptions:
    grayscale: bool | None = None
    n_jobs: int = 1
    seed: int = 0  # accepted (the pipeline passes it to every manager); the checks are deterministic
    n_splits: int = 5  # accepted; unused here

    def validate(self) -> None:
        if self.grayscale not in (None, True, False):
            raise UsageError("grayscale must be True, False or None (infer from the images)")


def display(path: str):
    """The image CleanVision sees: curate's 8-bit display (single-channel and RGB kept as they are)."""
    from curate.scan.images import eight_bit, load_image

    return eight_bit(load_image(path))


class _Displayed:
    """A sequence of ``(image,)`` tuples: the shape CleanVision's ``torchvision_dataset`` input reads."""

    def __init__(self, files: list[str]) -> None:
        self.files = files

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int):
        return (display(self.files[i]),)


def readable(files: list[str]) -> tuple[list[int], list[int]]:
    """(positions of files whose header reads as an image, positions of the others)."""
    from curate.scan.images import check_image

    ok, bad = [], []
    for i, f in enumerate(files):
        try:
            check_image(f)
        except Exception:  # any unreadable file is counted, not fatal
            bad.append(i)
        else:
            ok.append(i)
    return ok, bad


def run_cleanvision(files: list[str], checks: tuple[str, ...], n_jobs: int = 1):
    """CleanVision's issues frame (one row per file, in order) for ``checks``; its progress bars are
    silenced (they carry no data, but every console line leaves through curate.output)."""
    cv = require("cleanvision", "inspect")
    sink = io.StringIO()
    try:
        with contextlib.redirect_stderr(sink), contextlib.redirect_stdout(sink):
            lab = cv.Imagelab(torchvision_dataset=_Displayed(files), verbose=False)
            lab.find_issues({c: {} for c in checks}, n_jobs=n_jobs, verbose=False)
    except (OSError, ValueError) as exc:
        raise InputError(f"CleanVision could not read an image of the folder ({type(exc).__name__})") from exc
    return lab.issues.sort_index()


class VisionManager:
    """CleanVision's image-property checks, colour-only checks off for grayscale modalities."""

    name = "cleanvision"
    needs = ("images",)

    def find(self, data: InspectData, **options) -> IssueResult:
        import pandas as pd

        opt = VisionOptions(**options)
        opt.validate()
        if not data.images:
            raise UsageError("the cleanvision check needs image files (--images)")
        ok, bad = readable(list(data.images))
        notes = [f"{len(bad)} file(s) are not readable images: not checked"] if bad else []
        empty = pd.DataFrame(columns=["row", "issue", "score", "flagged"])
        summary: dict = {"files": len(data.images), "checked": len(ok),
                         "thresholds": "CleanVision's defaults"}
        if not ok:
            return IssueResult(self.name, empty, summary=summary, notes=notes)
        checks = CHECKS if opt.grayscale else (*CHECKS, *COLOUR_ONLY)
        frame = run_cleanvision([data.images[i] for i in ok], checks, opt.n_jobs)
        keep = list(CHECKS)
        if not opt.grayscale:
            share = float(frame["is_grayscale_issue"].mean())
            if opt.grayscale is None and share >= GRAYSCALE_SHARE:
                notes.append(f"{share:.0%} of the images are grayscale: a grayscale modality, so "
                             "CleanVision's colour-only check (grayscale) is off")
            else:
                keep += list(COLOUR_ONLY)
        summary["checks"] = keep
        rows = [pd.DataFrame({"row": np.asarray(ok), "issue": c,
                              "score": 1.0 - frame[f"{c}_score"].to_numpy(dtype=np.float64),
                              "flagged": frame[f"is_{c}_issue"].to_numpy(dtype=bool)}) for c in keep]
        issues = pd.concat(rows, ignore_index=True)
        issues = issues[issues["flagged"]].reset_index(drop=True)
        counts = issues.groupby("issue")["row"].nunique().to_dict()
        summary.update({"images_flagged": int(issues["row"].nunique()),
                        "flagged_by_issue": {k: int(v) for k, v in counts.items()}})
        return IssueResult(self.name, issues, summary=summary, notes=notes)
