"""A third-party audit used by tests/test_audit_plugins.py, registered through a generated entry point.

It is written only against the public plugin contract: an object with ``name``, ``needs`` and
``compute(stats)`` yielding rows with ``metric``, ``group`` and ``values`` (one value per weight row).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Row:
    metric: str
    group: str
    values: np.ndarray
    note: str | None = None


class MissRate:
    """Share of positives the model misses in each group (1 − TPR), and the worst-to-best ratio."""

    name = "miss_rate"
    title = "Miss rate (test plugin)"
    source = "tests/plugins"
    needs = frozenset({"threshold", "groups"})

    def compute(self, s):
        if s.G < 2:
            return
        miss = 1.0 - s.tp / s.pos
        for g, name in enumerate(s.groups):
            yield Row("miss_rate", name, miss[:, g])
        yield Row("miss_ratio", "all", miss.max(axis=1) / miss.min(axis=1))


NOT_AN_AUDIT = {"name": "bad"}  # an entry point to this must be rejected: no compute(), no needs
