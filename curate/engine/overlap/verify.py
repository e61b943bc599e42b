"""Tier 3's verification on the decoded pixels: is a hash candidate really a copy?

The rule (recorded in the result's ``params``), for two grey thumbnails (:mod:`.features`), in each
direction (either image may be the cropped one):

1. **intensity**: the source's values are mapped onto the target's distribution by quantile (histogram
   matching, :func:`matched`), which undoes any monotonic change — window / level, bit depth, gamma;
2. **alignment**: the source is assumed to hold the target as a crop of up to ``MAX_CROP`` of each side
   (left + right ≤ ``MAX_CROP``, top + bottom ≤ ``MAX_CROP``, steps of ``CROP_STEP``); every pair of
   coarse boxes (every ``COARSE_EVERY``-th step) is tried at a quarter of ``VERIFY``, then the boxes next
   to the best at half and at full ``VERIFY`` × ``VERIFY`` (a pyramid). A box is resampled by area
   averaging — a linear map, so the whole search is a few matrix products;
3. **score**: Pearson correlation of the two images after a high-pass (the image minus its Gaussian blur,
   σ = ``HIGHPASS_SIGMA`` pixels at ``VERIFY``), over the target's informative pixels: not in a clipped
   region (a window that saturates) and not on its strongest edges (the top ``EDGE_SHARE`` of gradient
   magnitudes). What is left is the image's own texture and noise, which a copy keeps through resizing
   and re-compression and another image — another slice of the same patient, look-alike anatomy — does not.

4. **worst region**: the correlation is taken in each of ``TILES`` × ``TILES`` tiles holding at least
   ``TILE_ENERGY`` × the mean tile's high-passed energy, and the score is the **lowest** (:func:`worst_tile`):
   a copy agrees everywhere, a look-alike only where both images share structure (a fundus rim, a burnt-in
   text) — one global correlation let such shared structure carry look-alikes to 0.6-0.84.

The pair's score is the larger of the two directions, computed on the aligned crop histogram-matched again
(a crop holds another mix of intensities than the whole image); a copy needs ``min_similarity`` (default
``MIN_SIMILARITY``). Measured on hash candidates (planted benchmark seeds 1 and 3; the demo's fundus
images, 40 patients, seeds 0-2): copies score 0.39-1.0 (a x0.5 resize lowest), non-copies at most 0.18
(demo) and below 0 (planted, hard negatives included); the global correlation had copies 0.84-1.0 and
demo look-alikes up to 0.84.
"""

from __future__ import annotations

from typing import Any

import numpy as np

VERIFY = 48
MAX_CROP = 0.12
CROP_STEP = 0.005
COARSE_EVERY = 4
MIN_SIMILARITY = 0.3
TILES = 6
TILE_ENERGY = 0.1
HIGHPASS_SIGMA = 2.0
EDGE_SHARE = 0.3


def area_matrix(lo: float, hi: float, n_in: int, n_out: int) -> np.ndarray:
    """``(n_out, n_in)`` weights resampling the fraction ``[lo, hi]`` of a line of ``n_in`` pixels to
    ``n_out`` pixels by area averaging (each output pixel the mean of the input it covers)."""
    edges = lo * n_in + (hi - lo) * n_in * np.arange(n_out + 1) / n_out
    left, right = edges[:-1, None], edges[1:, None]
    pix = np.arange(n_in)[None, :]
    cover = np.clip(np.minimum(right, pix + 1) - np.maximum(left, pix), 0, None)
    return cover / cover.sum(axis=1, keepdims=True)


def _boxes() -> np.ndarray:
    """Every crop box of one side, ``(boxes, 2)`` (low, high fractions); box 0 is the whole side."""
    steps = np.round(np.arange(0, MAX_CROP + 1e-9, CROP_STEP), 4)
    return np.array([(a, 1 - b) for a in steps for b in steps if a + b <= MAX_CROP + 1e-9])


BOXES = _boxes()
#: The coarse grid (every second step) searched first; then the boxes next to the best coarse one.
COARSE = np.flatnonzero((np.round(BOXES[:, 0] / CROP_STEP) % COARSE_EVERY == 0)
                        & (np.round((1 - BOXES[:, 1]) / CROP_STEP) % COARSE_EVERY == 0))
_CACHE: dict[tuple[int, int], np.ndarray] = {}


def _near(k: int) -> np.ndarray:
    """The boxes within half a coarse step of box ``k`` on both ends."""
    reach = CROP_STEP * COARSE_EVERY / 2
    return np.flatnonzero(np.all(np.abs(BOXES - BOXES[k]) <= reach + 1e-9, axis=1))


def _highpass_matrix(n: int = VERIFY, sigma: float = HIGHPASS_SIGMA) -> np.ndarray:
    """``I - G``: the linear map removing a Gaussian blur (reflected edges) from a line of ``n`` pixels."""
    from scipy.ndimage import gaussian_filter1d

    return (np.eye(n) - gaussian_filter1d(np.eye(n), sigma, axis=0, mode="reflect")).astype(np.float32)


