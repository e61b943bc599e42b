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
MIN_SIMILARITY = 0.6
HIGHPASS_SIGMA = 2.0


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
_CACHE: dict[int, np.ndarray] = {}


def _box_mats(n_in: int) -> np.ndarray:
    """Every crop box's area matrix, ``(boxes, VERIFY, n_in)`` (cached per input size)."""
    if n_in not in _CACHE:
        _CACHE[n_in] = np.stack([area_matrix(lo, hi, n_in, VERIFY) for lo, hi in BOXES]).astype(np.float32)
    return _CACHE[n_in]


def _near(k: int) -> np.ndarray:
    return np.flatnonzero(np.all(np.abs(BOXES - BOXES[k]) <= CROP_STEP + 1e-9, axis=1))


def _highpass_matrix(n: int = VERIFY, sigma: float = HIGHPASS_SIGMA) -> np.ndarray:
    """``I - G``: the linear map removing a Gaussian blur (reflected edges) from a line of ``n`` pixels."""
    from scipy.ndimage import gaussian_filter1d

    return (np.eye(n) - gaussian_filter1d(np.eye(n), sigma, axis=0, mode="reflect")).astype(np.float32)


_HP = _highpass_matrix()


def _unit(x: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Images ``(k, V, V)`` high-passed, flattened, restricted to ``keep``, centred, scaled to unit norm."""
    x = (_HP @ x.astype(np.float32) @ _HP.T).reshape(len(x), -1)[:, keep]
    x = x - x.mean(axis=1, keepdims=True)
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(n > 0, n, 1)


def _unsaturated(img: np.ndarray) -> np.ndarray:
    """Pixels (flattened) away from the image's clipped extremes: a value tied at the minimum or maximum
    over more than 1 % of the image is a clipped (windowed) region, left out with a 2-pixel margin."""
    from scipy.ndimage import binary_dilation

    flat = np.zeros(img.shape, dtype=bool)
    for v in (img.min(), img.max()):
        tie = np.isclose(img, v, atol=0.5)
        if tie.mean() > 0.01:
            flat |= tie
    keep = ~binary_dilation(flat, iterations=2)
    return keep.ravel() if keep.mean() > 0.1 else np.ones(img.size, dtype=bool)


def _one_way(src: np.ndarray, dst: np.ndarray) -> float:
    """Best correlation of ``dst`` with a crop of ``src`` (both equalised thumbnails)."""
    mats = _box_mats(src.shape[0])
    full = area_matrix(0.0, 1.0, dst.shape[0], VERIFY).astype(np.float32)
    small = full @ dst.astype(np.float32) @ full.T
    keep = _unsaturated(small)
    target = _unit(small[None], keep)[0]
    s = src.astype(np.float32)
    h_best = v_best = 0  # box 0: the whole side
    best = -1.0
    for fine in (False, True):
        h = _near(h_best) if fine else COARSE
        sims = _unit(mats[v_best] @ s @ mats[h].transpose(0, 2, 1), keep) @ target  # horizontal boxes
        h_best = int(h[np.argmax(sims)])
        v = _near(v_best) if fine else COARSE
        sims = _unit(mats[v] @ (s @ mats[h_best].T), keep) @ target                 # vertical boxes
        v_best = int(v[np.argmax(sims)])
        best = max(best, float(sims.max()))
    return best


def matched(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """``src``'s values mapped onto ``dst``'s distribution by quantile (histogram matching): a monotonic
    intensity change (window / level, bit depth, gamma) between two copies is undone."""
    order = np.argsort(src.ravel(), kind="stable")
    out = np.empty(src.size, dtype=np.float32)
    at = np.linspace(0, dst.size - 1, src.size).round().astype(int)
    out[order] = np.sort(dst.ravel()).astype(np.float32)[at]
    return out.reshape(src.shape)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Aligned correlation of two thumbnails, each mapped onto the other's intensity distribution (the
    larger of the two crop directions)."""
    return max(_one_way(matched(a, b), b), _one_way(matched(b, a), a))


def verify_pairs(thumbs_a: np.ndarray, thumbs_b: np.ndarray, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    """:func:`similarity` of each candidate pair ``(thumbs_a[ia[k]], thumbs_b[ib[k]])``."""
    return np.array([similarity(thumbs_a[a], thumbs_b[b]) for a, b in zip(ia, ib)], dtype=np.float64)
