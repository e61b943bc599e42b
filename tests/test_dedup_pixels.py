"""Thumbnail dedup: `pixels-centred` finds planted copies without false pairs; raw `pixels` does not.

scikit-image's sample photographs are not installed here, so the photographs are generated with PIL:
smooth random scenes under one of two strong colour casts (two "cameras"), like fundus or outdoor photos
whose brightness and tint dominate the raw thumbnails.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageEnhance

pytest.importorskip("torch")


def _scene(rng, cast):
    small = rng.normal(0, 1, (6, 6, 3))
    arr = cast[None, None, :] + 15 * small  # content of modest amplitude around a strong colour cast
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).resize((96, 96), Image.BICUBIC)
    return img


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """60 distinct scenes + 12 planted copies (resized, JPEG re-encoded, brightened); truth as name pairs."""
    root = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    casts = [np.array([225.0, 190, 50]), np.array([60.0, 200, 215])]
    names = []
    for k in range(60):
        _scene(rng, casts[k % 2]).save(root / f"s{k:02d}.png")
        names.append(f"s{k:02d}")
    truth = set()
    for k in range(12):
        src = Image.open(root / f"s{k:02d}.png")
        if k % 3 == 0:
            cp = src.resize((160, 160), Image.BILINEAR)
        elif k % 3 == 1:
            buf = io.BytesIO()
            src.save(buf, format="JPEG", quality=80)
            cp = Image.open(io.BytesIO(buf.getvalue()))
        else:
            cp = ImageEnhance.Brightness(src).enhance(1.05)
        cp.convert("RGB").save(root / f"t{k:02d}.png")
        truth.add((f"s{k:02d}", f"t{k:02d}"))
    return root, truth


def _pairs(root, backbone, t=0.95):
    from curate.engine.dedup import dedup
    from curate.engine.embed import embed

    e = embed(root, backbone=backbone, id_from="stem").embeddings
    res = dedup(e, t, method="exact", device="cpu")
    return set(zip(res.pairs.id_a, res.pairs.id_b)), e


def test_centred_thumbnails_find_copies_without_false_pairs(photos):
    root, truth = photos
    got, e = _pairs(root, "pixels-centred")
    assert truth <= got  # every planted copy
    assert len(got - truth) <= 1  # ~0 false pairs among 72 * 71 / 2
    v = e.vectors.astype(np.float64)
    np.testing.assert_allclose(v.reshape(len(v), 3, -1).sum(axis=2), 0, atol=1e-4)  # centred per channel
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)


def test_raw_thumbnails_are_dominated_by_the_colour_cast(photos):
    """The reason for the centred backbone: raw thumbnails pair many different scenes of one camera."""
    root, truth = photos
    got, _ = _pairs(root, "pixels")
    assert len(got - truth) > 50


def test_flat_image_maps_to_the_constant_vector(tmp_path):
    from curate.engine.embed import embed

    Image.fromarray(np.full((32, 32, 3), 77, np.uint8)).save(tmp_path / "flat.png")
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(
        tmp_path / "noise.png")
    v = embed(tmp_path, backbone="pixels-centred", id_from="stem").embeddings.vectors
    np.testing.assert_allclose(v[0], np.full(192, 192**-0.5), atol=1e-6)
    assert abs(float(v[0] @ v[1])) < 1e-5
