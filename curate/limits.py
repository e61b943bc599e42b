"""Documented maxima of the size-like parameters, checked once at the edge (docs/cli.md, "Limits").

Without them ``curate demo --n-patients 1000000000`` ran until killed. Each limit is far above any
real use of the option; the message names the parameter, the value and the allowed range.
"""

from __future__ import annotations

from curate.errors import UsageError

#: option -> (minimum, maximum), inclusive
LIMITS: dict[str, tuple[int, int]] = {
    "--n-patients": (20, 100_000),  # demo: 2 PNG images per patient (+ duplicates)
    "--dim": (8, 4096),  # demo embedding dimension
    "--image-size": (16, 1024),  # demo image side in pixels
    "--k": (1, 1_000_000),  # clusters per level (also ≤ the number of points)
    "--levels": (1, 6),  # hierarchical k-means levels
    "--niter": (1, 1000),  # Lloyd iterations per level
    "--workers": (1, 1024),  # Dask local workers
    "--max-distance": (0, 64),  # pHash Hamming distance (64-bit hashes)
    "--seeds": (1, 100),  # probe training seeds
    "--epochs": (1, 10_000),  # probe epochs
    "--batch-size": (1, 65_536),
    "--bootstrap": (0, 100_000),  # audit bootstrap replicates
    "--permutations": (0, 100_000),  # audit permutations of the test of no disparity
    "--seed": (0, 2**63 - 1),  # numpy seeds are non-negative integers
    "--num-workers": (0, 256),  # embed DataLoader workers
}
#: --max-shard-size bounds in bytes: 1 KB (tests, tiny sets) to 50 GB; a shard holds at least one image
SHARD_BYTES = (1024, 50 * 1024**3)


def check_range(option: str, value: int | None, lo: int | None = None, hi: int | None = None) -> int | None:
    """``value`` if within the documented range of ``option`` (None passes), else a UsageError."""
    if value is None:
        return None
    dlo, dhi = LIMITS.get(option, (None, None))
    lo = dlo if lo is None else lo
    hi = dhi if hi is None else hi
    if lo is not None and value < lo:
        span = f"; allowed {lo:,} to {hi:,}" if hi is not None else ""
        raise UsageError(f"{option} must be at least {lo:,} (got {value:,}{span})")
    if hi is not None and value > hi:
        raise UsageError(f"{option} must be at most {hi:,} (got {value:,}; see docs/cli.md, Limits)")
    return value