def _box_mats(n_in: int, v: int = VERIFY) -> np.ndarray:
    """Every crop box's area matrix followed by the high-pass, ``(boxes, v, n_in)`` (cached per size):
    resampling a box and removing the blur are both linear, so one product does both."""
    if (n_in, v) not in _CACHE:
        hp = _highpass_matrix(v, HIGHPASS_SIGMA * v / VERIFY)
        _CACHE[n_in, v] = np.stack([hp @ area_matrix(lo, hi, n_in, v) for lo, hi in BOXES]).astype(np.float32)
    return _CACHE[n_in, v]


def _scores(imgs: np.ndarray, keep: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Pearson correlation of each high-passed image ``(k, V, V)`` with ``target`` over ``keep``
    (``target``: the kept pixels, centred, unit norm; so only the images' variances are needed)."""
    x = imgs.reshape(len(imgs), -1)[:, keep]
    var = np.einsum("ij,ij->i", x, x) - x.sum(axis=1) ** 2 / x.shape[1]
    return (x @ target) / np.sqrt(np.where(var > 0, var, np.inf))


def _informative(img: np.ndarray) -> np.ndarray:
    """Pixels (flattened) that carry an image's own texture: not in a clipped region (a value tied at the
    minimum or maximum over more than 1 % of the image, e.g. after a window / level change; 2-pixel margin)
    and not on the strongest edges (the top ``EDGE_SHARE`` of gradient magnitudes), which another image of
    the same anatomy shares."""
    from scipy.ndimage import binary_dilation, gaussian_gradient_magnitude

    flat = np.zeros(img.shape, dtype=bool)
    for v in (img.min(), img.max()):
        tie = np.isclose(img, v, atol=0.5)
        if tie.mean() > 0.01:
            flat |= tie
    keep = ~binary_dilation(flat, iterations=2)
    if EDGE_SHARE > 0:
        grad = gaussian_gradient_magnitude(img.astype(np.float32), 1.0)
        keep &= grad <= np.quantile(grad[keep] if keep.any() else grad, 1 - EDGE_SHARE)
    return keep.ravel() if keep.mean() > 0.1 else np.ones(img.size, dtype=bool)


def _target(dst: np.ndarray, v: int) -> tuple[np.ndarray, np.ndarray]:
    """(kept pixels, high-passed ``dst`` at ``v`` × ``v`` over them, centred, unit norm)."""
    whole = area_matrix(0.0, 1.0, dst.shape[0], v).astype(np.float32)
    keep = _informative(whole @ dst @ whole.T)
    hp = _box_mats(dst.shape[0], v)[0]                                # box 0: the whole image
    target = (hp @ dst @ hp.T).ravel()[keep]
    target = target - target.mean()
    return keep, target / (np.linalg.norm(target) or 1.0)


def _half(img: np.ndarray) -> np.ndarray:
    n = img.shape[0] // 2 * 2
    return img[:n, :n].reshape(n // 2, 2, n // 2, 2).mean(axis=(1, 3))


#: One image as a target: (kept pixels, high-passed values) at quarter, half and full verification size,
#: then the image itself at full size (for the final histogram matching).
Prepared = tuple[Any, ...]


def prepare(thumb: np.ndarray) -> Prepared:
    """What the comparison needs of an image as the target, at quarter, half and full resolution."""
    d = thumb.astype(np.float32)
    whole = area_matrix(0.0, 1.0, d.shape[0], VERIFY).astype(np.float32)
    return (_target(_half(_half(d)), VERIFY // 4), _target(_half(d), VERIFY // 2), _target(d, VERIFY),
            whole @ d @ whole.T)


def _refine(s: np.ndarray, v: int, dst: tuple[np.ndarray, np.ndarray], v_best: int,
            h_best: int) -> tuple[float, int, int]:
    """The horizontal, then the vertical boxes next to (v_best, h_best): (best score, v box, h box)."""
    n = s.shape[0]
    mats = _box_mats(n, v)
    keep, target = dst
    h = _near(h_best)
    imgs = ((mats[v_best] @ s) @ mats[h].reshape(-1, n).T).reshape(v, len(h), v).transpose(1, 0, 2)
    sims = _scores(imgs, keep, target)
    h_best = int(h[np.argmax(sims)])
    vv = _near(v_best)
    imgs = (mats[vv].reshape(-1, n) @ (s @ mats[h_best].T)).reshape(len(vv), v, v)
    sims = _scores(imgs, keep, target)
    return float(sims.max()), int(vv[np.argmax(sims)]), h_best


def _one_way(src: np.ndarray, dst: np.ndarray, prep: Prepared) -> float:
    """Score of ``dst`` as a crop of ``src``: the box is searched with ``src`` histogram-matched to ``dst``
    over the whole image — every pair of coarse boxes at quarter resolution, then the boxes next to the best
    at half and at full resolution (a pyramid) — and scored with the aligned crop itself histogram-matched
    to ``dst`` (a crop holds another mix of intensities than the whole image)."""
    s = matched(src, dst).astype(np.float32)
    s2 = _half(s)
    s4 = _half(s2)
    v, k = VERIFY // 4, len(COARSE)
    keep, target = prep[0]
    c = _box_mats(s4.shape[0], v)[COARSE].reshape(-1, s4.shape[0])   # (coarse boxes * v, n / 4)
    grid = ((c @ s4) @ c.T).reshape(k, v, k, v).transpose(0, 2, 1, 3).reshape(k * k, v, v)
    sims = _scores(grid, keep, target)
    v_best, h_best = (int(COARSE[i]) for i in np.unravel_index(int(np.argmax(sims)), (k, k)))
    _, v_best, h_best = _refine(s2, VERIFY // 2, prep[1], v_best, h_best)
    _, v_best, h_best = _refine(s, VERIFY, prep[2], v_best, h_best)
    n = src.shape[0]
    crop = (area_matrix(*BOXES[v_best], n, VERIFY) @ src.astype(np.float64)
            @ area_matrix(*BOXES[h_best], n, VERIFY).T)
    crop = matched(crop, prep[3])
    hp = _box_mats(VERIFY)[0]                          # box 0 (the whole) of a VERIFY image: the high-pass
    keep, target = prep[2]
    return worst_tile((hp @ crop @ hp.T).ravel()[keep], target, keep)


def worst_tile(x: np.ndarray, t: np.ndarray, keep: np.ndarray) -> float:
    """The lowest Pearson correlation of ``x`` and ``t`` (kept pixels) over the ``TILES`` × ``TILES`` tiles of
    the ``VERIFY`` image whose energy is at least ``TILE_ENERGY`` × the mean tile's: a copy agrees in every
    region, a look-alike only where both share structure (the fundus rim, a burnt-in text)."""
    idx = np.flatnonzero(keep)
    tile = (idx // VERIFY * TILES // VERIFY) * TILES + idx % VERIFY * TILES // VERIFY
    corr, energy = [], []
    for k in np.unique(tile):
        m = tile == k
        if m.sum() < 10:
            continue
        a, b = x[m] - x[m].mean(), t[m] - t[m].mean()
        ea, eb = float(a @ a), float(b @ b)
        energy.append(ea + eb)
        corr.append(float(a @ b) / np.sqrt(ea * eb) if ea > 0 and eb > 0 else 0.0)
    if not corr:
        return 0.0
    e = np.array(energy)
    return float(np.array(corr)[e >= TILE_ENERGY * e.mean()].min())


def matched(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """``src``'s values mapped onto ``dst``'s distribution by quantile (histogram matching): a monotonic
    intensity change (window / level, bit depth, gamma) between two copies is undone."""
    order = np.argsort(src.ravel(), kind="stable")
    out = np.empty(src.size, dtype=np.float32)
    at = np.linspace(0, dst.size - 1, src.size).round().astype(int)
    out[order] = np.sort(dst.ravel()).astype(np.float32)[at]
    return out.reshape(src.shape)


def similarity(a: np.ndarray, b: np.ndarray, pa: Prepared | None = None, pb: Prepared | None = None) -> float:
    """Aligned correlation of two thumbnails, each mapped onto the other's intensity distribution (the
    larger of the two crop directions); ``pa`` / ``pb``: :func:`prepare` of each, when already done."""
    return max(_one_way(a, b, pb or prepare(b)), _one_way(b, a, pa or prepare(a)))


def verify_pairs(thumbs_a: np.ndarray, thumbs_b: np.ndarray, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    """:func:`similarity` of each candidate pair ``(thumbs_a[ia[k]], thumbs_b[ib[k]])``, on a thread per
    core with one BLAS thread each (the products are small: more BLAS threads only wait on each other)."""
    from threadpoolctl import threadpool_limits

    from curate.engine.dedup.kernel import parallel_map

    if not len(ia):
        return np.zeros(0, dtype=np.float64)
    with threadpool_limits(1):
        prep_a = {int(i): prepare(thumbs_a[i]) for i in np.unique(ia)}
        prep_b = {int(i): prepare(thumbs_b[i]) for i in np.unique(ib)}

        def run(span: tuple[int, int]) -> list[float]:
            return [similarity(thumbs_a[a], thumbs_b[b], prep_a[int(a)], prep_b[int(b)])
                    for a, b in zip(ia[span[0]:span[1]], ib[span[0]:span[1]])]

        spans = [(s, min(s + 32, len(ia))) for s in range(0, len(ia), 32)]
        return np.array([x for part in parallel_map(run, spans) for x in part], dtype=np.float64)
