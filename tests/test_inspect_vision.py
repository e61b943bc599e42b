"""CleanVision manager: its checks flag planted blurred / dark / blank / narrow images; its colour-only
grayscale check stays off for a grayscale modality."""

from __future__ import annotations

import numpy as np
import pytest

from curate.engine.inspect import InspectData
from curate.engine.inspect.planted import planted_images
from curate.engine.inspect.vision import VisionManager

cleanvision = pytest.importorskip("cleanvision")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("png")
    return root, planted_images(root, normal=30, seed=0)


def _run(root, planted, **options):
    files = [str(root / f) for f in planted.file]
    return VisionManager().find(InspectData(X=None, images=files), **options)


def test_planted_images_found_and_grayscale_not_flagged(folder):
    root, planted = folder
    res = _run(root, planted)
    iss = res.issues
    for row, kind in enumerate(planted.planted):
        if kind:
            assert kind in set(iss.issue[iss.row == row]), kind
    assert "grayscale" not in set(iss.issue)  # every image is a grayscale radiograph
    assert "grayscale" not in res.summary["checks"] and any("grayscale modality" in n for n in res.notes)
    normal = np.flatnonzero(planted.planted == "")
    assert not set(iss.row) & set(normal)  # no normal radiograph flagged
    assert res.summary["checked"] == len(planted)


def test_flags_are_cleanvisions(folder):
    """The manager is CleanVision: the same flags as Imagelab run directly on the same files."""
    from cleanvision import Imagelab

    root, planted = folder
    lab = Imagelab(filepaths=[str(root / f) for f in planted.file], verbose=False)
    lab.find_issues({"dark": {}, "blurry": {}}, n_jobs=1, verbose=False)
    direct = lab.issues.loc[[str(root / f) for f in planted.file]]
    iss = _run(root, planted).issues
    for check in ("dark", "blurry"):
        want = set(np.flatnonzero(direct[f"is_{check}_issue"].to_numpy()))
        assert set(iss.row[iss.issue == check]) == want


def test_grayscale_check_kept_when_asked_and_in_colour_folders(tmp_path, folder):
    root, planted = folder
    res = _run(root, planted, grayscale=False)
    assert (res.issues.issue == "grayscale").sum() == len(planted)
    # a colour folder with one grayscale picture: the check runs and flags that one only
    from PIL import Image

    rng = np.random.default_rng(1)
    for i in range(12):
        Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(tmp_path / f"c{i}.png")
    Image.fromarray(rng.integers(0, 255, (64, 64), dtype=np.uint8)).save(tmp_path / "g.png")
    files = sorted(str(p) for p in tmp_path.glob("*.png"))
    res = VisionManager().find(InspectData(X=None, images=files))
    flagged = res.issues[res.issues.issue == "grayscale"].row.tolist()
    assert [files[r] for r in flagged] == [str(tmp_path / "g.png")]


def test_unreadable_file_counted_not_fatal(tmp_path, folder):
    root, planted = folder
    (tmp_path / "bad.png").write_text("not an image")
    files = [str(root / f) for f in planted.file[:5]] + [str(tmp_path / "bad.png")]
    res = VisionManager().find(InspectData(X=None, images=files))
    assert res.summary["checked"] == 5 and "1 file(s) are not readable images" in res.notes[0]


def test_sixteen_bit_is_displayed(tmp_path):
    """16-bit PNGs go through curate's 8-bit display (CleanVision alone misreads 16-bit)."""
    from PIL import Image

    from curate.engine.inspect.vision import display

    a = (np.random.default_rng(0).random((64, 64)) * 4000).astype(np.uint16)
    Image.fromarray(a).save(tmp_path / "x16.png")
    im = display(str(tmp_path / "x16.png"))
    assert im.mode == "L" and np.asarray(im).max() == 255 and np.asarray(im).min() == 0
