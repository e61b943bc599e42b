"""Documented maxima of the size-like parameters, checked once in the library (docs/cli.md, "Limits").

Without them ``curate demo --n-patients 1000000000`` ran until killed. Each limit is far above any
real use of the parameter. Keys are the *Python* parameter names; the message names the parameter, the
value and the allowed range, and the CLI words it with the flag (:mod:`curate.validation`).
"""

from __future__ import annotations

from curate.validation import Interval, check

#: Python parameter -> its documented range (inclusive)
LIMITS: dict[str, Interval] = {
    "n_patients": Interval(20, 100_000),  # demo: 2 PNG images per patient (+ duplicates)
    "dim": Interval(8, 4096),  # demo embedding dimension
    "image_size": Interval(16, 1024),  # demo image side in pixels
    "k": Interval(1, 1_000_000),  # clusters per level (also ≤ the number of points)
    "levels": Interval(1, 6),  # hierarchical k-means levels
    "niter": Interval(1, 1000),  # Lloyd iterations per level
    "workers": Interval(1, 1024),  # Dask local workers
    "max_distance": Interval(0, 64),  # pHash Hamming distance (64-bit hashes)
    "seeds": Interval(1, 100),  # probe training runs
    "epochs": Interval(1, 10_000),  # probe epochs
    "batch_size": Interval(1, 65_536),
    "bootstrap": Interval(0, 100_000),  # audit bootstrap replicates
    "num_workers": Interval(0, 256),  # embed DataLoader workers
    "permutations": Interval(0, 100_000),  # audit permutations of the test of no disparity
    "seed": Interval(0, 2**63 - 1),  # numpy seeds are non-negative integers
}
#: max_shard_size bounds in bytes (decimal units, as ``datasets`` reads them): 1 KB (tests, tiny sets) to
#: 50 GB; a shard holds at least one image
SHARD_BYTES = (1000, 50 * 1000**3)


def check_range(param: str, value: int | None, lo: int | None = None, hi: int | None = None) -> int | None:
    """``value`` if within the documented range of ``param`` (None passes), else a ParameterError.

    ``lo`` / ``hi`` override the documented bounds (e.g. ``k`` at most the number of points).
    """
    limit = LIMITS.get(param, Interval())
    return check(param, value, Interval(limit.lo if lo is None else lo, limit.hi if hi is None else hi))
