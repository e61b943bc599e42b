"""Number formats shared by every output: one share never prints as 0.0% here and <0.1% there."""

from __future__ import annotations

import math


def share(f: float | None, digits: int = 1) -> str:
    """``0.123`` → ``12.3%``; a non-zero share below the last printed digit → ``<0.1%`` (never ``0.0%``).

    >>> share(0.123), share(0.0004), share(0.0), share(None)
    ('12.3%', '<0.1%', '0.0%', '—')
    """
    if f is None or (isinstance(f, float) and math.isnan(f)):
        return "—"
    floor = 10.0 ** -(digits + 2)
    if 0 < f < floor:
        return f"<{100 * floor:.{digits}f}%"
    return f"{100 * f:.{digits}f}%"
