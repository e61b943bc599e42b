"""Tier 3's verification on the decoded pixels: is a hash candidate really a copy?

The rule (recorded in the result's ``params``): both equalised thumbnails (:mod:`.features`) are compared
at ``VERIFY`` × ``VERIFY`` pixels, the one image assumed to be a crop of the other by up to ``MAX_CROP`` of
each side's length (in either direction). For each direction the crop box on the source is searched on a
grid of ``CROP_STEP`` (left + right ≤ ``MAX_CROP``, top + bottom ≤ ``MAX_CROP``; the horizontal and the
vertical box alternately, ``ROUNDS`` times), the box resampled by area averaging (exact linear maps, so the
search is a few matrix products) and compared with the other image by Pearson correlation. On equalised
values that is a rank correlation, so window / level and bit-depth changes do not lower it; resizing and
re-compression change a few ranks; a different image — another slice of the same patient, look-alike
anatomy with its own texture — keeps a correlation well below the ``min_similarity`` threshold (default
``MIN_SIMILARITY``) at every offset.
"""

from __future__ import annotations

import numpy as np

VERIFY = 48
MAX_CROP = 0.12
CROP_STEP = 0.01
MIN_SIMILARITY = 0.5
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
COARSE = np.flatnonzero((np.round(BOXES[:, 0] / CROP_STEP) % 2 == 0)
                        & (np.round((1 - BOXES[:, 1]) / CROP_STEP) % 2 == 0))
_CACHE: dict[tuple[int, int], np.ndarray] = {}


def _near(k: int) -> np.ndarray:
    """The boxes within one step of box ``k`` on both ends."""
    return np.flatnonzero(np.all(np.abs(BOXES - BOXES[k]) <= CROP_STEP + 1e-9, axis=1))


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


Prepared = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def prepare(thumb: np.ndarray) -> Prepared:
    """What the comparison needs of an image as the target, at half and at full resolution."""
    d = thumb.astype(np.float32)
    return _target(_half(d), VERIFY // 2), _target(d, VERIFY)


def _one_way(src: np.ndarray, dst: Prepared) -> float:
    """Best correlation of ``dst`` with a crop of ``src``: every pair of coarse boxes at half resolution,
    then the finer horizontal and vertical boxes next to the best at full resolution."""
    s = src.astype(np.float32)
    v, k = VERIFY // 2, len(COARSE)
    s2 = _half(s)
    keep, target = dst[0]
    c = _box_mats(s2.shape[0], v)[COARSE].reshape(-1, s2.shape[0])   # (coarse boxes * v, n / 2)
    grid = ((c @ s2) @ c.T).reshape(k, v, k, v).transpose(0, 2, 1, 3).reshape(k * k, v, v)
    sims = _scores(grid, keep, target)
    v_best, h_best = (int(COARSE[i]) for i in np.unravel_index(int(np.argmax(sims)), (k, k)))
    n, v = s.shape[0], VERIFY
    mats = _box_mats(n)
    keep, target = dst[1]
    h = _near(h_best)
    imgs = ((mats[v_best] @ s) @ mats[h].reshape(-1, n).T).reshape(v, len(h), v).transpose(1, 0, 2)
    sims = _scores(imgs, keep, target)
    best, h_best = float(sims.max()), int(h[np.argmax(sims)])
    vv = _near(v_best)
    imgs = (mats[vv].reshape(-1, n) @ (s @ mats[h_best].T)).reshape(len(vv), v, v)
    return max(best, float(_scores(imgs, keep, target).max()))


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
    return max(_one_way(matched(a, b), pb or prepare(b)), _one_way(matched(b, a), pa or prepare(a)))


def verify_pairs(thumbs_a: np.ndarray, thumbs_b: np.ndarray, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    """:func:`similarity` of each candidate pair ``(thumbs_a[ia[k]], thumbs_b[ib[k]])``, on a thread per
    core with one BLAS thread each (the products are small)."""
    from curate.engine.dedup.kernel import parallel_map

    if not len(ia):
        return np.zeros(0, dtype=np.float64)
    prep_a = {int(i): prepare(thumbs_a[i]) for i in np.unique(ia)}
    prep_b = {int(i): prepare(thumbs_b[i]) for i in np.unique(ib)}

    def run(span: tuple[int, int]) -> list[float]:
        return [similarity(thumbs_a[a], thumbs_b[b], prep_a[int(a)], prep_b[int(b)])
                for a, b in zip(ia[span[0]:span[1]], ib[span[0]:span[1]])]

    spans = [(s, min(s + 64, len(ia))) for s in range(0, len(ia), 64)]
    return np.array([x for part in parallel_map(run, spans) for x in part], dtype=np.float64)
